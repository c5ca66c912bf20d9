// The skip_masked_blocks pass (src/ir/pass_skip_masked_blocks.h) on lowered kernels: which loops
// it guards, with which test, and the bodies it must leave alone. That skipping gives the same
// results on every backend is tested end to end in tests/codegen/masked_block_skip_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "helpers.h"
#include "ir/printer.h"

namespace jagtile::testing {
namespace {

using ir::Kernel;
using ir::NodeKind;
using ir::NodePtr;

// One head of causal attention that visits every key block and masks, as Helion's
// jagged_hstu_attn_2 does; BODY_EXTRA and the mask and accumulation lines vary per test.
std::string attention(const std::string& mask, const std::string& accumulate,
                      const std::string& extra = "") {
  OneHeadAttention a;
  a.mask = mask;
  a.extra = extra;
  a.accumulate = accumulate;
  return one_head_attention(a);
}

Kernel lower_attention(const std::string& source) {
  return lower_one_head_attention(source);
}

// The innermost tile loop (block #2, tk) of the attention kernel.
const ir::Node* key_loop(const Kernel& k) {
  const ir::Node* found = nullptr;
  ir::walk(k.body, [&](const NodePtr& n) {
    if (n->kind == NodeKind::tile_loop && n->ival == 2) found = n.get();
  });
  return found;
}

// The key loop's body is its guard's computation followed by one if_ holding the old body.
const ir::Node* guard_of(const Kernel& k) {
  const ir::Node* loop = key_loop(k);
  if (!loop || loop->regions[0].empty()) return nullptr;
  const NodePtr& last = loop->regions[0].back();
  return last->kind == NodeKind::if_ ? last.get() : nullptr;
}

TEST(SkipMaskedBlocks, CausalAccumulationRunsOnlyWhereTheQueryEndReachesTheKeyBegin) {
  Kernel k = lower_attention(
      attention("tq.index[:, None] >= tk.index[None, :]", "acc = acc + torch.matmul(p, v[tk, :])"));
  const ir::Node* guard = guard_of(k);
  ASSERT_NE(guard, nullptr) << ir::print_kernel(k);
  // skip when (tq.end - 1) < tk.begin; run when not.
  const NodePtr& run = guard->operands[0];
  ASSERT_EQ(run->kind, NodeKind::unary);
  EXPECT_EQ(run->op, ir::Op::logical_not);
  const NodePtr& skip = run->operands[0];
  ASSERT_EQ(skip->kind, NodeKind::binary);
  EXPECT_EQ(skip->op, ir::Op::lt);
  const NodePtr& q_last = skip->operands[0];
  ASSERT_EQ(q_last->op, ir::Op::sub);
  EXPECT_EQ(q_last->operands[0]->kind, NodeKind::tile_attr);
  EXPECT_EQ(q_last->operands[0]->op, ir::Op::end);
  EXPECT_EQ(q_last->operands[0]->ival, 1);
  EXPECT_EQ(skip->operands[1]->kind, NodeKind::tile_attr);
  EXPECT_EQ(skip->operands[1]->op, ir::Op::begin);
  EXPECT_EQ(skip->operands[1]->ival, 2);
  // The guarded body is the old one: the matmuls and the accumulation are inside the if_.
  int matmuls = 0, assigns = 0;
  ir::walk(guard->regions[0], [&](const NodePtr& n) {
    matmuls += n->kind == NodeKind::matmul;
    assigns += n->kind == NodeKind::var_assign;
  });
  EXPECT_EQ(matmuls, 2);
  EXPECT_EQ(assigns, 1);
}

TEST(SkipMaskedBlocks, EveryComparisonDirectionAndDotAccumulationAreGuarded) {
  const char* masks[] = {
      "tq.index[:, None] > tk.index[None, :]", "tk.index[None, :] <= tq.index[:, None]",
      "tk.index[None, :] < tq.index[:, None] + 1", "tq.index[:, None] == tk.index[None, :]",
      "(tq.index[:, None] >= tk.index[None, :]) & (s > 0)"};
  for (const char* m : masks) {
    Kernel k = lower_attention(attention(m, "acc = hl.dot(p, v[tk, :], acc=acc)"));
    EXPECT_NE(guard_of(k), nullptr) << m << "\n" << ir::print_kernel(k);
  }
}

TEST(SkipMaskedBlocks, BodiesWithOtherEffectsOrNonZeroFillsAreLeftAlone) {
  struct Case {
    const char* why;
    std::string source;
  };
  const std::string plain = "acc = acc + torch.matmul(p, v[tk, :])";
  const std::string causal = "tq.index[:, None] >= tk.index[None, :]";
  const Case cases[] = {
      {"a store in the body", attention(causal, plain, "                out[tk, :] = v[tk, :]\n")},
      {"a mask on loaded data", attention("s > 0", plain)},
      {"a mask that is true or data",
       attention("(tq.index[:, None] >= tk.index[None, :]) | (s > 0)", plain)},
      {"a product not added", attention(causal, "acc = acc * torch.matmul(p, v[tk, :])")},
      {"an addend that is not masked", attention(causal, "acc = acc + torch.matmul(s, v[tk, :])")},
      {"a where filling ones",
       attention(causal, "acc = acc + torch.matmul(torch.where(mask, s, 1.0), v[tk, :])")},
  };
  for (const Case& c : cases) {
    Kernel k = lower_attention(c.source);
    ASSERT_NE(key_loop(k), nullptr) << c.why;
    EXPECT_EQ(guard_of(k), nullptr) << c.why << "\n" << ir::print_kernel(k);
  }
}

}  // namespace
}  // namespace jagtile::testing
