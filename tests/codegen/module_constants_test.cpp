// Module-level constants (lang/module_constants.h) and Python's min / max of scalars, as Helion's
// pretuned jagged HSTU kernels use them (`HSTU_CONFIG = helion.Config(...)` named by the
// decorator, `hl.tile(start, min(end, tile_q.end))`), run end to end on the interpreter and the
// generated CPU code; plus the located errors for a constant that rebinds an import and for
// min() of a tile.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "codegen_helpers.h"
#include "jagtile/error.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const char* kConstants = R"PY(import torch
import helion
import helion.language as hl

SCALE = 2.5
OFFSET = -SCALE * 2
CAP = 3
BLOCKS = [4]
CAPPED_CONFIG = helion.Config(block_sizes=BLOCKS, pallas_loop_type="emit_pipeline")

@helion.aot_kernel(backend="pallas", config=CAPPED_CONFIG, static_shapes=True)
def capped_sums(x: torch.Tensor, offsets: torch.Tensor, plus: float = OFFSET) -> torch.Tensor:
    out = torch.zeros([offsets.size(0) - 1], dtype=torch.float32, device=x.device)
    for b in hl.grid(offsets.size(0) - 1):
        start = offsets[b]
        end = offsets[b + 1]
        acc = hl.zeros([1], dtype=torch.float32)
        for t in hl.tile(start, min(end, start + CAP)):
            acc = acc + (x[t] * SCALE + plus).sum()
        out[b] = acc.sum()
    return out

@helion.kernel(config=CAPPED_CONFIG)
def shadowed(x: torch.Tensor) -> torch.Tensor:
    SCALE = 3.0
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        out[t] = x[t] * SCALE
    return out

@helion.kernel()
def scaled_by_min_max(x: torch.Tensor, a: float, b: float) -> torch.Tensor:
    out = torch.empty([2, x.size(0)], dtype=torch.float32, device=x.device)
    for t in hl.tile(x.size(0)):
        out[0, t] = x[t] * min(a, b)
        out[1, t] = x[t] * max(a, b, 0.5)
    return out
)PY";

std::vector<Tensor> run_on(Backend backend, const std::string& kernel, const ArgMap& args) {
  return run_source(kConstants, "constants.py", backend, kernel, args);
}

class ModuleConstants : public ::testing::TestWithParam<Backend> {};

TEST_P(ModuleConstants, ConstantsAndMinBoundEachItemsFirstRows) {
  const std::vector<double> offsets = {0, 5, 5, 7, 13};
  std::vector<double> xs;
  for (int i = 0; i < 13; ++i) xs.push_back(0.25 * i - 1.0);
  Tensor out = run_on(GetParam(), "capped_sums",
                      {{"x", Tensor::from_doubles({13}, xs, DType::f32)},
                       {"offsets", Tensor::from_doubles({5}, offsets, DType::i64)}})
                   .at(0);
  ASSERT_EQ(out.numel(), 4);
  for (int b = 0; b < 4; ++b) {
    double want = 0;
    const int start = int(offsets[size_t(b)]), end = int(offsets[size_t(b + 1)]);
    for (int r = start; r < std::min(end, start + 3); ++r) want += xs[size_t(r)] * 2.5 - 5.0;
    EXPECT_NEAR(out.item_as_double(b), want, 1e-5) << "item " << b;
  }
}

TEST_P(ModuleConstants, AKernelsOwnAssignmentShadowsTheConstant) {
  Tensor out =
      run_on(GetParam(), "shadowed", {{"x", Tensor::from_doubles({3}, {1, 2, 3}, DType::f32)}})
          .at(0);
  EXPECT_EQ(out.item_as_double(2), 9.0);
}

TEST_P(ModuleConstants, MinAndMaxOfFloatsFollowPython) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto scaled = [&](double a, double b) {
    return run_on(GetParam(), "scaled_by_min_max",
                  {{"x", Tensor::from_doubles({2}, {1, 2}, DType::f32)}, {"a", a}, {"b", b}})
        .at(0);
  };
  Tensor plain = scaled(3.0, -1.0);
  EXPECT_EQ(plain.item_as_double(1), -2.0);  // 2 * min(3, -1)
  EXPECT_EQ(plain.item_as_double(3), 6.0);   // 2 * max(3, -1, 0.5)
  // Python keeps the first argument when a comparison with NaN is false: min(nan, 1) is nan,
  // min(1, nan) is 1 (torch.minimum would give nan for both).
  Tensor nan_first = scaled(nan, 1.0);
  EXPECT_TRUE(std::isnan(nan_first.item_as_double(0)));
  EXPECT_TRUE(std::isnan(nan_first.item_as_double(2)));
  Tensor nan_second = scaled(1.0, nan);
  EXPECT_EQ(nan_second.item_as_double(1), 2.0);
  EXPECT_EQ(nan_second.item_as_double(3), 2.0);
}

INSTANTIATE_TEST_SUITE_P(Backends, ModuleConstants,
                         ::testing::Values(Backend::interp, Backend::cpu),
                         [](const auto& info) { return std::string(backend_name(info.param)); });

// The decorators name CAPPED_CONFIG: its block sizes are honoured, except for a kernel written
// for Helion's Pallas backend, whose tile sizes are a TPU's (recorded with that reason).
TEST(ModuleConstantsConfig, TheDecoratorReadsTheNamedConfig) {
  Program p = Program::from_source(kConstants, "constants.py");
  const KernelInfo& pallas = p.kernels().at(0);
  ASSERT_EQ(pallas.name, "capped_sums");
  bool blocks = false, loop_type = false;
  for (const KernelSetting& s : pallas.settings) {
    if (s.key == "config.block_sizes") {
      blocks = s.value == "[4]";
      EXPECT_THAT(s.effect, HasSubstr("sized for TPU tiles"));
    }
    loop_type = loop_type || s.key == "config.pallas_loop_type";
  }
  EXPECT_TRUE(blocks);
  EXPECT_TRUE(loop_type);
  Options o;
  o.backend = Backend::interp;
  ArgMap args = {{"x", Tensor::from_doubles({2}, {1, 2}, DType::f32)},
                 {"offsets", Tensor::from_doubles({2}, {0, 2}, DType::i64)}};
  EXPECT_THAT(p.specialise("capped_sums", args, o).decision().config,
              Not(HasSubstr("block_sizes=[4]")));
  ArgMap x = {{"x", Tensor::from_doubles({2}, {1, 2}, DType::f32)}};
  EXPECT_THAT(p.specialise("shadowed", x, o).decision().config, HasSubstr("block_sizes=[4]"));
}

TEST(ModuleConstantsErrors, AConstantThatRebindsAnImportIsNamed) {
  try {
    Program::from_source("import torch\nimport helion.language as hl\nhl = 3\n", "k.py");
    FAIL() << "expected a user error";
  } catch (const UserError& e) {
    EXPECT_THAT(e.message(), HasSubstr("module-level constant 'hl' rebinds the name imported on "
                                       "line 2"));
    EXPECT_EQ(e.loc().line, 3);
    EXPECT_EQ(e.loc().column, 1);
  }
}

TEST(ModuleConstantsErrors, AComputedModuleValueIsStillRejected) {
  try {
    Program::from_source("import torch\nN = torch.zeros(3).size(0)\n", "k.py");
    FAIL() << "expected a user error";
  } catch (const UserError& e) {
    EXPECT_THAT(e.message(), HasSubstr("top-level statement not allowed here"));
    EXPECT_THAT(e.hint(), HasSubstr("a module-level constant is one name set to numbers"));
    EXPECT_EQ(e.loc().line, 2);
  }
}

}  // namespace
}  // namespace jagtile::testing
