// The fixed top of every generated C++ file: the ABI structs (shared text, abi.h), the helpers
// shared with the CUDA printer (common/c_helpers.cpp: 16-bit float conversions, Python integer
// division, NaN-propagating max / min, a vectorisable expf), heap arrays and the error recorder.
// All small inline functions so the host compiler can vectorise the loops that call them.
#include "codegen/common/c_text.h"
#include "codegen/cpu/abi.h"
#include "codegen/cpu/print_cpp.h"

namespace jagtile::codegen::cpu {

namespace {

const char* kCpuHelpers = R"JT(
#define JT_INLINE static inline __attribute__((always_inline))

JT_INLINE float jt_bits_f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
JT_INLINE uint32_t jt_f_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

)JT";

// After the shared helpers: the heap array and the error recorder (host atomics).
const char* kCpuRuntime = R"JT(
// Tile arrays too large for a worker's stack (big block sizes) live in a scratch stack, carved in
// LIFO order (C++ scopes). An array allocated in every iteration of a loop (a k block's copy in
// attention) then reuses the same, cache-hot lines instead of a malloc and free per iteration.
// A request that does not fit is served by the heap, and the next allocation on an empty stack
// grows the block to the most live at once. Each nest's entry keeps one per thread across calls
// (thread_local; not under AddressSanitizer): the pool runs a few programs per call, and a
// scratch made per call started empty every time, so its arrays came from the heap, as fresh
// pages (a page fault and a page cleared per 4 KiB: Helion's jagged_hstu_attn_2, whose blocks
// hold every head, spent 12% of its time there). jt_scratch_trim gives back a block past
// JT_SCRATCH_KEEP_BYTES after each call.
#if defined(__SANITIZE_ADDRESS__)
#define JT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JT_ASAN 1
#endif
#endif
struct JtScratch {
  char* base = nullptr;
  size_t cap = 0, top = 0, over = 0, want = 0;  // over: live bytes the heap served
  ~JtScratch() { free(base); }
};
#define JT_SCRATCH_KEEP_BYTES ((size_t)256 << 20)
// Under AddressSanitizer every array has its own heap block, and a thread_local in a module that
// is later unloaded trips LeakSanitizer's scan of thread storage at exit: one scratch per call.
#if defined(JT_ASAN)
#define JT_SCRATCH_STORAGE
#else
#define JT_SCRATCH_STORAGE static thread_local
#endif
JT_INLINE void jt_scratch_trim(JtScratch* s) {
  if (s->cap <= JT_SCRATCH_KEEP_BYTES) return;
  free(s->base);
  s->base = nullptr;
  s->cap = s->want = 0;
}
template <typename T>
struct JtHeapArray {
  T* p;
  JtScratch* s;
  size_t mark, bytes;
  bool heap;
  JtHeapArray(JtScratch* scratch, int64_t n)
      : s(scratch), mark(scratch->top), bytes((size_t)((n * (int64_t)sizeof(T) + 63) / 64 * 64)) {
#if defined(JT_ASAN)
    heap = true;  // one allocation per array, so that AddressSanitizer sees each one's bounds
#else
    if (s->top == 0 && s->over == 0 && s->want > s->cap) {
      free(s->base);
      s->base = (char*)aligned_alloc(64, s->want);
      s->cap = s->base ? s->want : 0;
    }
    heap = s->top + bytes > s->cap;
#endif
    if (heap) {
      p = (T*)aligned_alloc(64, bytes);
      s->over += bytes;
      if (s->top + s->over > s->want) s->want = s->top + s->over;
    } else {
      p = (T*)(s->base + s->top);
      s->top += bytes;
    }
  }
  ~JtHeapArray() {
    if (heap) {
      free(p);
      s->over -= bytes;
    } else {
      s->top = mark;
    }
  }
  JtHeapArray(const JtHeapArray&) = delete;
  JtHeapArray& operator=(const JtHeapArray&) = delete;
};

// Records the first failure of a run (later ones, from other programs, are dropped); returns 1.
static int jt_fail(JtError* e, int32_t code, int32_t site, int64_t index, int64_t extent,
                   int32_t dim) {
  int32_t expected = 0;
  if (__atomic_compare_exchange_n(&e->code, &expected, code, false, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE)) {
    e->site = site;
    e->index = index;
    e->extent = extent;
    e->dim = dim;
  }
  return 1;
}
JT_INLINE int jt_failed(const JtError* e) {
  return __atomic_load_n(&e->code, __ATOMIC_RELAXED) != 0;
}

// Streaming stores of large outputs (print_cpp.cpp): a row of a float tensor is computed into a
// 64-byte line on the stack (16 floats, or 32 bf16 or f16 values), then stored. A whole, aligned
// line of an output too large to stay in cache goes out with non-temporal stores, which write
// memory without first reading the line (a plain store's read for ownership doubles the
// output's traffic); the rest plainly.
JT_INLINE int64_t jt_tensor_bytes(const JtTensor* t, int64_t element) {
  int64_t n = element;
  for (int32_t d = 0; d < t->rank; ++d) n *= t->size[d];
  return n;
}
// Whether the rows of output `t` (elements of `element` bytes) go out with streaming stores, in
// a nest whose tensors take `footprint` bytes together. A plain store first reads its line (a
// read for ownership), which a streaming store does not; but only whole lines stream, so a row
// must be whole lines: rows that share a line mix the two kinds of store on it, at 0.835-0.849x
// the speed of plain stores alone (jagged_dense_add with rows of 24 floats). Then:
// - an output past `min_bytes` (the share of the last-level cache a core can count on) streams;
// - one of at least 1/32 of that streams when the nest's tensors together pass it: the lines
//   written first are evicted by the rest of its traffic before the kernel ends, so a reader
//   finds them in memory anyway, and the reads for ownership only add traffic;
// - and when its rows are written after products (`after_products`: the nest holds matmuls),
//   whose stores come in bursts, a tile's rows at once: the reads for ownership of a burst fill
//   the store queue and stop the products behind it, where streaming stores drain at once.
// Measured in docs/performance.md, "Streaming stores by the nest's traffic". A small output
// keeps plain stores: its reads cost little, and a reader may find it in cache. A threshold of 0
// (JAGTILE_STREAM_MIN_BYTES=0, for tests and the fuzzer) streams every whole line of every row,
// rows that share lines included, so that mixed rows stay checked.
JT_INLINE int jt_stream_worth(const JtTensor* t, int64_t element, int64_t footprint,
                              int64_t min_bytes, int after_products) {
  if (min_bytes <= 0) return 1;
  if (t->rank < 1 || (t->size[t->rank - 1] * element) % 64 != 0) return 0;
  const int64_t bytes = jt_tensor_bytes(t, element);
  if (bytes >= min_bytes) return 1;
  return bytes >= min_bytes / 32 && (footprint >= min_bytes || after_products);
}
// One whole 64-byte line from `line` to the 64-byte aligned `dst`, non-temporally; 0 (nothing
// stored) where the target has no vector stores. The bits move as they are, whatever the
// elements (may_alias: the line is read and written as the caller's element type too).
JT_INLINE int jt_stream_line(void* dst, const void* line) {
  typedef float JtLine __attribute__((vector_size(64), aligned(64), may_alias));
  typedef float JtHalf __attribute__((vector_size(32), aligned(32), may_alias));
#if defined(__AVX512F__)
  __asm__ volatile("vmovntps %1, %0" : "=m"(*(JtLine*)dst) : "v"(*(const JtLine*)line));
  return 1;
#elif defined(__AVX__)
  __asm__ volatile("vmovntps %1, %0" : "=m"(*(JtHalf*)dst) : "x"(*(const JtHalf*)line));
  __asm__ volatile("vmovntps %1, %0"
                   : "=m"(*((JtHalf*)dst + 1))
                   : "x"(*((const JtHalf*)line + 1)));
  return 1;
#else
  (void)sizeof(JtLine);
  (void)sizeof(JtHalf);
  (void)dst;
  (void)line;
  return 0;
#endif
}
// A chunk of a row, n elements from `row` to `dst` (a few lines: print_cpp.cpp, streamed_loop):
// its whole lines stream where `stream` is set and `dst` is 64-byte aligned, the rest is copied.
template <typename T>
JT_INLINE void jt_store_row_lines(T* dst, const T* row, int64_t n, int stream) {
  const int64_t line = 64 / sizeof(T);
  int64_t i = 0;
  if (stream && ((uintptr_t)dst & 63) == 0)
    for (; i + line <= n && jt_stream_line(dst + i, row + i); i += line) {
    }
  for (; i < n; ++i) dst[i] = row[i];
}
JT_INLINE void jt_store_row_f32(float* dst, const float* row, int64_t n, int stream) {
  jt_store_row_lines(dst, row, n, stream);
}
// 16-bit floats (bf16, f16), 32 to a line.
JT_INLINE void jt_store_row_16(uint16_t* dst, const uint16_t* row, int64_t n, int stream) {
  jt_store_row_lines(dst, row, n, stream);
}
// A line of up to 32 floats narrowed to bf16 (jt_f2bf) and stored as jt_store_row_16 does. With
// AVX512-BF16 a whole line takes two vcvtne2ps2bf16, which round to nearest even and quiet a NaN
// (its sign and high bits kept) as jt_f2bf does but flush subnormal inputs to zero, so a line
// holding one narrows element by element instead. The line is read in 32-byte quarters, each
// inside one store of the loop that filled it at either vector width (a 64-byte read of two
// 32-byte stores waits for them to reach the cache), and stored from registers. 1.13-1.21x on
// bf16 jagged_dense_bmm (AMX Xeon, two threads); docs/performance.md, "On an Intel Xeon with
// AMX: 512-bit vectors, bf16 rows narrowed by the line".
#if defined(__AVX512BF16__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512DQ__)
#include <immintrin.h>
#define JT_BF16_LINES 1
#endif
JT_INLINE void jt_store_line_bf16(uint16_t* dst, const float* row, int64_t n, int stream) {
#if defined(JT_BF16_LINES)
  if (n == 32) {
    const __m256 q0 = _mm256_load_ps(row), q1 = _mm256_load_ps(row + 8),
                 q2 = _mm256_load_ps(row + 16), q3 = _mm256_load_ps(row + 24);
    const int subnormal = 0x20;  // vfpclassps's class of denormal inputs
    if (!(_mm256_fpclass_ps_mask(q0, subnormal) | _mm256_fpclass_ps_mask(q1, subnormal) |
          _mm256_fpclass_ps_mask(q2, subnormal) | _mm256_fpclass_ps_mask(q3, subnormal))) {
      const __m512i words =
          _mm512_inserti64x4(_mm512_castsi256_si512((__m256i)_mm256_cvtne2ps_pbh(q1, q0)),
                             (__m256i)_mm256_cvtne2ps_pbh(q3, q2), 1);
      if (stream && ((uintptr_t)dst & 63) == 0)
        _mm512_stream_si512((__m512i*)dst, words);
      else
        _mm512_storeu_si512(dst, words);
      return;
    }
  }
#endif
  alignas(64) uint16_t line[32];
  for (int64_t i = 0; i < n; ++i) line[i] = jt_f2bf(row[i]);
  jt_store_row_16(dst, line, n, stream);
}
// A chunk of a row, line by line.
JT_INLINE void jt_store_row_bf16(uint16_t* dst, const float* row, int64_t n, int stream) {
  for (int64_t i = 0; i < n; i += 32)
    jt_store_line_bf16(dst + i, row + i, n - i < 32 ? n - i : 32, stream);
}
// A store under a mask that varies element by element (`hl.store(..., extra_mask=keep)`). A
// branch around the store is mispredicted half the time on a random mask, about as long as
// the rest of the element's work; instead the store always happens, to the element or, masked
// off, to a local on the stack. The address is selected with integer arithmetic: a conditional
// expression becomes a branch again once the compiler sees the local's store is dead, and the
// empty asm keeps that store (masked-off indices may be anything, which as pointer arithmetic
// would be undefined). AVX-512 keeps the branch, which the vectorizer can turn into a masked
// scatter.
#if defined(__AVX512F__)
#define JT_MASKED_STORE(T, mask, base, index, value) \
  do {                                                \
    if (mask) (base)[index] = (value);                \
  } while (0)
#else
#define JT_MASKED_STORE(T, mask, base, index, value)                                 \
  do {                                                                               \
    T jt_sink_;                                                                      \
    const uintptr_t jt_sink_at_ = (uintptr_t)&jt_sink_;                              \
    const uintptr_t jt_at_ = (uintptr_t)(base) + (uintptr_t)(index) * sizeof(T);    \
    uintptr_t jt_to_ = jt_sink_at_ + ((jt_at_ - jt_sink_at_) & -(uintptr_t)!!(mask)); \
    __asm__("" : "+r"(jt_to_));                                                      \
    *(T*)jt_to_ = (value);                                                           \
  } while (0)
#endif
// Stream compaction: a masked store whose kept elements go to consecutive places in order (its
// index `first + torch.cumsum(keep) - 1`; print_cpp.cpp, compacted_loop). jt_compact moves the
// kept values of v[0..n) to its front, in order, and returns their count. With AVX2, 4 values of
// 8 bytes (or 8 of 4) at a time: a permutation from a table indexed by the mask's bits packs the
// kept ones to the front of the vector, stored where the next kept value goes; that is never past
// what was read, so it works in place. One pass of vector ops where a per-element masked store
// waits on each mask value's load to know its address.
struct alignas(32) JtCompactTables {
  uint32_t lanes4[256][8];  // 4-byte values: the source lane of each output lane, per 8-bit mask
  uint32_t lanes8[16][8];   // 8-byte values: the same as pairs of 32-bit lanes, per 4-bit mask
};
constexpr JtCompactTables jt_compact_tables_make() {
  JtCompactTables t{};
  for (int m = 0; m < 256; ++m)
    for (int b = 0, k = 0; b < 8; ++b)
      if (m >> b & 1) t.lanes4[m][k++] = (uint32_t)b;
  for (int m = 0; m < 16; ++m)
    for (int b = 0, k = 0; b < 4; ++b)
      if (m >> b & 1) {
        t.lanes8[m][k++] = (uint32_t)(2 * b);
        t.lanes8[m][k++] = (uint32_t)(2 * b + 1);
      }
  return t;
}
static constexpr JtCompactTables jt_compact_tables = jt_compact_tables_make();
// The bits of 4 (8) mask bytes, byte i as bit i: each byte is 0 or 1 (bool tile arrays are
// uint8_t), so the products that land in the top byte are exactly those bits and no two partial
// products share a bit.
JT_INLINE unsigned jt_bool_bits4(const uint8_t* k) {
  uint32_t x;
  memcpy(&x, k, 4);
  return (x * UINT32_C(0x01020408)) >> 24;
}
JT_INLINE unsigned jt_bool_bits8(const uint8_t* k) {
  uint64_t x;
  memcpy(&x, k, 8);
  return (unsigned)((x * UINT64_C(0x0102040810204080)) >> 56);
}
template <typename T>
JT_INLINE int64_t jt_compact(T* v, const uint8_t* keep, int64_t n) {
  int64_t c = 0, i = 0;
#if defined(__AVX2__) && defined(__GNUC__) && !defined(__clang__)
  typedef uint32_t JtLanes __attribute__((vector_size(32)));
  if constexpr (sizeof(T) == 8 || sizeof(T) == 4) {
    constexpr int64_t W = 32 / sizeof(T);  // values per vector
    for (; i + W <= n; i += W) {
      const unsigned m = W == 4 ? jt_bool_bits4(keep + i) : jt_bool_bits8(keep + i);
      JtLanes x, lanes;
      memcpy(&x, v + i, 32);
      memcpy(&lanes, W == 4 ? jt_compact_tables.lanes8[m] : jt_compact_tables.lanes4[m], 32);
      x = __builtin_shuffle(x, lanes);
      memcpy(v + c, &x, 32);
      c += __builtin_popcount(m);
    }
  }
#endif
  for (; i < n; ++i) {  // branch-free: write every value, advance past the kept ones
    v[c] = v[i];
    c += keep[i];
  }
  return c;
}
// The bits of up to 64 bool bytes: bit i set for keep[i] != 0, i < len (none past len; the
// bytes past it are not read).
JT_INLINE uint64_t jt_bool_bits64(const uint8_t* keep, int64_t len) {
#if defined(__AVX512BW__) && defined(__GNUC__) && !defined(__clang__)
  typedef char JtBytes __attribute__((vector_size(64)));
  const uint64_t valid = len < 64 ? (UINT64_C(1) << len) - 1 : ~UINT64_C(0);
  const JtBytes k = __builtin_ia32_loaddquqi512_mask((const char*)keep, JtBytes{}, valid);
  return __builtin_ia32_ptestmb512(k, k, ~UINT64_C(0));
#else
  uint64_t b = 0;
  for (int64_t i = 0; i < len; ++i) b |= (uint64_t)(keep[i] != 0) << i;
  return b;
#endif
}
// A compacting store's chunk of n <= 64 elements (keep[i] for i < n): its first kept position (n
// when none) and, with AVX-512, its kept positions as bits (jt_bool_bits64), which
// jt_compact_store_wide packs by. One byte test for both; elsewhere the bytes are scanned to the
// first kept one (bits 0, unused).
struct JtKept {
  uint64_t bits;
  int64_t first;
};
JT_INLINE JtKept jt_kept(const uint8_t* keep, int64_t n) {
#if defined(__AVX512BW__) && defined(__GNUC__) && !defined(__clang__)
  const uint64_t bits = jt_bool_bits64(keep, n);
  return {bits, bits ? (int64_t)__builtin_ctzll(bits) : n};
#else
  int64_t first = 0;
  while (first < n && !keep[first]) ++first;
  return {0, first};
#endif
}
// The number of set bytes of keep[0 .. n) (a bool row's sum, print_cpp.cpp's counted sums).
JT_INLINE int64_t jt_count_true(const uint8_t* keep, int64_t n) {
  int64_t count = 0;
#if defined(__AVX512BW__) && defined(__GNUC__) && !defined(__clang__)
  for (int64_t i = 0; i < n; i += 64)
    count += __builtin_popcountll(jt_bool_bits64(keep + i, n - i < 64 ? n - i : 64));
#else
  for (int64_t i = 0; i < n; i += 1 << 20) {  // 32-bit lanes: a quarter of the widening
    const int64_t m = n - i < (1 << 20) ? n - i : (1 << 20);
    uint32_t part = 0;
    for (int64_t j = 0; j < m; ++j) part += keep[i + j] != 0;
    count += part;
  }
#endif
  return count;
}
// Counted scans (print_cpp.cpp): a running count of a bool tile row kept as the row's bits.
// jt_mask_bits writes bit i of word i / 64 for keep[i] != 0, i < n (none set past n), and returns
// how many are set; jt_count_upto is base plus the bits set at 0 .. i, the running count at i.
JT_INLINE int64_t jt_mask_bits(uint64_t* bits, const uint8_t* keep, int64_t n) {
  int64_t count = 0;
  for (int64_t w = 0; w * 64 < n; ++w) {
    bits[w] = jt_bool_bits64(keep + w * 64, n - w * 64 < 64 ? n - w * 64 : 64);
    count += __builtin_popcountll(bits[w]);
  }
  return count;
}
JT_INLINE int64_t jt_count_upto(const uint64_t* bits, int64_t i, int64_t base) {
  for (int64_t w = 0; w < (i >> 6); ++w) base += __builtin_popcountll(bits[w]);
  return base + __builtin_popcountll(bits[i >> 6] & (~UINT64_C(0) >> (63 - (i & 63))));
}
// The compacted store of one chunk of at most 64 elements: keep[i] for i < n (a bool tile array's
// row or the printer's chunk array), the values v[i], and the chunk's kept positions (jt_kept, its
// first below n); the kept values from there on go to `to`, `to + 1`, ... in order. With AVX-512
// the kept positions are jt_kept's bits, and
// each vector of 4- or 8-byte values from `first` rounded down is loaded masked to its kept lanes
// (so nothing past them is read: v may be a tensor's row, not a chunk array), packed by a
// compress and written straight to `to` by a store masked to the kept count, which writes nothing
// past it. Returns false where the CPU or the type has no such path.
template <typename T>
JT_INLINE bool jt_compact_store_wide(T* to, const T* v, JtKept kept, int64_t n) {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__GNUC__) && !defined(__clang__)
  if constexpr (sizeof(T) == 8 || sizeof(T) == 4) {
    constexpr int64_t W = 64 / sizeof(T);  // values per vector
    typedef long long JtQ __attribute__((vector_size(64)));
    typedef int JtD __attribute__((vector_size(64)));
    for (int64_t i = kept.first & ~(W - 1); i < n; i += W) {
      const unsigned m = (unsigned)(kept.bits >> i) & ((1u << W) - 1);
      const unsigned stored = (1u << __builtin_popcount(m)) - 1;
      if constexpr (W == 8) {
        JtQ x =
            __builtin_ia32_loaddqudi512_mask((const long long*)(v + i), JtQ{}, (unsigned char)m);
        x = __builtin_ia32_compressdi512_mask(x, x, (unsigned char)m);
        __builtin_ia32_storedqudi512_mask((long long*)to, x, (unsigned char)stored);
      } else {
        JtD x = __builtin_ia32_loaddqusi512_mask((const int*)(v + i), JtD{}, (unsigned short)m);
        x = __builtin_ia32_compresssi512_mask(x, x, (unsigned short)m);
        __builtin_ia32_storedqusi512_mask((int*)to, x, (unsigned short)stored);
      }
      to += __builtin_popcount(m);
    }
    return true;
  }
#endif
  (void)to, (void)v, (void)kept, (void)n;
  return false;
}
// From the printer's chunk array of values, which is compacted in place where there is no wide
// path.
template <typename T>
JT_INLINE void jt_compact_store(T* to, T* v, const uint8_t* keep, JtKept kept, int64_t n) {
  if (jt_compact_store_wide(to, (const T*)v, kept, n)) return;
  const int64_t count = jt_compact(v + kept.first, keep + kept.first, n - kept.first);
  memcpy(to, v + kept.first, (size_t)count * sizeof(T));
}
// Straight from a tensor's row of n consecutive elements (the chunk's values are a plain load
// along it), without a chunk array to copy them into first (docs/performance.md, "Counted
// scans").
template <typename T>
JT_INLINE void jt_compact_store_row(T* to, const T* row, const uint8_t* keep, JtKept kept,
                                    int64_t n) {
  // The next chunk's values, fetched now: the wide path's loads are masked by the chunk's mask
  // and wait on it, and without plain accesses ahead of them a cold row's misses came one chunk
  // at a time (cold, two threads: masked_select_jagged_1d's compaction 189-252 -> 118-129 us,
  // one thread 2.0x; docs/performance.md, "Compaction: the next chunk's values prefetched"). A
  // prefetch past the row's or the tensor's end never faults (the address stays an integer).
  const uintptr_t next = (uintptr_t)row + 64 * sizeof(T);
  for (uintptr_t o = 0; o < 64 * sizeof(T); o += 64)
    __builtin_prefetch((const void*)(next + o), 0, 3);
  if (jt_compact_store_wide(to, row, kept, n)) return;
  T chunk[64];
  memcpy(chunk + kept.first, row + kept.first, (size_t)(n - kept.first) * sizeof(T));
  jt_compact_store(to, chunk, keep, kept, n);
}
// A prefetch hint (plan/pass_prefetch.h): `rows` rows of `bytes` bytes, `stride` bytes apart,
// from byte `at` of a tensor's data, towards L2 (prefetcht1: with prefetcht0, into L1, the
// hand-edited HSTU kernel ran slower). The addresses are integers until the prefetch, which never
// faults: a hint past the tensor's end is harmless.
JT_INLINE void jt_prefetch_rows(const void* data, int64_t at, int64_t stride, int64_t rows,
                                int64_t bytes) {
  const uintptr_t first = (uintptr_t)data + (uintptr_t)at;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < bytes; o += 64)
      __builtin_prefetch((const void*)(first + (uintptr_t)(r * stride + o)), 0, 2);
}
// Orders the streaming stores before whatever follows (the pool's completion of the nest).
JT_INLINE void jt_store_fence(void) {
#if defined(__x86_64__)
  __asm__ volatile("sfence" ::: "memory");
#endif
}
)JT";

}  // namespace

std::string prelude() {
  std::string s =
      "#include <math.h>\n#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n\n"
      "// ---- calling convention (jagtile src/codegen/cpu/abi.h) ----\n";
  s += JAGTILE_CPU_ABI_TEXT;
  s += "\n";
  s += kCpuHelpers;
  s += shared_helpers();
  s += kCpuRuntime;
  return s;
}

}  // namespace jagtile::codegen::cpu
