// The pair check (layer 1 of the detector) over hand-written jagged parent maps: one test per
// case of the issue, plus the parent maps of real kernels.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "helpers.h"

namespace jagtile::analysis {
namespace {

using ::testing::HasSubstr;

TEST(PairCheck, NoJaggedTiles) {
  PairCheck r = check_pairs({});
  EXPECT_FALSE(r.matched());
  EXPECT_THAT(r.reason, HasSubstr("no hl.jagged_tile"));
}

TEST(PairCheck, SinglePair) {
  PairCheck r = check_pairs({{2, {0}}});
  ASSERT_TRUE(r.matched()) << r.reason;
  EXPECT_EQ(*r.items_axis, 0);
  EXPECT_TRUE(r.reason.empty());
}

TEST(PairCheck, SeveralJaggedTilesShareOneParent) {
  PairCheck r = check_pairs({{1, {3}}, {2, {3}}, {5, {3}}});
  ASSERT_TRUE(r.matched()) << r.reason;
  EXPECT_EQ(*r.items_axis, 3);
}

TEST(PairCheck, TwoDimensionalParent) {
  PairCheck r = check_pairs({{2, {0, 1}}});
  EXPECT_FALSE(r.matched());
  EXPECT_THAT(r.reason, HasSubstr("jagged tile #2 has 2 parent tiles [#0, #1]"));
  EXPECT_THAT(r.reason, HasSubstr("single items axis"));
}

TEST(PairCheck, SeveralItemsAxes) {
  PairCheck r = check_pairs({{2, {0}}, {3, {1}}});
  EXPECT_FALSE(r.matched());
  EXPECT_THAT(r.reason, HasSubstr("several items axes"));
  EXPECT_THAT(r.reason, HasSubstr("#2 under #0, #3 under #1"));
}

TEST(PairCheck, MixOfMatchingAndNonMatchingPairs) {
  // Two tiles share parent #0 but a third has a 2-D parent: no match, naming the bad one.
  PairCheck r = check_pairs({{2, {0}}, {3, {0}}, {4, {0, 1}}});
  EXPECT_FALSE(r.matched());
  EXPECT_THAT(r.reason, HasSubstr("jagged tile #4 has 2 parent tiles"));
}

TEST(PairCheck, JaggedTileWithNoParentRecorded) {
  PairCheck r = check_pairs({{2, {0}}, {3, {}}});
  EXPECT_FALSE(r.matched());
  EXPECT_THAT(r.reason, HasSubstr("jagged tile #3 has no parent tile recorded"));
}

TEST(PairCheck, RealKernelsParentMaps) {
  using namespace dispatch_test;
  // jagged_sum: one jagged tile (rows) under the items tile.
  ir::Kernel sum = lower(read_example("jagged_sum"), small_args());
  PairCheck a = check_pairs(jagged_parent_map(sum));
  ASSERT_TRUE(a.matched()) << a.reason;
  EXPECT_EQ(*a.items_axis, 0);
  // jagged_mean: columns and rows are both jagged tiles of the items tile.
  ir::Kernel mean = lower(read_example("jagged_mean"), small_args({.counts = true}));
  EXPECT_EQ(jagged_parent_map(mean).size(), 2u);
  PairCheck b = check_pairs(jagged_parent_map(mean));
  ASSERT_TRUE(b.matched()) << b.reason;
  EXPECT_EQ(*b.items_axis, 0);
}

}  // namespace
}  // namespace jagtile::analysis
