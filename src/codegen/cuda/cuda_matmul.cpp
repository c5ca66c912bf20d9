// The block matmul of generated CUDA: the text that follows the prelude in a file whose plan has
// `matmul_block` statements (plan/nest_ir.h). Every thread of the block calls jt_block_matmul
// with the same operands, between barriers (print_cuda.cpp), and the threads share the output:
//
//  * Operands typed bf16 or f16 (MatmulInputs), on sm_80 and newer: tensor cores. The block's
//    warps take the 16x8 tiles of C in turn; for each 16-wide step of k a lane gathers its
//    fragments of A and B from the tile arrays (zero past M, N and K, so partial tiles exist only
//    at the edges), rounds them to the 16-bit type and issues one
//    mma.sync.aligned.m16n8k16.row.col.f32 (fp32 accumulation); then it stores its four C
//    elements, D added. The hardware sums each 16-wide step in its own order, so results may
//    differ from the k-order sums of the CPU in the last bits; tests compare within tolerances.
//  * Otherwise (f32 operands, a zero_a band, older devices, a block that is not whole warps): the
//    threads take C elements in turn, each its products' sum in k order with fused
//    multiply-adds, then D added, as the CPU microkernel computes it.
//
// The host emulation (emulation.cpp) has no tensor cores and no lanes: each emulated thread plays
// a whole warp. It gathers the fragments of all 32 lanes with the same functions the device
// uses, multiplies them as the PTX ISA defines the instruction (matrices rebuilt from the
// fragments by its own statement of the layout), and stores every lane's elements with the
// device's store. So a slip in the fragment arithmetic shows in the emulated tests, without a
// GPU; NVRTC compiles the device side for sm_80 and sm_90a in the same tests.
#include "codegen/common/c_text.h"
#include "codegen/cuda/print_cuda.h"

namespace jagtile::codegen::cuda {

namespace {

const char* kBlockMatmulText = R"JT(
// ---- block matmul (jagtile src/codegen/cuda/cuda_matmul.cpp) ----
// C element (i, j): the sum over k in order, fused multiply-adds, then D. A zero_a band
// (JtMatmul) ends row i's sum at k = i + band, as the CPU microkernel does.
JT_INLINE float jt_mm_element(const JtMatmul& m, int64_t i, int64_t j) {
  float acc = 0.0f;
  const int64_t K = m.band_mode == 1 && i + m.band + 1 < m.K ? i + m.band + 1 : m.K;
  for (int64_t k = 0; k < K; ++k) acc = fmaf(m.A[i * m.a_m + k * m.a_k], m.B[k * m.b_k + j * m.b_n], acc);
  if (m.D) acc += m.D[i * m.d_m + j * m.d_n];
  return acc;
}

// C elements first, first + step, ... (row-major), each computed whole.
JT_INLINE void jt_mm_elements(const JtMatmul& m, int64_t first, int64_t step) {
  for (int64_t o = first; o < m.M * m.N; o += step) {
    const int64_t i = o / m.N, j = o % m.N;
    m.C[i * m.c_m + j] = jt_mm_element(m, i, j);
  }
}

#if defined(JAGTILE_CUDA_EMULATION) || (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800)
#define JT_HAVE_MMA 1
// MatmulInputs (plan/nest_ir.h).
#define JT_MMA_BF16 1
#define JT_MMA_F16 2

// Two values as one 32-bit register of the 16-bit type, the first in the low half.
JT_INLINE uint32_t jt_mma_pack(float lo, float hi, int inputs) {
  if (inputs == JT_MMA_BF16) return (uint32_t)jt_f2bf(lo) | ((uint32_t)jt_f2bf(hi) << 16);
  return (uint32_t)jt_f2h(lo) | ((uint32_t)jt_f2h(hi) << 16);
}
// Element (r, c) of a matrix with R rows and C columns at the given strides; 0 outside it.
JT_INLINE float jt_mm_at(const float* p, int64_t r, int64_t c, int64_t r_stride, int64_t c_stride,
                         int64_t R, int64_t C) {
  return r < R && c < C ? p[r * r_stride + c * c_stride] : 0.0f;
}

// A lane's fragments of the 16x16 A tile at (i0, k0), the 16x8 B tile at (k0, j0) and the 16x8 C
// tile at (i0, j0) of mma.m16n8k16: with g = lane / 4 and t = lane % 4, A register r holds row
// g + 8 (r % 2), columns 2t + 8 (r / 2) + {0, 1}; B register r holds column g, rows
// 2t + 8 r + {0, 1}; C element e is at row g + 8 (e / 2), column 2t + e % 2.
JT_INLINE void jt_mma_load_a(const JtMatmul& m, int64_t i0, int64_t k0, int lane, int inputs,
                             uint32_t a[4]) {
  for (int r = 0; r < 4; ++r) {
    const int64_t row = i0 + lane / 4 + 8 * (r % 2), col = k0 + 2 * (lane % 4) + 8 * (r / 2);
    a[r] = jt_mma_pack(jt_mm_at(m.A, row, col, m.a_m, m.a_k, m.M, m.K),
                       jt_mm_at(m.A, row, col + 1, m.a_m, m.a_k, m.M, m.K), inputs);
  }
}
JT_INLINE void jt_mma_load_b(const JtMatmul& m, int64_t k0, int64_t j0, int lane, int inputs,
                             uint32_t b[2]) {
  for (int r = 0; r < 2; ++r) {
    const int64_t row = k0 + 2 * (lane % 4) + 8 * r, col = j0 + lane / 4;
    b[r] = jt_mma_pack(jt_mm_at(m.B, row, col, m.b_k, m.b_n, m.K, m.N),
                       jt_mm_at(m.B, row + 1, col, m.b_k, m.b_n, m.K, m.N), inputs);
  }
}
JT_INLINE void jt_mma_store_c(const JtMatmul& m, int64_t i0, int64_t j0, int lane,
                              const float c[4]) {
  for (int e = 0; e < 4; ++e) {
    const int64_t i = i0 + lane / 4 + 8 * (e / 2), j = j0 + 2 * (lane % 4) + e % 2;
    if (i < m.M && j < m.N) m.C[i * m.c_m + j] = c[e] + (m.D ? m.D[i * m.d_m + j * m.d_n] : 0.0f);
  }
}
#endif

#if defined(JAGTILE_CUDA_EMULATION)
#define JT_MMA_LANES 1  // an emulated thread plays a whole warp
JT_INLINE float jt_mma_unpack(uint32_t reg, int half, int inputs) {
  const uint16_t bits = (uint16_t)(reg >> (16 * half));
  return inputs == JT_MMA_BF16 ? jt_bf2f(bits) : jt_h2f(bits);
}
// mma.sync.aligned.m16n8k16.row.col.f32 on every lane's registers, as the PTX ISA defines it:
// A's register r of lane l holds A[l/4 + 8 (r%2)][2 (l%4) + 8 (r/2) + h] in half h, B's
// register r holds B[2 (l%4) + 8 r + h][l/4], C's element r is C[l/4 + 8 (r/2)][2 (l%4) + r%2].
static void jt_emu_mma(float c[32][4], const uint32_t a[32][4], const uint32_t b[32][2],
                       int inputs) {
  float A[16][16], B[16][8];
  for (int l = 0; l < 32; ++l)
    for (int h = 0; h < 2; ++h) {
      for (int r = 0; r < 4; ++r)
        A[l / 4 + 8 * (r % 2)][2 * (l % 4) + 8 * (r / 2) + h] = jt_mma_unpack(a[l][r], h, inputs);
      for (int r = 0; r < 2; ++r)
        B[2 * (l % 4) + 8 * r + h][l / 4] = jt_mma_unpack(b[l][r], h, inputs);
    }
  for (int l = 0; l < 32; ++l)
    for (int r = 0; r < 4; ++r) {
      float sum = 0.0f;
      for (int k = 0; k < 16; ++k) sum = fmaf(A[l / 4 + 8 * (r / 2)][k], B[k][2 * (l % 4) + r % 2], sum);
      c[l][r] += sum;
    }
}
// One warp's 16x8 tile of C at (i0, j0).
static void jt_mma_tile(const JtMatmul& m, int64_t i0, int64_t j0, int inputs) {
  uint32_t a[32][4], b[32][2];
  float c[32][4];
  memset(c, 0, sizeof c);
  for (int64_t k0 = 0; k0 < m.K; k0 += 16) {
    for (int lane = 0; lane < 32; ++lane) {
      jt_mma_load_a(m, i0, k0, lane, inputs, a[lane]);
      jt_mma_load_b(m, k0, j0, lane, inputs, b[lane]);
    }
    jt_emu_mma(c, a, b, inputs);
  }
  for (int lane = 0; lane < 32; ++lane) jt_mma_store_c(m, i0, j0, lane, c[lane]);
}
#elif defined(JT_HAVE_MMA)
#define JT_MMA_LANES 32
static __device__ void jt_mma_tile(const JtMatmul& m, int64_t i0, int64_t j0, int inputs) {
  const int lane = (int)(threadIdx.x % 32);
  float c[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int64_t k0 = 0; k0 < m.K; k0 += 16) {
    uint32_t a[4], b[2];
    jt_mma_load_a(m, i0, k0, lane, inputs, a);
    jt_mma_load_b(m, k0, j0, lane, inputs, b);
    if (inputs == JT_MMA_BF16)
      asm volatile(
          "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
          "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
          : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    else
      asm volatile(
          "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
          "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
          : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
  jt_mma_store_c(m, i0, j0, lane, c);
}
#endif

// C = A @ B (+ D), by every thread of the block alike (see the file comment for who computes
// what). `inputs`: the plan's MatmulInputs.
static __device__ void jt_block_matmul(const JtMatmul& m, int inputs) {
#if defined(JT_HAVE_MMA)
  if (inputs != 0 && m.band_mode != 1 && blockDim.x % JT_MMA_LANES == 0) {
    const int64_t tiles_n = (m.N + 7) / 8, tiles = (m.M + 15) / 16 * tiles_n;
    const int64_t warps = blockDim.x / JT_MMA_LANES;
    for (int64_t t = threadIdx.x / JT_MMA_LANES; t < tiles; t += warps)
      jt_mma_tile(m, t / tiles_n * 16, t % tiles_n * 8, inputs);
    return;
  }
#endif
  jt_mm_elements(m, threadIdx.x, blockDim.x);
}
)JT";

}  // namespace

std::string matmul_prelude() {
  return "\n" + matmul_struct() + kBlockMatmulText;
}

}  // namespace jagtile::codegen::cuda
