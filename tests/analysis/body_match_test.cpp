// The body match (layer 2 of the detector) on real IR: the bundled template-shaped examples and
// variants of a template-shaped kernel, each compiled through the front end and lowering. The
// plan's every field is checked, since the launcher runs exactly what the plan says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "helpers.h"

namespace jagtile::analysis {
namespace {

using ::testing::HasSubstr;
using namespace dispatch_test;

ReducePlan expect_plan(const DispatchResult& r) {
  EXPECT_TRUE(r.matched()) << r.reason;
  return r.plan.value_or(ReducePlan{});
}

TEST(BodyMatch, JaggedSumExampleFlatForm) {
  ReducePlan p = expect_plan(detect(read_example("jagged_sum")));
  EXPECT_EQ(p.op, ReduceOp::sum);
  EXPECT_TRUE(p.flat_form);
  EXPECT_EQ(p.items_axis, 0);
  EXPECT_EQ(p.cols_axis, 1);
  EXPECT_EQ(p.rows_axis, 2);
  EXPECT_EQ(p.data_name, "x_values");
  EXPECT_EQ(p.data_param, 0);
  EXPECT_EQ(p.offsets_name, "x_offsets");
  EXPECT_EQ(p.offsets_param, 1);
  EXPECT_FALSE(p.has_counts());
  EXPECT_EQ(p.init, 0.0f);
  EXPECT_EQ(p.post, ReducePost::identity);
  EXPECT_EQ(p.out_name, "out");
  EXPECT_EQ(p.out_dtype, DType::f32);
  EXPECT_EQ(p.out_rank, 2);
  EXPECT_EQ(p.out_alloc, ir::Op::zeros);
}

TEST(BodyMatch, JaggedMeanExampleTwoJaggedDims) {
  ReducePlan p = expect_plan(detect(read_example("jagged_mean"), small_args({.counts = true})));
  EXPECT_EQ(p.op, ReduceOp::mean);
  EXPECT_TRUE(p.flat_form);
  EXPECT_EQ(p.counts_name, "x_feature_counts");
  EXPECT_EQ(p.counts_param, 2);
  EXPECT_EQ(p.post, ReducePost::divide_or_value);
  EXPECT_EQ(p.post_value, 0.0f);
  EXPECT_EQ(p.masked_value, 0.0f);  // torch.zeros output
  EXPECT_EQ(p.cols_axis, 1);
}

TEST(BodyMatch, JaggedMaxExampleDirectForm) {
  ReducePlan p = expect_plan(detect(read_example("jagged_max")));
  EXPECT_EQ(p.op, ReduceOp::max);
  EXPECT_FALSE(p.flat_form);
  EXPECT_EQ(p.init, -std::numeric_limits<float>::infinity());
  EXPECT_EQ(p.post, ReducePost::identity);
  EXPECT_EQ(p.out_alloc, ir::Op::empty);
}

TEST(BodyMatch, DirectSumAndAugmentedAssignment) {
  ReducePlan a = expect_plan(detect(direct_sum()));
  EXPECT_EQ(a.op, ReduceOp::sum);
  EXPECT_FALSE(a.flat_form);
  ReducePlan b =
      expect_plan(detect(variant(direct_sum(), {{"acc = acc + x_values[rows, tile_m].sum(dim=1)",
                                                 "acc += x_values[rows, tile_m].sum(dim=1)"}})));
  EXPECT_EQ(b.op, ReduceOp::sum);
  // The reduction may come first too.
  ReducePlan c = expect_plan(
      detect(variant(direct_sum(), {{"acc = acc + x_values[rows, tile_m].sum(dim=1)",
                                     "acc = x_values[rows, tile_m].sum(dim=1) + acc"}})));
  EXPECT_EQ(c.op, ReduceOp::sum);
}

TEST(BodyMatch, IndexSpellingsAreEquivalent) {
  // Flat form written differently: shape, products expanded, operands swapped.
  std::string src = variant(
      direct_sum(),
      {{"    M = x_values.size(1)\n", "    total, M = x_values.shape\n"},
       {"    for tile_b", "    x_flat = x_values.view(-1)\n    for tile_b"},
       {"                rows = starts[:, None] + tile_k.index[None, :]\n",
        "                a = tile_k.index[None, :, None] * M + starts[:, None, None] * M\n"},
       {"acc = acc + x_values[rows, tile_m].sum(dim=1)",
        "acc += hl.load(x_flat, [tile_m.index[None, None, :] + a]).sum(dim=1)"}});
  ReducePlan p = expect_plan(detect(src));
  EXPECT_TRUE(p.flat_form);
  EXPECT_EQ(p.op, ReduceOp::sum);
}

TEST(BodyMatch, OneDimensionalValues) {
  std::string src =
      header() +
      "def k(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:\n"
      "    num_items = x_offsets.size(0) - 1\n"
      "    out = torch.zeros([num_items], dtype=x_values.dtype)\n"
      "    for tile_b in hl.tile(num_items):\n"
      "        starts = x_offsets[tile_b]\n"
      "        nnz = x_offsets[tile_b.index + 1] - starts\n"
      "        acc = hl.zeros([tile_b], dtype=torch.float32)\n"
      "        for tile_k in hl.jagged_tile(nnz):\n"
      "            acc = acc + x_values[starts[:, None] + tile_k.index[None, :]].sum(dim=1)\n"
      "        out[tile_b] = acc\n"
      "    return out\n";
  ReducePlan p = expect_plan(detect(src, small_args({.values_rank = 1})));
  EXPECT_EQ(p.out_rank, 1);
  EXPECT_EQ(p.cols_axis, -1);
  EXPECT_EQ(p.op, ReduceOp::sum);
}

TEST(BodyMatch, MinMaxAndOtherInits) {
  std::string min_src =
      variant(direct_sum(), {{"hl.zeros([tile_b, tile_m], dtype=torch.float32)",
                              "hl.full([tile_b, tile_m], float(\"inf\"), dtype=torch.float32)"},
                             {"acc = acc + x_values[rows, tile_m].sum(dim=1)",
                              "acc = torch.minimum(acc, x_values[rows, tile_m].amin(dim=1))"}});
  ReducePlan a = expect_plan(detect(min_src));
  EXPECT_EQ(a.op, ReduceOp::min);
  EXPECT_EQ(a.init, std::numeric_limits<float>::infinity());
  // A max that starts at 0 (a relu-like floor): init is kept as written.
  std::string max0 =
      variant(direct_sum(), {{"acc = acc + x_values[rows, tile_m].sum(dim=1)",
                              "acc = torch.maximum(x_values[rows, tile_m].amax(dim=1), acc)"}});
  ReducePlan b = expect_plan(detect(max0));
  EXPECT_EQ(b.op, ReduceOp::max);
  EXPECT_EQ(b.init, 0.0f);
  // A sum that starts at 1.5.
  ReducePlan c = expect_plan(
      detect(variant(direct_sum(), {{"hl.zeros([tile_b, tile_m], dtype=torch.float32)",
                                     "hl.full([tile_b, tile_m], 1.5, dtype=torch.float32)"}})));
  EXPECT_EQ(c.op, ReduceOp::sum);
  EXPECT_EQ(c.init, 1.5f);
}

TEST(BodyMatch, MeanPostOps) {
  ReducePlan a = expect_plan(detect(
      variant(direct_sum(), {{"out[tile_b, tile_m] = acc",
                              "out[tile_b, tile_m] = acc / nnz.to(torch.float32)[:, None]"}})));
  EXPECT_EQ(a.op, ReduceOp::mean);
  EXPECT_EQ(a.post, ReducePost::divide_by_count);
  ReducePlan b =
      expect_plan(detect(variant(direct_sum(), {{"out[tile_b, tile_m] = acc",
                                                 "c = nnz[:, None]\n            out[tile_b, "
                                                 "tile_m] = torch.where(c > 0, acc / c, -2.0)"}})));
  EXPECT_EQ(b.op, ReduceOp::mean);
  EXPECT_EQ(b.post, ReducePost::divide_or_value);
  EXPECT_EQ(b.post_value, -2.0f);
}

TEST(BodyMatch, DtypesOfValuesOffsetsAndOutput) {
  ReducePlan p =
      expect_plan(detect(direct_sum(), small_args({.values = DType::bf16, .offsets = DType::i32})));
  EXPECT_EQ(p.out_dtype, DType::bf16);  // dtype=x_values.dtype
  ReducePlan q =
      expect_plan(detect(variant(direct_sum(), {{"dtype=x_values.dtype", "dtype=torch.float32"}}),
                         small_args({.values = DType::bf16})));
  EXPECT_EQ(q.out_dtype, DType::f32);
}

TEST(BodyMatch, FullOutputGivesMaskedValue) {
  std::string src =
      variant(read_example("jagged_mean"),
              {{"out = torch.zeros([num_items, M], dtype=x_values.dtype, device=x_values.device)",
                "out = torch.full([num_items, M], 7.0, dtype=x_values.dtype)"}});
  ReducePlan p = expect_plan(detect(src, small_args({.counts = true})));
  EXPECT_EQ(p.out_alloc, ir::Op::fill);
  EXPECT_EQ(p.masked_value, 7.0f);
}

TEST(BodyMatch, PlanTextAndSummary) {
  DispatchResult r = detect(read_example("jagged_mean"), small_args({.counts = true}));
  ASSERT_TRUE(r.matched()) << r.reason;
  EXPECT_EQ(dispatch_summary(r), "template jagged_reduce(op=mean, items_axis=0, counts=yes)");
  std::string text = plan_to_string(*r.plan);
  EXPECT_THAT(text, HasSubstr("op: mean\n"));
  EXPECT_THAT(text, HasSubstr("counts: x_feature_counts\n"));
  EXPECT_THAT(text, HasSubstr("post: where(nnz > 0, acc / nnz, c) with c = 0\n"));
  ReduceSpec s = r.plan->spec();
  EXPECT_EQ(s.op, ReduceOp::mean);
  EXPECT_EQ(s.effective_post(), ReducePost::divide_or_value);
  EXPECT_EQ(s.out_dtype, DType::f32);
  EXPECT_EQ(dispatch_summary(detect(read_example("jagged_max"))),
            "template jagged_reduce(op=max, items_axis=0, counts=no)");
}

}  // namespace
}  // namespace jagtile::analysis
