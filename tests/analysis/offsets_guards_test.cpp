// The offsets-guard analysis (analysis/offsets_guards.h) on the bundled examples and on
// hand-written kernels: which tensors are item boundaries, and which tensors' rows bound them.
#include "analysis/offsets_guards.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>
#include <vector>

#include "helpers.h"

namespace jagtile::dispatch_test {
namespace {

std::string guards_of(const std::string& source, const ArgMap& args = small_args()) {
  return analysis::to_string(analysis::find_offsets_guards(lower(source, args)));
}

TEST(OffsetsGuards, JaggedSumFlatViewBoundsByValuesRows) {
  EXPECT_EQ(guards_of(read_example("jagged_sum")), "x_offsets rows <= x_values.size(0)\n");
}

TEST(OffsetsGuards, DirectTemplateSumBoundsByValuesRows) {
  EXPECT_EQ(guards_of(direct_sum()), "x_offsets rows <= x_values.size(0)\n");
}

TEST(OffsetsGuards, JaggedSoftmaxBoundsByValuesAndOutputRows) {
  EXPECT_EQ(guards_of(read_example("jagged_softmax")),
            "x_offsets rows <= x_values.size(0), out.size(0)\n");
}

TEST(OffsetsGuards, JaggedMeanWithCountsBoundsByValuesRows) {
  ArgSpec spec;
  spec.counts = true;
  EXPECT_EQ(guards_of(read_example("jagged_mean"), small_args(spec)),
            "x_offsets rows <= x_values.size(0)\n");
}

// The flat index's row stride is y.size(2), which the analysis cannot tie to x_values.size(1):
// the order of the offsets is checked, the loads' bounds checks catch rows past the data.
TEST(OffsetsGuards, RowStrideNotTiedToValuesChecksOrderOnly) {
  ArgMap a = small_args();
  a["y"] = Tensor::zeros({3, 4, 4}, DType::f32);
  EXPECT_EQ(guards_of(read_example("jagged_dense_add"), a), "x_offsets (order only)\n");
}

// Per-item sums: a grid over the items, each summing its rows [offsets[i], offsets[i + 1]).
std::string item_sums_source() {
  return header() +
         "def k(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:\n"
         "    B = offsets.size(0) - 1\n"
         "    out = torch.zeros([B], dtype=torch.float32, device=x.device)\n"
         "    for i in hl.grid(B):\n"
         "        start = offsets[i]\n"
         "        end = offsets[i + 1]\n"
         "        acc = hl.zeros([], dtype=torch.float32)\n"
         "        for tile_k in hl.tile(start, end):\n"
         "            acc = acc + x[tile_k].sum()\n"
         "        out[i] = acc\n"
         "    return out\n";
}

ArgMap item_sums_args() {
  ArgMap a;
  a["x"] = Tensor::zeros({5}, DType::f32);
  a["offsets"] = Tensor::from_doubles({3}, {0, 2, 5}, DType::i64);
  return a;
}

TEST(OffsetsGuards, TileBetweenOffsetsBoundsByTheTensorItIndexes) {
  EXPECT_EQ(guards_of(item_sums_source(), item_sums_args()), "offsets rows <= x.size(0)\n");
}

// The grid loop whose index reads the pair is an item loop: its iteration i is item i, rows
// [offsets[i], offsets[i + 1]) (a backend may start the longest first).
TEST(OffsetsGuards, GridLoopOverTheOffsetsIsTheItemLoop) {
  std::vector<analysis::OffsetsGuard> g =
      analysis::find_offsets_guards(lower(item_sums_source(), item_sums_args()));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].item_blocks, std::vector<int>{0});
}

// A pair whose values only feed arithmetic (an adjacent difference) is data, not boundaries.
TEST(OffsetsGuards, PairUsedAsDataIsNotGuarded) {
  const std::string src = header() +
                          "def k(x: torch.Tensor) -> torch.Tensor:\n"
                          "    n = x.size(0) - 1\n"
                          "    out = torch.zeros([n], dtype=x.dtype, device=x.device)\n"
                          "    for t in hl.tile(n):\n"
                          "        out[t] = x[t.index + 1] - x[t]\n"
                          "    return out\n";
  ArgMap a;
  a["x"] = Tensor::from_doubles({4}, {5, 1, 7, 2}, DType::i64);
  EXPECT_EQ(guards_of(src, a), "");
}

TEST(OffsetsGuards, KernelWithoutOffsetsHasNoGuards) {
  const std::string src = header() +
                          "def k(x: torch.Tensor) -> torch.Tensor:\n"
                          "    out = torch.zeros_like(x)\n"
                          "    for t in hl.tile(x.size(0)):\n"
                          "        out[t] = x[t] * 2.0\n"
                          "    return out\n";
  ArgMap a;
  a["x"] = Tensor::zeros({4}, DType::f32);
  EXPECT_EQ(guards_of(src, a), "");
}

// ---- rows_within_guards: accesses whose first index is a guarded item row ----

// "load x" / "store out" for each access the analysis proves in bounds, in walk order.
std::vector<std::string> proven_rows(const std::string& source, const ArgMap& args) {
  ir::Kernel k = lower(source, args);
  const std::unordered_set<const ir::Node*> proven =
      analysis::rows_within_guards(k, analysis::find_offsets_guards(k));
  std::vector<std::string> out;
  ir::walk(k.body, [&](const ir::NodePtr& n) {
    if (proven.count(n.get()))
      out.push_back(std::string(n->kind == ir::NodeKind::load ? "load " : "store ") +
                    n->operand(0)->name);
  });
  return out;
}

// Each item's rows read at starts + k and starts + k + 1 (the second can pass the item's end),
// one value per item stored to `out`, and, with `scratch`, the same stored into a parameter.
std::string row_reads_source(bool store_into_param) {
  return header() + "def k(x: torch.Tensor, offsets: torch.Tensor" +
         (store_into_param ? ", scratch: torch.Tensor" : "") +
         ") -> torch.Tensor:\n"
         "    B = offsets.size(0) - 1\n"
         "    out = torch.zeros([B], dtype=torch.float32, device=x.device)\n"
         "    for tile_b in hl.tile(B):\n"
         "        starts = offsets[tile_b]\n"
         "        nnz = offsets[tile_b.index + 1] - starts\n"
         "        acc = hl.zeros([tile_b], dtype=torch.float32)\n"
         "        for tile_k in hl.jagged_tile(nnz):\n"
         "            rows = starts[:, None] + tile_k.index[None, :]\n"
         "            acc = acc + x[rows].sum(dim=1) + x[rows + 1].sum(dim=1)\n"
         "        out[tile_b] = acc\n" +
         (store_into_param ? "        scratch[tile_b] = acc\n" : "") + "    return out\n";
}

ArgMap row_reads_args(bool store_into_param) {
  ArgMap a;
  a["x"] = Tensor::zeros({6}, DType::f32);
  a["offsets"] = Tensor::from_doubles({3}, {0, 2, 5}, DType::i64);
  if (store_into_param) a["scratch"] = Tensor::zeros({2}, DType::f32);
  return a;
}

TEST(RowsWithinGuards, AJaggedRowOfTheGuardedTensorIsProvenAndOnePastItIsNot) {
  EXPECT_EQ(proven_rows(row_reads_source(false), row_reads_args(false)),
            std::vector<std::string>{"load x"});
}

// A parameter the kernel writes could share memory with the offsets, which would change them
// after the guard read them: nothing is proven.
TEST(RowsWithinGuards, AKernelStoringIntoAParameterProvesNothing) {
  EXPECT_EQ(proven_rows(row_reads_source(true), row_reads_args(true)), std::vector<std::string>{});
}

TEST(RowsWithinGuards, TheIndexOfATileBetweenOffsetsIsProven) {
  EXPECT_EQ(proven_rows(item_sums_source(), item_sums_args()), std::vector<std::string>{"load x"});
}

// jagged_softmax's two reads of each item's rows and its store of them, x[rows, tile_m].
TEST(RowsWithinGuards, JaggedSoftmaxReadsAndWritesProvenRows) {
  EXPECT_EQ(proven_rows(read_example("jagged_softmax"), small_args()),
            (std::vector<std::string>{"load x_values", "load x_values", "store out"}));
}

// jagged_sum reads each item's rows through a flat view, row * M + column, its column loop over M.
TEST(RowsWithinGuards, AFlatViewOfAnItemsRowIsProven) {
  EXPECT_EQ(proven_rows(read_example("jagged_sum"), small_args()),
            std::vector<std::string>{"load x_flat"});
}

// The same flat read with its column loop over `cols` instead of x's row length: an element past
// the row's end could be read, so nothing is proven.
std::string flat_columns_source(const std::string& cols) {
  return header() +
         "def k(x: torch.Tensor, offsets: torch.Tensor, n: int) -> torch.Tensor:\n"
         "    B = offsets.size(0) - 1\n"
         "    M = x.size(1)\n"
         "    x_flat = x.view(-1)\n"
         "    out = torch.zeros([B, M], dtype=torch.float32, device=x.device)\n"
         "    for tile_b in hl.tile(B):\n"
         "        starts = offsets[tile_b]\n"
         "        nnz = offsets[tile_b.index + 1] - starts\n"
         "        for tile_m in hl.tile(" +
         cols +
         "):\n"
         "            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)\n"
         "            for tile_k in hl.jagged_tile(nnz):\n"
         "                rows = starts[:, None] + tile_k.index[None, :]\n"
         "                idx = rows[:, :, None] * M + tile_m.index[None, None, :]\n"
         "                acc = acc + hl.load(x_flat, [idx]).sum(dim=1)\n"
         "            out[tile_b, tile_m] = acc\n"
         "    return out\n";
}

TEST(RowsWithinGuards, AFlatColumnLoopOverAnotherBoundProvesNothing) {
  ArgMap a;
  a["x"] = Tensor::zeros({5, 3}, DType::f32);
  a["offsets"] = Tensor::from_doubles({3}, {0, 2, 5}, DType::i64);
  a["n"] = int64_t(3);
  EXPECT_EQ(proven_rows(flat_columns_source("M"), a), std::vector<std::string>{"load x_flat"});
  EXPECT_EQ(proven_rows(flat_columns_source("n"), a), std::vector<std::string>{});
}

// Helion's jagged_dense_add: a loop over the longest item's rows, each item's read masked by
// `k < nnz`. Under that mask row starts + k is the item's; a looser mask, or a loop that does not
// start at 0, proves nothing.
std::string masked_rows_source(const std::string& begin, const std::string& mask) {
  return header() +
         "def k(x: torch.Tensor, offsets: torch.Tensor, y: torch.Tensor) -> torch.Tensor:\n"
         "    out = torch.zeros_like(y)\n"
         "    for tile0 in hl.tile(y.size(0)):\n"
         "        starts = offsets[tile0]\n"
         "        ends = offsets[tile0.index + 1]\n"
         "        nnz = ends - starts\n"
         "        max_nnz = nnz.amax()\n"
         "        for tile1 in hl.tile(" +
         begin +
         ", max_nnz):\n"
         "            x_slice = hl.load(x, [starts[:, None] + tile1.index[None, :]],\n"
         "                              extra_mask=" +
         mask +
         ")\n"
         "            out[tile0, tile1] = y[tile0, tile1] + x_slice\n"
         "    return out\n";
}

TEST(RowsWithinGuards, ARowMaskedByTheItemsLengthIsProven) {
  ArgMap a;
  a["x"] = Tensor::zeros({5}, DType::f32);
  a["offsets"] = Tensor::from_doubles({3}, {0, 2, 5}, DType::i64);
  a["y"] = Tensor::zeros({2, 4}, DType::f32);
  const std::string in_item = "tile1.index[None, :] < nnz[:, None]";
  EXPECT_EQ(proven_rows(masked_rows_source("0", in_item), a), std::vector<std::string>{"load x"});
  EXPECT_EQ(proven_rows(masked_rows_source("0", "tile1.index[None, :] < nnz[:, None] + 1"), a),
            std::vector<std::string>{});
  EXPECT_EQ(proven_rows(masked_rows_source("1", in_item), a), std::vector<std::string>{});
}

}  // namespace
}  // namespace jagtile::dispatch_test
