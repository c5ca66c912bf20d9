// Near misses: kernels one change away from a template-shaped one that must NOT be routed to
// the template (each would compute something else there), each with the reason it gives.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "helpers.h"

namespace jagtile::analysis {
namespace {

using ::testing::HasSubstr;
using namespace dispatch_test;

const char* kUpdate = "acc = acc + x_values[rows, tile_m].sum(dim=1)";

std::string no_match(const std::string& source, const ArgMap& args = small_args()) {
  DispatchResult r = detect(source, args);
  EXPECT_FALSE(r.matched()) << "matched: " << dispatch_summary(r);
  EXPECT_FALSE(r.reason.empty());
  return r.reason;
}

TEST(NearMiss, TransformedLoad) {
  std::string reason = no_match(
      variant(direct_sum(), {{kUpdate, "acc = acc + (x_values[rows, tile_m] + 1).sum(dim=1)"}}));
  EXPECT_THAT(reason, HasSubstr("binary.add (line 17)"));
  EXPECT_THAT(reason, HasSubstr("not a plain load of the values (a transformed load)"));
}

TEST(NearMiss, Float64ValuesStayOnGeneratedCode) {
  ArgSpec spec;
  spec.values = DType::f64;
  std::string reason = no_match(direct_sum(), small_args(spec));
  EXPECT_THAT(reason, HasSubstr("'x_values' is float64; the templates accumulate in fp32"));
  // A float64 accumulator over float32 values sums in double on generated code, not in fp32.
  std::string acc =
      no_match(variant(direct_sum(), {{"dtype=torch.float32", "dtype=torch.float64"}}));
  EXPECT_THAT(acc, HasSubstr("the accumulator 'acc' has type f64"));
}

TEST(NearMiss, OffsetsReadOffByOne) {
  std::string reason = no_match(variant(direct_sum(), {{"ends = x_offsets[tile_b.index + 1]",
                                                        "ends = x_offsets[tile_b.index + 2]"}}));
  EXPECT_THAT(reason, HasSubstr("runs to x_offsets[tile_b + 2] - x_offsets[tile_b]"));
  EXPECT_THAT(reason, HasSubstr("off by one"));
}

TEST(NearMiss, RowsReadAtTheWrongStart) {
  // The extents are right but the rows start one late: still not the template's read.
  std::string reason =
      no_match(variant(direct_sum(), {{"rows = starts[:, None] + tile_k.index[None, :]",
                                       "rows = starts[:, None] + tile_k.index[None, :] + 1"}}));
  EXPECT_THAT(reason, HasSubstr("read at index tile_k + x_offsets[tile_b] + 1"));
}

TEST(NearMiss, StoreToAnotherRow) {
  std::string reason = no_match(variant(
      direct_sum(), {{"out[tile_b, tile_m] = acc", "out[tile_b.index + 1, tile_m] = acc"}}));
  EXPECT_THAT(reason, HasSubstr("stored at index tile_b + 1 of dim 0 of 'out'"));
  EXPECT_THAT(reason, HasSubstr("a store to another row"));
}

TEST(NearMiss, UnknownPostOp) {
  std::string reason = no_match(
      variant(direct_sum(), {{"out[tile_b, tile_m] = acc", "out[tile_b, tile_m] = acc * 2.0"}}));
  EXPECT_THAT(reason, HasSubstr("binary.mul"));
  EXPECT_THAT(reason, HasSubstr("an unknown post-op"));
  // A division by something other than the item's row count is unknown too.
  std::string by_m = no_match(
      variant(direct_sum(), {{"out[tile_b, tile_m] = acc", "out[tile_b, tile_m] = acc / M"}}));
  EXPECT_THAT(by_m, HasSubstr("an unknown post-op"));
}

TEST(NearMiss, AccumulatorUsedBeforeTheLoop) {
  std::string reason =
      no_match(variant(direct_sum(), {{"            for tile_k in hl.jagged_tile(nnz):\n",
                                       "            acc = acc + x_values[starts, tile_m]\n"
                                       "            for tile_k in hl.jagged_tile(nnz):\n"}}));
  EXPECT_THAT(reason, HasSubstr("accumulator 'acc'"));
  EXPECT_THAT(reason, HasSubstr("before the jagged loop"));
}

TEST(NearMiss, TwoOutputs) {
  std::string src = variant(
      direct_sum(), {{"    for tile_b",
                      "    cnt = torch.zeros([num_items], dtype=torch.float32)\n    for tile_b"},
                     {"        nnz = ends - starts\n",
                      "        nnz = ends - starts\n        cnt[tile_b] = nnz\n"},
                     {"    return out\n", "    return out, cnt\n"}});
  std::string reason = no_match(src);
  EXPECT_THAT(reason, HasSubstr("returns 2 tensors (two outputs)"));
  // Two stores with one returned output are refused as well.
  std::string one_ret = variant(src, {{"    return out, cnt\n", "    return out\n"}});
  EXPECT_THAT(no_match(one_ret),
              HasSubstr("the kernel has 2 stores (cnt (line 14), out (line 20))"));
}

TEST(NearMiss, ReductionOverANonJaggedAxis) {
  // Per-row sums over the columns: the accumulation runs over tile_m, not an item's rows.
  std::string src = header() +
                    "def k(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:\n"
                    "    total, M = x_values.shape\n"
                    "    num_items = x_offsets.size(0) - 1\n"
                    "    out = torch.zeros([total], dtype=x_values.dtype)\n"
                    "    for tile_b in hl.tile(num_items):\n"
                    "        starts = x_offsets[tile_b]\n"
                    "        nnz = x_offsets[tile_b.index + 1] - starts\n"
                    "        for tile_k in hl.jagged_tile(nnz):\n"
                    "            rows = starts[:, None] + tile_k.index[None, :]\n"
                    "            acc = hl.zeros([tile_b, tile_k], dtype=torch.float32)\n"
                    "            for tile_m in hl.tile(M):\n"
                    "                acc = acc + x_values[rows, tile_m].sum(dim=2)\n"
                    "            out[rows] = acc\n"
                    "    return out\n";
  std::string reason = no_match(src);
  EXPECT_THAT(reason, HasSubstr("tile_m (line 15) runs over a non-jagged axis"));
}

TEST(NearMiss, OtherCombinationsAndLoops) {
  // max combined with a sum reduction.
  EXPECT_THAT(
      no_match(variant(direct_sum(),
                       {{kUpdate, "acc = torch.maximum(acc, x_values[rows, tile_m].sum(dim=1))"}})),
      HasSubstr("not with a .amax()"));
  // Items loop over a different range.
  EXPECT_THAT(no_match(variant(direct_sum(), {{"hl.tile(num_items)", "hl.tile(num_items - 1)"}})),
              HasSubstr("the items loop (line 9) runs over [0, x_offsets.size(0) - 2)"));
  // Column loop not over every column.
  EXPECT_THAT(no_match(variant(direct_sum(), {{"hl.tile(M)", "hl.tile(1, M)"}})),
              HasSubstr("the column loop (line 13) runs over [1, x_values.size(1))"));
  // Output shaped differently from [B, M].
  EXPECT_THAT(no_match(variant(direct_sum(),
                               {{"torch.zeros([num_items, M]", "torch.zeros([num_items + 1, M]"}})),
              HasSubstr("has size x_offsets.size(0) in dim 0"));
  // A value read from a tensor on the host (.item()) that sets the loop range.
  EXPECT_THAT(no_match(variant(direct_sum(), {{"    num_items = x_offsets.size(0) - 1\n",
                                               "    num_items = int(x_offsets[1].item())\n"}})),
              HasSubstr("the items loop (line 9) runs over [0, <scalar_read L7>"));
}

TEST(NearMiss, OtherBundledExamplesAreGeneric) {
  for (const char* name : {"jagged_softmax", "jagged_layer_norm"}) {
    DispatchResult r = detect(read_example(name));
    EXPECT_FALSE(r.matched()) << name;
    EXPECT_FALSE(r.reason.empty()) << name;
    EXPECT_EQ(dispatch_summary(r), "generic");
  }
}

}  // namespace
}  // namespace jagtile::analysis
