// The matmul microkernel of generated C++: the text that follows the prelude in a file whose plan
// has `matmul_block` statements (plan/nest_ir.h), so files without a matmul don't pay for
// <immintrin.h>. The JIT compiles its definitions once per flavour into objects that it links
// into every kernel, which keeps only the struct and the entries' declarations
// (Jit::with_linked_matmul); a file compiled alone holds the whole text.
//
// The kernel is one template over a vector type (AVX-512, AVX2 + FMA or plain floats, chosen by
// the JIT's -march: the CPU the code runs on, lowered by JAGTILE_CPU_ISA) and over the rows of a
// register block. A block is MR rows by NV vectors of columns (JtVec: 6 x 4 on Intel's AVX-512,
// 8 x 2 on AMD's, 6 x 2 on AVX2); its accumulators stay in registers for the whole k loop, each B
// row is loaded once per block and each A element is broadcast once.
// Every C element is its products' sum in k order with fused multiply-adds, then D added: the
// order and the rounding of the element loops the plan prints otherwise (jt_fma_f32 there), so
// the two agree bit for bit on one ISA. Partial blocks exist only at the edges: masked loads and
// stores on the last columns, a smaller MR on the last rows. The bf16 entry, jt_matmul_bf16, is
// the text of cpp_matmul_bf16.cpp, appended after this one.
#include "codegen/common/c_text.h"
#include "codegen/cpu/print_cpp.h"

namespace jagtile::codegen::cpu {

namespace {

const char* kMatmulText = R"JT(
// ---- matmul microkernel (jagtile src/codegen/cpu/cpp_matmul.cpp) ----
#include <immintrin.h>


#if defined(__AVX512F__)
struct JtVec {
  typedef __m512 T;
  typedef __mmask16 Mask;
#if defined(JT_MM_6X4)
  // 24 accumulators + 4 B vectors + 1 broadcast of 32 registers: 10 loads per 24 FMAs, where 8
  // rows by 2 vectors load 10 per 16 and ran 5-8% slower on an AMX Xeon and 10-13% on a Zen 5,
  // whose two FMA units are 512 bits wide (the JIT's choice there, jit.cpp register_block_flag;
  // docs/performance.md, "Register blocks of 6 x 4 vectors on Intel", "Zen 5: ...").
  enum { W = 16, MR = 6, NV = 4 };
#else
  // 16 accumulators + 2 B vectors + 1 broadcast: on Zen 4, whose 512-bit FMAs take both 256-bit
  // units, the FMAs bound the block, and 6 x 4 measured 0.94-0.99x of it.
  enum { W = 16, MR = 8, NV = 2 };
#endif
  static T zero() { return _mm512_setzero_ps(); }
  static T splat(float x) { return _mm512_set1_ps(x); }
  static Mask first(int64_t n) {
    return n >= 16 ? (Mask)0xffff : (Mask)((1u << (n > 0 ? n : 0)) - 1u);
  }
  static T load(Mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static T load_all(const float* p) { return _mm512_loadu_ps(p); }
  static void store(Mask m, float* p, T v) { _mm512_mask_storeu_ps(p, m, v); }
  static void store_all(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
};
#elif defined(__AVX2__) && defined(__FMA__)
struct JtVec {
  typedef __m256 T;
  typedef __m256i Mask;
  enum { W = 8, MR = 6, NV = 2 };  // 12 accumulators + 2 B vectors + 1 broadcast of 16 registers
  static T zero() { return _mm256_setzero_ps(); }
  static T splat(float x) { return _mm256_set1_ps(x); }
  static Mask first(int64_t n) {
    int lanes = n >= 8 ? 8 : (n > 0 ? (int)n : 0);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static T load(Mask m, const float* p) { return _mm256_maskload_ps(p, m); }
  static T load_all(const float* p) { return _mm256_loadu_ps(p); }
  static void store(Mask m, float* p, T v) { _mm256_maskstore_ps(p, m, v); }
  static void store_all(float* p, T v) { _mm256_storeu_ps(p, v); }  // maskstore is slow on AMD
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
};
#else
struct JtVec {
  typedef float T;
  typedef bool Mask;
  enum { W = 1, MR = 4, NV = 2 };
  static T zero() { return 0.0f; }
  static T splat(float x) { return x; }
  static Mask first(int64_t n) { return n > 0; }
  static T load(Mask m, const float* p) { return m ? *p : 0.0f; }
  static T load_all(const float* p) { return *p; }
  static void store(Mask m, float* p, T v) { if (m) *p = v; }
  static void store_all(float* p, T v) { *p = v; }
  static T fma(T a, T b, T c) { return jt_fma_f32(a, b, c); }  // as the element loops
  static T add(T a, T b) { return a + b; }
};
#endif

// Copies columns [j0, j0 + nj) of B, rows [0, K), into a panel whose rows are NR floats apart.
// B with a k stride of 1 (an operand transposed, as k in q @ k.T) is read a W x W block at a
// time and transposed in registers (jt_transpose, one per vector ISA); otherwise, and without
// vectors, element by element. Element by element, the transposed read cost about as much as
// the products on AVX2 (64 x 128 blocks of k): a strided scalar load and store per element.
#if defined(__AVX512F__)
#define JT_VECTOR_TRANSPOSE 1
static inline void jt_transpose(__m512 r[16]) {
  __m512 t[16], u[16];
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 16
  for (int i = 0; i < 2; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < 4; ++j) {
      t[8 * i + j] = _mm512_shuffle_f32x4(u[8 * i + j], u[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_f32x4(u[8 * i + j], u[8 * i + 4 + j], 0xdd);
    }
#pragma GCC unroll 16
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
  }
}
#elif defined(__AVX2__) && defined(__FMA__)
#define JT_VECTOR_TRANSPOSE 1
// Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves exchanged.
static inline void jt_transpose(__m256 r[8]) {
  __m256 t[8], u[8];
#pragma GCC unroll 8
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 8
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
}
#endif

static inline void jt_pack_panel(float* pack, int64_t NR, const JtMatmul& m, int64_t j0,
                                 int64_t nj) {
#if defined(JT_VECTOR_TRANSPOSE)
  if (m.b_k == 1) {
    enum { W = JtVec::W };
    for (int64_t jb = 0; jb < nj; jb += W) {
      const int64_t rows = nj - jb < W ? nj - jb : W;
      for (int64_t k0 = 0; k0 < m.K; k0 += W) {
        const int64_t cols = m.K - k0 < W ? m.K - k0 : W;
        const JtVec::Mask km = JtVec::first(cols);
        JtVec::T r[W];
#pragma GCC unroll 16
        for (int j = 0; j < W; ++j)
          r[j] = j < rows ? JtVec::load(km, m.B + (j0 + jb + j) * m.b_n + k0) : JtVec::zero();
        jt_transpose(r);
        for (int64_t k = 0; k < cols; ++k) JtVec::store_all(pack + (k0 + k) * NR + jb, r[k]);
      }
    }
    return;
  }
#endif
  for (int64_t k = 0; k < m.K; ++k)
    for (int64_t j = 0; j < nj; ++j) pack[k * NR + j] = m.B[k * m.b_k + (j0 + j) * m.b_n];
}

// The valid columns of each vector of a register block, the first from its first column on.
struct JtMasks {
  JtVec::Mask v[JtVec::NV];
};
static inline JtMasks jt_masks(int64_t columns) {
  JtMasks m;
  for (int v = 0; v < JtVec::NV; ++v) m.v[v] = JtVec::first(columns - v * JtVec::W);
  return m;
}

// A block's sums to C: D added (one rounding, as the element loops' acc + product), then stored.
// Masked stores only on the last columns: AVX2's vmaskmovps store is microcoded on AMD, and
// twelve of them per block cost more than a 64-step k loop.
template <int MR, int NV>
static inline void jt_mm_finish(const JtMatmul& m, int64_t i0, int64_t j0, JtVec::T (*c)[NV],
                                const JtMasks& mask) {
  const bool full = j0 + NV * JtVec::W <= m.N;
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* ci = m.C + (i0 + i) * m.c_m + j0;
    // D's test outside the vectors' loop: tested per vector, the 8 x 2 block's finish ran HSTU's
    // outputs product 2% slower.
    if (m.D) {
      const float* d = m.D + (i0 + i) * m.d_m + j0 * m.d_n;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        c[i][v] = JtVec::add(c[i][v],
                             m.d_n ? JtVec::load(mask.v[v], d + v * JtVec::W) : JtVec::splat(*d));
    }
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (full)
        JtVec::store_all(ci + v * JtVec::W, c[i][v]);
      else
        JtVec::store(mask.v[v], ci + v * JtVec::W, c[i][v]);
    }
  }
}

// Rows [i0, i0 + MR) by NV vectors of columns of one panel: B rows p_k apart starting at
// `panel`, whose valid columns are `mask`'s. Every row takes the products of k in [0, k_all);
// then, for a zero_a band, row i0 + i takes those of k in [k_all, K) up to k = i0 + i + band
// (each row's sum ends at its own last kept column, as the element loops' do, so a NaN or
// infinity of B under the band is skipped, not multiplied by 0). FULL: every column of the
// block's NV vectors is valid, so B's rows are read with plain loads, which Zen 5 runs 3-10%
// faster than masked ones on HSTU's products. Not inlined: inlined into jt_matmul_f32 with its
// other instances, its loop lost that gain (docs/performance.md, "Unmasked B loads in full
// panels").
template <int MR, int NV, bool FULL>
static __attribute__((noinline)) void jt_mm_block(const JtMatmul& m, int64_t k_all, int64_t K,
                                                  int64_t i0, int64_t j0, const float* panel,
                                                  int64_t p_k, const JtMasks mask) {
  const int64_t last_k = i0 + m.band;  // row i0 + i's last kept k is last_k + i
  const int64_t a_m = m.a_m, a_k = m.a_k;
  JtVec::T c[MR][NV];
  // Unrolled before scalar replacement, so the accumulators live in registers, not on the stack.
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[i][v] = JtVec::zero();
  const float* a = m.A + i0 * a_m;
  // One k step for the rows `take` keeps (a compile-time true in the common loop).
  auto step = [&](int64_t k, auto take) {
    const float* b = panel + k * p_k;
    JtVec::T bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = FULL ? JtVec::load_all(b + v * JtVec::W) : JtVec::load(mask.v[v], b + v * JtVec::W);
    const float* ak = a + k * a_k;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      if (!take(i)) continue;
      const JtVec::T ai = JtVec::splat(ak[i * a_m]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[i][v] = JtVec::fma(ai, bv[v], c[i][v]);
    }
  };
  auto all = [](int) { return true; };
  int64_t k0 = 0;
  // The caller's prefetch stream, a line every 4 k steps while it has lines (then the plain
  // loop, unchanged where there is no stream).
  if (JtPrefetch* const pf = m.prefetch; pf && pf->lines > 0) {
    uintptr_t at = pf->at;
    int64_t lines = pf->lines;
    for (; k0 + 4 <= k_all && lines > 0; k0 += 4) {
      step(k0, all), step(k0 + 1, all), step(k0 + 2, all), step(k0 + 3, all);
      jt_prefetch_lines(pf, &at, &lines, 1);
    }
    pf->at = at;
    pf->lines = lines;
  }
  for (int64_t k = k0; k < k_all; ++k) step(k, all);
  for (int64_t k = k_all; k < K; ++k)  // at most MR - 1 steps
    step(k, [&](int i) { return k <= last_k + i; });
  jt_mm_finish<MR, NV>(m, i0, j0, c, mask);
}

// Every row of a panel: block(JtRows<MR>(), i0) over whole blocks of MR rows, then one call for
// the rows left (a block kernel's row count is a compile-time constant, for its registers).
template <int V>
struct JtConst {  // a compile-time int passed as an argument (to generic lambdas)
  enum { value = V };
};
template <int R>
using JtRows = JtConst<R>;
template <int R, class Block>
static inline void jt_mm_edge(int64_t i0, int64_t rows, const Block& block) {
  if (rows == R) return block(JtRows<R>(), i0);
  if constexpr (R > 1) jt_mm_edge<R - 1>(i0, rows, block);
}
template <int MR, class Block>
static inline void jt_mm_rows(int64_t first, int64_t M, const Block& block) {
  int64_t i0 = first;
  for (; i0 + MR <= M; i0 += MR) block(JtRows<MR>(), i0);
  if (i0 < M) jt_mm_edge<MR - 1>(i0, M - i0, block);
}
// f(JtConst<nv>(), JtConst<full>()) for a run-time nv in [1, V]: a block of nv vectors of
// columns, all of them valid where full. With panels of 4 vectors (6 x 4 blocks), blocks
// narrower than a whole panel take masked loads even where their columns are all valid: an
// unmasked instance of every width and row count took the JIT's one-time compile of the
// microkernel from 3.8 to 6.5 s. Panels of 2 vectors keep their unmasked one-vector blocks.
enum { JT_NARROW_FULL = JtVec::NV <= 2 };
template <int V = JtVec::NV, class F>
static inline void jt_mm_vectors(int nv, bool full, const F& f) {
  if (nv == V)
    return full && (V == JtVec::NV || JT_NARROW_FULL) ? f(JtConst<V>(), JtConst<1>())
                                                      : f(JtConst<V>(), JtConst<0>());
  if constexpr (V > 1) jt_mm_vectors<V - 1>(nv, full, f);
}

#if JT_MATMUL_PART != 2  // the f32 entry: in the file itself, or in the first object
JT_MATMUL_ENTRY void jt_matmul_f32(const JtMatmul& m) {
  enum { NR = JtVec::NV * JtVec::W };
  // A B whose columns are not contiguous (a transposed operand) is copied one panel at a time;
  // on the stack up to 64 KiB. Panels the caller keeps (JtMatmul::b_panels) are packed there,
  // whole, on their first use (before any band skips one, and even without rows of A: the caller
  // counts them packed from now on), and only read after.
  const bool direct = m.b_n == 1;
  float* const kept = direct ? NULL : m.b_panels;
  const int64_t panel_n = (m.K > 0 ? m.K : 1) * NR;
  if (kept && !m.b_panels_ready)
    for (int64_t j0 = 0; j0 < m.N; j0 += NR)
      jt_pack_panel(kept + j0 / NR * panel_n, NR, m, j0, m.N - j0 < NR ? m.N - j0 : NR);
  if (m.M <= 0 || m.N <= 0) return;
  const int64_t pack_n = direct || kept ? 0 : panel_n;
  alignas(64) float stack[16384];
  float* const heap = pack_n > 16384 ? (float*)aligned_alloc(64, (size_t)pack_n * 4) : NULL;
  float* const pack = heap ? heap : stack;
  // A band (JtMatmul): for zero_a, a block of rows stops its k loop after the last row's last
  // kept column; for unused_c, a panel starts at the first block of rows that keeps one of its
  // columns, and the rows above it get zeros (not computed, but defined).
  const bool zero_a = m.band_mode == 1, unused_c = m.band_mode == 2 && !m.D;
  // Row i0 + r keeps k <= i0 + r + band: the first row's columns are every row's.
  auto clamp_k = [&](int64_t k) { return k < 0 ? 0 : k > m.K ? m.K : k; };
  auto k_all = [&](int64_t i0) { return zero_a ? clamp_k(i0 + 1 + m.band) : m.K; };
  auto k_end = [&](int64_t i0, int64_t rows) {
    return zero_a ? clamp_k(i0 + rows + m.band) : m.K;
  };
  for (int64_t j0 = 0; j0 < m.N; j0 += NR) {
    const int64_t nj = m.N - j0 < NR ? m.N - j0 : NR;
    int64_t first = 0;
    if (unused_c) {
      first = j0 - m.band;
      first = first < 0 ? 0 : first > m.M ? m.M : first;
      first -= first % JtVec::MR;
      for (int64_t i = 0; i < first; ++i)
        for (int64_t j = 0; j < nj; ++j) m.C[i * m.c_m + j0 + j] = 0.0f;
      if (first == m.M) continue;
    }
    const JtMasks mask = jt_masks(nj);
    const float* panel = m.B + j0;
    int64_t p_k = m.b_k;
    if (kept) {
      panel = kept + j0 / NR * panel_n;
      p_k = NR;
    } else if (!direct) {
      jt_pack_panel(pack, NR, m, j0, nj);
      panel = pack;
      p_k = NR;
    }
    // Every block of the panel, of NV vectors of columns, FULL where all of them are valid: a
    // last panel of fewer columns takes only the vectors that hold them.
    const int vectors = int((nj + JtVec::W - 1) / JtVec::W);
    jt_mm_vectors(vectors, nj == vectors * JtVec::W, [&](auto nv, auto full) {
      jt_mm_rows<JtVec::MR>(first, m.M, [&](auto rows, int64_t i0) {
        constexpr int R = decltype(rows)::value, NV = decltype(nv)::value;
        // For unused_c, a block whose last row keeps no column of its last vectors computes the
        // vectors before them only and gives the rest zeros: on a diagonal block of 64 x 64 (one
        // panel of 4 vectors) about 5/8 of the products.
        if constexpr (NV > 1) {
          const int64_t last = i0 + R - 1 + m.band - j0;  // the last row's last kept column
          const int keep = last < 0 ? 1 : int(last / JtVec::W) + 1;
          if (unused_c && keep < NV) {
            // The kept vectors are whole (a later one exists).
            jt_mm_vectors<NV - 1>(keep, true, [&](auto kv, auto full) {
              constexpr int KV = decltype(kv)::value;
              jt_mm_block<R, KV, decltype(full)::value != 0>(m, k_all(i0), k_end(i0, R), i0, j0,
                                                             panel, p_k, mask);
            });
            for (int64_t i = i0; i < i0 + R; ++i)
              for (int v = keep; v < NV; ++v)
                JtVec::store(mask.v[v], m.C + i * m.c_m + j0 + v * JtVec::W, JtVec::zero());
            return;
          }
        }
        jt_mm_block<R, NV, decltype(full)::value != 0>(m, k_all(i0), k_end(i0, R), i0, j0,
                                                       panel, p_k, mask);
      });
    });
  }
  free(heap);
}

#endif

)JT";

// The entries, declared between the struct and the definitions. A file compiled alone defines
// them static; the JIT, which links the definitions compiled once (jit.cpp), defines
// JT_MATMUL_ENTRY as hidden external functions (not exported by the kernel's shared object) in
// the file and in the objects, and JT_MATMUL_PART as the entry an object defines: 1 jt_matmul_f32,
// 2 jt_matmul_bf16 (whose fallback calls the first).
const char* kMatmulEntries = R"JT(
// A queue of rows that the caller wants in cache soon: the next work item's operand rows
// (jagtile src/plan/pass_prefetch_operands.h). The matmul blocks that get it fetch one 64-byte
// line every 4 k steps, between their products, so the next item's rows arrive while this one
// computes instead of stalling its first reads. Up to 4 runs of rows, 1 MiB in all (more would
// push out of L2 what this item still reads); `at` and `lines` are the current row's lines left.
// The addresses are integers until the prefetch, which never faults.
#define JT_PREFETCH_RUNS 4
#define JT_PREFETCH_MAX_LINES 16384
struct JtPrefetch {
  uintptr_t at;
  int64_t lines;
  int run, runs;
  int64_t row, budget;
  struct {
    uintptr_t first;
    int64_t stride, rows, lines;
  } queue[JT_PREFETCH_RUNS];
};
// The next row's lines into *at, *lines (0 where none is left).
static inline void jt_prefetch_next_row(JtPrefetch* p, uintptr_t* at, int64_t* lines) {
  *lines = 0;
  while (p->run < p->runs && p->budget > 0) {
    if (++p->row < p->queue[p->run].rows) {
      *at = p->queue[p->run].first + (uintptr_t)(p->row * p->queue[p->run].stride);
      *lines = p->queue[p->run].lines < p->budget ? p->queue[p->run].lines : p->budget;
      p->budget -= *lines;
      return;
    }
    ++p->run;
    p->row = -1;
  }
}
// Adds `rows` rows of `bytes` bytes, `stride` apart, from byte `at` of a tensor's data.
static inline void jt_prefetch_add(JtPrefetch* p, const void* data, int64_t at, int64_t stride,
                                   int64_t rows, int64_t bytes) {
  if (p->runs == JT_PREFETCH_RUNS || rows <= 0 || bytes <= 0) return;
  p->queue[p->runs].first = (uintptr_t)data + (uintptr_t)at;
  p->queue[p->runs].stride = stride;
  p->queue[p->runs].rows = rows;
  p->queue[p->runs].lines = (bytes + 63) / 64;
  ++p->runs;
}
// Up to n lines of the stream from *at (the caller's copy of the stream's place: *at, *lines,
// kept in registers across its loop and written back after it).
static inline void jt_prefetch_lines(JtPrefetch* p, uintptr_t* at, int64_t* lines, int n) {
  for (int i = 0; i < n && *lines > 0; ++i) {
    __builtin_prefetch((const void*)*at, 0, 2);
    *at += 64;
    if (--*lines == 0) jt_prefetch_next_row(p, at, lines);
  }
}
// Ready to be read from its first row (after the adds).
static inline void jt_prefetch_start(JtPrefetch* p) {
  p->run = 0;
  p->row = -1;
  p->budget = JT_PREFETCH_MAX_LINES;
  jt_prefetch_next_row(p, &p->at, &p->lines);
}
#ifndef JT_MATMUL_ENTRY
#define JT_MATMUL_ENTRY static
#endif
JT_MATMUL_ENTRY void jt_matmul_f32(const JtMatmul& m);
JT_MATMUL_ENTRY int jt_matmul_bf16(const JtMatmul& m);
)JT";

}  // namespace

std::string matmul_prelude() {
  // The struct first: the microkernel text below reads it.
  const std::string text = kMatmulText;
  const size_t after_include = text.find("\n", text.find("#include <immintrin.h>")) + 1;
  return text.substr(0, after_include) + "\n" + matmul_struct() + kMatmulEntries +
         kMatmulDefinitions + text.substr(after_include) + bf16_matmul_text();
}

}  // namespace jagtile::codegen::cpu
