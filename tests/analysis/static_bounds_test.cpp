// Indices in bounds by construction (analysis/static_bounds.h): which dimensions of which loads
// and stores the analysis proves, on a bundled example and on hand-written kernels that each
// change one thing the proof depends on.
#include "analysis/static_bounds.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "helpers.h"

namespace jagtile::dispatch_test {
namespace {

// "load x: 1" (the proven dims, ascending) for each access with a proven dim, in walk order.
std::vector<std::string> proven(const std::string& source, const ArgMap& args) {
  ir::Kernel k = lower(source, args);
  const analysis::InBoundsDims dims = analysis::dims_within_loops(k);
  std::vector<std::string> out;
  ir::walk(k.body, [&](const ir::NodePtr& n) {
    auto it = dims.find(n.get());
    if (it == dims.end()) return;
    std::string line =
        std::string(n->kind == ir::NodeKind::load ? "load " : "store ") + n->operand(0)->name + ":";
    for (int d = 0; d < 32; ++d)
      if (it->second >> d & 1u) line += " " + std::to_string(d);
    out.push_back(line);
  });
  return out;
}

using Lines = std::vector<std::string>;

// Columns under hl.tile(M), M from x_values.shape, read from x_values and written to its
// empty_like: dim 1 of all three reads and the store; the rows are the offsets guard's to prove.
TEST(StaticBounds, LayerNormColumnsAreTheLoopsOverTheTensorsColumns) {
  EXPECT_EQ(proven(read_example("jagged_layer_norm"), small_args()),
            (Lines{"load x_values: 1", "load x_values: 1", "load x_values: 1", "store out: 1"}));
}

ArgMap x_and(int64_t rows, int64_t cols, ArgMap extra = {}) {
  extra["x"] = Tensor::zeros({rows, cols}, DType::f32);
  return extra;
}

TEST(StaticBounds, AFullSliceAndATileOverTheRowsAreProven) {
  const std::string src = header() +
                          "def k(x: torch.Tensor) -> torch.Tensor:\n"
                          "    n, m = x.size()\n"
                          "    out = torch.zeros([n], dtype=x.dtype, device=x.device)\n"
                          "    for t in hl.tile(n):\n"
                          "        out[t] = x[t, :].sum(dim=1)\n"
                          "    return out\n";
  EXPECT_EQ(proven(src, x_and(5, 3)), (Lines{"load x: 0 1", "store out: 0"}));
}

// The loop runs to a parameter, or starts at 1: its index is not tied to x's rows.
TEST(StaticBounds, ALoopToAnotherBoundOrFromOneProvesNothing) {
  const std::string to_param =
      header() +
      "def k(x: torch.Tensor, n: int) -> torch.Tensor:\n"
      "    out = torch.zeros([x.size(0)], dtype=x.dtype, device=x.device)\n"
      "    for t in hl.tile(n):\n"
      "        out[t] = x[t, 0]\n"
      "    return out\n";
  EXPECT_EQ(proven(to_param, x_and(5, 3, {{"n", int64_t(4)}})), Lines{});
  const std::string from_one =
      header() +
      "def k(x: torch.Tensor) -> torch.Tensor:\n"
      "    out = torch.zeros([x.size(0)], dtype=x.dtype, device=x.device)\n"
      "    for t in hl.tile(1, x.size(0)):\n"
      "        out[t] = x[t, 0]\n"
      "    return out\n";
  EXPECT_EQ(proven(from_one, x_and(5, 3)), Lines{});
}

// A view's size given as a number is that number: the loop over y's rows (a) proves the store to
// out (a rows), not the read of z (b rows).
TEST(StaticBounds, AViewsGivenSizeIsItsSize) {
  const std::string src = header() +
                          "def k(x: torch.Tensor, a: int, b: int) -> torch.Tensor:\n"
                          "    y = x.view(a, b)\n"
                          "    z = x.view(b, a)\n"
                          "    out = torch.zeros([a], dtype=x.dtype, device=x.device)\n"
                          "    for t in hl.tile(y.size(0)):\n"
                          "        out[t] = z[t, 0]\n"
                          "    return out\n";
  EXPECT_EQ(proven(src, x_and(2, 3, {{"a", int64_t(3)}, {"b", int64_t(2)}})),
            Lines{"store out: 0"});
}

// Sizes a view computes (-1) are named by their dimension only, the same for every such view: the
// loop over y's rows proves nothing about z's, nor about out's, made from y's.
TEST(StaticBounds, SizesOfComputedTensorsAreNeverMatched) {
  const std::string src = header() +
                          "def k(x: torch.Tensor, a: int, b: int) -> torch.Tensor:\n"
                          "    y = x.view(-1, b)\n"
                          "    z = x.view(-1, a)\n"
                          "    out = torch.zeros([y.size(0)], dtype=x.dtype, device=x.device)\n"
                          "    for t in hl.tile(y.size(0)):\n"
                          "        out[t] = z[t, 0]\n"
                          "    return out\n";
  EXPECT_EQ(proven(src, x_and(2, 3, {{"a", int64_t(3)}, {"b", int64_t(2)}})), Lines{});
}

}  // namespace
}  // namespace jagtile::dispatch_test
