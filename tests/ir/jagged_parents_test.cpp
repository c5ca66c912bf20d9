// The jagged parent map over lowered kernels: none, one pair, siblings sharing a parent, a
// 2-D parent, a nested jagged tile whose extents use another jagged tile, two items axes.
#include "analysis/jagged_parents.h"

#include <gtest/gtest.h>

#include "helpers.h"

namespace jagtile::testing {
namespace {

using analysis::jagged_parent_map;
using analysis::JaggedParentMap;

const char* kTwoChildren = R"(
@helion.kernel()
def k(x: torch.Tensor, offsets: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    M = x.size(1)
    B = offsets.size(0) - 1
    out = torch.zeros([B, M], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        cols = counts[tile_b]
        for tile_m in hl.jagged_tile(cols):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                acc = acc + x[starts[:, None] + tile_k.index[None, :], tile_m].sum(dim=1)
            out[tile_b, tile_m] = acc
    return out
)";

const char* kDense = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile_a, tile_b in hl.tile([x.size(0), x.size(1)]):
        out[tile_a, tile_b] = x[tile_a, tile_b] * 2
    return out
)";

const char* kTwoDimParent = R"(
@helion.kernel()
def k(lengths: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    A, B = lengths.shape
    out = torch.zeros([A, B], dtype=torch.float32, device=x.device)
    for tile_a, tile_b in hl.tile([A, B]):
        n = lengths[tile_a, tile_b]
        acc = hl.zeros([tile_a, tile_b], dtype=torch.float32)
        for tile_k in hl.jagged_tile(n):
            acc = acc + x[tile_a, tile_b, tile_k].sum(dim=2)
        out[tile_a, tile_b] = acc
    return out
)";

const char* kNested = R"(
@helion.kernel()
def k(counts: torch.Tensor, lens: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    B, M = lens.shape
    out = torch.zeros([B, M], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        cols = counts[tile_b]
        for tile_m in hl.jagged_tile(cols):
            n = lens[tile_b, tile_m]
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(n):
                acc = acc + x[tile_b, tile_m, tile_k].sum(dim=2)
            out[tile_b, tile_m] = acc
    return out
)";

const char* kTwoAxes = R"(
@helion.kernel()
def k(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    out = torch.zeros([B], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        acc = hl.zeros([tile_b], dtype=torch.float32)
        for tile_k in hl.jagged_tile(nnz):
            acc = acc + x[starts[:, None] + tile_k.index[None, :]].sum(dim=1)
        out[tile_b] = acc
    for tile_c in hl.tile(B):
        starts = offsets[tile_c]
        nnz = offsets[tile_c.index + 1] - starts
        acc = hl.zeros([tile_c], dtype=torch.float32)
        for tile_j in hl.jagged_tile(nnz):
            acc = acc + x[starts[:, None] + tile_j.index[None, :]].sum(dim=1)
        out[tile_c] = out[tile_c] + acc
    return out
)";

TEST(JaggedParents, NoJaggedTiles) {
  ir::Kernel k = lower_source(kDense, {tensor_spec("x", DType::f32, 2)});
  EXPECT_TRUE(jagged_parent_map(k).empty());
}

TEST(JaggedParents, SinglePair) {
  ir::Kernel k = lower_source(
      kJaggedColumnSum, {tensor_spec("x", DType::f32, 2), tensor_spec("offsets", DType::i64, 1)});
  EXPECT_EQ(jagged_parent_map(k), (JaggedParentMap{{2, {0}}}));
  EXPECT_EQ(analysis::to_string(jagged_parent_map(k)), "{2: [0]}");
}

TEST(JaggedParents, TwoChildrenShareOneParent) {
  ir::Kernel k = lower_source(
      kTwoChildren, {tensor_spec("x", DType::f32, 2), tensor_spec("offsets", DType::i64, 1),
                     tensor_spec("counts", DType::i32, 1)});
  EXPECT_EQ(jagged_parent_map(k), (JaggedParentMap{{1, {0}}, {2, {0}}}));
}

TEST(JaggedParents, TwoDimensionalParent) {
  ir::Kernel k = lower_source(
      kTwoDimParent, {tensor_spec("lengths", DType::i64, 2), tensor_spec("x", DType::f32, 3)});
  EXPECT_EQ(jagged_parent_map(k), (JaggedParentMap{{2, {0, 1}}}));
}

TEST(JaggedParents, NestedJaggedExtentsUseAJaggedParent) {
  ir::Kernel k =
      lower_source(kNested, {tensor_spec("counts", DType::i64, 1),
                             tensor_spec("lens", DType::i64, 2), tensor_spec("x", DType::f32, 3)});
  EXPECT_EQ(jagged_parent_map(k), (JaggedParentMap{{1, {0}}, {2, {0, 1}}}));
}

TEST(JaggedParents, TwoItemsAxes) {
  ir::Kernel k = lower_source(
      kTwoAxes, {tensor_spec("x", DType::f32, 1), tensor_spec("offsets", DType::i64, 1)});
  EXPECT_EQ(jagged_parent_map(k), (JaggedParentMap{{1, {0}}, {3, {2}}}));
}

}  // namespace
}  // namespace jagtile::testing
