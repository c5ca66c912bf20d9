// The vector math every generated file carries, C++ and CUDA alike (declared in c_text.h): exp,
// log, tanh, sigmoid, silu and rsqrt for f32. Plain C over fmaf, integer bit operations and
// selects, without branches or tables, so that `omp simd` loops calling them vectorise (GCC turns
// each select into a compare and a blend, and each integer min into one instruction). Written
// against JT_INLINE, jt_bits_f and jt_f_bits, which each dialect's prelude defines first.
//
// Error bounds, measured over every float against long-double references
// (tests/codegen/vector_math_test.cpp, which compiles this very text with the JIT's flags):
//   jt_exp 0.94 ulp, jt_log 0.89, jt_tanh 1.02, jt_sigmoid 2.41, jt_silu 3.35, jt_rsqrt 1.50.
//   Special values (NaN, infinities, signed zeros, overflow, subnormal results) follow torch.
//   sigmoid and silu add the roundings of 1 + e, the division (and x e) to exp's error; silu
//   takes e from a plain Taylor polynomial, as exp does (jt_exp_twice_er_fast: 3.34 ulp against
//   3.11 with the compensated one).
//
// The other polynomials' coefficients are minimax fits (Remez exchange in 50-digit arithmetic,
// relative error), rounded to float.
#include "codegen/common/c_text.h"

namespace jagtile::codegen {

namespace {

const char* kMathHelpers = R"JT(
// ---- f32 vector math (jagtile src/codegen/common/c_math.cpp) ----
// e^x = 2^n e^r with n = round(x / ln2) and r = x - n ln2, |r| <= ln2 / 2. 2 e^r comes back
// (in [1.41, 2.83]), with its last two roundings compensated: 2 + 2r_hi is summed exactly
// (Fast2Sum), and r_hi = x - n ln2_hi is exact, so only the small terms are rounded. tanh
// uses it (its 1.02 ulp bound is measured with it); exp and sigmoid take the plain polynomial.
JT_INLINE float jt_exp_twice_er(float n, float x) {
  float rh = fmaf(n, -0x1.62e430p-1f, x);  // exact: x and n ln2_hi agree in their top bits
  float r = fmaf(n, 0x1.05c610p-29f, rh);  // - n (ln2 - ln2_hi)
  float q = 0x1.5f19f2p-9f;                // 2 (e^r - 1 - r) / r^2, relative error 2^-27
  q = fmaf(q, r, 0x1.1246d0p-6f);
  q = fmaf(q, r, 0x1.55681cp-4f);
  q = fmaf(q, r, 0x1.55547ep-2f);
  q = fmaf(q, r, 0x1.ffffe8p-1f);
  float a = rh + rh;
  float hi = a + 2.0f;
  float lo = a - (hi - 2.0f);
  return hi + fmaf(q, r * r, fmaf(n, 0x1.05c610p-28f, lo));
}

// 2 e^r as a plain degree-7 Taylor polynomial (coefficients 2 / k!), without jt_exp_twice_er's
// compensated last steps: truncation about 2^-27 on |r| <= ln2 / 2, four operations fewer. exp
// stays within 0.94 ulp with it (0.78 compensated) and runs 1.15x faster on AVX-512, where
// softmax spends most of its time in exp (docs/performance.md, "jagged_softmax: exp in fewer
// instructions; row chunks of 8 lines").
JT_INLINE float jt_exp_twice_er_fast(float n, float x) {
  float r = fmaf(n, -0x1.62e430p-1f, x);
  r = fmaf(n, 0x1.05c610p-29f, r);
  float q = 0x1.a01a02p-12f;  // 2 / 7!
  q = fmaf(q, r, 0x1.6c16c2p-9f);  // 2 / 6!
  q = fmaf(q, r, 0x1.111112p-6f);  // 2 / 5!
  q = fmaf(q, r, 0x1.555556p-4f);  // 2 / 4!
  q = fmaf(q, r, 0x1.555556p-2f);  // 2 / 3!
  q = fmaf(q, r, 1.0f);
  q = fmaf(q, r, 2.0f);
  return fmaf(q, r, 2.0f);
}

// e^x as hi * scale. NaN is not propagated (the callers select it): x is clamped to [-150, 89]
// on its bits, because integer min / max vectorise to one instruction each where a float select
// that keeps NaN takes three. Above 89 e^x overflows; below -131.4 hi is 0 (see below).
// For x > 0, hi = 2 e^r 2^(n - 1) is e^x, normal or +inf, and scale is 1. For x <= 0, hi carries
// 2^64 more and scale is 2^-64: hi is normal (or 0), so that the last multiply rounds a
// subnormal result once. The two cases differ by one select each (selecting among three
// ranges, normal, subnormal and zero, took seven instructions more). Where 2^(n - 1 + 64) would
// be subnormal (x below -131.4) its exponent is floored at 0: hi is 0, and so is the result,
// without an underflow, which costs a microcode assist of about a hundred cycles on x86
// (exp(-inf) in masked rows).
struct JtExpSplit {
  float hi;
  float scale;
};
JT_INLINE JtExpSplit jt_exp_split(float x) {
  uint32_t u = jt_f_bits(x);
  u = u > 0xc3160000u ? 0xc3160000u : u;  // as unsigned, every float below -150 is above it
  int32_t s = (int32_t)u;
  s = s > 0x42b20000 ? 0x42b20000 : s;  // as signed, positive floats above 89 are above it
  float xc = jt_bits_f((uint32_t)s);
  // Adding 1.5 * 2^23 rounds x / ln2 to the integer n in the low bits of t (bits 0x4b400000 +
  // 126 + n); shifted left by 23 they are the float 2^(n - 1), which times 2 e^r is e^x.
  const float shift = 0x1.8p23f + 126.0f;
  float t = fmaf(xc, 0x1.715476p+0f, shift);
  float n = t - shift;
  float p = jt_exp_twice_er_fast(n, xc);
  int positive = xc > 0.0f;
  int32_t e = (int32_t)jt_f_bits(t) + (positive ? 0 : 64);
  e = e < 0x4b400000 ? 0x4b400000 : e;  // a biased exponent below 1 becomes 0: the float 0
  JtExpSplit r;
  r.hi = p * jt_bits_f((uint32_t)e << 23);
  r.scale = positive ? 1.0f : 0x1p-64f;
  return r;
}
JT_INLINE float jt_exp(float x) {
  JtExpSplit s = jt_exp_split(x);
  float y = s.hi * s.scale;
  return x != x ? x : y;
}

// log x = e ln2 + log1p(f), with x = 2^e (1 + f), 1 + f in [sqrt(1/2), sqrt(2)). log1p(f) is
// f + f^2 Q(f) with f exact. For |e| <= 1 the sum e ln2_hi + f is exact, so it is formed first;
// for larger |e| the small terms are summed first instead.
JT_INLINE float jt_log(float x) {
  int sub = x < 0x1p-126f;  // subnormals: scale by 2^23 first (0 and negatives: see the end)
  float xs = sub ? x * 0x1p23f : x;
  uint32_t u = jt_f_bits(xs) - 0x3f3504f3u;  // the bits of sqrt(1/2)
  float e = (float)((int32_t)u >> 23) - (sub ? 23.0f : 0.0f);
  float f = jt_bits_f((u & 0x007fffffu) + 0x3f3504f3u) - 1.0f;
  float q = -0x1.384168p-4f;  // (log1p(f) - f) / f^2, relative error of log1p 2^-27.9
  q = fmaf(q, f, 0x1.085098p-3f);
  q = fmaf(q, f, -0x1.0f37e0p-3f);
  q = fmaf(q, f, 0x1.22702ep-3f);
  q = fmaf(q, f, -0x1.542728p-3f);
  q = fmaf(q, f, 0x1.99a406p-3f);
  q = fmaf(q, f, -0x1.000428p-2f);
  q = fmaf(q, f, 0x1.555550p-2f);
  q = fmaf(q, f, -0x1.fffff8p-2f);
  float tail = fmaf(f * f, q, e * -0x1.05c610p-29f);  // and - e (ln2 - ln2_hi)
  float y = e * e <= 1.0f ? fmaf(e, 0x1.62e430p-1f, f) + tail : fmaf(e, 0x1.62e430p-1f, f + tail);
  y = x < INFINITY ? y : x;  // +inf and NaN
  return x > 0.0f ? y : (x == 0.0f ? -INFINITY : NAN);
}

// tanh |x|: an odd polynomial below 0.9, else 1 - 2 / (e^2|x| + 1) with |x| clamped to
// [0.5, 9.1] (tanh rounds to 1 above); then x's sign is put back (so tanh(-0) = -0, and tanh is
// odd bit for bit). NaN takes the polynomial branch, which keeps it. Below 2^-12 tanh x rounds
// to x: the polynomial's term is zeroed there, so no branch computes a subnormal (an underflow
// costs a microcode assist of about a hundred cycles on x86).
JT_INLINE float jt_tanh(float x) {
  float ax = fabsf(x);
  float at = ax < 0x1p-12f ? 0.0f : ax;
  float z = at * at;
  float p = -0x1.dc1f7cp-12f;  // (tanh(x) - x) / x^3 in x^2, relative error 2^-29.7
  p = fmaf(p, z, 0x1.51fe06p-9f);
  p = fmaf(p, z, -0x1.0eaa32p-7f);
  p = fmaf(p, z, 0x1.62e4d6p-6f);
  p = fmaf(p, z, -0x1.b9c866p-5f);
  p = fmaf(p, z, 0x1.110f26p-3f);
  p = fmaf(p, z, -0x1.55554ep-2f);
  float small = fmaf(at * z, p, ax);
  uint32_t ab = jt_f_bits(ax);
  ab = ab > 0x4111999au ? 0x4111999au : ab;  // 9.1
  ab = ab < 0x3f000000u ? 0x3f000000u : ab;  // 0.5
  float a2 = 2.0f * jt_bits_f(ab);
  const float shift = 0x1.8p23f + 126.0f;  // as in jt_exp_split; no under- or overflow here
  float t = fmaf(a2, 0x1.715476p+0f, shift);
  float e2a = jt_exp_twice_er(t - shift, a2) * jt_bits_f(jt_f_bits(t) << 23);
  float big = 1.0f - 2.0f / (e2a + 1.0f);
  float y = ax >= 0.9f ? big : small;
  return jt_bits_f(jt_f_bits(y) | (jt_f_bits(x) & 0x80000000u));
}

// sigmoid and silu from e = e^-|x|, which never overflows: 1 / (1 + e) for x >= 0 and
// e / (1 + e) below, so sigmoid(x) keeps its subnormal results down to x = -103.9.
JT_INLINE float jt_sigmoid(float x) {
  JtExpSplit s = jt_exp_split(-fabsf(x));
  float e = s.hi * s.scale;
  float y = (x >= 0.0f ? 1.0f : e) / (1.0f + e);
  return x != x ? x : y;
}
// silu(x) = x sigmoid(x); below 0 the product x e is rounded once, at the scale, so subnormal
// results keep their precision. silu(-inf) is NaN, as torch's x / (1 + exp(-x)) gives.
JT_INLINE float jt_silu(float x) {
  float a = -fabsf(x);
  a = a < -112.0f ? -112.0f : a;
  // As in jt_exp_split, with 64 more in the exponent: hi = e^a 2^64 is normal down to the clamp,
  // and the products with 2^-64 round a subnormal result once. One scale for every argument,
  // without jt_exp_split's selects between 1, 2^-64 and 0: HSTU attention, which takes silu of
  // every score, ran 4% faster than with jt_exp_split (and its compensated polynomial), for
  // 3.34 ulp instead of 3.11 over every float.
  const float shift = 0x1.8p23f + 126.0f + 64.0f;
  float t = fmaf(a, 0x1.715476p+0f, shift);
  float hi = jt_exp_twice_er_fast(t - shift, a) * jt_bits_f(jt_f_bits(t) << 23);
  float xm = x < -112.0f ? -112.0f : x;  // a was clamped there too; x e rounds to -0 below
  float y = (x >= 0.0f ? x : (xm * hi) * 0x1p-64f) / (1.0f + hi * 0x1p-64f);
  return (x != x || x == -INFINITY) ? NAN : y;
}

// 1 / sqrt(x): two correctly rounded operations, 1.5 ulp. It vectorises to sqrt and divide
// instructions; a bit-trick estimate with Newton steps is no faster on AVX-512, where both
// spend about the same cycles, and plain C cannot reach the rsqrt14 estimate instruction.
JT_INLINE float jt_rsqrt(float x) { return 1.0f / sqrtf(x); }
)JT";

}  // namespace

std::string math_helpers() {
  return kMathHelpers;
}

}  // namespace jagtile::codegen
