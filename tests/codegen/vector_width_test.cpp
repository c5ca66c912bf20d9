// The CPU-dependent flags of generated CPU code (codegen/cpu/jit.cpp). The vector width
// (vector_width_flag): 512-bit by default on Intel CPUs with AVX-512, the compiler's own choice
// elsewhere, JAGTILE_VECTOR_WIDTH either way. The f32 microkernel's register block on AVX-512
// (register_block_flag): 6 x 4 vectors on Intel, 8 x 2 elsewhere, JAGTILE_REGISTER_BLOCK either
// way. These tests pin the flag each setting gives (the flags are part of the code key, so code
// of two settings never shares an entry) and the user error for a value that is not one; the
// examples at both widths are in examples_cpu_test.cpp, the microkernel's bits in both blocks in
// matmul_blocks_test.cpp and masked_block_skip_test.cpp.
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

// The UserError message of the flags with the setting `name` at `value` ("" if none).
std::string flags_error(const char* name, const char* value) {
  const ScopedEnv set(name, value);
  try {
    codegen::cpu::isa_flags();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(VectorWidth, AValueThatIsNotAWidthIsAUserError) {
  EXPECT_THAT(flags_error("JAGTILE_VECTOR_WIDTH", "300"),
              HasSubstr("JAGTILE_VECTOR_WIDTH='300' is not a vector width; set it to 256 or 512, "
                        "or unset it"));
}

const char* kBlock6x4Flag = "-DJT_MM_6X4=1";

TEST(RegisterBlock, TheSettingPicksTheBlockInTheFlags) {
  {
    const ScopedEnv set("JAGTILE_REGISTER_BLOCK", "6x4");
    EXPECT_THAT(codegen::cpu::isa_flags(), HasSubstr(kBlock6x4Flag));
    EXPECT_THAT(codegen::cpu::compiler_flags(), HasSubstr(kBlock6x4Flag));
  }
  const ScopedEnv set("JAGTILE_REGISTER_BLOCK", "8x2");
  EXPECT_THAT(codegen::cpu::isa_flags(), Not(HasSubstr("JT_MM_6X4")));
}

// The default follows the CPU as the vector width's does: 6 x 4 on an Intel CPU with AVX-512
// (unless the instruction set is lowered below it), 8 x 2 otherwise.
TEST(RegisterBlock, TheDefaultIs6x4OnIntelCpusWithAvx512Only) {
  const ScopedEnv unset_block("JAGTILE_REGISTER_BLOCK", nullptr);
  const ScopedEnv unset_isa("JAGTILE_CPU_ISA", nullptr);
  const bool wide = codegen::cpu::cpu_features().find("GenuineIntel") != std::string::npos &&
                    codegen::cpu::cpu_features().find(" avx512f ") != std::string::npos;
  EXPECT_EQ(codegen::cpu::isa_flags().find(kBlock6x4Flag) != std::string::npos, wide)
      << codegen::cpu::isa_flags();
  for (const char* isa : {"avx2", "portable"}) {
    const ScopedEnv lower("JAGTILE_CPU_ISA", isa);
    EXPECT_THAT(codegen::cpu::isa_flags(), Not(HasSubstr("JT_MM_6X4"))) << isa;
  }
}

TEST(RegisterBlock, AValueThatIsNotABlockIsAUserError) {
  EXPECT_THAT(flags_error("JAGTILE_REGISTER_BLOCK", "4x4"),
              HasSubstr("JAGTILE_REGISTER_BLOCK='4x4' is not a register block; set it to 8x2 or "
                        "6x4, or unset it"));
}

}  // namespace
}  // namespace jagtile::testing
