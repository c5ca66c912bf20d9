// Dtype promotion during specialisation follows torch: categories bool < int < float,
// dimensioned values before 0-d values before Python scalars, f16 with bf16 -> f32, a Python
// float keeps a 16-bit tensor's dtype, true division of integers gives float32, sums of
// integers are int64.
#include <gtest/gtest.h>

#include "helpers.h"

namespace jagtile::testing {
namespace {

// The dtype of `expr` computed inside a tile loop over tensors a (bf16), b (f32), h (f16),
// i (i32), j (i64), each 1-D; `s` names the 0-d sums available too.
DType dtype_of(const std::string& expr) {
  std::string src = R"(
@helion.kernel()
def k(a: torch.Tensor, b: torch.Tensor, h: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(b)
    for t in hl.tile(a.size(0)):
        va = a[t]
        vb = b[t]
        vh = h[t]
        vi = i[t]
        vj = j[t]
        r = )" + expr +
                    R"(
        out[t] = r
    return out
)";
  ir::Kernel k =
      lower_source(src, {tensor_spec("a", DType::bf16, 1), tensor_spec("b", DType::f32, 1),
                         tensor_spec("h", DType::f16, 1), tensor_spec("i", DType::i32, 1),
                         tensor_spec("j", DType::i64, 1)});
  DType found = DType::f32;
  bool seen = false;
  ir::walk(k.body, [&](const ir::NodePtr& n) {
    if (n->kind == ir::NodeKind::store) {
      found = n->operands[2]->type.dtype;
      seen = true;
    }
  });
  EXPECT_TRUE(seen);
  return found;
}

TEST(Typing, PromotionFollowsTorch) {
  EXPECT_EQ(dtype_of("va + vb"), DType::f32);
  EXPECT_EQ(dtype_of("va * 2.5"), DType::bf16);
  EXPECT_EQ(dtype_of("va + vh"), DType::f32);
  EXPECT_EQ(dtype_of("vh + vh"), DType::f16);
  EXPECT_EQ(dtype_of("vi + vj"), DType::i64);
  EXPECT_EQ(dtype_of("vi + 7"), DType::i32);
  EXPECT_EQ(dtype_of("vi + 1.5"), DType::f32);
  EXPECT_EQ(dtype_of("vi / vj"), DType::f32);
  EXPECT_EQ(dtype_of("vi // vj"), DType::i64);
  EXPECT_EQ(dtype_of("vi + va"), DType::bf16);
  EXPECT_EQ(dtype_of("va > 0.5"), DType::boolean);
  EXPECT_EQ(dtype_of("(vi > 0) & (vj > 0)"), DType::boolean);
  // 0-d values: a higher category wins over dimensioned values, the same category does not.
  EXPECT_EQ(dtype_of("vi + va.sum()"), DType::bf16);
  EXPECT_EQ(dtype_of("vi + vj.sum()"), DType::i32);
  EXPECT_EQ(dtype_of("va + vb.sum()"), DType::bf16);
  EXPECT_EQ(dtype_of("vi.sum() + vi"), DType::i32);
  EXPECT_EQ(dtype_of("torch.exp(vi)"), DType::f32);
  EXPECT_EQ(dtype_of("torch.where(vi > 0, va, 0.0)"), DType::bf16);
  EXPECT_EQ(dtype_of("torch.where(vi > 0, va, vb)"), DType::f32);
  EXPECT_EQ(dtype_of("va.to(torch.float16)"), DType::f16);
  EXPECT_EQ(dtype_of("torch.maximum(vh, va)"), DType::f32);
}

TEST(Typing, ReductionDtypes) {
  EXPECT_EQ(dtype_of("vi.sum() + vb * 0"), DType::f32);
  ir::Kernel k = lower_source(R"(
@helion.kernel()
def k(i: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([1], dtype=torch.int64, device=i.device)
    for t in hl.grid(1):
        out[t] = i[:].sum() + a[:].amax().to(torch.int64)
    return out
)",
                              {tensor_spec("i", DType::i32, 1), tensor_spec("a", DType::bf16, 1)});
  std::vector<DType> reductions;
  ir::walk(k.body, [&](const ir::NodePtr& n) {
    if (n->kind == ir::NodeKind::reduce) reductions.push_back(n->type.dtype);
  });
  EXPECT_EQ(reductions, (std::vector<DType>{DType::i64, DType::bf16}));
}

}  // namespace
}  // namespace jagtile::testing
