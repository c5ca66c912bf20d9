// The band_matmuls pass (src/ir/pass_band_matmuls.h) on lowered attention kernels: which matmuls
// get a band, in which mode and with which offset, and the ones it must leave alone. That the
// backends honour the bands alike is tested end to end in tests/codegen/masked_block_skip_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../common/attention_sources.h"
#include "helpers.h"
#include "ir/pass_band_matmuls.h"
#include "ir/printer.h"

namespace jagtile::testing {
namespace {

using ir::Kernel;
using ir::NodeKind;
using ir::NodePtr;

// One head of causal attention: key tiles up to the query tile's end, scores, MASK, then
// SCORES_USE (which defines p) and the accumulation of p @ v.
std::string attention(const std::string& mask,
                      const std::string& scores_use = "p = torch.where(mask, s, 0.0)",
                      const std::string& extra = "") {
  OneHeadAttention a;
  a.key_end = "tq.end";
  a.scores = "torch.sigmoid(torch.matmul(qb, k[tk, :].T) * scale)";
  a.mask = mask;
  a.p_line = scores_use;
  a.extra = extra;
  return one_head_attention(a);
}

Kernel lower_attention(const std::string& source) {
  return lower_one_head_attention(source);
}

// The kernel's matmuls in program order: the scores', then the values'.
std::vector<const ir::Node*> matmuls(const Kernel& k) {
  std::vector<const ir::Node*> out;
  ir::walk(k.body, [&](const NodePtr& n) {
    if (n->kind == NodeKind::matmul) out.push_back(n.get());
  });
  return out;
}

const std::vector<int64_t> kNoBand = {};
std::vector<int64_t> band(ir::MatmulBand mode, int64_t offset) {
  return {int64_t(mode), 1, 2, offset};  // rows: tq (block 1), columns: tk (block 2)
}

TEST(BandMatmuls, CausalScoresAreUsedOnlyInTheBandAndTheProbabilitiesAreZeroOutsideIt) {
  Kernel k = lower_attention(attention("tq.index[:, None] >= tk.index[None, :]"));
  std::vector<const ir::Node*> mm = matmuls(k);
  ASSERT_EQ(mm.size(), 2u) << ir::print_kernel(k);
  EXPECT_EQ(mm[0]->ints, band(ir::MatmulBand::unused_c, 0)) << ir::print_kernel(k);
  EXPECT_EQ(mm[1]->ints, band(ir::MatmulBand::zero_a, 0)) << ir::print_kernel(k);
  EXPECT_NE(ir::print_kernel(k).find("band.zero_a(#1, #2, +0)"), std::string::npos);
}

TEST(BandMatmuls, EachSpellingOfALowerBandGivesItsOffset) {
  struct Case {
    const char* mask;
    int64_t offset;
  };
  const Case cases[] = {
      {"tq.index[:, None] > tk.index[None, :]", -1},
      {"tk.index[None, :] <= tq.index[:, None]", 0},
      {"tk.index[None, :] < tq.index[:, None] + 1", 0},
      {"tq.index[:, None] + 2 >= tk.index[None, :]", 2},
      {"tq.index[:, None] >= tk.index[None, :] + 3", -3},
      {"tq.index[:, None] - 1 >= tk.index[None, :]", -1},
      {"(tq.index[:, None] >= tk.index[None, :]) & (s > 0.5)", 0},
      {"(tk.index[None, :] <= tq.index[:, None] + 4) & (tq.index[:, None] > tk.index[None, :])",
       -1},
  };
  for (const Case& c : cases) {
    Kernel k = lower_attention(attention(c.mask));
    std::vector<const ir::Node*> mm = matmuls(k);
    ASSERT_EQ(mm.size(), 2u) << c.mask;
    EXPECT_EQ(mm[1]->ints, band(ir::MatmulBand::zero_a, c.offset)) << c.mask << "\n"
                                                                   << ir::print_kernel(k);
  }
}

TEST(BandMatmuls, ScoresKeptThroughAWhereWithAnotherFillStillHaveTheirBand) {
  // where(mask, s, 1.0): the values' A is not zero outside the band, but the scores outside it
  // are still never used.
  Kernel k = lower_attention(
      attention("tq.index[:, None] >= tk.index[None, :]", "p = torch.where(mask, s * 2.0, 1.0)"));
  std::vector<const ir::Node*> mm = matmuls(k);
  ASSERT_EQ(mm.size(), 2u);
  EXPECT_EQ(mm[0]->ints, band(ir::MatmulBand::unused_c, 0)) << ir::print_kernel(k);
  EXPECT_EQ(mm[1]->ints, kNoBand) << ir::print_kernel(k);
}

// Helion's jagged_hstu_attn_2 keeps the heads in a batch dim: [H, tq, D] @ [H, D, tk], the mask
// broadcast over the heads as mask[None, :, :].
TEST(BandMatmuls, HeadsInABatchDimTakeTheSameBand) {
  // lower_source adds the imports itself: the shared file's own three lines go first.
  std::string source = heads_in_batch_attention_source();
  source = source.substr(source.find("\n\n") + 2);
  Kernel k =
      lower_source(source, {tensor_spec("q", DType::f32, 3), tensor_spec("k", DType::f32, 3),
                            tensor_spec("v", DType::f32, 3), tensor_spec("offsets", DType::i64, 1),
                            scalar_spec("scale", ir::ParamKind::float_scalar)});
  std::vector<const ir::Node*> mm = matmuls(k);
  ASSERT_EQ(mm.size(), 2u) << ir::print_kernel(k);
  EXPECT_EQ(mm[0]->ints, band(ir::MatmulBand::unused_c, 0)) << ir::print_kernel(k);
  EXPECT_EQ(mm[1]->ints, band(ir::MatmulBand::zero_a, 0)) << ir::print_kernel(k);
}

TEST(BandMatmuls, UpperBandsOtherMasksAndScoresUsedElsewhereAreLeftAlone) {
  struct Case {
    const char* why;
    std::string source;
    bool scores_banded, values_banded;
  };
  const std::string causal = "tq.index[:, None] >= tk.index[None, :]";
  const Case cases[] = {
      {"an upper band", attention("tq.index[:, None] <= tk.index[None, :]"), false, false},
      {"a diagonal", attention("tq.index[:, None] == tk.index[None, :]"), false, false},
      {"a mask on data", attention("s > 0.5"), false, false},
      {"an or", attention("(tq.index[:, None] >= tk.index[None, :]) | (s > 0.5)"), false, false},
      {"a band over a scalar", attention("tq.index[:, None] + first >= tk.index[None, :]"), false,
       false},
      {"scores also reduced",
       attention(causal, "p = torch.where(mask, s, 0.0)",
                 "                acc = acc + s.sum(dim=1, keepdim=True)\n"),
       false, true},
      {"scores as the mask's fill", attention(causal, "p = torch.where(mask, 0.0 * s, s)"), false,
       false},
  };
  for (const Case& c : cases) {
    Kernel k = lower_attention(c.source);
    std::vector<const ir::Node*> mm = matmuls(k);
    ASSERT_EQ(mm.size(), 2u) << c.why;
    EXPECT_EQ(!mm[0]->ints.empty(), c.scores_banded) << c.why << "\n" << ir::print_kernel(k);
    EXPECT_EQ(!mm[1]->ints.empty(), c.values_banded) << c.why << "\n" << ir::print_kernel(k);
  }
}

}  // namespace
}  // namespace jagtile::testing
