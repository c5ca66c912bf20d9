"""A variant of the generated code's f32 matmul microkernel text with register blocks of MR rows
by NV vectors of columns (the generated one: 8 x 2 on AVX-512), for ab.sh to time against the
text as generated. Bench only: the f32 entry is replaced by a generic MR x NV one (masks per
vector, B packed where it is not contiguous, D added) without the band modes, which the harness's
products do not use (a banded call aborts), nor kept panels (JtMatmul::b_panels; such a call
aborts too); the rest of the text (bf16 entry included) is left as
it is.

    bench/microkernel/run.sh --print > /tmp/a.h
    python3 bench/microkernel/register_blocks.py /tmp/a.h 6 4 /tmp/b.h
    bench/microkernel/ab.sh /tmp/a.h /tmp/b.h
"""
import sys

src = open(sys.argv[1]).read()
MR, NV = int(sys.argv[2]), int(sys.argv[3])
start = src.index('#if JT_MATMUL_PART != 2  // the f32 entry')
end = src.index('#endif', start) + len('#endif')
new = r'''
#define MK_MR %d
#define MK_NV %d
template <int MR, bool FULL>
static __attribute__((noinline)) void mk_block(const JtMatmul& m, int64_t i0, int64_t j0,
    const float* panel, int64_t p_k, const JtVec::Mask* mk) {
  JtVec::T c[MK_NV][MR];
#pragma GCC unroll 64
  for (int v = 0; v < MK_NV; ++v)
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i) c[v][i] = JtVec::zero();
  const float* a = m.A + i0 * m.a_m;
  for (int64_t k = 0; k < m.K; ++k) {
    const float* b = panel + k * p_k;
    JtVec::T bv[MK_NV];
#pragma GCC unroll 64
    for (int v = 0; v < MK_NV; ++v) bv[v] = FULL ? JtVec::load_all(b + v * JtVec::W) : JtVec::load(mk[v], b + v * JtVec::W);
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i) {
      const JtVec::T ai = JtVec::splat(a[k * m.a_k + i * m.a_m]);
#pragma GCC unroll 64
      for (int v = 0; v < MK_NV; ++v) c[v][i] = JtVec::fma(ai, bv[v], c[v][i]);
    }
  }
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i) {
    float* cc = m.C + (i0 + i) * m.c_m + j0;
#pragma GCC unroll 64
    for (int v = 0; v < MK_NV; ++v) {
      JtVec::T x = c[v][i];
      if (m.D) {
        const float* d = m.D + (i0 + i) * m.d_m + (j0 + v * JtVec::W) * m.d_n;
        x = JtVec::add(x, m.d_n ? JtVec::load(mk[v], d) : JtVec::splat(*d));
      }
      if (FULL) JtVec::store_all(cc + v * JtVec::W, x); else JtVec::store(mk[v], cc + v * JtVec::W, x);
    }
  }
}
template <int R = MK_MR - 1, class Block>
static inline void mk_edge(int64_t i0, int64_t rows, const Block& block) {
  if (rows == R) return block(JtRows<R>(), i0);
  if constexpr (R > 1) mk_edge<R - 1>(i0, rows, block);
}
#if JT_MATMUL_PART != 2
JT_MATMUL_ENTRY void jt_matmul_f32(const JtMatmul& m) {
  enum { NR = MK_NV * JtVec::W };
  if (m.band_mode != 0 || m.b_panels) abort();  // the bench variant has no band modes or kept panels
  if (m.M <= 0 || m.N <= 0) return;
  const bool direct = m.b_n == 1;
  const int64_t pack_n = direct ? 0 : (m.K > 0 ? m.K : 1) * NR;
  alignas(64) float stack[16384];
  float* const heap = pack_n > 16384 ? (float*)aligned_alloc(64, (size_t)pack_n * 4) : NULL;
  float* const pack = heap ? heap : stack;
  for (int64_t j0 = 0; j0 < m.N; j0 += NR) {
    const int64_t nj = m.N - j0 < NR ? m.N - j0 : NR;
    JtVec::Mask mk[MK_NV];
    for (int v = 0; v < MK_NV; ++v) mk[v] = JtVec::first(nj - v * JtVec::W);
    const float* panel = m.B + j0;
    int64_t p_k = m.b_k;
    if (!direct) { jt_pack_panel(pack, NR, m, j0, nj); panel = pack; p_k = NR; }
    auto blocks = [&](auto full) {
      auto block = [&](auto rows, int64_t i0) {
        mk_block<decltype(rows)::value, decltype(full)::value != 0>(m, i0, j0, panel, p_k, mk);
      };
      int64_t i0 = 0;
      for (; i0 + MK_MR <= m.M; i0 += MK_MR) block(JtRows<MK_MR>(), i0);
      if (i0 < m.M) mk_edge(i0, m.M - i0, block);
    };
    if (nj == NR) blocks(JtConst<1>()); else blocks(JtConst<0>());
  }
  free(heap);
}
#endif
''' % (MR, NV)
open(sys.argv[4], 'w').write(src[:start] + new + src[end:])
