// NVRTC compiles the generated CUDA of every bundled example, f32 and bf16, checked and
// unchecked, to cubins for sm_80 and sm_90a, in one test process (no GPU needed). A compile
// failure fails the test with NVRTC's log and the source's first lines. Without NVRTC in the
// build these tests fail, unless CUDA was switched off explicitly (-DJAGTILE_ENABLE_CUDA=OFF).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

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
  auto out = nvrtc_compile("extern \"C\" __global__ void k() { undeclared_name = 1; }", "bad",
                           "sm_80");
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.log.find("undeclared_name"), std::string::npos) << out.log;
}

std::string head(const std::string& code, int lines) {
  size_t at = 0;
  for (int i = 0; i < lines && at != std::string::npos; ++i) at = code.find('\n', at + 1);
  return code.substr(0, at);
}

TEST(NvrtcExamples, EveryExampleCompilesForSm80AndSm90a) {
  if (!nvrtc_expected_or_fail()) GTEST_SKIP() << "CUDA switched off (-DJAGTILE_ENABLE_CUDA=OFF)";
  JaggedShape shape;
  shape.batch = 3;
  shape.features = 4;
  shape.max_len = 5;
  double slowest = 0, total = 0;
  int compiles = 0;
  for (const ExampleInfo* info : all_examples()) {
    Program p = Program::from_file(source_path(info->file));
    for (DType values : {DType::f32, DType::bf16}) {
      for (bool checked : {true, false}) {
        ArgMap args = info->make_inputs(shape, values, DType::i64);
        std::string code = p.specialise(info->kernel, args, cuda_options(checked)).source(Backend::cuda);
        ASSERT_FALSE(code.empty()) << info->kernel << ": no CUDA source";
        for (const char* arch : {"sm_80", "sm_90a"}) {
          auto out = nvrtc_compile(code, info->kernel, arch);
          EXPECT_TRUE(out.ok) << info->kernel << " (" << dtype_name(values)
                              << (checked ? ", checked" : ", unchecked") << ") for " << arch
                              << ":\n"
                              << out.log << "\n--- source head ---\n"
                              << head(code, 40);
          slowest = std::max(slowest, out.seconds);
          total += out.seconds;
          ++compiles;
        }
      }
    }
  }
  std::printf("[ nvrtc    ] %d compiles, %.2f s in all, slowest %.2f s\n", compiles, total, slowest);
}

}  // namespace
}  // namespace jagtile::testing
