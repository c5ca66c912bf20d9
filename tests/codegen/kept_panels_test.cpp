// Key blocks packed once (plan/pass_memoize.h, plan/pass_operands_in_place.h): in attention the
// scores' B operand, k's block transposed, is packed into panels by its first matmul and every
// later query block reads those panels (JtMatmul::b_panels), and the block is read from k in
// place rather than copied first. These tests pin where that applies and that the outputs are the
// element loops' (JAGTILE_CPU_MATMUL=loops, which pack nothing) bit for bit: blocks of 64, 32 and
// query blocks smaller than key blocks (a key block first used with fewer rows, packed again with
// more), a cache cut to a few slots (blocks evicted and packed again), a key loop over the whole
// item (as Helion's jagged_hstu_attn_2 writes it: a panel the band skips on the block's first use
// is read by a later query block), every instruction set.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "../common/attention_sources.h"
#include "codegen_helpers.h"
#include "hstu_inputs.h"
#include "testing/datagen.h"
#include "testing/examples.h"
#include "testing/scoped_env.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Items of 0, 1, 31, 64, 65, 200 and 3 rows, 2 heads of 16.
ArgMap hstu_args() {
  return hstu_inputs({0, 1, 31, 64, 65, 200, 3}, 2, 31);
}

Options with_blocks(Options o, std::vector<int64_t> blocks) {
  o.config.block_sizes = std::move(blocks);
  return o;
}

std::string code_of(const Options& o) {
  use_shared_cache_dir();
  const Program p = Program::from_source(read_source_file(hstu_example().file), "hstu.py");
  return p.specialise("", hstu_args(), o).source(Backend::cpu);
}

// The scores' block reads k in place and keeps its panels; the values' block still reads its
// memoised copy of v (read row by row, not packed). Unchecked code copies no key block at all.
TEST(KeptPanels, TheScoresMatmulPacksKeyBlocksOnceAndReadsThemInPlace) {
  const std::string checked = code_of(with_blocks(cpu_options(), {64, 64}));
  EXPECT_THAT(checked, HasSubstr("const bool memo_ready0 = !(")) << checked;
  EXPECT_THAT(checked, HasSubstr("memo_panels0 + (((id3 & memo_mask0) * INT64_C(64))) * F.h2 + 0, "
                                 "memo_ready0})"))
      << checked;
  EXPECT_THAT(checked, HasSubstr("INT64_C(1), (F.p1.size[1] * F.p1.size[2]), v")) << checked;
  EXPECT_THAT(checked, HasSubstr("memo1 + ")) << checked;
  const std::string unchecked = code_of(with_blocks(cpu_options(false), {64, 64}));
  EXPECT_THAT(unchecked, Not(HasSubstr("memo0"))) << unchecked;
  EXPECT_THAT(unchecked, HasSubstr("memo_panels0")) << unchecked;
}

// A key block whose rows are not a multiple of 32 keeps no panels.
TEST(KeptPanels, KeyBlocksOfTwentyFourKeepNone) {
  EXPECT_THAT(code_of(with_blocks(cpu_options(), {24, 24})), Not(HasSubstr("memo_panels")));
}

// The per-head attention of tests/common/attention_sources.h: its key loop runs over the whole
// item, the mask applied with torch.where. Same items as hstu_args().
ArgMap per_head_args() {
  ArgMap args = hstu_args();
  ArgMap out = {{"q", args["q"]}, {"k", args["k"]}, {"v", args["v"]}};
  out["offsets"] = args["seq_offsets"];
  out["scale"] = 0.25;
  return out;
}

// One configuration of a kernel's blocks, cache rows (JAGTILE_MEMO_ROWS; "" for the default)
// and checks.
struct Config {
  std::vector<int64_t> blocks;
  const char* rows;
  bool checked;
};

// Every output of `source`'s kernel with the panels kept, against the element loops, on every
// instruction set: blocks of 64, of 32 with a cache of two blocks of 32 (unchecked), and query
// blocks of 16 under key blocks of 32, with the default cache and with one of two blocks.
void expect_element_loops_bits(const std::string& source, const ArgMap& args) {
  use_shared_cache_dir();
  const std::vector<Config> configs = {
      {{64, 64}, "", true}, {{32, 32}, "64", false}, {{16, 32}, "", true}, {{16, 32}, "64", true}};
  for (const char* isa : {"", "avx2", "portable"})
    for (const Config& c : configs) {
      SCOPED_TRACE(std::string(*isa ? isa : "native") + ", blocks " + std::to_string(c.blocks[0]) +
                   " x " + std::to_string(c.blocks[1]) + ", cache rows " +
                   (*c.rows ? c.rows : "default") + (c.checked ? ", checked" : ", unchecked"));
      ScopedEnv env("JAGTILE_CPU_ISA", *isa ? isa : nullptr);
      ScopedEnv cache_rows("JAGTILE_MEMO_ROWS", *c.rows ? c.rows : nullptr);
      const Options o = with_blocks(cpu_options(c.checked, 1), c.blocks);
      const Program p = Program::from_source(source, "attention.py");
      ASSERT_THAT(p.specialise("", args, o).source(Backend::cpu), HasSubstr("memo_panels0"));
      const Tensor packed = p.call("", args, o).outputs.at(0);
      ScopedEnv loops("JAGTILE_CPU_MATMUL", "loops");
      const Program plain = Program::from_source(source, "attention.py");
      ASSERT_THAT(plain.specialise("", args, o).source(Backend::cpu),
                  Not(HasSubstr("memo_panels")));
      const Tensor element_loops = plain.call("", args, o).outputs.at(0);
      ASSERT_EQ(packed.nbytes(), element_loops.nbytes());
      EXPECT_EQ(std::memcmp(packed.raw_data(), element_loops.raw_data(), size_t(packed.nbytes())),
                0);
    }
}

TEST(KeptPanels, TheBundledAttentionGivesTheElementLoopsBitsOnEveryIsa) {
  expect_element_loops_bits(read_source_file(hstu_example().file), hstu_args());
}

TEST(KeptPanels, AKeyLoopOverTheWholeItemGivesTheElementLoopsBitsOnEveryIsa) {
  expect_element_loops_bits(per_head_attention_source(), per_head_args());
}

}  // namespace
}  // namespace jagtile::testing
