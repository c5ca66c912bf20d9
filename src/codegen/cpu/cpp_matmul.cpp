// The matmul microkernel of generated C++: the text that follows the prelude in a file whose plan
// has `matmul_block` statements (plan/nest_ir.h), so files without a matmul don't pay for
// <immintrin.h>.
//
// The kernel is one template over a vector type (AVX-512, AVX2 + FMA or plain floats, chosen by
// the JIT's -march: the CPU the code runs on, lowered by JAGTILE_CPU_ISA) and over the rows of a
// register block. A block is MR rows by two vectors of columns; its accumulators stay in registers
// for the whole k loop, each B row is loaded once per block and each A element is broadcast once.
// Every C element is its products' sum in k order with fused multiply-adds, then D added: the
// order and the rounding of the element loops the plan prints otherwise (jt_fma_f32 there), so
// the two agree bit for bit on one ISA. Partial blocks exist only at the edges: masked loads and
// stores on the last columns, a smaller MR on the last rows.
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
  enum { W = 16, MR = 8 };  // 16 accumulators + 2 B vectors + 1 broadcast of 32 registers
  static T zero() { return _mm512_setzero_ps(); }
  static T splat(float x) { return _mm512_set1_ps(x); }
  static Mask first(int64_t n) {
    return n >= 16 ? (Mask)0xffff : (Mask)((1u << (n > 0 ? n : 0)) - 1u);
  }
  static T load(Mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(Mask m, float* p, T v) { _mm512_mask_storeu_ps(p, m, v); }
  static void store_all(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
};
#elif defined(__AVX2__) && defined(__FMA__)
struct JtVec {
  typedef __m256 T;
  typedef __m256i Mask;
  enum { W = 8, MR = 6 };  // 12 accumulators + 2 B vectors + 1 broadcast of 16 registers
  static T zero() { return _mm256_setzero_ps(); }
  static T splat(float x) { return _mm256_set1_ps(x); }
  static Mask first(int64_t n) {
    int lanes = n >= 8 ? 8 : (n > 0 ? (int)n : 0);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static T load(Mask m, const float* p) { return _mm256_maskload_ps(p, m); }
  static void store(Mask m, float* p, T v) { _mm256_maskstore_ps(p, m, v); }
  static void store_all(float* p, T v) { _mm256_storeu_ps(p, v); }  // maskstore is slow on AMD
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
};
#else
struct JtVec {
  typedef float T;
  typedef bool Mask;
  enum { W = 1, MR = 4 };
  static T zero() { return 0.0f; }
  static T splat(float x) { return x; }
  static Mask first(int64_t n) { return n > 0; }
  static T load(Mask m, const float* p) { return m ? *p : 0.0f; }
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

// Rows [i0, i0 + MR) by NV vectors of columns of one panel: B rows p_k apart starting at
// `panel`, whose valid columns are m0 (first vector) and m1 (second).
template <int MR, int NV>
static inline void jt_mm_block(const JtMatmul& m, int64_t i0, int64_t j0, const float* panel,
                               int64_t p_k, JtVec::Mask m0, JtVec::Mask m1) {
  const int64_t K = m.K, a_m = m.a_m, a_k = m.a_k;
  JtVec::T c0[MR], c1[MR];
  // Unrolled before scalar replacement, so the accumulators live in registers, not on the stack.
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = JtVec::zero();
  const float* a = m.A + i0 * a_m;
  for (int64_t k = 0; k < K; ++k) {
    const JtVec::T b0 = JtVec::load(m0, panel + k * p_k);
    const JtVec::T b1 = NV > 1 ? JtVec::load(m1, panel + k * p_k + JtVec::W) : JtVec::zero();
    const float* ak = a + k * a_k;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const JtVec::T ai = JtVec::splat(ak[i * a_m]);
      c0[i] = JtVec::fma(ai, b0, c0[i]);
      if (NV > 1) c1[i] = JtVec::fma(ai, b1, c1[i]);
    }
  }
  // Masked stores only on the last columns: AVX2's vmaskmovps store is microcoded on AMD, and
  // twelve of them per block cost more than a 64-step k loop.
  const bool full = j0 + NV * JtVec::W <= m.N;
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* c = m.C + (i0 + i) * m.c_m + j0;
    if (m.D) {
      const float* d = m.D + (i0 + i) * m.d_m + j0 * m.d_n;
      c0[i] = JtVec::add(c0[i], m.d_n ? JtVec::load(m0, d) : JtVec::splat(*d));
      if (NV > 1) c1[i] = JtVec::add(c1[i], m.d_n ? JtVec::load(m1, d + JtVec::W) : JtVec::splat(*d));
    }
    if (full) {
      JtVec::store_all(c, c0[i]);
      if (NV > 1) JtVec::store_all(c + JtVec::W, c1[i]);
    } else {
      JtVec::store(m0, c, c0[i]);
      if (NV > 1) JtVec::store(m1, c + JtVec::W, c1[i]);
    }
  }
}

// Every row of one panel: whole blocks of MR rows, then one block of the rows left.
template <int NV, int R = JtVec::MR - 1>
static inline void jt_mm_edge(const JtMatmul& m, int64_t i0, int64_t rows, int64_t j0,
                              const float* panel, int64_t p_k, JtVec::Mask m0, JtVec::Mask m1) {
  if (rows == R) return jt_mm_block<R, NV>(m, i0, j0, panel, p_k, m0, m1);
  if constexpr (R > 1) jt_mm_edge<NV, R - 1>(m, i0, rows, j0, panel, p_k, m0, m1);
}
template <int NV>
static inline void jt_mm_panel(const JtMatmul& m, int64_t j0, const float* panel, int64_t p_k,
                               JtVec::Mask m0, JtVec::Mask m1) {
  int64_t i0 = 0;
  for (; i0 + JtVec::MR <= m.M; i0 += JtVec::MR)
    jt_mm_block<JtVec::MR, NV>(m, i0, j0, panel, p_k, m0, m1);
  if (i0 < m.M) jt_mm_edge<NV>(m, i0, m.M - i0, j0, panel, p_k, m0, m1);
}

static void jt_matmul_f32(const JtMatmul& m) {
  enum { NR = 2 * JtVec::W };
  if (m.M <= 0 || m.N <= 0) return;
  // A B whose columns are not contiguous (a transposed operand) is copied one panel at a time;
  // on the stack up to 64 KiB.
  const bool direct = m.b_n == 1;
  const int64_t pack_n = direct ? 0 : (m.K > 0 ? m.K : 1) * NR;
  alignas(64) float stack[16384];
  float* const heap = pack_n > 16384 ? (float*)aligned_alloc(64, (size_t)pack_n * 4) : NULL;
  float* const pack = heap ? heap : stack;
  for (int64_t j0 = 0; j0 < m.N; j0 += NR) {
    const int64_t nj = m.N - j0 < NR ? m.N - j0 : NR;
    const JtVec::Mask m0 = JtVec::first(nj), m1 = JtVec::first(nj - JtVec::W);
    const float* panel = m.B + j0;
    int64_t p_k = m.b_k;
    if (!direct) {
      jt_pack_panel(pack, NR, m, j0, nj);
      panel = pack;
      p_k = NR;
    }
    // A last panel of one vector's columns or fewer does half the work.
    if (nj > JtVec::W)
      jt_mm_panel<2>(m, j0, panel, p_k, m0, m1);
    else
      jt_mm_panel<1>(m, j0, panel, p_k, m0, m1);
  }
  free(heap);
}
)JT";

}  // namespace

std::string matmul_prelude() {
  // The struct first: the microkernel text below reads it.
  const std::string text = kMatmulText;
  const size_t after_include = text.find("\n", text.find("#include <immintrin.h>")) + 1;
  return text.substr(0, after_include) + "\n" + matmul_struct() + text.substr(after_include);
}

}  // namespace jagtile::codegen::cpu
