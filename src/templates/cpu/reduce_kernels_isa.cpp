// SIMD worker kernels of the CPU jagged_reduce template. This file is compiled three times
// (AVX-512, AVX2, portable), each copy in its own namespace JAGTILE_ISA_NS; jagged_reduce.cpp
// picks one at run time. The code is written once with GNU vector types of 16 floats, which the
// compiler maps to one zmm, two ymm or four xmm registers depending on the build.
//
// Inner loop: for a run of rows, accumulate a block of up to kMaxVectors*16 columns in registers,
// one row at a time (sequential reads that the hardware prefetcher streams), starting from the
// op's identity; the resulting chunk partial is then folded into the item's accumulator.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "templates/cpu/reduce_kernel.h"

#ifndef JAGTILE_ISA_NS
#error "reduce_kernels_isa.cpp must be compiled with JAGTILE_ISA_NS set (see CMakeLists.txt)"
#endif

namespace jagtile::reduce_detail::JAGTILE_ISA_NS {
namespace {

// Small vector helpers must inline: out of line, 64-byte vectors travel through the stack.
#define JAGTILE_INLINE inline __attribute__((always_inline))

#if defined(__AVX512F__)
constexpr int kMaxVectors = 16;  // 16 of the 32 zmm registers: 256 columns per pass
#elif defined(__AVX2__)
constexpr int kMaxVectors = 4;  // 8 ymm accumulators
#else
constexpr int kMaxVectors = 2;  // 8 xmm accumulators
#endif
constexpr int kLanes = 16;
// How far ahead 16-bit rows are prefetched: measured on uniform/bf16 (1, 2, 4, 8 KiB; 4 best).
constexpr int64_t kPrefetchBytes16 = 4096;
// Items of at most this many rows take the branchless whole-item path.
constexpr int kShortRows = 4;
// Widest row (in vectors) the whole-item path handles in registers; wider rows take the general
// chunk path.
constexpr int kWholeItemMaxVectors = 4;
// A row of zeros (any input type) for the rows a short item does not have.
alignas(64) constexpr uint16_t kZeroRow[kWholeItemMaxVectors * kLanes * 2] = {};
static_assert(sizeof(kZeroRow) >= kWholeItemMaxVectors * kLanes * sizeof(float),
              "a short item's missing rows are read from kZeroRow");
// How far ahead (bytes) the whole-item path prefetches values: measured best of 1, 2 and 4 KiB.
constexpr int64_t kWholeItemPrefetchBytes = 2048;

typedef float VecF __attribute__((vector_size(64)));
typedef int32_t VecI __attribute__((vector_size(64)));
typedef uint32_t VecU __attribute__((vector_size(64)));
typedef uint16_t VecH __attribute__((vector_size(32)));
// 16-bit floats convert through the compiler's _Float16 where it has one (GCC; clang from 15 on
// x86), else element by element through jagtile's own conversions (clang 14, which builds the
// fuzz targets): the same rounding, slower.
#if defined(__FLT16_MAX__)
#define JAGTILE_HAVE_FLOAT16 1
typedef _Float16 VecF16 __attribute__((vector_size(32)));
#endif

// One IEEE half <-> float, by either route.
JAGTILE_INLINE float half_bits_to_f32(uint16_t bits) {
#if JAGTILE_HAVE_FLOAT16
  _Float16 h;
  std::memcpy(&h, &bits, sizeof h);
  return float(h);
#else
  return f16_bits_to_f32(bits);
#endif
}
JAGTILE_INLINE uint16_t f32_to_half_bits(float v) {
#if JAGTILE_HAVE_FLOAT16
  const _Float16 h = _Float16(v);
  uint16_t bits;
  std::memcpy(&bits, &h, sizeof bits);
  return bits;
#else
  return f32_to_f16_bits(v);
#endif
}

// Input element types; 16-bit floats are carried as their bit patterns.
struct Bf16 {
  uint16_t bits;
};
struct Half {
  uint16_t bits;
};

JAGTILE_INLINE VecF splat(float x) {
  return VecF{} + x;
}

JAGTILE_INLINE VecF load_vec(const float* p) {
  VecF v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
JAGTILE_INLINE VecF load_vec(const Bf16* p) {
#if defined(__AVX512F__)
  // GCC splits the generic widening below into two halves; one vpmovzxwd does it whole.
  __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return (VecF)_mm512_slli_epi32(wide, 16);
#else
  VecH h;
  std::memcpy(&h, p, sizeof h);
  return (VecF)(__builtin_convertvector(h, VecU) << 16);
#endif
}
JAGTILE_INLINE VecF load_vec(const Half* p) {
#if JAGTILE_HAVE_FLOAT16
  VecF16 h;
  std::memcpy(&h, p, sizeof h);
  return __builtin_convertvector(h, VecF);
#else
  uint16_t bits[kLanes];
  std::memcpy(bits, p, sizeof bits);
  VecF v;
  for (int l = 0; l < kLanes; ++l) v[l] = half_bits_to_f32(bits[l]);
  return v;
#endif
}
JAGTILE_INLINE float load_scalar(const float* p) {
  return *p;
}
JAGTILE_INLINE float load_scalar(const Bf16* p) {
  return bf16_bits_to_f32(p->bits);
}
JAGTILE_INLINE float load_scalar(const Half* p) {
  return half_bits_to_f32(p->bits);
}

JAGTILE_INLINE VecF select(VecI mask, VecF a, VecF b) {
  return (VecF)((mask & (VecI)a) | (~mask & (VecI)b));
}

// Combine ops. max/min propagate NaN (like torch.amax/amin): once a NaN is in, it stays.
struct SumOp {
  static float identity() { return 0.0f; }
  JAGTILE_INLINE static VecF apply(VecF a, VecF b) { return a + b; }
  JAGTILE_INLINE static float apply(float a, float b) { return a + b; }
};
struct MaxOp {
  static float identity() { return -INFINITY; }
  JAGTILE_INLINE static VecF apply(VecF a, VecF b) { return select((a > b) | (a != a), a, b); }
  JAGTILE_INLINE static float apply(float a, float b) { return (a > b || a != a) ? a : b; }
};
struct MinOp {
  static float identity() { return INFINITY; }
  JAGTILE_INLINE static VecF apply(VecF a, VecF b) { return select((a < b) | (a != a), a, b); }
  JAGTILE_INLINE static float apply(float a, float b) { return (a < b || a != a) ? a : b; }
};

// ---- output: post op and the one cast to the output dtype -----------------------------------

JAGTILE_INLINE VecF apply_post(const ReduceArgs& a, VecF acc, int64_t nnz) {
  switch (a.post) {
    case ReducePost::identity:
      return acc;
    case ReducePost::divide_by_count:
      return acc / splat(float(nnz));
    case ReducePost::divide_or_value:  // a select, not a branch: nnz varies item to item
      return select(VecI{} - int32_t(nnz > 0), acc / splat(float(nnz)), splat(a.post_value));
  }
  return acc;
}
JAGTILE_INLINE float apply_post(const ReduceArgs& a, float acc, int64_t nnz) {
  switch (a.post) {
    case ReducePost::identity:
      return acc;
    case ReducePost::divide_by_count:
      return acc / float(nnz);
    case ReducePost::divide_or_value:
      return nnz > 0 ? acc / float(nnz) : a.post_value;
  }
  return acc;
}

// Round to nearest even, NaN kept quiet: the vector form of f32_to_bf16_bits.
JAGTILE_INLINE VecH to_bf16(VecF v) {
  VecU u = (VecU)v;
  VecU rounded = (u + (0x7fffu + ((u >> 16) & 1u))) >> 16;
  VecI is_nan = (VecI)((u & 0x7fffffffu) > 0x7f800000u);
  VecU quiet = (u >> 16) | 0x40u;
  return __builtin_convertvector((VecU)((is_nan & (VecI)quiet) | (~is_nan & (VecI)rounded)), VecH);
}

JAGTILE_INLINE void store_vec(const ReduceArgs& a, int64_t index, VecF v) {
  switch (a.out_dtype) {
    case DType::f32: {
      float* dst = static_cast<float*>(a.out) + index;
#if defined(__AVX512F__)
      // Streaming stores skip the read-for-ownership of output lines nobody will read soon.
      if (a.streaming_stores && (reinterpret_cast<uintptr_t>(dst) & 63) == 0) {
        _mm512_stream_ps(dst, (__m512)v);
        break;
      }
#endif
      std::memcpy(dst, &v, sizeof v);
      break;
    }
    case DType::bf16: {
      VecH h = to_bf16(v);
      uint16_t* dst = static_cast<uint16_t*>(a.out) + index;
#if defined(__AVX2__)
      if (a.streaming_stores && (reinterpret_cast<uintptr_t>(dst) & 31) == 0) {
        _mm256_stream_si256(reinterpret_cast<__m256i*>(dst), (__m256i)h);
        break;
      }
#endif
      std::memcpy(dst, &h, sizeof h);
      break;
    }
    default: {  // f16 (the driver admits only float outputs)
#if JAGTILE_HAVE_FLOAT16
      VecF16 h = __builtin_convertvector(v, VecF16);
      std::memcpy(static_cast<uint16_t*>(a.out) + index, &h, sizeof h);
#else
      for (int l = 0; l < kLanes; ++l)
        static_cast<uint16_t*>(a.out)[index + l] = f32_to_half_bits(v[l]);
#endif
      break;
    }
  }
}
JAGTILE_INLINE void store_scalar(const ReduceArgs& a, int64_t index, float v) {
  switch (a.out_dtype) {
    case DType::f32:
      static_cast<float*>(a.out)[index] = v;
      break;
    case DType::bf16:
      static_cast<uint16_t*>(a.out)[index] = f32_to_bf16_bits(v);
      break;
    default: {
      static_cast<uint16_t*>(a.out)[index] = f32_to_half_bits(v);
      break;
    }
  }
}

// ---- chunk reduction -------------------------------------------------------------------------

// Reduces rows [0, rows) of columns [0, NV*16) starting at `src` (row stride `stride`) into
// registers, from the op's identity.
template <class Op, class In, int NV>
JAGTILE_INLINE void reduce_block(const In* src, int64_t stride, int64_t rows, VecF (&acc)[NV]) {
  for (int k = 0; k < NV; ++k) acc[k] = splat(Op::identity());
  for (int64_t r = 0; r < rows; ++r) {
    const In* row = src + r * stride;
    if constexpr (sizeof(In) == 2) {
      // 16-bit rows cost three instructions per 32 bytes (widen, shift, add), which leaves too
      // few cache misses in flight to stream at full bandwidth: prefetch every line ahead.
      const char* ahead = reinterpret_cast<const char*>(row) + kPrefetchBytes16;
      for (int64_t off = 0; off < int64_t(NV * kLanes * sizeof(In)); off += 64) {
        __builtin_prefetch(ahead + off);
      }
    }
    for (int k = 0; k < NV; ++k) acc[k] = Op::apply(acc[k], load_vec(row + k * kLanes));
  }
}

// What to do with a chunk partial: write it out, fold it into a memory accumulator, or (for an
// item that is one chunk owned whole) fold it with init, apply post and store the output row.
enum class Sink { store_partial, fold_into_acc, finish_row };

struct ChunkTarget {
  Sink sink;
  float* acc;       // store_partial: partial row; fold_into_acc: accumulator row
  int64_t out_row;  // finish_row: index of the output row's first element
  int64_t nnz;      // finish_row: the item's row count
};

template <class Op, int NV>
inline void sink_block(const ReduceArgs& a, const ChunkTarget& t, int64_t col, VecF (&part)[NV]) {
  for (int k = 0; k < NV; ++k) {
    int64_t j = col + k * kLanes;
    switch (t.sink) {
      case Sink::store_partial:
        std::memcpy(t.acc + j, &part[k], sizeof(VecF));
        break;
      case Sink::fold_into_acc: {
        VecF v = Op::apply(load_vec(t.acc + j), part[k]);
        std::memcpy(t.acc + j, &v, sizeof v);
        break;
      }
      case Sink::finish_row:
        store_vec(a, t.out_row + j, apply_post(a, Op::apply(splat(a.init), part[k]), t.nnz));
        break;
    }
  }
}

inline void sink_scalar(const ReduceArgs& a, const ChunkTarget& t, int64_t j, float part,
                        float (*apply)(float, float)) {
  switch (t.sink) {
    case Sink::store_partial:
      t.acc[j] = part;
      break;
    case Sink::fold_into_acc:
      t.acc[j] = apply(t.acc[j], part);
      break;
    case Sink::finish_row:
      store_scalar(a, t.out_row + j, apply_post(a, apply(a.init, part), t.nnz));
      break;
  }
}

template <class Op, class In, int NV>
inline void block_step(const ReduceArgs& a, const In* src, int64_t rows, int64_t col,
                       const ChunkTarget& t) {
  VecF part[NV];
  reduce_block<Op, In, NV>(src + col, a.num_cols, rows, part);
  sink_block<Op, NV>(a, t, col, part);
}

#if defined(__AVX512F__)
// The last, partial vector of columns, as one masked vector instead of a scalar pass per column
// over the rows (feature counts leave a tail on almost every item). Lanes past the tail read
// nothing (masked loads do not fault) and hold the op's identity; each lane sees the same
// operations in the same order as the scalar loop, so the bits are the same.
JAGTILE_INLINE VecF load_vec_partial(const float* p, __mmask16 m, VecF fill) {
  return (VecF)_mm512_mask_loadu_ps((__m512)fill, m, p);
}
JAGTILE_INLINE VecF load_vec_partial(const Bf16* p, __mmask16 m, VecF fill) {
  __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
  return (VecF)_mm512_mask_blend_ps(m, (__m512)fill, (__m512)_mm512_slli_epi32(wide, 16));
}
JAGTILE_INLINE VecF load_vec_partial(const Half* p, __mmask16 m, VecF fill) {
  __m512 wide = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  return (VecF)_mm512_mask_blend_ps(m, (__m512)fill, wide);
}

template <class Op, class In>
void reduce_tail_masked(const ReduceArgs& a, const In* src, int64_t rows, int64_t col, int64_t n,
                        const ChunkTarget& t) {
  const __mmask16 m = __mmask16((1u << n) - 1);
  const VecF identity = splat(Op::identity());
  VecF part = identity;
  for (int64_t r = 0; r < rows; ++r) {
    part = Op::apply(part, load_vec_partial(src + r * a.num_cols + col, m, identity));
  }
  for (int64_t i = 0; i < n; ++i) {
    sink_scalar(a, t, col + i, part[i], [](float x, float y) { return Op::apply(x, y); });
  }
}
#endif

// One chunk: `rows` rows starting at `src`, columns [0, cols).
template <class Op, class In>
void reduce_chunk(const ReduceArgs& a, const In* src, int64_t rows, int64_t cols,
                  const ChunkTarget& t) {
  const int64_t vec_cols = cols / kLanes * kLanes;
  int64_t col = 0;
  for (; col + kMaxVectors * kLanes <= vec_cols; col += kMaxVectors * kLanes) {
    block_step<Op, In, kMaxVectors>(a, src, rows, col, t);
  }
  // Remaining whole vectors (fewer than kMaxVectors), one instantiation per count.
  switch ((vec_cols - col) / kLanes) {
#define JAGTILE_REMAINDER_CASE(n)                                               \
  case n:                                                                       \
    if constexpr (n < kMaxVectors) block_step<Op, In, n>(a, src, rows, col, t); \
    break;
    JAGTILE_REMAINDER_CASE(1)
    JAGTILE_REMAINDER_CASE(2)
    JAGTILE_REMAINDER_CASE(3)
    JAGTILE_REMAINDER_CASE(4)
    JAGTILE_REMAINDER_CASE(5)
    JAGTILE_REMAINDER_CASE(6)
    JAGTILE_REMAINDER_CASE(7)
    JAGTILE_REMAINDER_CASE(8)
    JAGTILE_REMAINDER_CASE(9)
    JAGTILE_REMAINDER_CASE(10)
    JAGTILE_REMAINDER_CASE(11)
    JAGTILE_REMAINDER_CASE(12)
    JAGTILE_REMAINDER_CASE(13)
    JAGTILE_REMAINDER_CASE(14)
    JAGTILE_REMAINDER_CASE(15)
#undef JAGTILE_REMAINDER_CASE
    default:
      break;
  }
    // Columns past the last whole vector.
#if defined(__AVX512F__)
  if (vec_cols < cols) {
    reduce_tail_masked<Op, In>(a, src, rows, vec_cols, cols - vec_cols, t);
    return;
  }
#endif
  for (int64_t j = vec_cols; j < cols; ++j) {
    float part = Op::identity();
    for (int64_t r = 0; r < rows; ++r)
      part = Op::apply(part, load_scalar(src + r * a.num_cols + j));
    sink_scalar(a, t, j, part, [](float x, float y) { return Op::apply(x, y); });
  }
}

// 1-D values: the chunk's rows are contiguous scalars, so reduce them 16 at a time in lanes and
// then across lanes in a fixed order (the order depends only on the chunk, never on workers).
template <class Op, class In>
void reduce_chunk_1d(const ReduceArgs& a, const In* src, int64_t rows, const ChunkTarget& t) {
  VecF lanes = splat(Op::identity());
  int64_t r = 0;
  for (; r + kLanes <= rows; r += kLanes) lanes = Op::apply(lanes, load_vec(src + r));
  float part = Op::identity();
  for (int i = 0; i < kLanes; ++i) part = Op::apply(part, lanes[i]);
  for (; r < rows; ++r) part = Op::apply(part, load_scalar(src + r));
  sink_scalar(a, t, 0, part, [](float x, float y) { return Op::apply(x, y); });
}

template <class Op, class In>
inline void run_chunk(const ReduceArgs& a, const In* src, int64_t rows, int64_t cols,
                      const ChunkTarget& t) {
  if (cols <= 0) return;
  if (a.num_cols == 1) {
    reduce_chunk_1d<Op, In>(a, src, rows, t);
  } else {
    reduce_chunk<Op, In>(a, src, rows, cols, t);
  }
}

// ---- worker ----------------------------------------------------------------------------------

template <class Op>
void fold_t(const ReduceArgs&, float* acc, const float* partial, int64_t n) {
  for (int64_t j = 0; j < n; ++j) acc[j] = Op::apply(acc[j], partial[j]);
}

void flush_row(const ReduceArgs& a, int64_t item, const float* acc) {
  const int64_t nnz = a.offset(item + 1) - a.offset(item);
  const int64_t cols = std::clamp<int64_t>(a.valid_cols(item), 0, a.num_cols);
  const int64_t out_row = item * a.num_cols;
  int64_t j = 0;
  for (; j + kLanes <= cols; j += kLanes)
    store_vec(a, out_row + j, apply_post(a, load_vec(acc + j), nnz));
  for (; j < cols; ++j) store_scalar(a, out_row + j, apply_post(a, acc[j], nnz));
  for (; j < a.num_cols; ++j) store_scalar(a, out_row + j, a.masked_value);
}

// Runs of whole items (each at most one chunk, owned entirely by this worker, every column
// valid): the tiny-items hot path. One call covers consecutive items, so per item there are a few
// loads, adds, the post op and one store per vector, with no calls.
using WholeItemsFn = int64_t (*)(const ReduceArgs& a, int64_t first, int64_t limit);

JAGTILE_INLINE void finish_empty_row(const ReduceArgs& a, int64_t item) {
  const float value = apply_post(a, a.init, 0);  // exactly post(init), as the kernel computes it
  for (int64_t j = 0; j < a.num_cols; ++j) store_scalar(a, item * a.num_cols + j, value);
}

// Processes items first, first+1, ... while they are at most one chunk and below limit; returns
// the first item not processed.
template <class Op, class In, int NV>
int64_t whole_items_fixed(const ReduceArgs& args, int64_t b, int64_t limit) {
  // A local copy: the output stores could alias `args` as far as the compiler knows, which would
  // make it reload post, init and the output pointer for every item.
  const ReduceArgs a = args;
  const In* values = static_cast<const In*>(a.values);
  const int64_t M = a.num_cols;
  int64_t start = a.offset(b);
  for (; b < limit; ++b) {
    const int64_t end = a.offset(b + 1);
    const int64_t len = end - start;
    if (len > a.chunk_rows) break;
    const In* rows = values + start * M;
    start = end;
    // Items this small are over before the hardware prefetcher ramps up: fetch ahead by hand.
    __builtin_prefetch(reinterpret_cast<const char*>(rows) + kWholeItemPrefetchBytes);
    __builtin_prefetch(reinterpret_cast<const char*>(rows) + kWholeItemPrefetchBytes + 64);
    VecF part[NV];
    if (len <= kShortRows) {
      // Branchless: always kShortRows rows; missing ones read a zero row and count as the op's
      // identity, which leaves the result bit for bit as the row loop would compute it. The
      // row count of tiny items is random, so a loop over it would mispredict on every item.
      for (int k = 0; k < NV; ++k) part[k] = splat(Op::identity());
      for (int r = 0; r < kShortRows; ++r) {
        const bool valid = r < len;
        const In* row = valid ? rows + r * M : reinterpret_cast<const In*>(kZeroRow);
        const VecI keep = VecI{} - int32_t(valid);
        for (int k = 0; k < NV; ++k) {
          part[k] =
              Op::apply(part[k], select(keep, load_vec(row + k * kLanes), splat(Op::identity())));
        }
      }
    } else {
      reduce_block<Op, In, NV>(rows, M, len, part);
    }
    // An empty item's result is post(init) exactly, as the kernel computes it.
    const VecI empty = VecI{} - int32_t(len == 0);
    for (int k = 0; k < NV; ++k) {
      const VecF acc = select(empty, splat(a.init), Op::apply(splat(a.init), part[k]));
      store_vec(a, b * M + k * kLanes, apply_post(a, acc, len));
    }
  }
  return b;
}

template <class Op, class In>
int64_t whole_items_general(const ReduceArgs& a, int64_t b, int64_t limit) {
  const In* values = static_cast<const In*>(a.values);
  for (; b < limit; ++b) {
    const int64_t start = a.offset(b);
    const int64_t len = a.offset(b + 1) - start;
    if (len > a.chunk_rows) break;
    if (len == 0) {
      finish_empty_row(a, b);
      continue;
    }
    run_chunk<Op, In>(a, values + start * a.num_cols, len, a.num_cols,
                      {Sink::finish_row, nullptr, b * a.num_cols, len});
  }
  return b;
}

template <class Op, class In>
WholeItemsFn pick_whole_items_fn(const ReduceArgs& a) {
  if (a.num_cols % kLanes != 0) return whole_items_general<Op, In>;
  switch (a.num_cols / kLanes) {
#define JAGTILE_WHOLE_ITEM_CASE(n)                               \
  case n:                                                        \
    if constexpr (n <= kMaxVectors && n <= kWholeItemMaxVectors) \
      return whole_items_fixed<Op, In, n>;                       \
    break;
    JAGTILE_WHOLE_ITEM_CASE(1)
    JAGTILE_WHOLE_ITEM_CASE(2)
    JAGTILE_WHOLE_ITEM_CASE(3)
    JAGTILE_WHOLE_ITEM_CASE(4)
#undef JAGTILE_WHOLE_ITEM_CASE
    default:
      break;
  }
  return whole_items_general<Op, In>;
}

template <class Op, class In>
void run_worker_t(const ReduceArgs& a, Position begin, Position end, WorkerCarry& carry) {
  const WholeItemsFn whole_items = pick_whole_items_fn<Op, In>(a);
  const In* values = static_cast<const In*>(a.values);
  const int64_t M = a.num_cols;
  const int64_t C = a.chunk_rows;
  // A plain heap array, not a std::vector (see carry_tail_zeroed in reduce_kernel.h).
  const std::unique_ptr<float[]> acc_buffer(new float[size_t(M)]);
  float* const acc = acc_buffer.get();
  for (int64_t b = begin.item; b < a.num_items && b <= end.item; ++b) {
    // Items before end.item that start in this range are this worker's alone.
    if (!a.counts && M > 0 && (b > begin.item || begin.chunk == 0)) {
      b = whole_items(a, b, std::min(end.item, a.num_items));
      if (b >= a.num_items || b > end.item) break;
    }
    const int64_t start = a.offset(b);
    const int64_t len = a.offset(b + 1) - start;
    const int64_t row_lo = b == begin.item ? begin.chunk * C : 0;
    const int64_t row_hi = b == end.item ? end.chunk * C : len;
    if (b == end.item && row_hi <= row_lo) break;  // the range ends before this item
    const int64_t cols = std::clamp<int64_t>(a.valid_cols(b), 0, M);
    const bool owns_start = row_lo == 0;
    const bool owns_end = row_hi == len;
    const In* item_rows = values + start * M;

    if (owns_start && owns_end && len <= C) {
      // The common case: a whole item in one chunk, finished in registers.
      if (len == 0 || cols == 0) {
        for (int64_t j = 0; j < cols; ++j) acc[j] = a.init;
        flush_row(a, b, acc);
      } else {
        run_chunk<Op, In>(a, item_rows, len, cols, {Sink::finish_row, nullptr, b * M, len});
        for (int64_t j = cols; j < M; ++j) store_scalar(a, b * M + j, a.masked_value);
      }
      continue;
    }
    float* tail = nullptr;
    if (owns_start) {
      for (int64_t j = 0; j < cols; ++j) acc[j] = a.init;
    } else {
      carry.tail_item = b;
      carry.tail_chunks = (row_hi - row_lo + C - 1) / C;
      tail = carry_tail_zeroed(carry, carry.tail_chunks * cols);
    }
    for (int64_t r = row_lo, c = 0; r < row_hi; r += C, ++c) {
      const int64_t rows = std::min(C, row_hi - r);
      ChunkTarget t = owns_start ? ChunkTarget{Sink::fold_into_acc, acc, 0, 0}
                                 : ChunkTarget{Sink::store_partial, tail + c * cols, 0, 0};
      run_chunk<Op, In>(a, item_rows + r * M, rows, cols, t);
    }
    if (owns_start && owns_end) {
      flush_row(a, b, acc);
    } else if (owns_start) {
      carry.head_item = b;
      carry_set_head(carry, acc, cols);
    }
  }
}

template <class Op>
void run_worker_op_unfenced(const ReduceArgs& a, Position begin, Position end, WorkerCarry& carry) {
  switch (a.in_dtype) {
    case DType::bf16:
      return run_worker_t<Op, Bf16>(a, begin, end, carry);
    case DType::f16:
      return run_worker_t<Op, Half>(a, begin, end, carry);
    default:
      return run_worker_t<Op, float>(a, begin, end, carry);
  }
}

void run_worker(const ReduceArgs& a, Position begin, Position end, WorkerCarry& carry) {
  switch (a.combine) {
    case ReduceOp::max:
      run_worker_op_unfenced<MaxOp>(a, begin, end, carry);
      break;
    case ReduceOp::min:
      run_worker_op_unfenced<MinOp>(a, begin, end, carry);
      break;
    default:
      run_worker_op_unfenced<SumOp>(a, begin, end, carry);
      break;
  }
#if defined(__AVX2__)
  // Streaming stores are weakly ordered: fence before the pool's join publishes the rows.
  if (a.streaming_stores) _mm_sfence();
#endif
}

void fold(const ReduceArgs& a, float* acc, const float* partial, int64_t n) {
  switch (a.combine) {
    case ReduceOp::max:
      return fold_t<MaxOp>(a, acc, partial, n);
    case ReduceOp::min:
      return fold_t<MinOp>(a, acc, partial, n);
    default:
      return fold_t<SumOp>(a, acc, partial, n);
  }
}

// The machine's read limit, for benchmarks: sum a buffer with independent accumulators, so that
// nothing but memory bandwidth bounds it.
float read_stream(const float* p, int64_t n) {
  VecF acc[4] = {};
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    for (int k = 0; k < 4; ++k) acc[k] += load_vec(p + i + k * kLanes);
  }
  VecF total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  float s = 0;
  for (int l = 0; l < kLanes; ++l) s += total[l];
  for (; i < n; ++i) s += p[i];
  return s;
}

// The machine's multiply-add limit, for benchmarks: independent chains of acc = acc * m + a in
// registers (contracted to fused multiply-adds where the instruction set has them), enough of
// them to cover the FMA latency on every port, so nothing but the FMA units bound it. Returns the
// floating-point operations done (2 per lane per step); *sink keeps the work from being dropped.
// The vectors are the instruction set's own width (VecF's 16 lanes would be split in two on
// AVX2 and the chains spilled to the stack, which measured a fifth of the real limit).
#if defined(__AVX512F__)
constexpr int kFmaChains = 12;  // 12 zmm: latency 4 x 2 ports, with room
constexpr int kFmaLanes = 16;
#elif defined(__AVX2__)
constexpr int kFmaChains = 10;  // 10 of the 16 ymm registers: latency 4-5 x 2 ports
constexpr int kFmaLanes = 8;
#else
constexpr int kFmaChains = 8;   // 8 of the 16 xmm registers (multiply, then add)
constexpr int kFmaLanes = 4;
#endif
typedef float FmaVec __attribute__((vector_size(kFmaLanes * 4)));

double fma_stream(int64_t steps, float* sink) {
  FmaVec acc[kFmaChains];
#pragma GCC unroll 16
  for (int c = 0; c < kFmaChains; ++c) acc[c] = FmaVec{} + 1e-3f * float(c);
  const FmaVec m = FmaVec{} + 0.999999f, a = FmaVec{} + 1e-7f;
  for (int64_t i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kFmaChains; ++c) acc[c] = acc[c] * m + a;
  }
  FmaVec total = acc[0];
#pragma GCC unroll 16
  for (int c = 1; c < kFmaChains; ++c) total += acc[c];
  *sink = total[0] + total[kFmaLanes - 1];
  return 2.0 * double(kFmaChains) * kFmaLanes * double(steps);
}

#define JAGTILE_STR2(x) #x
#define JAGTILE_STR(x) JAGTILE_STR2(x)

}  // namespace

const KernelTable kernel_table = {
    JAGTILE_STR(JAGTILE_ISA_NS) + 4, run_worker, fold, flush_row, read_stream, fma_stream};

}  // namespace jagtile::reduce_detail::JAGTILE_ISA_NS
