// The loop_over_batch_dims pass (src/ir/pass_batch_loops.h) on attention with its heads in a
// batch dim, as Helion's jagged_hstu_attn_2 writes it: which kernels get a grid loop over the
// heads around their query tiles, what the body looks like after it, and the kernels whose
// heads must stay together. That the result computes what the kernel did is tested on every
// backend in tests/codegen/masked_block_skip_test.cpp (HeadsInABatchDimGiveBitwise...).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../common/attention_sources.h"
#include "helpers.h"
#include "ir/printer.h"

namespace jagtile::testing {
namespace {

using ir::Kernel;
using ir::NodeKind;
using ir::NodePtr;

// `source` with its first `from` replaced by `to`.
std::string with(std::string source, const std::string& from, const std::string& to) {
  const size_t at = source.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) source.replace(at, from.size(), to);
  return source;
}

// The batched-heads kernel without its import lines (lower_source adds them), with `from`
// replaced by `to` where given.
std::string batched(const std::string& from = "", const std::string& to = "") {
  std::string source = heads_in_batch_attention_source();
  source = source.substr(source.find("\n\n") + 2);
  return from.empty() ? source : with(source, from, to);
}

const char* const kQueryLoop = "        for tq in hl.tile(first, last):\n";

Kernel lower_batched(const std::string& source) {
  return lower_source(source,
                      {tensor_spec("q", DType::f32, 3), tensor_spec("k", DType::f32, 3),
                       tensor_spec("v", DType::f32, 3), tensor_spec("offsets", DType::i64, 1),
                       scalar_spec("scale", ir::ParamKind::float_scalar)});
}

// The block id of the pass's grid loop, -1 when it made none.
int batch_block(const Kernel& k) {
  for (const ir::BlockInfo& b : k.blocks)
    if (b.name.rfind("batch_", 0) == 0) return b.id;
  return -1;
}

std::vector<const ir::Node*> of_kind(const Kernel& k, NodeKind kind) {
  std::vector<const ir::Node*> out;
  ir::walk(k.body, [&](const NodePtr& n) {
    if (n->kind == kind) out.push_back(n.get());
  });
  return out;
}

TEST(BatchLoops, HeadsOfBatchedAttentionBecomeAGridLoopAroundTheQueryTiles) {
  const Kernel k = lower_batched(batched());
  const int block = batch_block(k);
  ASSERT_GE(block, 0) << ir::print_kernel(k);
  EXPECT_EQ(k.blocks[size_t(block)].name, "batch_H");
  EXPECT_EQ(k.blocks[size_t(block)].kind, ir::LoopKind::grid);
  const std::vector<const ir::Node*> grids = of_kind(k, NodeKind::grid_loop);
  const ir::Node* heads = nullptr;
  for (const ir::Node* g : grids)
    if (g->ival == block) heads = g;
  ASSERT_NE(heads, nullptr) << ir::print_kernel(k);
  // The grid loop holds the query tile loop and nothing else.
  ASSERT_EQ(heads->regions[0].size(), 1u) << ir::print_kernel(k);
  EXPECT_EQ(heads->regions[0][0]->kind, NodeKind::tile_loop);
  // One head per iteration: 2-D matmuls and loads, as a kernel written per head has.
  for (const ir::Node* mm : of_kind(k, NodeKind::matmul))
    EXPECT_EQ(mm->type.shape.size(), 2u) << ir::print_kernel(k);
  for (const ir::Node* load : of_kind(k, NodeKind::load)) {
    if (load->operands[0]->name == "offsets") continue;
    EXPECT_EQ(load->type.shape.size(), 2u) << ir::print_kernel(k);
  }
  // The causal bands survive the rebuild.
  EXPECT_NE(ir::print_kernel(k).find("band.zero_a"), std::string::npos);
}

// A size read inside the loop (the lowering reads v.size(2) again for `v[tk, :, :]` where the
// kernel names its accumulator's width `hl.specialize(v.size(2))`) is the same for every head:
// the heads still become a grid loop.
TEST(BatchLoops, ASizeReadInsideTheQueryLoopDoesNotKeepTheHeadsTogether) {
  const std::string source =
      with(batched("acc = hl.zeros([H, tq, D]", "acc = hl.zeros([H, tq, W]"), "    D = q.size(2)\n",
           "    D = q.size(2)\n    W = hl.specialize(v.size(2))\n");
  const Kernel k = lower_batched(source);
  bool size_inside = false;
  for (const ir::Node* loop : of_kind(k, NodeKind::tile_loop))
    ir::walk(loop->regions[0],
             [&](const NodePtr& n) { size_inside |= n->kind == NodeKind::size_of; });
  EXPECT_TRUE(size_inside) << "the case needs a size read inside the loop: " << ir::print_kernel(k);
  EXPECT_GE(batch_block(k), 0) << ir::print_kernel(k);
}

TEST(BatchLoops, KernelsThatMixOrReorderHeadsKeepThemInOneBlock) {
  struct Case {
    const char* why;
    std::string source;
  };
  const Case cases[] = {
      {"a sum over the heads",
       batched("out[tq, :, :] = acc.transpose(0, 1)", "out[tq, 0, :] = acc.sum(0)")},
      {"a tensor both loaded and stored in the loop",
       batched("v[tk, :, :].transpose(0, 1)", "out[tk, :, :].transpose(0, 1)")},
      {"a variable of the item loop assigned per query tile",
       with(batched("            out[tq, :, :] = acc.transpose(0, 1)\n",
                    "            out[tq, :, :] = acc.transpose(0, 1)\n"
                    "            total = total + acc.sum(1)\n"
                    "        out[first, :, :] = total\n"),
            kQueryLoop,
            std::string("        total = hl.zeros([H, D], dtype=torch.float32)\n") + kQueryLoop)},
      {"heads from a value made outside the loop",
       with(batched("            qb = q[tq, :, :].transpose(0, 1)\n",
                    "            qb = q[tq, :, :].transpose(0, 1) * w[:, None, None]\n"),
            kQueryLoop,
            std::string("        w = hl.zeros([H], dtype=torch.float32) + 1.0\n") + kQueryLoop)},
  };
  for (const Case& c : cases) {
    const Kernel k = lower_batched(c.source);
    EXPECT_EQ(batch_block(k), -1) << c.why << "\n" << ir::print_kernel(k);
    for (const ir::Node* mm : of_kind(k, NodeKind::matmul))
      EXPECT_EQ(mm->type.shape.size(), 3u) << c.why;
  }
}

TEST(BatchLoops, ABatchedMatmulWithNoLoopInsideTheTileLoopIsLeftAlone) {
  // Nothing is carried from one key block to the next: no working set to shrink.
  const Kernel k = lower_batched(R"(
@helion.kernel(config=helion.Config(block_sizes=[4]))
def once(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, offsets: torch.Tensor,
         scale: float) -> torch.Tensor:
    out = torch.zeros_like(v)
    for tq in hl.tile(q.size(0)):
        qb = q[tq, :, :].transpose(0, 1)
        s = torch.bmm(qb.transpose(-2, -1), k[tq, :, :].transpose(0, 1)) * scale
        out[tq, :, :] = torch.bmm(qb, s).transpose(0, 1)
    return out
)");
  EXPECT_EQ(batch_block(k), -1) << ir::print_kernel(k);
}

}  // namespace
}  // namespace jagtile::testing
