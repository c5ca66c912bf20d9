// Generated CUDA on a real GPU (skipped, saying so, where this process sees no CUDA device):
// every bundled example's outputs equal the interpreter's over the CPU tests' grid plus shapes
// large enough to fill the device (many blocks per multiprocessor, items longer than a block's
// tile, a zipf tail); a second call gives the same bits; errors inside the kernel reach the
// caller as the interpreter's located message. The host emulation (emulated_examples_test.cpp)
// runs the same source without a GPU; this is the check that the hardware agrees with it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "../codegen/codegen_helpers.h"
#include "cuda_test_util.h"
#include "jagtile/cuda.h"
#include "jagtile/error.h"
#include "testing/compare.h"
#include "testing/example_grid.h"
#include "testing/examples.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;

#define SKIP_WITHOUT_CUDA_DEVICE() \
  if (!cuda_available()) GTEST_SKIP() << "skipped (no CUDA device)"

// The emulation's grid plus device-sized points: thousands of blocks, long items, a skewed tail.
std::vector<GridPoint> device_grid() {
  std::vector<GridPoint> g = cuda_example_grid();
  g.push_back(grid_point(512, 64, 300, LengthDist::uniform, 11, DType::f32, DType::i32));
  g.push_back(grid_point(96, 128, 1500, LengthDist::zipf, 12, DType::f32, DType::i64));
  g.push_back(grid_point(3000, 16, 4, LengthDist::tiny, 13, DType::bf16, DType::i32));
  g.push_back(grid_point(256, 256, 200, LengthDist::uniform, 14, DType::bf16, DType::i64));
  return g;
}

ArgMap on_cuda(const ArgMap& args) {
  return args_copied_to(args, Device::cuda(0));
}

class ExampleOnCudaDevice : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleOnCudaDevice, MatchesInterpreterOverGrid) {
  SKIP_WITHOUT_CUDA_DEVICE();
  const ExampleInfo* info = find_example(GetParam());
  ASSERT_NE(info, nullptr);
  expect_example_matches_interpreter(
      *info, device_grid(), [&](const Program& p, const ArgMap& args) {
        CallResult cuda = p.call(info->kernel, on_cuda(args), cuda_options());
        EXPECT_EQ(cuda.backend_used, Backend::cuda);
        for (const Tensor& t : cuda.outputs) EXPECT_TRUE(t.device().is_cuda());
        return tensors_on_host(cuda.outputs);
      });
}

INSTANTIATE_TEST_SUITE_P(All, ExampleOnCudaDevice,
                         ::testing::Values("jagged_sum", "jagged_mean", "jagged_max",
                                           "jagged_softmax", "jagged_layer_norm",
                                           "jagged_dense_add", "jagged_dense_bmm",
                                           "jagged_hstu_attention"));

TEST(ExampleOnCudaDeviceList, CoversEveryBundledExample) {
  EXPECT_EQ(all_examples().size(), 8u) << "add the new example to ExampleOnCudaDevice";
}

// The generated code has no atomics in its arithmetic: the same inputs give the same bits.
TEST(CudaDevice, RepeatedCallsGiveTheSameBits) {
  SKIP_WITHOUT_CUDA_DEVICE();
  for (const char* name : {"jagged_softmax", "jagged_dense_bmm"}) {
    SCOPED_TRACE(name);
    const ExampleInfo* info = find_example(name);
    ASSERT_NE(info, nullptr);
    Program p = Program::from_file(source_path(info->file));
    const GridPoint g = grid_point(200, 64, 150, LengthDist::zipf, 21, DType::f32, DType::i32);
    const ArgMap args = on_cuda(info->make_inputs(g.shape, g.values, g.offsets));
    const std::vector<Tensor> a =
        tensors_on_host(p.call(info->kernel, args, cuda_options()).outputs);
    const std::vector<Tensor> b =
        tensors_on_host(p.call(info->kernel, args, cuda_options()).outputs);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].nbytes(), b[i].nbytes());
      EXPECT_EQ(std::memcmp(a[i].raw_data(), b[i].raw_data(), size_t(a[i].nbytes())), 0)
          << "output " << i;
    }
  }
}

TEST(CudaDevice, LoadPastTheEndIsTheInterpretersLocatedError) {
  SKIP_WITHOUT_CUDA_DEVICE();
  const char* source = R"PY(import torch
import helion.language as hl

def copy_n(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        out[t] = x[t] * 2.0
    return out
)PY";
  Program p = Program::from_source(source, "device_errors.py");
  std::vector<double> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(i);
  const Tensor x = Tensor::from_doubles({1000}, v, DType::f32);
  Options interp;
  interp.backend = Backend::interp;
  const std::string want = error_of(p, "copy_n", {{"x", x}, {"n", int64_t(5000)}}, interp);
  const std::string got =
      error_of(p, "copy_n", {{"x", x.to(Device::cuda(0))}, {"n", int64_t(5000)}}, cuda_options());
  EXPECT_THAT(got, HasSubstr("device_errors.py:7"));
  EXPECT_THAT(got, HasSubstr("load of tensor 'x' at index 1000 in dimension 0, which has size "
                             "1000"));
  EXPECT_EQ(got, want);
  // The module still works after the failed launch.
  const std::vector<Tensor> out = tensors_on_host(
      p.call("copy_n", {{"x", x.to(Device::cuda(0))}, {"n", int64_t(1000)}}, cuda_options())
          .outputs);
  EXPECT_EQ(out.at(0).data<float>()[999], 1998.0f);
}

}  // namespace
}  // namespace jagtile::testing
