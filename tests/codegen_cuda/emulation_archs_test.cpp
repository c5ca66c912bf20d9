// Which architectures NVRTC checks an emulated kernel's generated CUDA for (emulation_archs):
// every verified one, or those JAGTILE_CUDA_EMULATION_ARCHS names (the differential fuzzer names
// one per kernel, in turn: emulation_arch_in_turn); an unknown name is a UserError; an emulated
// run compiles one cubin per named architecture.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "testing/scoped_env.h"
#include "codegen/cuda/backend.h"
#include "codegen/cuda/nvrtc.h"
#include "cuda_test_util.h"
#include "testing/differential.h"

namespace jagtile::testing {
namespace {

using codegen::cuda::emulation_archs;
using Archs = std::vector<std::string>;

TEST(EmulationArchs, EveryVerifiedArchitectureUnlessTheEnvironmentNamesSome) {
  {
    ScopedEnv unset("JAGTILE_CUDA_EMULATION_ARCHS", nullptr);
    EXPECT_EQ(emulation_archs(), (Archs{"sm_80", "sm_90a"}));
  }
  ScopedEnv one("JAGTILE_CUDA_EMULATION_ARCHS", "sm_90a");
  EXPECT_EQ(emulation_archs(), (Archs{"sm_90a"}));
  ScopedEnv both("JAGTILE_CUDA_EMULATION_ARCHS", "sm_90a,sm_80");
  EXPECT_EQ(emulation_archs(), (Archs{"sm_90a", "sm_80"}));
}

TEST(EmulationArchs, AnUnknownArchitectureIsAUserErrorNamingTheKnownOnes) {
  ScopedEnv env("JAGTILE_CUDA_EMULATION_ARCHS", "sm_80,sm_70");
  try {
    emulation_archs();
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("JAGTILE_CUDA_EMULATION_ARCHS names 'sm_70', which "
                                               "is not an architecture the emulation checks"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("name some of sm_80, sm_90a"));
  }
}

TEST(EmulationArchs, TheFuzzersKernelsTakeTurns) {
  EXPECT_EQ(fuzz::emulation_arch_in_turn(6), "sm_80");
  EXPECT_EQ(fuzz::emulation_arch_in_turn(7), "sm_90a");
}

TEST(EmulationArchs, AnEmulatedRunCompilesOneCubinPerNamedArchitecture) {
  if (!codegen::cuda::nvrtc_available()) GTEST_SKIP() << "this build has no NVRTC";
  char folder[] = "/tmp/jagtile-emulation-archs-XXXXXX";
  ASSERT_NE(::mkdtemp(folder), nullptr);
  EmulationOn emulation;
  Program p = Program::from_file(source_path("examples/jagged_sum.py"));
  const ArgMap args{{"x_values", Tensor::from_doubles({4, 1}, {1, 2, 3, 4}, DType::f32)},
                    {"x_offsets", Tensor::from_doubles({3}, {0, 1, 4}, DType::i32)}};
  Options o = cuda_options();
  o.cache_dir = folder;
  auto cubins = [&] {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(folder))
      n += entry.path().extension() == ".cubin";
    return n;
  };
  {
    ScopedEnv env("JAGTILE_CUDA_EMULATION_ARCHS", "sm_90a");
    EXPECT_EQ(p.call("", args, o).outputs.at(0).item_as_double(1), 9.0);
  }
  EXPECT_EQ(cubins(), 1);
  {
    ScopedEnv env("JAGTILE_CUDA_EMULATION_ARCHS", nullptr);
    // The same source in a new program: the sm_90a cubin is read back, sm_80's compiled.
    Program::from_file(source_path("examples/jagged_sum.py")).call("", args, o);
  }
  EXPECT_EQ(cubins(), 2);
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace jagtile::testing
