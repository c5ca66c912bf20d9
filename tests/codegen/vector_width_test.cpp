// The vector width of generated CPU code (codegen/cpu/jit.cpp, vector_width_flag): 512-bit by
// default on Intel CPUs with AVX-512, the compiler's own choice elsewhere, JAGTILE_VECTOR_WIDTH
// either way. These tests pin the flag each setting gives (it is part of the code key, so code of
// both widths never shares an entry) and the user error for a value that is not a width; the
// examples at both widths are in examples_cpu_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "codegen/cpu/jit.h"
#include "jagtile/error.h"
#include "testing/scoped_env.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const char* kWidthFlag = "-mprefer-vector-width=";

TEST(VectorWidth, TheSettingPutsItsWidthInTheFlags) {
  for (const char* width : {"256", "512"}) {
    const ScopedEnv set("JAGTILE_VECTOR_WIDTH", width);
    EXPECT_THAT(codegen::cpu::isa_flags(), HasSubstr(std::string(kWidthFlag) + width));
    EXPECT_THAT(codegen::cpu::compiler_flags(), HasSubstr(std::string(kWidthFlag) + width));
  }
}

// Lowering the instruction set keeps a width that was asked for, and below AVX-512 the default
// leaves the compiler's choice alone.
TEST(VectorWidth, ALowerIsaKeepsTheSettingAndDropsTheDefault) {
  const ScopedEnv unset_width("JAGTILE_VECTOR_WIDTH", nullptr);
  for (const char* isa : {"avx2", "portable"}) {
    const ScopedEnv lower("JAGTILE_CPU_ISA", isa);
    EXPECT_THAT(codegen::cpu::isa_flags(), Not(HasSubstr(kWidthFlag))) << isa;
    const ScopedEnv set("JAGTILE_VECTOR_WIDTH", "512");
    EXPECT_THAT(codegen::cpu::isa_flags(), HasSubstr(std::string(kWidthFlag) + "512")) << isa;
  }
}

// The default follows the CPU: 512 on an Intel CPU with AVX-512, nothing otherwise. Read here from
// /proc/cpuinfo's first vendor and flags lines, the same facts the JIT reads.
TEST(VectorWidth, TheDefaultIs512OnIntelCpusWithAvx512Only) {
  const ScopedEnv unset_width("JAGTILE_VECTOR_WIDTH", nullptr);
  const ScopedEnv unset_isa("JAGTILE_CPU_ISA", nullptr);
  std::ifstream in("/proc/cpuinfo");
  std::string line, vendor, flags;
  while (std::getline(in, line) && (vendor.empty() || flags.empty())) {
    if (vendor.empty() && line.rfind("vendor_id", 0) == 0) vendor = line;
    if (flags.empty() && line.rfind("flags", 0) == 0) flags = line + " ";
  }
  const bool wide = vendor.find("GenuineIntel") != std::string::npos &&
                    flags.find(" avx512f ") != std::string::npos;
  EXPECT_EQ(codegen::cpu::isa_flags().find(kWidthFlag) != std::string::npos, wide)
      << vendor << "\n"
      << codegen::cpu::isa_flags();
}

TEST(VectorWidth, AValueThatIsNotAWidthIsAUserError) {
  const ScopedEnv set("JAGTILE_VECTOR_WIDTH", "300");
  std::string message;
  try {
    codegen::cpu::isa_flags();
  } catch (const UserError& e) {
    message = e.what();
  }
  EXPECT_THAT(message, HasSubstr("JAGTILE_VECTOR_WIDTH='300' is not a vector width; set it to "
                                 "256 or 512, or unset it"));
}

}  // namespace
}  // namespace jagtile::testing
