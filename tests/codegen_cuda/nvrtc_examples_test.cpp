// NVRTC compiles the generated CUDA of every bundled example (f32 checked, bf16 unchecked) to
// cubins for sm_80 and sm_90a, no GPU needed. A compile failure fails the test with NVRTC's log
// and the source's first lines. Cubins are cached by source (cubin_key), so a source that already
// compiled with this NVRTC is not compiled again. Without NVRTC in the build these tests fail,
// unless CUDA was switched off explicitly (-DJAGTILE_ENABLE_CUDA=OFF).
#include <gtest/gtest.h>

#include <cstdio>

#include "codegen/cuda/backend.h"
#include "codegen/cuda/nvrtc.h"
#include "cuda_test_util.h"
#include "testing/examples.h"

namespace jagtile::testing {
namespace {

using codegen::cuda::cuda_switched_off;
using codegen::cuda::nvrtc_available;
using codegen::cuda::nvrtc_compile;

// The build either has NVRTC or was told not to: a toolkit that went missing is a failure.
bool nvrtc_expected_or_fail() {
  if (nvrtc_available()) return true;
  if (cuda_switched_off()) return false;
  ADD_FAILURE() << "this build has no NVRTC, but CUDA was not switched off: install the CUDA "
                   "toolkit (nvcc, NVRTC) or configure with -DJAGTILE_ENABLE_CUDA=OFF";
  return false;
}

TEST(Nvrtc, AvailableUnlessCudaSwitchedOff) {
  if (!nvrtc_expected_or_fail()) GTEST_SKIP() << "CUDA switched off (-DJAGTILE_ENABLE_CUDA=OFF)";
  EXPECT_FALSE(codegen::cuda::nvrtc_version().empty());
}

TEST(Nvrtc, ReportsTheLogOfInvalidSource) {
  if (!nvrtc_expected_or_fail()) GTEST_SKIP() << "CUDA switched off (-DJAGTILE_ENABLE_CUDA=OFF)";
  auto out =
      nvrtc_compile("extern \"C\" __global__ void k() { undeclared_name = 1; }", "bad", "sm_80");
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.log.find("undeclared_name"), std::string::npos) << out.log;
}

std::string head(const std::string& code, int lines) {
  size_t at = 0;
  for (int i = 0; i < lines && at != std::string::npos; ++i) at = code.find('\n', at + 1);
  return code.substr(0, at);
}

class ExampleCudaCompiles : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleCudaCompiles, ForSm80AndSm90a) {
  if (!nvrtc_expected_or_fail()) GTEST_SKIP() << "CUDA switched off (-DJAGTILE_ENABLE_CUDA=OFF)";
  const ExampleInfo* info = find_example(GetParam());
  ASSERT_NE(info, nullptr);
  JaggedShape shape;
  shape.batch = 3;
  shape.features = 4;
  shape.max_len = 5;
  Program p = Program::from_file(source_path(info->file));
  codegen::cpu::DiskCache cache(shared_cache_dir(), ".cubin");
  for (auto [values, checked] : {std::pair{DType::f32, true}, std::pair{DType::bf16, false}}) {
    ArgMap args = info->make_inputs(shape, values, DType::i64);
    std::string code =
        p.specialise(info->kernel, args, cuda_options(checked)).source(Backend::cuda);
    ASSERT_FALSE(code.empty()) << "no CUDA source";
    for (const char* arch : codegen::cuda::kVerifiedArchs) {
      codegen::cuda::CubinStats stats;
      try {
        std::string cubin =
            codegen::cuda::load_or_compile_cubin(cache, code, info->kernel, arch, &stats);
        EXPECT_GT(cubin.size(), 0u);
      } catch (const std::exception& e) {
        ADD_FAILURE() << dtype_name(values) << (checked ? ", checked" : ", unchecked") << ", "
                      << arch << ": " << e.what() << "\n--- source head ---\n"
                      << head(code, 40);
      }
      std::printf("[ nvrtc    ] %s %s %s: %s in %.2f s\n", info->kernel.c_str(),
                  std::string(dtype_name(values)).c_str(), arch,
                  stats.compiled ? "compiled" : "cached", stats.seconds);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, ExampleCudaCompiles,
                         ::testing::Values("jagged_sum", "jagged_mean", "jagged_max",
                                           "jagged_softmax", "jagged_layer_norm",
                                           "jagged_dense_add", "jagged_dense_bmm",
                                           "jagged_hstu_attention"));

}  // namespace
}  // namespace jagtile::testing
