// The helper functions every generated file carries, C++ and CUDA alike (declared in c_text.h):
// 16-bit float conversions (round to nearest even), float -> int like torch, Python integer
// division, NaN-propagating maximum / minimum and reduction steps; then the vector math of
// c_math.cpp (exp, log, tanh, sigmoid, silu, rsqrt). Written against JT_INLINE, jt_bits_f and
// jt_f_bits, which each dialect's prelude defines first.
#include <cmath>
#include <cstdio>

#include "codegen/common/c_text.h"

namespace jagtile::codegen {

namespace {

const char* kSharedHelpers = R"JT(
// bfloat16 <-> float: widening is exact; narrowing rounds to nearest even, NaN stays quiet NaN.
JT_INLINE float jt_bf2f(uint16_t b) { return jt_bits_f((uint32_t)b << 16); }
JT_INLINE uint16_t jt_f2bf(float f) {
  uint32_t u = jt_f_bits(f);
  uint16_t r = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  return (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u >> 16) | 0x40u) : r;
}
// IEEE half <-> float.
JT_INLINE float jt_h2f(uint16_t h) {
  uint32_t em = h & 0x7fffu;
  uint32_t r = jt_f_bits(jt_bits_f(em << 13) * 0x1p112f);
  if (em >= 0x7c00u) r = 0x7f800000u | (em << 13);
  return jt_bits_f(r | ((uint32_t)(h & 0x8000u) << 16));
}
// double -> float rounded to odd (toward zero, lowest bit set when inexact), so that narrowing the
// result once more to a 16-bit float is correctly rounded, as if straight from the double.
JT_INLINE float jt_d2f_odd(double d) {
  float f = (float)d;
  if ((double)f == d || f - f != 0.0f) return f;  // exact, infinite or NaN
  uint32_t u = jt_f_bits(f);
  if (fabs((double)f) > fabs(d)) u -= 1u;
  return jt_bits_f(u | 1u);
}
JT_INLINE uint16_t jt_f2h(float f) {
  uint32_t u = jt_f_bits(f);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  u &= 0x7fffffffu;
  uint16_t r;
  if (u > 0x7f800000u) r = (uint16_t)(0x7e00u | ((u >> 13) & 0x3ffu));
  else if (u >= 0x477ff000u) r = 0x7c00u;
  else if (u < 0x38800000u) r = (uint16_t)(jt_f_bits(jt_bits_f(u) + 0.5f) - 0x3f000000u);
  else r = (uint16_t)((u + 0xc8000fffu + ((u >> 13) & 1u)) >> 13);
  return (uint16_t)(r | sign);
}

// Float -> int64 like torch: truncate, NaN -> 0, saturate at the limits.
JT_INLINE int64_t jt_f2i(double x) {
  if (x != x) return 0;
  if (x >= 9.2233720368547758e18) return INT64_MAX;
  if (x <= -9.2233720368547758e18) return INT64_MIN;
  return (int64_t)x;
}
JT_INLINE int64_t jt_wrap32(int64_t x) { return (int64_t)(int32_t)(uint32_t)(uint64_t)x; }

// Python floor division and modulo (sign of the divisor); division by zero gives 0 on the device.
JT_INLINE int64_t jt_floordiv(int64_t a, int64_t b) {
  if (b == 0) return 0;
  if (b == -1) return (int64_t)(0 - (uint64_t)a);
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
JT_INLINE int64_t jt_mod(int64_t a, int64_t b) {
  if (b == 0 || b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
JT_INLINE float jt_floordiv(float a, float b) { return floorf(a / b); }
JT_INLINE double jt_floordiv(double a, double b) { return floor(a / b); }
JT_INLINE float jt_mod(float a, float b) {
  float r = fmodf(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
JT_INLINE double jt_mod(double a, double b) {
  double r = fmod(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
JT_INLINE int64_t jt_ipow(int64_t a, int64_t b) {
  int64_t r = 1;
  for (int64_t i = 0; i < b; ++i) r *= a;
  return r;
}

// maximum / minimum propagate NaN like torch.
JT_INLINE float jt_max(float a, float b) { return (a != a || b != b) ? NAN : (a > b ? a : b); }
JT_INLINE float jt_min(float a, float b) { return (a != a || b != b) ? NAN : (a < b ? a : b); }
JT_INLINE double jt_max(double a, double b) { return (a != a || b != b) ? NAN : (a > b ? a : b); }
JT_INLINE double jt_min(double a, double b) { return (a != a || b != b) ? NAN : (a < b ? a : b); }
JT_INLINE int64_t jt_max(int64_t a, int64_t b) { return a > b ? a : b; }
JT_INLINE int64_t jt_min(int64_t a, int64_t b) { return a < b ? a : b; }
JT_INLINE bool jt_max(bool a, bool b) { return a || b; }
JT_INLINE bool jt_min(bool a, bool b) { return a && b; }
// Reduction steps: a NaN input sticks, like the interpreter's.
JT_INLINE float jt_amax_step(float acc, float x) { return (x > acc || x != x) ? x : acc; }
JT_INLINE float jt_amin_step(float acc, float x) { return (x < acc || x != x) ? x : acc; }
JT_INLINE double jt_amax_step(double acc, double x) { return (x > acc || x != x) ? x : acc; }
JT_INLINE double jt_amin_step(double acc, double x) { return (x < acc || x != x) ? x : acc; }
JT_INLINE int64_t jt_amax_step(int64_t acc, int64_t x) { return x > acc ? x : acc; }
JT_INLINE int64_t jt_amin_step(int64_t acc, int64_t x) { return x < acc ? x : acc; }
JT_INLINE bool jt_amax_step(bool acc, bool x) { return acc || x; }
JT_INLINE bool jt_amin_step(bool acc, bool x) { return acc && x; }

JT_INLINE float jt_gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678f)); }
JT_INLINE double jt_gelu(double x) { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440)); }

JT_INLINE int64_t jt_clamp_len(int64_t n, int64_t block) {
  return n < 0 ? 0 : (n > block ? block : n);
}
// One step of a matmul's element loop, rounded once wherever the target has FMA (every CUDA GPU,
// x86 with FMA): the element loops, the CPU microkernel and generated CUDA then sum products
// alike, whatever the vectoriser makes of a masked `acc += a * b`.
JT_INLINE float jt_fma_f32(float a, float b, float c) {
#if defined(__CUDA_ARCH__) || defined(__FMA__)
  return fmaf(a, b, c);
#else
  return a * b + c;
#endif
}
JT_INLINE int64_t jt_min64(int64_t a, int64_t b) { return a < b ? a : b; }
JT_INLINE int64_t jt_max64(int64_t a, int64_t b) { return a > b ? a : b; }

)JT";

}  // namespace

std::string shared_helpers() {
  return kSharedHelpers + math_helpers();
}

const char* compute_ctype(DType dtype) {
  if (dtype == DType::f64) return "double";
  if (dtype_is_float(dtype)) return "float";
  if (dtype == DType::boolean) return "bool";
  return "int64_t";
}

const char* storage_ctype(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "float";
    case DType::f64:
      return "double";
    case DType::f16:
    case DType::bf16:
      return "uint16_t";
    case DType::i32:
      return "int32_t";
    case DType::i64:
      return "int64_t";
    case DType::boolean:
      return "uint8_t";
  }
  return "?";
}

std::string matmul_struct() {
  return R"JT(// C[0:M, 0:N] = A[0:M, 0:K] @ B[0:K, 0:N] (+ D): element strides; C's rows are contiguous.
struct JtMatmul {
  int64_t M, N, K;
  const float* A; int64_t a_m, a_k;
  const float* B; int64_t b_k, b_n;
  float* C; int64_t c_m;
  const float* D; int64_t d_m, d_n;  // D null: nothing added; d_n is 0 or 1
  // A band (jagtile src/ir/pass_band_matmuls.h), band_mode 0 without: 1, A[i][k] is zero for
  // k > i + band and those products are skipped; 2, only C[i][j] with j <= i + band is used.
  int64_t band, band_mode;
  // bf16 operands read in place from a tensor (on the CPU; jagtile
  // src/plan/pass_operands_in_place.h): where a16 (b16) is set, A (B) is null and its elements
  // are these, at the same strides.
  const uint16_t *a16, *b16;
  // B's panels kept by the caller across calls (jagtile src/plan/pass_memoize.h): where
  // b_panels is set and B is packed (its columns strided), the panels are packed there, all of
  // them, when b_panels_ready is 0, and read as they are when it is 1.
  float* b_panels;
  int64_t b_panels_ready;
  // Rows the caller wants in cache soon (generated C++ only; jagtile
  // src/plan/pass_prefetch_operands.h), which the blocks fetch between their products; or null.
  struct JtPrefetch* prefetch;
};
)JT";
}

std::string double_literal(double v) {
  if (std::isnan(v)) return "((double)NAN)";
  if (std::isinf(v)) return v > 0 ? "((double)INFINITY)" : "(-(double)INFINITY)";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return "(" + s + ")";
}

}  // namespace jagtile::codegen
