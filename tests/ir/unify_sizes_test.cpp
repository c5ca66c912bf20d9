// The unify_asserted_sizes pass (src/ir/pass_unify_sizes.h): after the top-level asserts that
// check two sizes equal, the sizes of a class are one node, so the dims they give are the same
// dim; before the last assert, and for sizes no assert compared, nothing changes.
#include <gtest/gtest.h>

#include <string>

#include "helpers.h"
#include "ir/printer.h"

namespace jagtile::testing {
namespace {

using ir::Kernel;
using ir::NodeKind;
using ir::NodePtr;

// acc is [tile, D] with D from q; the product p @ v is [tile, v.size(1)]: the lowering asserts
// q.size(1) == v.size(1) for the addition (and k's for the scores' contraction).
const char* kAttention = R"(
@helion.kernel()
def attn(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(v)
    D = q.size(1)
    W = v.size(0)
    for item in hl.grid(offsets.size(0) - 1):
        first = offsets[item]
        last = offsets[item + 1]
        for tq in hl.tile(first, last):
            acc = hl.zeros([tq, D], dtype=torch.float32)
            for tk in hl.tile(first, last):
                p = torch.matmul(q[tq, :], k[tk, :].T)
                acc = acc + torch.matmul(p, v[tk, :])
            out[tq, :] = acc
    return out
)";

Kernel lower_attention() {
  return lower_source(kAttention,
                      {ir::ParamSpec{"q", ir::ParamKind::tensor, DType::f32, 2, {}},
                       ir::ParamSpec{"k", ir::ParamKind::tensor, DType::f32, 2, {}},
                       ir::ParamSpec{"v", ir::ParamKind::tensor, DType::f32, 2, {}},
                       ir::ParamSpec{"offsets", ir::ParamKind::tensor, DType::i64, 1, {}}});
}

const ir::Node* find_node(const Kernel& k, NodeKind kind, int nth = 0) {
  const ir::Node* found = nullptr;
  ir::walk(k.body, [&](const NodePtr& n) {
    if (n->kind == kind && nth-- == 0) found = n.get();
  });
  return found;
}

TEST(UnifyAssertedSizes, AccumulatorAndProductShareTheirFullDimAfterTheAsserts) {
  Kernel k = lower_attention();
  const ir::Node* add = nullptr;
  ir::walk(k.body, [&](const NodePtr& n) {
    if (n->kind == NodeKind::binary && n->op == ir::Op::add && n->type.shape.size() == 2)
      add = n.get();
  });
  ASSERT_NE(add, nullptr) << ir::print_kernel(k);
  const ir::Shape& acc = add->operands[0]->type.shape;
  const ir::Shape& product = add->operands[1]->type.shape;
  ASSERT_EQ(acc.size(), 2u);
  ASSERT_EQ(product.size(), 2u);
  EXPECT_EQ(acc[1].size, product[1].size) << ir::print_kernel(k);
  // The representative is the earliest size of the class: v.size(1), from zeros_like(v).
  ASSERT_EQ(acc[1].size->kind, NodeKind::size_of);
  EXPECT_EQ(acc[1].size->operands[0]->name, "v");
}

TEST(UnifyAssertedSizes, SizesBeforeTheAssertsAndUncomparedSizesAreKept) {
  Kernel k = lower_attention();
  // out = zeros_like(v) comes before the asserts: its sizes are still v's.
  const ir::Node* alloc = find_node(k, NodeKind::alloc);
  ASSERT_NE(alloc, nullptr);
  for (const NodePtr& size : alloc->operands) {
    ASSERT_EQ(size->kind, NodeKind::size_of);
    EXPECT_EQ(size->operands[0]->name, "v") << ir::print_kernel(k);
  }
  // Each assert still compares the two sizes it was written for.
  const ir::Node* check = find_node(k, NodeKind::assert_);
  ASSERT_NE(check, nullptr);
  const NodePtr& eq = check->operands[0];
  EXPECT_NE(eq->operands[0]->operands[0]->name, eq->operands[1]->operands[0]->name)
      << ir::print_kernel(k);
}

}  // namespace
}  // namespace jagtile::testing
