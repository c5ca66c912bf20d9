// The vector math of generated code (codegen/common/c_math.cpp: jt_exp, jt_log, jt_tanh,
// jt_sigmoid, jt_silu, jt_rsqrt) against long-double references, over every float.
//
// The functions are the very text generated files carry: the CPU prelude, compiled by the JIT
// with its own flags, so vectorised as in a kernel. A harness compiled with them evaluates each
// function on all 2^32 bit patterns and measures the error in ulp (of the float format, at the
// exact result) against a double-precision reference. The references are built from long
// double: tables of expl(k / 256) and logl(k / 256), combined with short Taylor series whose
// truncation error is below 2^-60, so each is within a few double roundings (about 2^-50) of the
// exact value, far below the 2^-24 of a float ulp. The same evaluations are then checked on a
// sample of floats against expl / logl / tanhl / sqrtl called directly, which checks the
// references themselves. Special values are asserted exactly.
//
// Every float takes minutes per function on this project's 2-core machines (the references are
// double, and tiny arguments cost x86 microcode assists), so by default the sweep takes every
// 17th bit pattern (253 million floats: every binade, both signs, every residue of the low
// bits), a few seconds each; JAGTILE_VECTOR_MATH_EVERY_FLOAT=1 sweeps all 2^32, which is how
// the bounds below (and in c_math.cpp) were measured. Under AddressSanitizer (`make sanitize`)
// the stride is 17 * 61. The bounds asserted are the same in every mode.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "codegen/cpu/jit.h"
#include "codegen/cpu/print_cpp.h"
#include "codegen_helpers.h"

#if defined(__SANITIZE_ADDRESS__)
#define JT_VM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JT_VM_SANITIZED 1
#endif
#endif
#ifndef JT_VM_SANITIZED
#define JT_VM_SANITIZED 0
#endif

namespace jagtile::testing {
namespace {

// Compiled after the CPU prelude. vm_ref_* are the references (double), vm_ulp_error the error
// of a float result against one, and the extern "C" entries evaluate a function by number:
// 0 exp, 1 log, 2 tanh, 3 sigmoid, 4 silu, 5 rsqrt.
const char* kHarness = R"JT(
// ---- vector math test harness (tests/codegen/vector_math_test.cpp) ----
static inline double vm_bits_d(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static inline uint64_t vm_d_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static const double vm_shift = 0x1.8p52;  // adding and subtracting it rounds to an integer

// e^x = e^(k/256) e^b, k = round(256 x), |b| <= 2^-9: a table from expl and e^b's Taylor
// series to b^6 (the rest is below 2^-70). Tables cover [-256, 128]; outside, e^x is far beyond
// every float result either way.
static inline double vm_ref_exp(double x, const double* et) {
  double xc = x < -256.0 ? -256.0 : (x > 128.0 ? 128.0 : x);
  xc = xc == xc ? xc : 0.0;
  double k = (xc * 256.0 + vm_shift) - vm_shift;
  double b = xc - k * (1.0 / 256.0);
  double p = 1.0 / 720.0;
  p = p * b + 1.0 / 120.0;
  p = p * b + 1.0 / 24.0;
  p = p * b + 1.0 / 6.0;
  p = p * b + 0.5;
  p = p * b + 1.0;
  p = p * b + 1.0;
  double r = et[(int64_t)k + 256 * 256] * p;
  return x == x ? r : x;
}

// log x = e ln2 + log(c) + log1p(t): x = 2^e m, m in [sqrt(1/2), sqrt(2)), c = m rounded to a
// multiple of 1/256 (a table from logl), t = (m - c) / c, |t| < 2^-8, log1p's series to t^7.
static inline double vm_ref_log(double x, const double* lt) {
  double xs = (x > 0.0 && x < INFINITY) ? x : 1.0;
  uint64_t bits = vm_d_bits(xs);
  double e = (double)((int64_t)(bits >> 52) - 1023);
  double m = vm_bits_d((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
  int big = m > 1.4142135623730951;
  m = big ? m * 0.5 : m;
  e = big ? e + 1.0 : e;
  double k = (m * 256.0 + vm_shift) - vm_shift;
  double c = k * (1.0 / 256.0);
  double t = (m - c) / c;
  double s = 1.0 / 7.0;
  s = s * t - 1.0 / 6.0;
  s = s * t + 1.0 / 5.0;
  s = s * t - 0.25;
  s = s * t + 1.0 / 3.0;
  s = s * t - 0.5;
  s = s * t + 1.0;
  double l1p = s * t;
  const double ln2_hi = 6.93147180369123816490e-01;  // 32 trailing zero bits: e ln2_hi exact
  const double ln2_lo = 1.90821492927058770002e-10;
  double r = (e * ln2_hi + lt[(int64_t)k]) + (l1p + e * ln2_lo);
  r = x == INFINITY ? x : r;
  return x > 0.0 ? r : (x == 0.0 ? -INFINITY : (x < 0.0 ? NAN : x));
}

// tanh |x| = em / (em + 2), em = e^(2|x|) - 1: Taylor to y^12 below y = 1/4, else from e^y.
static inline double vm_ref_tanh(double x, const double* et) {
  double a = fabs(x);
  a = a > 20.0 ? 20.0 : a;
  double y = a + a;
  double s = 1.0 / 479001600.0;
  s = s * y + 1.0 / 39916800.0;
  s = s * y + 1.0 / 3628800.0;
  s = s * y + 1.0 / 362880.0;
  s = s * y + 1.0 / 40320.0;
  s = s * y + 1.0 / 5040.0;
  s = s * y + 1.0 / 720.0;
  s = s * y + 1.0 / 120.0;
  s = s * y + 1.0 / 24.0;
  s = s * y + 1.0 / 6.0;
  s = s * y + 0.5;
  s = s * y + 1.0;
  double em = y < 0.25 ? s * y : vm_ref_exp(y, et) - 1.0;
  double r = copysign(em / (em + 2.0), x);
  return x == x ? r : x;
}

static inline double vm_ref_sigmoid(double x, const double* et) {
  double e = vm_ref_exp(-fabs(x), et);
  double r = (x >= 0.0 ? 1.0 : e) / (1.0 + e);
  return x == x ? r : x;
}

// silu(-inf) is NaN, as torch's x / (1 + exp(-x)); below -250 the result is -0 to any precision.
static inline double vm_ref_silu(double x, const double* et) {
  double r = x < -250.0 ? -0.0 : x * vm_ref_sigmoid(x, et);
  return x == -INFINITY ? NAN : r;
}

static inline double vm_ref_rsqrt(double x, const double* et) { return 1.0 / sqrt(x); }
static inline double vm_ref_log_(double x, const double* et, const double* lt) {
  return vm_ref_log(x, lt);
}

// |y - r| in ulp of the float format at r (2^(exponent - 23), no smaller than 2^-149). A NaN
// must meet a NaN (0, else inf); an infinity must be exact, or the rounding of an r beyond the
// largest float (whose ulp is 2^104).
static inline double vm_ulp_error(float y, double r) {
  double ar = fabs(r);
  int64_t ex = (int64_t)(vm_d_bits(ar) >> 52) - 1023;
  ex = ex < -126 ? -126 : (ex > 127 ? 127 : ex);
  double per_ulp = vm_bits_d((uint64_t)(23 - ex + 1023) << 52);  // 1 / ulp, exactly
  double err = fabs((double)y - r) * per_ulp;
  int overflow = ar >= 0x1p128 - 0x1p103;  // rounds to infinity
  err = (overflow && (double)y == copysign(INFINITY, r)) ? 0.0 : err;
  err = (double)y == r ? 0.0 : err;
  int yn = y != y, rn = r != r;
  return yn != rn ? INFINITY : (yn ? 0.0 : err);
}

#define VM_FUNCTIONS(X)                  \
  X(0, jt_exp, vm_ref_exp(xd, et))      \
  X(1, jt_log, vm_ref_log_(xd, et, lt)) \
  X(2, jt_tanh, vm_ref_tanh(xd, et))    \
  X(3, jt_sigmoid, vm_ref_sigmoid(xd, et)) \
  X(4, jt_silu, vm_ref_silu(xd, et))    \
  X(5, jt_rsqrt, vm_ref_rsqrt(xd, et))

// The largest error over the floats with bits first + i * stride, i < count.
extern "C" double jt_vm_max_error(int fn, uint32_t first, int64_t count, uint32_t stride,
                                  const double* et, const double* lt) {
  double m = 0.0;
  switch (fn) {
#define VM_SWEEP(ID, F, REF)                                       \
  case ID: {                                                       \
    _Pragma("omp simd reduction(max : m)")                         \
    for (int64_t i = 0; i < count; ++i) {                          \
      float x = jt_bits_f(first + (uint32_t)i * stride);          \
      double xd = (double)x;                                       \
      double e = vm_ulp_error(F(x), REF);                          \
      m = m > e ? m : e;                                           \
    }                                                              \
    break;                                                         \
  }
    VM_FUNCTIONS(VM_SWEEP)
  }
  return m;
}

// The function and its reference on given floats (for the error report, the sample checked
// against long double and the special values).
extern "C" void jt_vm_eval(int fn, const float* xs, int64_t n, const double* et,
                           const double* lt, float* ys, double* refs) {
  switch (fn) {
#define VM_EVAL(ID, F, REF)              \
  case ID: {                             \
    for (int64_t i = 0; i < n; ++i) {    \
      float x = xs[i];                   \
      double xd = (double)x;             \
      ys[i] = F(x);                      \
      refs[i] = REF;                     \
    }                                    \
    break;                               \
  }
    VM_FUNCTIONS(VM_EVAL)
  }
}
)JT";

using MaxErrorFn = double (*)(int, uint32_t, int64_t, uint32_t, const double*, const double*);
using EvalFn = void (*)(int, const float*, int64_t, const double*, const double*, float*, double*);

// The compiled harness and the long-double tables its references read.
struct Harness {
  std::shared_ptr<const codegen::cpu::LoadedKernel> code;
  MaxErrorFn max_error = nullptr;
  EvalFn eval = nullptr;
  std::vector<double> exp_table;  // expl(k / 256), k in [-256 * 256, 128 * 256]
  std::vector<double> log_table;  // logl(k / 256), k in [0, 512]
};

const Harness& harness() {
  static const Harness h = [] {
    use_shared_cache_dir();
    Harness r;
    r.code =
        codegen::cpu::Jit::for_dir().load(codegen::cpu::prelude() + kHarness, "jt_vm_max_error");
    r.max_error = reinterpret_cast<MaxErrorFn>(r.code->symbol("jt_vm_max_error"));
    r.eval = reinterpret_cast<EvalFn>(r.code->symbol("jt_vm_eval"));
    for (int k = -256 * 256; k <= 128 * 256; ++k)
      r.exp_table.push_back(double(expl((long double)k / 256)));
    for (int k = 0; k <= 512; ++k) r.log_table.push_back(double(logl((long double)k / 256)));
    return r;
  }();
  return h;
}

struct Eval {
  std::vector<float> y;
  std::vector<double> ref;
};

Eval eval(int fn, const std::vector<float>& xs) {
  const Harness& h = harness();
  Eval r;
  r.y.resize(xs.size());
  r.ref.resize(xs.size());
  h.eval(fn, xs.data(), int64_t(xs.size()), h.exp_table.data(), h.log_table.data(), r.y.data(),
         r.ref.data());
  return r;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The error in ulp against a long-double value, as the harness measures it against a double.
double ulp_error_ld(float y, long double r) {
  if (std::isnan(r) || std::isnan(y)) return std::isnan(r) == std::isnan(y) ? 0 : INFINITY;
  if ((long double)y == r) return 0;
  long double ar = fabsl(r);
  int ex = ar == 0 ? -126 : std::ilogb(ar);
  ex = ex < -126 ? -126 : (ex > 127 ? 127 : ex);
  if (ar >= 0x1p128L - 0x1p103L && std::isinf(y) && (y > 0) == (r > 0)) return 0;
  return double(fabsl((long double)y - r) / ldexpl(1.0L, ex - 23));
}

struct Case {
  const char* name;
  int fn;
  double bound;  // ulp, over every float
  long double (*reference)(long double);
};

long double ld_exp(long double x) {
  return expl(x);
}
long double ld_log(long double x) {
  return logl(x);
}
long double ld_tanh(long double x) {
  return tanhl(x);
}
long double ld_sigmoid(long double x) {
  return 1.0L / (1.0L + expl(-x));
}
long double ld_silu(long double x) {
  return x / (1.0L + expl(-x));
}
long double ld_rsqrt(long double x) {
  return 1.0L / sqrtl(x);
}

// Measured over all 2^32 floats: exp 0.9386 (0.7791 with tanh's compensated polynomial), log
// 0.8812, tanh 1.0181, sigmoid 2.4019, silu 3.3442 (3.1129 with the compensated polynomial),
// rsqrt 1.4903 (the worst arguments are printed by the sweep).
const Case kCases[] = {
    {"exp", 0, 0.94, ld_exp},         {"log", 1, 0.89, ld_log},   {"tanh", 2, 1.02, ld_tanh},
    {"sigmoid", 3, 2.41, ld_sigmoid}, {"silu", 4, 3.35, ld_silu}, {"rsqrt", 5, 1.50, ld_rsqrt},
};

class VectorMath : public ::testing::TestWithParam<Case> {};

TEST_P(VectorMath, ErrorOverEveryFloatIsWithinItsBound) {
  const Case& c = GetParam();
  const Harness& h = harness();
  const char* every = std::getenv("JAGTILE_VECTOR_MATH_EVERY_FLOAT");
  const bool all = every && std::string(every) == "1";
  const uint32_t stride = all ? 1 : JT_VM_SANITIZED ? 17 * 61 : 17;
  const int64_t total = int64_t(((1ull << 32) + stride - 1) / stride);
  const int64_t chunk = int64_t(1) << 20;
  const int64_t chunks = (total + chunk - 1) / chunk;
  // Chunks are shared out to a few threads; each keeps its worst, then the worst of those.
  const int threads = int(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  std::vector<double> worst_of(threads, 0.0);
  std::vector<uint32_t> first_of(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int64_t k = t; k < chunks; k += threads) {
        const int64_t done = k * chunk;
        const uint32_t first = uint32_t(uint64_t(done) * stride);
        const double m = h.max_error(c.fn, first, std::min(chunk, total - done), stride,
                                     h.exp_table.data(), h.log_table.data());
        if (m > worst_of[t]) {
          worst_of[t] = m;
          first_of[t] = first;
        }
      }
    });
  }
  for (std::thread& t : pool) t.join();
  double worst = 0;
  uint32_t worst_first = 0;
  for (int t = 0; t < threads; ++t) {
    if (worst_of[t] > worst) {
      worst = worst_of[t];
      worst_first = first_of[t];
    }
  }
  // Where the worst error is, for the message (a scan of its chunk).
  std::vector<float> xs;
  for (int64_t i = 0; i < std::min<int64_t>(chunk, total); ++i)
    xs.push_back(from_bits(worst_first + uint32_t(i) * stride));
  Eval e = eval(c.fn, xs);
  size_t at = 0;
  double found = -1;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double err = ulp_error_ld(e.y[i], e.ref[i]);
    if (err > found) {
      found = err;
      at = i;
    }
  }
  std::printf("jt_%s: max error %.4f ulp over every %u%s float, at x = %a (got %a, reference %a)\n",
              c.name, worst, stride, stride == 1 ? "st" : "th", xs[at], e.y[at], e.ref[at]);
  EXPECT_LE(worst, c.bound) << "jt_" << c.name << " at x = " << xs[at] << " (" << std::hexfloat
                            << xs[at] << "): got " << e.y[at] << ", reference " << e.ref[at];
}

// A sample of floats (every 4099th bit pattern, about a million) against long double called
// directly: the function is within its bound there too, and the harness's double reference
// agrees with long double to 2^-44 (relative), which is what the sweep relies on.
TEST_P(VectorMath, SampleAgreesWithLongDouble) {
  const Case& c = GetParam();
  const uint32_t step = JT_VM_SANITIZED ? 65537 : 4099;
  std::vector<float> xs;
  for (uint64_t u = 0; u < (1ull << 32); u += step) xs.push_back(from_bits(uint32_t(u)));
  Eval e = eval(c.fn, xs);
  double worst = 0;
  int bad_refs = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const long double x = xs[i];
    long double r = c.reference(x);
    if (c.fn == 4 && std::isinf(x) && x < 0) r = NAN;  // silu(-inf): NaN, as torch
    worst = std::max(worst, ulp_error_ld(e.y[i], r));
    const long double d = e.ref[i];
    // Beyond the float range (tables end at e^128) and far below it the two may differ.
    const bool same = (std::isnan(r) && std::isnan(d)) || d == r ||
                      fabsl(d - r) <= 0x1p-44L * fabsl(r) ||
                      (fabsl(r) < 0x1p-200L && fabsl(d) < 0x1p-200L) ||
                      (fabsl(r) >= 0x1p128L && fabsl(d) >= 0x1p128L && (r > 0) == (d > 0));
    if (!same && bad_refs++ < 5)
      ADD_FAILURE() << "reference of jt_" << c.name << " at " << std::hexfloat << xs[i] << ": " << d
                    << " vs long double " << r;
  }
  EXPECT_EQ(bad_refs, 0);
  EXPECT_LE(worst, c.bound) << "jt_" << c.name;
}

INSTANTIATE_TEST_SUITE_P(Functions, VectorMath, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return std::string(i.param.name);
                         });

// Special values, exactly (signs of zeros included).
struct Special {
  float x;
  float y;  // NaN: any NaN
};

void expect_specials(int fn, const char* name, const std::vector<Special>& cases) {
  std::vector<float> xs;
  for (const Special& s : cases) xs.push_back(s.x);
  Eval e = eval(fn, xs);
  for (size_t i = 0; i < cases.size(); ++i) {
    const float want = cases[i].y, got = e.y[i];
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << name << "(" << cases[i].x << ") = " << got;
    } else {
      EXPECT_EQ(got, want) << name << "(" << std::hexfloat << cases[i].x << ")";
      EXPECT_EQ(std::signbit(got), std::signbit(want))
          << name << "(" << std::hexfloat << cases[i].x << ") = " << got;
    }
  }
}

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kMax = std::numeric_limits<float>::max();
const float kTiny = std::numeric_limits<float>::denorm_min();

TEST(VectorMathSpecials, ExpOverflowsUnderflowsAndKeepsNaN) {
  expect_specials(0, "exp",
                  {{kNaN, kNaN},
                   {kInf, kInf},
                   {-kInf, 0.0f},
                   {0.0f, 1.0f},
                   {-0.0f, 1.0f},
                   {89.0f, kInf},
                   {kMax, kInf},
                   {-106.0f, 0.0f},
                   // Below -131.4 the scaled power of two is 0 itself (no underflow); at the
                   // clamp (-150) and past it.
                   {-131.0f, 0.0f},
                   {-140.0f, 0.0f},
                   {-150.0f, 0.0f},
                   {-1000.0f, 0.0f},
                   {-kMax, 0.0f},
                   {kTiny, 1.0f},
                   // The smallest argument whose e^x rounds to infinity.
                   {0x1.62e430p+6f, kInf}});
  // The largest argument with a finite result; a subnormal result.
  EXPECT_LT(eval(0, {0x1.62e42ep+6f}).y[0], kInf);
  EXPECT_GT(eval(0, {-103.0f}).y[0], 0.0f);
}

TEST(VectorMathSpecials, LogOfZeroNegativesInfinityAndSubnormals) {
  expect_specials(1, "log",
                  {{kNaN, kNaN},
                   {kInf, kInf},
                   {0.0f, -kInf},
                   {-0.0f, -kInf},
                   {-1.0f, kNaN},
                   {-kInf, kNaN},
                   {-kTiny, kNaN},
                   {1.0f, 0.0f},
                   {2.0f, 0x1.62e430p-1f}});
}

TEST(VectorMathSpecials, TanhIsOddAndSaturates) {
  expect_specials(2, "tanh",
                  {{kNaN, kNaN},
                   {kInf, 1.0f},
                   {-kInf, -1.0f},
                   {0.0f, 0.0f},
                   {-0.0f, -0.0f},
                   {kTiny, kTiny},
                   {-kTiny, -kTiny},
                   {10.0f, 1.0f},
                   {-10.0f, -1.0f},
                   {kMax, 1.0f},
                   {-kMax, -1.0f}});
  // tanh(-x) == -tanh(x), bit for bit, on a sample of positive floats.
  std::vector<float> pos, neg;
  for (uint32_t u = 0; u < 0x7f800000u; u += 9973) {
    pos.push_back(from_bits(u));
    neg.push_back(-from_bits(u));
  }
  Eval p = eval(2, pos), n = eval(2, neg);
  for (size_t i = 0; i < pos.size(); ++i)
    ASSERT_EQ(p.y[i], -n.y[i]) << "tanh is not odd at " << std::hexfloat << pos[i];
}

TEST(VectorMathSpecials, SigmoidAndSiluAtTheEnds) {
  expect_specials(3, "sigmoid",
                  {{kNaN, kNaN},
                   {kInf, 1.0f},
                   {-kInf, 0.0f},
                   {0.0f, 0.5f},
                   {-0.0f, 0.5f},
                   {200.0f, 1.0f},
                   {-200.0f, 0.0f},
                   {-kMax, 0.0f},
                   {kMax, 1.0f}});
  // sigmoid(-100) = 3.7e-44 is subnormal, not flushed to 0.
  EXPECT_GT(eval(3, {-100.0f}).y[0], 0.0f);
  expect_specials(4, "silu",
                  {{kNaN, kNaN},
                   {kInf, kInf},
                   {-kInf, kNaN},
                   {0.0f, 0.0f},
                   {-0.0f, -0.0f},
                   {-200.0f, -0.0f},
                   {-kMax, -0.0f},
                   {kMax, kMax},
                   {1e30f, 1e30f}});
  EXPECT_LT(eval(4, {-100.0f}).y[0], 0.0f);  // -3.7e-42, subnormal
}

TEST(VectorMathSpecials, RsqrtOfZerosInfinityAndNegatives) {
  expect_specials(5, "rsqrt",
                  {{kNaN, kNaN},
                   {kInf, 0.0f},
                   {0.0f, kInf},
                   {-0.0f, -kInf},
                   {-1.0f, kNaN},
                   {-kInf, kNaN},
                   {4.0f, 0.5f},
                   {1.0f, 1.0f}});
}

// End to end: a kernel with every function, on the generated CPU code and on the interpreter
// (which computes in double and rounds once), over arguments from -30 to 30 and the specials.
const char* kAllMath = R"PY(import torch
import torch.nn.functional as F
import helion
import helion.language as hl

@helion.kernel(autotune_effort="none")
def all_math(x: torch.Tensor):
    (n,) = x.size()
    e = torch.empty_like(x)
    l = torch.empty_like(x)
    th = torch.empty_like(x)
    sg = torch.empty_like(x)
    si = torch.empty_like(x)
    rs = torch.empty_like(x)
    for t in hl.tile(n):
        v = x[t]
        e[t] = torch.exp(v)
        l[t] = torch.log(v)
        th[t] = torch.tanh(v)
        sg[t] = torch.sigmoid(v)
        si[t] = F.silu(v)
        rs[t] = torch.rsqrt(v)
    return e, l, th, sg, si, rs
)PY";

TEST(VectorMathKernels, GeneratedCodeMatchesTheInterpreterWithinTheBounds) {
  use_shared_cache_dir();
  Program p = Program::from_source(kAllMath, "all_math.py");
  std::vector<double> xs;
  for (int i = -3000; i <= 3000; ++i) xs.push_back(i / 100.0 + 1.0 / 1024);
  for (double v : {0.0, -0.0, 1e-30, -1e-30, 1e-40, 100.0, -100.0, 1e30, -1e30}) xs.push_back(v);
  for (double v : {double(kInf), -double(kInf), double(kNaN)}) xs.push_back(v);
  const int64_t n = int64_t(xs.size());
  std::vector<std::vector<Tensor>> outs;
  for (Backend b : {Backend::interp, Backend::cpu}) {
    Options o;
    o.backend = b;
    outs.push_back(p.call("", {{"x", Tensor::from_doubles({n}, xs, DType::f32)}}, o).outputs);
  }
  for (const Case& c : kCases) {
    for (int64_t i = 0; i < n; ++i) {
      const float want = float(outs[0].at(size_t(c.fn)).item_as_double(i));
      const float got = float(outs[1].at(size_t(c.fn)).item_as_double(i));
      // The interpreter's float is within half an ulp of the exact value.
      EXPECT_LE(ulp_error_ld(got, want), c.bound + 0.5)
          << "jt_" << c.name << "(" << xs[size_t(i)] << "): " << got << ", interpreter " << want;
    }
  }
}

}  // namespace
}  // namespace jagtile::testing
