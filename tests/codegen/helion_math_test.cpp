// Helion's creation and math functions and device control flow, end to end on the interpreter
// and the generated CPU code against values computed here: torch.full_like / ones_like / ones,
// torch.clamp (both bounds, one bound), F.gelu (exact), F.relu / torch.relu, F.sigmoid,
// hl.cdiv, `if` on a per-tile scalar inside hl.tile(begin, end) under hl.grid; plus the located
// errors for their misuse.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "codegen_helpers.h"
#include "jagtile/error.h"

namespace jagtile::testing {
namespace {

const char* kMath = R"PY(import torch
import torch.nn.functional as F
import helion
import helion.language as hl

@helion.kernel(autotune_effort="none")
def per_item_math(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    n = offsets.size(0) - 1
    out = torch.full_like(x, 7.0)
    for item in hl.grid(n):
        start = offsets[item]
        end = offsets[item + 1]
        for t in hl.tile(start, end, block_size=4):
            if t.begin + 2 < end:
                v = x[t]
                a = torch.clamp(v, -0.5, 0.5) + torch.clamp(v, max=0.25)
                b = F.gelu(v) + F.relu(v) * 2.0 + torch.relu(-v) * 3.0 + F.sigmoid(v)
                out[t] = a + b
            else:
                out[t] = torch.ones_like(x[t]) * hl.cdiv(end - start, 3)
    return out
)PY";

double gelu(double v) {
  return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
}

class HelionMath : public ::testing::TestWithParam<Backend> {};

TEST_P(HelionMath, FunctionsAndPerTileIfMatchHandComputedValues) {
  use_shared_cache_dir();
  Program p = Program::from_source(kMath, "math.py");
  const std::vector<double> offs = {0, 3, 3, 13};
  std::vector<double> xs;
  for (int i = 0; i < 13; ++i) xs.push_back(-1.5 + 0.25 * i);
  Options o;
  o.backend = GetParam();
  Tensor out = p.call("",
                      {{"x", Tensor::from_doubles({13}, xs, DType::f32)},
                       {"offsets", Tensor::from_doubles({4}, offs, DType::i64)}},
                      o)
                   .outputs.at(0);
  ASSERT_EQ(out.numel(), 13);
  for (int item = 0; item < 3; ++item) {
    const int start = int(offs[size_t(item)]), end = int(offs[size_t(item + 1)]);
    for (int begin = start; begin < end; begin += 4) {
      for (int r = begin; r < std::min(begin + 4, end); ++r) {
        const double v = xs[size_t(r)];
        double want;
        if (begin + 2 < end) {
          want = std::clamp(v, -0.5, 0.5) + std::min(v, 0.25) + gelu(v) + std::max(v, 0.0) * 2.0 +
                 std::max(-v, 0.0) * 3.0 + 1.0 / (1.0 + std::exp(-v));
        } else {
          want = double((end - start + 2) / 3);
        }
        EXPECT_NEAR(out.item_as_double(r), want, 1e-5) << "row " << r;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, HelionMath, ::testing::Values(Backend::interp, Backend::cpu),
                         [](const auto& info) {
                           return info.param == Backend::cpu ? "cpu" : "interp";
                         });

UserError error_of(const std::string& body) {
  const std::string src = std::string(
                              "import torch\nimport torch.nn.functional as F\n"
                              "import helion.language as hl\n\n") +
                          "def k(x: torch.Tensor) -> torch.Tensor:\n"
                          "    out = torch.empty_like(x)\n"
                          "    for t in hl.tile(x.size(0)):\n" +
                          body + "    return out\n";
  try {
    Program p = Program::from_source(src, "bad.py");
    Options o;
    o.backend = Backend::interp;
    p.call("", {{"x", Tensor::from_doubles({4}, {1, 2, 3, 4}, DType::f32)}}, o);
  } catch (const UserError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << body;
  return UserError("none");
}

TEST(HelionMathErrors, GeluTanhApproximationIsALocatedError) {
  UserError e = error_of("        out[t] = F.gelu(x[t], approximate=\"tanh\")\n");
  EXPECT_THAT(e.message(), ::testing::HasSubstr("supports only 'none'"));
  EXPECT_EQ(e.loc().line, 8);
  EXPECT_EQ(e.loc().column, 43);
}

TEST(HelionMathErrors, ClampWithoutBoundsIsALocatedError) {
  UserError e = error_of("        out[t] = torch.clamp(x[t])\n");
  EXPECT_THAT(e.message(), ::testing::HasSubstr("torch.clamp needs a min or a max"));
  EXPECT_EQ(e.loc().line, 8);
  EXPECT_FALSE(e.hint().empty());
}

}  // namespace
}  // namespace jagtile::testing
