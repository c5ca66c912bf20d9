// Elements a mask drops are not computed (plan/pass_masked_elements.h): an elementwise loop that
// stores `where(mask, value, 0)` under a comparison of the column index splits into a loop over the
// kept columns, rounded out to whole vectors, and loops that store the other value. These tests
// pin which masks split (every comparison, either side, offsets, kept prefixes, suffixes and
// windows, a loaded mask beside them; not a loaded mask alone) and that the outputs are bit for
// bit those of the single loop, on items of 0 to 100 rows, blocks that are and are not multiples
// of the vector, checked and unchecked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "../common/attention_sources.h"
#include "codegen_helpers.h"
#include "testing/datagen.h"
#include "testing/examples.h"
#include "testing/scoped_env.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Attention with silu probabilities under MASK, every key block of the item visited.
std::string masked_silu_source(const std::string& mask) {
  return masked_attention_source(mask, 4, "F.silu(s)");
}

ArgMap masked_silu_args() {
  const std::vector<int64_t> lengths = {0, 1, 17, 64, 65, 100, 3};
  int64_t rows = 0;
  for (int64_t n : lengths) rows += n;
  ArgMap args;
  args["q"] = random_values({rows, 8}, DType::f32, 21);
  args["k"] = random_values({rows, 8}, DType::f32, 22);
  args["v"] = random_values({rows, 8}, DType::f32, 23);
  args["offsets"] = lengths_to_offsets(lengths, DType::i64);
  args["scale"] = 0.5;
  return args;
}

const char* kSplitMarker = "const int64_t kept";

std::string cpu_source(const Program& p, const ArgMap& args, const Options& o) {
  return p.specialise("", args, o).source(Backend::cpu);
}

// The bundled HSTU example: its silu / mask pass computes the kept vectors of each row and fills
// the rest with zeros; without the pass (or on another backend's plan) it is one loop.
TEST(MaskedElements, TheBundledAttentionsSiluPassComputesOnlyTheKeptVectors) {
  JaggedShape shape;
  shape.batch = 3;
  const std::string code = example_cpu_source("jagged_hstu_attention", shape, DType::f32);
  EXPECT_THAT(code, HasSubstr(kSplitMarker)) << code;
  EXPECT_THAT(code, HasSubstr("+ INT64_C(15)) & INT64_C(-16))")) << code;
  EXPECT_THAT(code, HasSubstr("jt_silu(")) << code;
  ScopedEnv off("JAGTILE_MASKED_ELEMENTS", "0");
  EXPECT_THAT(example_cpu_source("jagged_hstu_attention", shape, DType::f32),
              Not(HasSubstr(kSplitMarker)));
}

struct MaskCase {
  const char* name;
  const char* mask;
  bool splits;
};
void PrintTo(const MaskCase& c, std::ostream* os) {
  *os << c.mask;
}

class MaskedElementsByMask : public ::testing::TestWithParam<MaskCase> {};

// With and without the pass, the same bits in every output; the code with it split where the mask
// is one comparison of the key row with values fixed along it.
TEST_P(MaskedElementsByMask, OutputsAreBitForBitThoseOfTheSingleLoop) {
  use_shared_cache_dir();
  const MaskCase& c = GetParam();
  const std::string source = masked_silu_source(c.mask);
  const ArgMap args = masked_silu_args();
  const Program p = Program::from_source(source, "masked.py");
  for (const std::vector<int64_t>& blocks : {std::vector<int64_t>{16, 16}, {64, 64}, {32, 24}})
    for (bool checked : {true, false}) {
      SCOPED_TRACE("blocks " + std::to_string(blocks[0]) + " x " + std::to_string(blocks[1]) +
                   (checked ? " checked" : " unchecked"));
      Options o = cpu_options(checked, 1);
      o.config.block_sizes = blocks;
      const std::string code = cpu_source(p, args, o);
      if (c.splits)
        ASSERT_THAT(code, HasSubstr(kSplitMarker)) << code;
      else
        ASSERT_THAT(code, Not(HasSubstr(kSplitMarker))) << code;
      const std::vector<Tensor> with = p.call("", args, o).outputs;
      std::vector<Tensor> without;
      {
        ScopedEnv off("JAGTILE_MASKED_ELEMENTS", "0");
        const Program plain = Program::from_source(source, "masked.py");
        ASSERT_THAT(cpu_source(plain, args, o), Not(HasSubstr(kSplitMarker)));
        without = plain.call("", args, o).outputs;
      }
      ASSERT_EQ(with.size(), without.size());
      for (size_t i = 0; i < with.size(); ++i) {
        ASSERT_EQ(with[i].nbytes(), without[i].nbytes());
        EXPECT_EQ(0,
                  std::memcmp(with[i].raw_data(), without[i].raw_data(), size_t(with[i].nbytes())))
            << "output " << i;
      }
    }
}

INSTANTIATE_TEST_SUITE_P(
    EveryComparison, MaskedElementsByMask,
    ::testing::Values(MaskCase{"PrefixGe", "qi >= kj", true},  // kept: a prefix of each row
                      MaskCase{"PrefixGtOffset", "qi > kj + 2", true},
                      MaskCase{"PrefixLeSwapped", "kj <= qi - 3", true},
                      MaskCase{"PrefixLtSwapped", "kj < qi + 5", true},
                      MaskCase{"SuffixGe", "kj >= qi", true},  // kept: a suffix
                      MaskCase{"SuffixLt", "qi + 1 < kj", true},
                      MaskCase{"Window", "(qi >= kj) & (qi - kj < 6)", true},
                      MaskCase{"WindowAndALoadedMask",
                               "(kj >= qi - 4) & (kj <= qi) & (v[tk, 0] > 0.0)[None, :]", true},
                      MaskCase{"OnlyALoadedMaskNotSplit", "(v[tk, 0] > 0.0)[None, :] & (qi >= 0)",
                               false}),
    [](const ::testing::TestParamInfo<MaskCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace jagtile::testing
