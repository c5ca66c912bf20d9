// Every bundled example compiled from examples/*.py and run on the interpreter, compared with
// its hand-written reference over small shapes and every length distribution, 16-bit and f64 values
// and both offset dtypes.
#include <gtest/gtest.h>

#include <string>

#include "jagtile/compiler.h"
#include "testing/example_grid.h"
#include "testing/examples.h"

namespace jagtile {
namespace {

using testing::grid_point;

struct Case {
  const char* name;
  testing::GridPoint point;
};

std::vector<Case> cases() {
  return {
      {"uniform_f32_i32", grid_point(13, 7, 9, LengthDist::uniform, 1, DType::f32, DType::i32)},
      {"empty_f32_i64", grid_point(5, 3, 6, LengthDist::empty, 2, DType::f32, DType::i64)},
      {"one_huge_bf16_i32", grid_point(9, 5, 8, LengthDist::one_huge, 3, DType::bf16, DType::i32)},
      {"tiny_bf16_i64", grid_point(17, 4, 4, LengthDist::tiny, 4, DType::bf16, DType::i64)},
      {"zipf_f16_i32", grid_point(11, 6, 12, LengthDist::zipf, 5, DType::f16, DType::i32)},
      {"zipf_f64_i64", grid_point(10, 5, 12, LengthDist::zipf, 7, DType::f64, DType::i64)},
      {"no_items", grid_point(0, 3, 4, LengthDist::uniform, 6, DType::f32, DType::i32)},
  };
}

// The registry's parameter lists are what the CLI matches a kernel against: they must be the
// files' own parameters, in order.
TEST(ExampleFiles, DefineTheRegisteredKernelWithItsParameters) {
  for (const ExampleInfo* e : all_examples()) {
    Program program = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + e->file);
    ASSERT_EQ(program.kernels().size(), 1u) << e->file;
    const KernelInfo& k = program.kernel();
    EXPECT_EQ(k.name, e->kernel);
    std::vector<std::string> names;
    for (const ParamInfo& p : k.params) names.push_back(p.name);
    EXPECT_EQ(names, e->params) << e->file;
  }
}

class ExampleOnInterp : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleOnInterp, MatchesReference) {
  const ExampleInfo* e = find_example(GetParam());
  ASSERT_NE(e, nullptr);
  Program program = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + e->file);
  Options options;
  options.backend = Backend::interp;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    ArgMap args = e->make_inputs(c.point.shape, c.point.values, c.point.offsets);
    CallResult result = program.call(e->kernel, args, options);
    std::vector<Expected> expected = e->reference(args);
    ASSERT_EQ(result.outputs.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      Comparison cmp =
          compare_tensors(result.outputs[i], expected[i], e->tolerance(expected[i].value.dtype()));
      EXPECT_TRUE(cmp.ok) << "output " << i << " " << cmp.mismatch;
    }
  }
}

std::vector<std::string> example_kernels() {
  std::vector<std::string> names;
  for (const ExampleInfo* e : all_examples()) names.push_back(e->kernel);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Bundled, ExampleOnInterp, ::testing::ValuesIn(example_kernels()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace jagtile
