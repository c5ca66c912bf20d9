// Every user error that lowering (specialisation) raises: the message, the hint where it
// matters, and the file:line:col it points at. Line numbers count the 4 header lines that
// lower_source prepends and the blank first line of each raw string: the decorator is line 6.
#include <gtest/gtest.h>

#include "helpers.h"

namespace jagtile::testing {
namespace {

struct Expected {
  std::string message;  // a substring of the message
  int line;
  int column;
  std::string hint = {};  // a substring of the hint, when given
};

void expect_error(const std::string& src, const std::vector<ir::ParamSpec>& specs,
                  const Expected& want, bool check = true) {
  try {
    lower_source(src, specs, check);
    ADD_FAILURE() << "expected an error containing: " << want.message;
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find(want.message), std::string::npos) << e.what();
    EXPECT_EQ(e.loc().file, "k.py");
    EXPECT_EQ(e.loc().line, want.line) << e.what();
    EXPECT_EQ(e.loc().column, want.column) << e.what();
    if (!want.hint.empty()) {
      EXPECT_NE(e.hint().find(want.hint), std::string::npos) << e.what();
    }
    EXPECT_NE(std::string(e.what()).find("^"), std::string::npos) << "caret line: " << e.what();
  }
}

std::vector<ir::ParamSpec> jagged_specs() {
  return {tensor_spec("x", DType::f32, 2), tensor_spec("offsets", DType::i64, 1)};
}

// A jagged_sum skeleton; BODY replaces the line inside the jagged loop.
std::string jagged_kernel(const std::string& inner,
                          const std::string& loop = "hl.jagged_tile(nnz)") {
  return R"(
@helion.kernel()
def k(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    M = x.size(1)
    B = offsets.size(0) - 1
    out = torch.zeros([B, M], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in )" +
         loop + R"(:
                )" +
         inner + R"(
            out[tile_b, tile_m] = acc
    return out
)";
}

TEST(LowerErrors, TooManyIndicesForTheTensorRank) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for t in hl.tile(x.size(0)):
        out[t] = x[t, 0]
    return out
)";
  expect_error(src, {tensor_spec("x", DType::f32, 1)},
               {"too many indices for a tensor of rank 1", 10, 23});
}

TEST(LowerErrors, SizeDimensionOutOfRange) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    n = x.size(2)
    return x
)";
  expect_error(src, {tensor_spec("x", DType::f32, 2)},
               {"dimension 2 is out of range for a tensor of rank 2", 8, 9});
}

TEST(LowerErrors, JaggedIndexWithoutItsParent) {
  expect_error(jagged_kernel("acc = acc + x[tile_k.index, tile_m].sum(dim=0)"), jagged_specs(),
               {"jagged tile 'tile_k' is used without its parent tile 'tile_b' in this load", 17,
                29, "x[tile_b, tile_k]"});
}

TEST(LowerErrors, CumsumWithoutADim) {
  expect_error(jagged_kernel("acc = acc + x[tile_b, tile_m].cumsum()"), jagged_specs(),
               {"cumsum needs the dim to run along", 17, 29, "x.cumsum(dim=1)"});
}

TEST(LowerErrors, CumsumDimOutOfRange) {
  expect_error(jagged_kernel("acc = acc + torch.cumsum(x[tile_b, tile_m], dim=2)"), jagged_specs(),
               {"cumsum dim is out of range for a value of shape [tile_b, tile_m]", 17, 29});
}

TEST(LowerErrors, CumsumAlongABroadcastDim) {
  expect_error(jagged_kernel("acc = acc + x[tile_b, tile_m][:, None, :].cumsum(dim=1).sum(dim=1)"),
               jagged_specs(), {"cumsum runs along a dim of size 1", 17, 29, "pick the dim"});
}

TEST(LowerErrors, CumsumOfAZeroDimValue) {
  expect_error(jagged_kernel("acc = acc + x[tile_b, tile_m].sum().cumsum(dim=0)"), jagged_specs(),
               {"cumsum needs a device value with a dim to run along", 17, 29,
                "load the data inside a device loop first"});
}

TEST(LowerErrors, ShapeMismatchInBinaryOperation) {
  expect_error(jagged_kernel("rows = starts + tile_k.index"), jagged_specs(),
               {"shape mismatch in this binary operation: [tile_b] and [tile_k]", 17, 24,
                "starts[:, None] + tile_k.index[None, :]"});
}

TEST(LowerErrors, JaggedTileOverAScalar) {
  expect_error(jagged_kernel("pass", "hl.jagged_tile(nnz.amax())"), jagged_specs(),
               {"hl.jagged_tile needs a tensor of per-lane extents; this is a scalar", 16, 42,
                "hl.tile(n)"});
}

TEST(LowerErrors, JaggedTileOverAHostTensor) {
  expect_error(jagged_kernel("pass", "hl.jagged_tile(offsets)"), jagged_specs(),
               {"not a whole host tensor", 16, 42}, /*check=*/false);
}

TEST(LowerErrors, JaggedTileOutermost) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    for tile_k in hl.jagged_tile(lengths):
        pass
    return x
)";
  // The checker rejects this before specialisation; lowering rejects it too on its own.
  expect_error(src, {tensor_spec("x", DType::f32, 1), tensor_spec("lengths", DType::i64, 1)},
               {"hl.jagged_tile cannot be the outermost loop", 8, 19}, /*check=*/false);
}

TEST(LowerErrors, StoreOfAValueWithExtraDims) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_b, tile_m in hl.tile([x.size(0), x.size(1)]):
        out[tile_b] = x[tile_b, tile_m]
    return out
)";
  expect_error(src, {tensor_spec("x", DType::f32, 2)},
               {"cannot store a value of shape [tile_b, tile_m] into a subscript of shape "
                "[tile_b]",
                10, 9});
}

TEST(LowerErrors, LoopCarriedValueChangesShape) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0)], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(x.size(0)):
        acc = hl.zeros([tile_b], dtype=torch.float32)
        for tile_m in hl.tile(x.size(1)):
            acc = acc[:, None] + x[tile_b, tile_m]
        out[tile_b] = acc
    return out
)";
  expect_error(src, {tensor_spec("x", DType::f32, 2)},
               {"'acc' changes type inside a loop or if", 12, 13, "same shape and dtype"});
}

TEST(LowerErrors, AllocationInsideADeviceLoop) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    for t in hl.tile(x.size(0)):
        tmp = torch.zeros_like(x)
    return x
)";
  expect_error(src, {tensor_spec("x", DType::f32, 1)},
               {"tensors must be allocated on the host", 9, 15});
}

TEST(LowerErrors, FloatIndex) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for t in hl.tile(x.size(0)):
        out[t] = x[t.index / 2]
    return out
)";
  expect_error(src, {tensor_spec("x", DType::f32, 1)}, {"an index must be an integer", 10, 20});
}

TEST(LowerErrors, LoopBoundWithLanes) {
  expect_error(jagged_kernel("pass", "hl.tile(nnz)"), jagged_specs(),
               {"a loop bound must be a scalar; this has shape [tile_b]", 16, 35, "nnz.amax()"});
}

TEST(LowerErrors, WhereNeedsABoolCondition) {
  expect_error(jagged_kernel("acc = torch.where(nnz[:, None], acc, 0.0)"), jagged_specs(),
               {"the condition of torch.where must be a bool mask, not int64", 17, 23});
}

TEST(LowerErrors, NameWithoutOneValueAfterTheLoop) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for t in hl.tile(x.size(0)):
        v = hl.zeros([t], dtype=torch.float32)
        for u in hl.tile(4):
            v = x[t][:, None]
        out[t] = v
    return out
)";
  // `v` is rebound to a fresh value inside the inner loop without being read: fine there, but
  // it has no single value after that loop.
  expect_error(src, {tensor_spec("x", DType::f32, 1)}, {"has no single value after it", 13, 18});
}

TEST(LowerErrors, ArithmeticOnAWholeTensor) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    y = x * 2
    return y
)";
  expect_error(src, {tensor_spec("x", DType::f32, 1)},
               {"arithmetic on a whole tensor is not supported", 8, 9, "x[tile_b, tile_m]"});
}

TEST(LowerErrors, MatmulContractionMismatch) {
  const char* src = R"(
@helion.kernel()
def k(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([a.size(0), b.size(1)], dtype=torch.float32, device=a.device)
    for ti, tj, tk in hl.tile([a.size(0), b.size(1), a.size(1)]):
        out[ti, tj] = torch.matmul(a[ti, tk], b[tj, tk])
    return out
)";
  expect_error(src, {tensor_spec("a", DType::f32, 2), tensor_spec("b", DType::f32, 2)},
               {"matmul contraction dims differ: [ti, tk] @ [tj, tk]", 10, 23});
}

}  // namespace
}  // namespace jagtile::testing
