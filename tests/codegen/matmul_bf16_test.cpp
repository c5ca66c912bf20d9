// The microkernel's bf16 pair path (codegen/cpu/cpp_matmul.cpp, jt_matmul_bf16): on a CPU with
// AVX512-BF16 it multiplies bf16 operands in pairs with vdpbf16ps, and its results are the f32
// path's bit for bit, on every operand layout (rows or columns contiguous, general strides), odd
// and even K, partial panels and row blocks, with and without D. Operands the instruction would
// treat differently (subnormal elements, products small enough for a subnormal partial sum,
// values that are not bf16) are left to the f32 path, with the same bits again. On a CPU with
// AMX-BF16 the tile path takes larger blocks first: its sums are within a recursive sum's
// rounding bound of the exact ones (not the f32 path's bits), on the same layouts and shapes.
//
// The functions are the text generated files carry, compiled by the JIT with its own flags; a
// small harness calls either path on the same operands (the pair path also on blocks smaller
// than generated code gives it, so that every edge is covered).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "codegen/cpu/jit.h"
#include "codegen/cpu/print_cpp.h"
#include "codegen_helpers.h"
#include "testing/scoped_env.h"

namespace jagtile::testing {
namespace {

const char* kHarness = R"JT(
// ---- bf16 matmul test harness (tests/codegen/matmul_bf16_test.cpp) ----
// mode 0: the f32 path; 1: jt_matmul_bf16, as generated code calls it; 2: the pair path
// whatever the block's size (the f32 path where the CPU or the scan rules it out); 3: the AMX
// path, likewise (A read in place with contiguous rows and K a multiple of 32: straight from
// them). Returns what was used: 0 the f32 path, 1 the pairs, 2 AMX tiles. A16 / B16 non-null:
// the operands read in place as bf16 (JtMatmul's a16 / b16), A / B then ignored.
extern "C" int jt_mm_test(int mode, int64_t M, int64_t N, int64_t K, const float* A, int64_t a_m,
                          int64_t a_k, const float* B, int64_t b_k, int64_t b_n, float* C,
                          const float* D, int64_t d_m, int64_t d_n, const uint16_t* A16,
                          const uint16_t* B16) {
  const JtMatmul m{M, N, K, A16 ? NULL : A, a_m, a_k, B16 ? NULL : B, b_k, b_n, C, N, D, d_m,
                   d_n, 0, 0, A16, B16};
  if (mode == 1) return jt_matmul_bf16(m);
#if defined(JT_BF16_PAIRS)
  if (mode == 2 && jt_matmul_bf16_pairs(m)) return 1;
#endif
#if defined(JT_BF16_AMX)
  const bool direct = A16 && a_k == 1 && K % 32 == 0;
  if (mode == 3 && jt_amx_permitted() &&
      (direct ? jt_matmul_bf16_amx_direct(m) : jt_matmul_bf16_amx(m)))
    return 2;
#endif
  if (A16 || B16)
    jt_matmul_f32_widened(m);
  else
    jt_matmul_f32(m);
  return 0;
}
)JT";

using MatmulFn = int (*)(int, int64_t, int64_t, int64_t, const float*, int64_t, int64_t,
                         const float*, int64_t, int64_t, float*, const float*, int64_t, int64_t,
                         const uint16_t*, const uint16_t*);

// The harness compiled with JAGTILE_CPU_ISA set to `isa` ("": the CPU's own instruction set).
MatmulFn harness(const std::string& isa = "") {
  static std::map<std::string, std::shared_ptr<const codegen::cpu::LoadedKernel>> loaded;
  std::shared_ptr<const codegen::cpu::LoadedKernel>& code = loaded[isa];
  if (!code) {
    use_shared_cache_dir();
    ScopedEnv forced("JAGTILE_CPU_ISA", isa.empty() ? nullptr : isa.c_str());
    code = codegen::cpu::Jit::for_dir().load(
        codegen::cpu::prelude() + codegen::cpu::matmul_prelude() + kHarness, "jt_mm_test");
  }
  return reinterpret_cast<MatmulFn>(code->symbol("jt_mm_test"));
}

bool cpu_has_bf16_pairs() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw");
}

float to_bf16(float x) {  // truncation: the values only need to be bf16, not near x
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u &= 0xffff0000u;
  std::memcpy(&x, &u, 4);
  return x;
}

uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

// Operands stored with the given strides (elements), filled with bf16 values in [-scale, scale].
struct Operands {
  int64_t M, N, K, a_m, a_k, b_k, b_n;
  std::vector<float> A, B, D;
};

// A float vector's elements as bf16 words (the high halves: the values are bf16), for the
// operands read in place.
std::vector<uint16_t> bf16_words(const std::vector<float>& x) {
  std::vector<uint16_t> w;
  for (float v : x) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    w.push_back(uint16_t(u >> 16));
  }
  return w;
}

enum class Layout { rows, columns, strided };

Operands operands(int64_t M, int64_t N, int64_t K, Layout a, Layout b, uint32_t seed,
                  float scale = 1.0f) {
  Operands o{M, N, K, 0, 0, 0, 0, {}, {}, {}};
  // rows: the last index contiguous; columns: the first; strided: neither (gaps of 3).
  auto strides = [](Layout l, int64_t rows, int64_t cols, int64_t* r, int64_t* c) {
    if (l == Layout::rows) *r = cols, *c = 1;
    if (l == Layout::columns) *r = 1, *c = rows;
    if (l == Layout::strided) *r = 2 * cols + 3, *c = 2;
  };
  strides(a, M, K, &o.a_m, &o.a_k);
  strides(b, K, N, &o.b_k, &o.b_n);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  o.A.assign(size_t((M + 1) * (2 * K + 3) + 8), std::nanf(""));  // gaps hold NaN: never read
  o.B.assign(size_t((K + 1) * (2 * N + 3) + 8), std::nanf(""));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) o.A[size_t(i * o.a_m + k * o.a_k)] = to_bf16(u(rng));
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < N; ++j) o.B[size_t(k * o.b_k + j * o.b_n)] = to_bf16(u(rng));
  for (int64_t i = 0; i < M * N; ++i) o.D.push_back(u(rng));
  return o;
}

struct Result {
  std::vector<float> C;
  int pairs_used = 0;  // what was used: 0 the f32 path, 1 the pairs, 2 AMX tiles
};

enum Mode { kF32 = 0, kGenerated = 1, kForcedPairs = 2, kForcedAmx = 3 };

// `in_place`: A and B passed as bf16 words (a16 / b16), as generated code passes operands it
// reads in place from bf16 tensors.
Result run(const Operands& o, Mode mode, bool with_d, const std::string& isa = "",
           bool in_place = false) {
  Result r;
  r.C.assign(size_t(o.M * o.N), 12345.0f);
  const std::vector<uint16_t> a16 = bf16_words(o.A), b16 = bf16_words(o.B);
  r.pairs_used = harness(isa)(mode, o.M, o.N, o.K, o.A.data(), o.a_m, o.a_k, o.B.data(), o.b_k,
                              o.b_n, r.C.data(), with_d ? o.D.data() : nullptr, o.N, 1,
                              in_place ? a16.data() : nullptr, in_place ? b16.data() : nullptr);
  return r;
}

// The first element whose bits differ, or -1.
int64_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (bits(a[i]) != bits(b[i])) return int64_t(i);
  return -1;
}

struct Shape {
  int64_t M, N, K;
};

// Shapes with partial tiles, row blocks and panels on every dim, odd and even K.
const Shape kShapes[] = {{1, 1, 1},    {8, 32, 2},   {7, 33, 3},    {9, 16, 64}, {17, 47, 37},
                         {64, 64, 64}, {13, 5, 131}, {3, 100, 256}, {40, 31, 17}};

// check(operands, with_d) on each shape, every layout of A and of B, with and without D.
template <class Check>
void for_every_layout(const std::vector<Shape>& shapes, const Check& check) {
  const Layout layouts[] = {Layout::rows, Layout::columns, Layout::strided};
  uint32_t seed = 1;
  for (const Shape& s : shapes)
    for (Layout a : layouts)
      for (Layout b : layouts)
        for (bool with_d : {false, true}) {
          SCOPED_TRACE("M " + std::to_string(s.M) + " N " + std::to_string(s.N) + " K " +
                       std::to_string(s.K) + " A layout " + std::to_string(int(a)) + " B layout " +
                       std::to_string(int(b)) + (with_d ? " with D" : ""));
          check(operands(s.M, s.N, s.K, a, b, seed++), with_d);
        }
}

TEST(MatmulBf16, PairsMatchTheF32PathBitwiseOnEveryLayoutAndShape) {
  const bool pairs_expected = cpu_has_bf16_pairs();
  for_every_layout({std::begin(kShapes), std::end(kShapes)}, [&](const Operands& o, bool with_d) {
    const Result f32 = run(o, kF32, with_d), paired = run(o, kForcedPairs, with_d);
    EXPECT_EQ(paired.pairs_used, pairs_expected ? 1 : 0);
    EXPECT_EQ(first_difference(paired.C, f32.C), -1);
  });
}

bool cpu_has_amx() {
  __builtin_cpu_init();
  return cpu_has_bf16_pairs() && __builtin_cpu_supports("amx-tile") &&
         __builtin_cpu_supports("amx-bf16");
}

// |C - exact| / (2^-24 (sum over k of |a b|, plus |d|)), the largest over C: a recursive f32
// sum of n terms is within (n - 1) of these units of the exact one, whatever its order.
double error_in_rounding_units(const Operands& o, const Result& r, bool with_d) {
  double worst = 0;
  for (int64_t i = 0; i < o.M; ++i)
    for (int64_t j = 0; j < o.N; ++j) {
      double exact = 0, magnitude = 0;
      for (int64_t k = 0; k < o.K; ++k) {
        const double p = double(o.A[size_t(i * o.a_m + k * o.a_k)]) *
                         double(o.B[size_t(k * o.b_k + j * o.b_n)]);  // exact in double
        exact += p;
        magnitude += std::fabs(p);
      }
      if (with_d) {
        exact += o.D[size_t(i * o.N + j)];
        magnitude += std::fabs(o.D[size_t(i * o.N + j)]);
      }
      const double error = std::fabs(double(r.C[size_t(i * o.N + j)]) - exact);
      if (error > 0) worst = std::max(worst, error / (std::ldexp(magnitude, -24)));
    }
  return worst;
}

// On a CPU with AMX-BF16, the tile path's sums are not the f32 path's bits but are within a
// recursive f32 sum's rounding bound of the exact ones (K products and D: K units), on every
// operand layout, partial tiles of rows, columns and k included.
TEST(MatmulBf16, AmxSumsAreWithinARecursiveSumsRoundingBound) {
  if (!cpu_has_amx()) GTEST_SKIP() << "this CPU has no AMX-BF16";
  std::vector<Shape> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.push_back({96, 96, 512});
  double worst = 0;
  for_every_layout(shapes, [&](const Operands& o, bool with_d) {
    const Result tiles = run(o, kForcedAmx, with_d);
    EXPECT_EQ(tiles.pairs_used, 2);
    const double units = error_in_rounding_units(o, tiles, with_d);
    EXPECT_LE(units, double(o.K));
    worst = std::max(worst, units);
  });
  std::printf("largest error: %.3f units\n", worst);
}

// Sums that cancel to zero, and infinities, keep their bits: the zero's sign and inf's.
TEST(MatmulBf16, ZerosAndInfinitiesKeepTheF32PathsBits) {
  Operands o = operands(5, 20, 7, Layout::rows, Layout::rows, 99);
  for (int64_t k = 0; k < o.K; ++k) o.A[size_t(k)] = (k % 2) ? -1.0f : 1.0f;  // row 0: +-1
  for (int64_t j = 0; j < o.N; ++j)
    for (int64_t k = 0; k < o.K; ++k) o.B[size_t(k * o.b_k + j)] = k < 6 ? 0.5f : -0.0f;
  o.A[size_t(1 * o.a_m + 2)] = INFINITY;  // row 1: +inf times B's rows
  for (bool with_d : {false, true}) {
    const Result f32 = run(o, kF32, with_d), paired = run(o, kForcedPairs, with_d);
    EXPECT_EQ(first_difference(paired.C, f32.C), -1);
  }
}

// Operands the pair instruction (or the tiles) would treat differently run on the f32 path: the
// same bits, and the pair (or tile) path reports it was not used. B's elements are set to +-[1, 2)
// * 2^b_exponent.
TEST(MatmulBf16, OperandsThePairsWouldChangeRunOnTheF32Path) {
  struct Case {
    const char* what;
    float a0;  // every element of A's row 0
    int b_exponent;
  };
  const Case cases[] = {
      // the products are normal, but the instruction reads A's row as zeros
      {"subnormal elements", 0x1p-130f, 20},
      // products near 2^-128, which the instruction flushes to zero
      {"products whose partial sums may be subnormal", 0x1p-60f, -68},
      {"an element that is not a bf16 value", 1.0f + 0x1p-20f, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Operands o = operands(9, 40, 11, Layout::rows, Layout::rows, 7);
    for (int64_t k = 0; k < o.K; ++k) o.A[size_t(k)] = c.a0;
    for (float& b : o.B)
      if (!std::isnan(b))
        b = to_bf16(std::copysign(std::ldexp(1.0f + std::fabs(b), c.b_exponent), b));
    const Result f32 = run(o, kF32, false), paired = run(o, kForcedPairs, false);
    EXPECT_EQ(paired.pairs_used, 0);
    EXPECT_EQ(first_difference(paired.C, f32.C), -1);
    const Result tiles = run(o, kForcedAmx, false);  // the tiles take the same scan
    EXPECT_EQ(tiles.pairs_used, 0);
    EXPECT_EQ(first_difference(tiles.C, f32.C), -1);
    if (to_bf16(c.a0) == c.a0) {  // and so do operands read in place, scanned on their words
      for (Mode mode : {kForcedPairs, kForcedAmx}) {
        const Result in_place = run(o, mode, false, "", true);
        EXPECT_EQ(in_place.pairs_used, 0);
        EXPECT_EQ(first_difference(in_place.C, f32.C), -1);
      }
    }
  }
  // The scan's bound is tight on the safe side: products of 2^-52 and 2^-50 stay normal.
  Operands o = operands(9, 40, 11, Layout::rows, Layout::rows, 8);
  for (float& a : o.A)
    if (!std::isnan(a)) a = a == 0.0f ? a : to_bf16(std::ldexp(1.0f + std::fabs(a), -52));
  for (float& b : o.B)
    if (!std::isnan(b)) b = b == 0.0f ? b : to_bf16(std::ldexp(1.0f + std::fabs(b), -50));
  const Result f32 = run(o, kF32, false), paired = run(o, kForcedPairs, false);
  EXPECT_EQ(paired.pairs_used, cpu_has_bf16_pairs() ? 1 : 0);
  EXPECT_EQ(first_difference(paired.C, f32.C), -1);
}

// Generated code's entry takes AMX tiles, where the CPU has them, for blocks of 32 rows, columns
// and k or more; otherwise, or with JAGTILE_CPU_ISA=avx512bf16, the pairs for blocks of 48 rows,
// 64 columns and 32 k or more, where they pay for their packing, and the f32 path below (same
// bits as the pairs).
TEST(MatmulBf16, GeneratedCodeTakesAmxThenThePairsOnlyForBlocksLargeEnoughToPay) {
  const int pairs = cpu_has_bf16_pairs() ? 1 : 0;
  const struct {
    Shape shape;
    int with_tiles;     // by default on a CPU with AMX tiles
    int without_tiles;  // by default on one without, and with JAGTILE_CPU_ISA=avx512bf16
  } cases[] = {{{64, 64, 64}, 2, pairs}, {{48, 64, 32}, 2, pairs}, {{47, 64, 64}, 2, 0},
               {{64, 63, 64}, 2, 0},     {{64, 64, 31}, 0, 0},     {{32, 32, 32}, 2, 0},
               {{31, 64, 64}, 0, 0},     {{64, 31, 64}, 0, 0}};
  for (const auto& c : cases)
    for (const std::string isa : {"", "avx512bf16"}) {
      SCOPED_TRACE(std::to_string(c.shape.M) + " x " + std::to_string(c.shape.N) + " x " +
                   std::to_string(c.shape.K) + " JAGTILE_CPU_ISA=" + isa);
      const Operands o = operands(c.shape.M, c.shape.N, c.shape.K, Layout::rows, Layout::rows, 5);
      const Result f32 = run(o, kF32, true), generated = run(o, kGenerated, true, isa);
      const int expected = isa.empty() && cpu_has_amx() ? c.with_tiles : c.without_tiles;
      EXPECT_EQ(generated.pairs_used, expected);
      if (expected == 2)
        EXPECT_LE(error_in_rounding_units(o, generated, true), double(c.shape.K));
      else
        EXPECT_EQ(first_difference(generated.C, f32.C), -1);
    }
}

// Operands read in place from bf16 tensors (a16 / b16) give what the same values as floats
// give: the f32 path's bits on the f32 path (its own widened copies) and on the pairs, and on
// the tiles sums within the same bound, A's tiles loaded straight from its rows where they are
// contiguous and K is a multiple of 32 (row tails under 32 copied), on every layout.
TEST(MatmulBf16, OperandsReadInPlaceAsBf16GiveTheFloatOperandsResults) {
  std::vector<Shape> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.push_back({96, 96, 512});  // whole blocks of 32 rows, A straight from its rows
  shapes.push_back({77, 40, 64});   // and a tail of 13 rows copied to whole tiles
  const bool pairs_expected = cpu_has_bf16_pairs();
  for_every_layout(shapes, [&](const Operands& o, bool with_d) {
    const Result f32 = run(o, kF32, with_d);
    const Result widened = run(o, kF32, with_d, "", true);
    EXPECT_EQ(first_difference(widened.C, f32.C), -1);
    const Result paired = run(o, kForcedPairs, with_d, "", true);
    EXPECT_EQ(paired.pairs_used, pairs_expected ? 1 : 0);
    EXPECT_EQ(first_difference(paired.C, f32.C), -1);
    if (cpu_has_amx()) {
      const Result tiles = run(o, kForcedAmx, with_d, "", true);
      EXPECT_EQ(tiles.pairs_used, 2);
      EXPECT_LE(error_in_rounding_units(o, tiles, with_d), double(o.K));
    }
  });
}

// A read straight from its rows is scanned a block of 32 rows at a time: a block the tiles
// would change (here subnormal elements in rows 32 to 63) runs alone on the f32 path, with its
// bits, and the other blocks on the tiles, within the bound.
TEST(MatmulBf16, ADirectBlockTheTilesWouldChangeRunsAloneOnTheF32Path) {
  if (!cpu_has_amx()) GTEST_SKIP() << "this CPU has no AMX-BF16";
  Operands o = operands(100, 48, 64, Layout::rows, Layout::rows, 11);
  for (int64_t i = 32; i < 64; ++i) o.A[size_t(i * o.a_m + 5)] = 0x1p-130f;
  for (bool with_d : {false, true}) {
    SCOPED_TRACE(with_d ? "with D" : "without D");
    const Result f32 = run(o, kF32, with_d), tiles = run(o, kForcedAmx, with_d, "", true);
    EXPECT_EQ(tiles.pairs_used, 2);
    const std::vector<float> f32_rows(f32.C.begin() + 32 * o.N, f32.C.begin() + 64 * o.N),
        tile_rows(tiles.C.begin() + 32 * o.N, tiles.C.begin() + 64 * o.N);
    EXPECT_EQ(first_difference(tile_rows, f32_rows), -1);
    EXPECT_NE(first_difference(tiles.C, f32.C), -1) << "no block ran on the tiles";
    EXPECT_LE(error_in_rounding_units(o, tiles, with_d), double(o.K));
  }
}

}  // namespace
}  // namespace jagtile::testing
