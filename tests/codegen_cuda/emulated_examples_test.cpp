// Every bundled example's generated CUDA, compiled as host C++ against the emulation header
// (blocks in turn, 8 threads per block as host threads, __syncthreads a barrier), equals the
// interpreter over the differential grid the CPU backend is tested on: uniform, zipf, all
// empty, one huge item, tiny items and no items at all; f32, bf16 and f64 values, i32 and i64
// offsets; the example's own tolerances. A barrier that the block's threads reach unevenly fails
// the run (an InternalError), so the barrier placement is checked too.
#include <gtest/gtest.h>

#include "cuda_test_util.h"
#include "testing/compare.h"
#include "testing/example_grid.h"
#include "testing/examples.h"

namespace jagtile::testing {
namespace {

class ExampleOnEmulatedCuda : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleOnEmulatedCuda, MatchesInterpreterOverGrid) {
  EmulationOn emulation;
  const ExampleInfo* info = find_example(GetParam());
  ASSERT_NE(info, nullptr);
  expect_example_matches_interpreter(*info, cuda_example_grid(),
                                     [&](const Program& p, const ArgMap& args) {
                                       CallResult cuda = p.call(info->kernel, args, cuda_options());
                                       EXPECT_EQ(cuda.backend_used, Backend::cuda);
                                       return cuda.outputs;
                                     });
}

INSTANTIATE_TEST_SUITE_P(All, ExampleOnEmulatedCuda,
                         ::testing::Values("jagged_sum", "jagged_mean", "jagged_max",
                                           "jagged_softmax", "jagged_layer_norm",
                                           "jagged_dense_add", "jagged_dense_bmm",
                                           "jagged_hstu_attention"));

// The list above is every bundled example: a new example must be added to it.
TEST(ExampleOnEmulatedCudaList, CoversEveryBundledExample) {
  EXPECT_EQ(all_examples().size(), 8u) << "add the new example to ExampleOnEmulatedCuda";
}

}  // namespace
}  // namespace jagtile::testing

namespace jagtile::testing {
namespace {

// An in-place update that reads the next element: the tile is read before any of it is stored
// (the plan loads it into a tile array first; a loop that loaded and stored one tensor would not
// be spread), and each element takes its right neighbour's old value, as in the interpreter,
// although the emulation's threads run in reverse order.
TEST(EmulatedCudaInPlace, ShiftedInPlaceUpdateMatchesTheInterpreter) {
  EmulationOn emulation;
  const char* source = R"PY(import torch
import helion.language as hl

def shift_left(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    for t in hl.tile(n - 1):
        x[t] = x[t.index + 1]
    return x
)PY";
  Program p = Program::from_source(source, "shift.py");
  auto input = [] {
    std::vector<double> v;
    for (int i = 0; i < 50; ++i) v.push_back(double(i));
    return Tensor::from_doubles({50}, v, DType::f32);
  };
  Options interp;
  interp.backend = Backend::interp;
  Tensor want = p.call("shift_left", {{"x", input()}}, interp).outputs.at(0);
  Tensor got = p.call("shift_left", {{"x", input()}}, cuda_options()).outputs.at(0);
  Comparison c = compare_tensors(got, want, Tolerance{});
  EXPECT_TRUE(c.ok) << c.mismatch;
  EXPECT_EQ(got.data<float>()[0], 1.0f);
  EXPECT_EQ(got.data<float>()[48], 49.0f);
}

}  // namespace
}  // namespace jagtile::testing
