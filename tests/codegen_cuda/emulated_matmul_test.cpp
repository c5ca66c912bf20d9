// The block matmul of generated CUDA (codegen/cuda/cuda_matmul.cpp) through the host emulation:
// bf16 and f16 operands take the tensor-core path (each emulated thread plays a warp: fragments
// gathered lane by lane, multiplied as the PTX ISA defines mma.m16n8k16, stored lane by lane),
// f32 operands the threads' element sums. Each agrees with a double-precision reference within
// float rounding on partial tiles, empty and one-row items, hl.dot's acc= (the D operand) and a
// transposed operand read in place. The same sources are compiled by NVRTC for sm_80 and sm_90a
// as they are prepared (backend.cpp), so the device side of each path is checked too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../common/matmul_cases.h"
#include "cuda_test_util.h"

namespace jagtile::testing {
namespace {

Options emulated_with_blocks(std::vector<int64_t> blocks) {
  Options o = cuda_options();
  o.config.block_sizes = std::move(blocks);
  return o;
}

class ItemMatmulOnEmulatedCuda : public ::testing::TestWithParam<ItemCase> {};

// out[r] = x[r] @ w[item] + bias[item] through hl.dot(acc=), against the double reference; the
// block matmul is called with the operands' kind (1 bf16, 2 f16, 0 f32).
TEST_P(ItemMatmulOnEmulatedCuda, MatchesTheDoubleReference) {
  EmulationOn emulation;
  const ItemCase& c = GetParam();
  const ItemInputs in = item_matmul_inputs(c);
  const ArgMap& args = in.args;
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  const Options o = emulated_with_blocks(c.blocks);
  const std::string inputs = c.dtype == DType::bf16 ? "1" : c.dtype == DType::f16 ? "2" : "0";
  const std::string src = p.specialise("item_matmul", args, o).source(Backend::cuda);
  const size_t call = src.find("jt_block_matmul(JtMatmul{");
  ASSERT_NE(call, std::string::npos);
  EXPECT_EQ(src.substr(src.find('}', call), 5 + inputs.size()), "}, " + inputs + ");");
  CallResult r = p.call("item_matmul", args, o);
  EXPECT_EQ(r.backend_used, Backend::cuda);
  expect_close(r.outputs.at(0), item_matmul_reference(in.offs, in.x, in.w, in.bias, c.D, c.K),
               double(c.D));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ItemMatmulOnEmulatedCuda,
    ::testing::Values(
        // partial 16x8 tiles and k steps on every dim; an empty item and one-row items
        ItemCase{{5, 0, 1, 17, 33, 1}, 37, 45, {4, 16, 32, 16}, DType::bf16},
        ItemCase{{5, 0, 1, 17, 33, 1}, 37, 45, {4, 16, 32, 16}, DType::f16},
        ItemCase{{5, 0, 1, 17, 33, 1}, 37, 45, {4, 16, 32, 16}, DType::f32},
        // whole tiles only, several warps' worth of them per block
        ItemCase{{32, 64, 16}, 64, 64, {2, 32, 32, 32}, DType::bf16},
        // one column and one row of output
        ItemCase{{1, 1}, 3, 1, {2, 16, 16, 16}, DType::f16}),
    [](const ::testing::TestParamInfo<ItemCase>& i) { return "case" + std::to_string(i.index); });

// q @ k.T with k read in place (B's k stride 1): the tensor-core gather follows the strides.
TEST(MatmulOnEmulatedCuda, TransposedBf16OperandMatchesTheReference) {
  EmulationOn emulation;
  const int64_t D = 64, n = 37, m = 21;
  std::vector<double> q = values(n * D, 4, DType::bf16), k = values(m * D, 5, DType::bf16);
  ArgMap args = {{"q", Tensor::from_doubles({n, D}, q, DType::bf16)},
                 {"k", Tensor::from_doubles({m, D}, k, DType::bf16)}};
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  CallResult r = p.call("scores", args, emulated_with_blocks({16, 16}));
  std::vector<double> want;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      double s = 0;
      for (int64_t d = 0; d < D; ++d) s += q[size_t(i * D + d)] * k[size_t(j * D + d)];
      want.push_back(s);
    }
  expect_close(r.outputs.at(0), want, double(D));
}

// Operands widened to f32 from bf16 loads (as the bundled HSTU example writes them) still hold
// bf16 values: the tensor-core path takes them, and the result matches the reference. From f32
// loads the same kernel keeps the element sums.
TEST(MatmulOnEmulatedCuda, WidenedBf16OperandsKeepTheTensorCorePath) {
  EmulationOn emulation;
  const int64_t D = 40, n = 19, m = 23;
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  for (DType dtype : {DType::bf16, DType::f32}) {
    SCOPED_TRACE(dtype_name(dtype));
    std::vector<double> q = values(n * D, 6, dtype), k = values(m * D, 7, dtype);
    ArgMap args = {{"q", Tensor::from_doubles({n, D}, q, dtype)},
                   {"k", Tensor::from_doubles({m, D}, k, dtype)}};
    const Options o = emulated_with_blocks({16, 16});
    const std::string src = p.specialise("widened_scores", args, o).source(Backend::cuda);
    const size_t call = src.find("jt_block_matmul(JtMatmul{");
    ASSERT_NE(call, std::string::npos);
    EXPECT_EQ(src.substr(src.find('}', call), 6), dtype == DType::bf16 ? "}, 1);" : "}, 0);");
    CallResult r = p.call("widened_scores", args, o);
    std::vector<double> want;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        double s = 0;
        for (int64_t d = 0; d < D; ++d) s += q[size_t(i * D + d)] * k[size_t(j * D + d)];
        want.push_back(s * 0.5);
      }
    expect_close(r.outputs.at(0), want, double(D));
  }
}

// The device side: one mma.sync per 16-wide k step for bf16 and for f16, guarded by the
// architecture, and the element sums for the rest.
TEST(MatmulOnEmulatedCuda, SourceHasTensorCoreAndElementPaths) {
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  ArgMap args = {{"q", Tensor::zeros({4, 8}, DType::bf16)},
                 {"k", Tensor::zeros({4, 8}, DType::bf16)}};
  const std::string src = p.specialise("scores", args, cuda_options()).source(Backend::cuda);
  EXPECT_THAT(src, ::testing::HasSubstr("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"));
  EXPECT_THAT(src, ::testing::HasSubstr("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"));
  EXPECT_THAT(src, ::testing::HasSubstr("__CUDA_ARCH__ >= 800"));
  EXPECT_THAT(src, ::testing::HasSubstr("jt_block_matmul(JtMatmul{"));
  EXPECT_THAT(src, ::testing::Not(::testing::HasSubstr("for (int64_t kk")));
}

}  // namespace
}  // namespace jagtile::testing
