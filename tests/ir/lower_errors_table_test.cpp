// More type-dependent user errors, table-driven: each case puts one statement on the host
// (line 10) or inside the device loop (line 15) of a small kernel and checks the message, the
// line, a column on that line, and that the rendered error carries a caret. The checker is
// skipped so that lowering's own message is the one tested.
#include <gtest/gtest.h>

#include "helpers.h"

namespace jagtile::testing {
namespace {

struct Case {
  const char* name;
  bool device;       // the statement goes inside the loop (line 15) or on the host (line 10)
  const char* stmt;  // one line
  const char* message;
};

std::string kernel_with(const Case& c) {
  std::string host = c.device ? "pass" : c.stmt;
  std::string device = c.device ? c.stmt : "pass";
  return R"(
@helion.kernel()
def k(x: torch.Tensor, offsets: torch.Tensor, f: float) -> torch.Tensor:
    B = offsets.size(0) - 1
    out = torch.zeros([B, x.size(1)], dtype=x.dtype, device=x.device)
    )" + host +
         R"(
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        v = x[tile_b, :]
        )" +
         device + R"(
        out[tile_b, :] = v
    return out
)";
}

class LowerErrorTable : public ::testing::TestWithParam<Case> {};

TEST_P(LowerErrorTable, MessageAndLocation) {
  const Case& c = GetParam();
  std::vector<ir::ParamSpec> specs = {tensor_spec("x", DType::f32, 2),
                                      tensor_spec("offsets", DType::i64, 1),
                                      scalar_spec("f", ir::ParamKind::float_scalar)};
  try {
    lower_source(kernel_with(c), specs, /*check=*/false);
    FAIL() << "expected an error containing: " << c.message;
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
    EXPECT_EQ(e.loc().file, "k.py");
    EXPECT_EQ(e.loc().line, c.device ? 15 : 10) << e.what();
    EXPECT_GE(e.loc().column, c.device ? 9 : 5) << e.what();
    EXPECT_NE(std::string(e.what()).find("^"), std::string::npos) << e.what();
  }
}

const Case kCases[] = {
    {"TileIndexOnValue", true, "w = v[tile_b]",
     "a device value can only be indexed with ':' and None"},
    {"SliceWithBounds", true, "w = x[starts, 1:3]", "slices with bounds are not supported"},
    {"TensorAsIndex", true, "w = x[offsets, 0]", "a tensor cannot be used directly as an index"},
    {"MeanOfIntegers", true, "w = nnz.mean()", "mean needs a floating-point value, not int64"},
    {"ReductionDimOutOfRange", true, "w = v.sum(dim=5)", "reduction dim is out of range"},
    {"NegatedMask", true, "w = -(v > 0)", "cannot negate a bool mask"},
    {"FloatExtraMask", true, "w = hl.load(x, [tile_b, 0], extra_mask=starts)",
     "extra_mask must be a bool mask"},
    {"MatmulOfVectors", true, "w = torch.matmul(nnz, nnz)",
     "matmul needs two device values of rank >= 2"},
    {"TileAsValue", true, "w = tile_b + 1", "a tile is not a value"},
    {"MaxMethod", true, "w = v.max()", ".max() is not supported"},
    {"AssertOnDevice", true, "assert f > 0", "assert inside a device loop is not supported"},
    {"ReturnOnDevice", true, "return out", "return inside a device loop"},
    {"TensorTo", true, "w = x.to(torch.float32)", "tensors have no method 'to' in kernels"},
    {"ValueInShape", true, "w = hl.zeros([starts], dtype=torch.float32)",
     "a device shape lists tiles or host integers"},
    {"ItemOfAVector", true, "w = v.item()", ".item() needs a single value"},
    {"FloatOfAVector", true, "w = float(v)", "float() needs a scalar"},
    {"AndOnValues", true, "w = v and v", "`and` / `or` work on host scalars only"},
    {"MinOfTiles", true, "w = min(v, v)", "min() needs scalars"},
    {"MaxOfOneValue", false, "w = max(f)", "max() takes two or more scalars here"},
    {"IsWithoutNone", true, "w = v is f", "`is` / `is not` compare with None only"},
    {"UnknownTensorMethod", true, "w = x.foo()", "tensors have no method 'foo'"},
    {"VectorFill", true, "w = hl.full([tile_b], v, dtype=torch.float32)",
     "the fill value must be a scalar"},
    {"JaggedTileOutsideFor", true, "w = hl.jagged_tile(nnz)",
     "can only be used as the iterator of a for loop"},
    {"ToWithoutDtype", true, "w = v.to(x)", ".to() needs a dtype such as torch.float32"},
    {"WhereOnTensor", true, "w = torch.where(nnz > 0, f, x)",
     "torch.where on a whole tensor is not supported"},
    {"BitwiseOnFloat", true, "w = (v > 0) & 1.5", "bitwise operators (& | ^) need integer or bool"},
    {"TwoInferredViewDims", false, "y = x.view(-1, -1)", "only one dimension of a view can be -1"},
    {"ViewInsideDeviceLoop", true, "w = x.view(-1)",
     "'.view()' of a whole tensor inside a device loop"},
    {"HostReadWithTooFewIndices", false, "y = x[0]",
     "reading a tensor on the host needs one integer index per dimension"},
    {"HostFloatIndex", false, "y = offsets[f]", "a host index must be an integer"},
    {"LoadOnHost", false, "y = hl.load(x, [0, 0])",
     "hl.load can only be used inside a device loop"},
    {"StoreOnHost", false, "out[0, 0] = 1.0",
     "writing tensor elements outside a device loop is not supported"},
    {"BreakStatement", false, "break", "break and continue are not supported in kernels"},
    {"DtypeKwargNotADtype", false, "y = torch.zeros([B], dtype=f)",
     "dtype= must be a dtype such as torch.float32"},
    {"FloatSize", false, "y = torch.zeros([f], dtype=torch.float32)",
     "a tensor size must be a host integer"},
    {"UnpackMismatch", false, "a, b = x.shape[0], x.shape[1], B",
     "cannot unpack 3 values into 2 names"},
    {"UnknownFunction", false, "y = torch.frobnicate(B)", "unknown function 'torch.frobnicate'"},
};

INSTANTIATE_TEST_SUITE_P(All, LowerErrorTable, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

}  // namespace
}  // namespace jagtile::testing
