// The CPU-dependent flags of generated CPU code (codegen/cpu/jit.cpp). The vector width
// (vector_width_flag): 512-bit by default on CPUs with AVX-512 on 512-bit units (Intel's, AMD's
// from Zen 5 on), the compiler's own choice elsewhere, JAGTILE_VECTOR_WIDTH either way. The f32
// microkernel's register block on AVX-512 (register_block_flag): 6 x 4 vectors on those CPUs, 8 x 2
// elsewhere, JAGTILE_REGISTER_BLOCK either way. These tests pin the flag each setting gives (the
// flags are part of the code key, so code of two settings never shares an entry) and the user error
// for a value that is not one; the examples at both widths are in examples_cpu_test.cpp, the
// microkernel's bits in both blocks in matmul_blocks_test.cpp and masked_block_skip_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

// cpu_features()'s text for a CPU of this vendor, family and flags.
std::string features_of(const char* vendor, int family, const char* flags) {
  return std::string("vendor_id\t: ") + vendor + "\ncpu family\t: " + std::to_string(family) +
         "\nmodel name\t: some cpu\nflags\t\t: fpu " + flags + " \n";
}

TEST(WideUnits, IntelAndZen5WithAvx512AreWideAndZen4IsNot) {
  using codegen::cpu::avx512_on_wide_units;
  EXPECT_TRUE(avx512_on_wide_units(features_of("GenuineIntel", 6, "avx2 avx512f amx_bf16")));
  EXPECT_TRUE(avx512_on_wide_units(features_of("AuthenticAMD", 26, "avx2 avx512f avx512_bf16")));
  EXPECT_FALSE(avx512_on_wide_units(features_of("AuthenticAMD", 25, "avx2 avx512f avx512_bf16")));
  EXPECT_FALSE(avx512_on_wide_units(features_of("AuthenticAMD", 26, "avx2 fma")));
  EXPECT_FALSE(avx512_on_wide_units(features_of("GenuineIntel", 6, "avx2 avx512vl")));
  EXPECT_FALSE(avx512_on_wide_units(features_of("SomeOtherVendor", 30, "avx512f")));
}

// The default follows the CPU: 512 where AVX-512 runs on 512-bit units, nothing otherwise. The
// CPU's own facts are read as the JIT reads them; WideUnits pins the rule on known CPUs.
TEST(VectorWidth, TheDefaultIs512OnCpusWithWideAvx512Only) {
  const ScopedEnv unset_width("JAGTILE_VECTOR_WIDTH", nullptr);
  const ScopedEnv unset_isa("JAGTILE_CPU_ISA", nullptr);
  const bool wide = codegen::cpu::avx512_on_wide_units(codegen::cpu::cpu_features());
  EXPECT_EQ(codegen::cpu::isa_flags().find(kWidthFlag) != std::string::npos, wide)
      << codegen::cpu::cpu_features() << "\n"
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

// The default follows the CPU as the vector width's does: 6 x 4 where AVX-512 runs on 512-bit
// units (unless the instruction set is lowered below it), 8 x 2 otherwise.
TEST(RegisterBlock, TheDefaultIs6x4OnCpusWithWideAvx512Only) {
  const ScopedEnv unset_block("JAGTILE_REGISTER_BLOCK", nullptr);
  const ScopedEnv unset_isa("JAGTILE_CPU_ISA", nullptr);
  const bool wide = codegen::cpu::avx512_on_wide_units(codegen::cpu::cpu_features());
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
