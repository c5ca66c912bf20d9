// The CUDA printer's decisions, asserted on its output for bundled examples (no compiler run):
// which loops the block's threads share, where the barriers go, what stays sequential, where tile
// arrays live, and that each device nest becomes one kernel fed by the launch's worklist.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cuda_test_util.h"
#include "testing/examples.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string cuda_source(const std::string& kernel, DType values = DType::f32, bool checked = true,
                        std::vector<int64_t> block_sizes = {}) {
  const ExampleInfo* info = find_example(kernel);
  JaggedShape shape;
  shape.batch = 3;
  shape.features = 4;
  shape.max_len = 5;
  Program p = Program::from_file(source_path(info->file));
  Options o = cuda_options(checked);
  o.config.block_sizes = std::move(block_sizes);
  return p.specialise(kernel, info->make_inputs(shape, values, DType::i64), o)
      .source(Backend::cuda);
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(PrintCuda, EachDeviceNestIsOneKernelFedByTheWorklist) {
  std::string code = cuda_source("jagged_sum");
  EXPECT_EQ(
      count(code, "extern \"C\" __global__ void __launch_bounds__(256) jagtile_jagged_sum_nest"),
      1);
  EXPECT_THAT(code, HasSubstr("jt_claim = (int64_t)atomicAdd(W.counter, 1ULL);"));
  EXPECT_THAT(code, HasSubstr("if (stop || id >= W.programs) return;"));
}

// jagged_sum's accumulation: threads take (row lane, column) pairs and each walks the item's
// rows in order, so neighbouring threads read neighbouring columns.
TEST(PrintCuda, ReductionSharesOutLanesAndColumnsAndKeepsRowsInOrder) {
  std::string code = cuda_source("jagged_sum");
  EXPECT_THAT(code, HasSubstr("pairs spread over the block's threads"));
  EXPECT_THAT(code, HasSubstr("= jt_flat"));
  EXPECT_THAT(code, HasSubstr(" % jt_inner"));
}

// A bounds check's flag is an |-reduction over the threads; its diagnosing copy (run only after a
// check failed) stays sequential so the first bad index is the one reported. (jagged_dense_add
// reads the dense operand at the item's rows, which nothing proves in bounds.)
TEST(PrintCuda, CheckFlagsAreCombinedAndDiagnosingCopiesStaySequential) {
  std::string code = cuda_source("jagged_dense_add");
  EXPECT_THAT(code, HasSubstr("bad = __syncthreads_or(bad != 0) != 0;"));
  size_t diag = code.find("if (bad) {");
  ASSERT_NE(diag, std::string::npos);
  size_t next_line = code.find('\n', code.find('\n', diag) + 1);
  EXPECT_THAT(code.substr(diag, next_line - diag), Not(HasSubstr("threadIdx.x;")));
}

TEST(PrintCuda, UncheckedCodeHasNoChecksAndNoFailureJumps) {
  std::string code = cuda_source("jagged_softmax", DType::bf16, false);
  EXPECT_THAT(code, Not(HasSubstr("bad |=")));
  EXPECT_THAT(code, Not(HasSubstr("goto jt_spread_done")));
  EXPECT_THAT(code, HasSubstr("jt_bf2f("));
}

// Small tiles live in shared memory; past the budget (huge block sizes) in the block's slice of
// global tile memory; a [tile, D] array sized by a tensor dimension in the sized part.
TEST(PrintCuda, TileArraysGoToSharedThenGlobalTileMemory) {
  std::string small = cuda_source("jagged_softmax", DType::f32, true, {4, 8, 4, 4});
  EXPECT_THAT(small, HasSubstr("__shared__ float"));
  EXPECT_THAT(small, Not(HasSubstr("global tile memory: over the shared budget")));
  std::string huge = cuda_source("jagged_softmax", DType::f32, true, {64, 512, 256, 256});
  EXPECT_THAT(huge, HasSubstr("(jt_fixed_tiles + "));
  std::string hstu = cuda_source("jagged_hstu_attention");
  EXPECT_THAT(hstu, HasSubstr("(jt_tiles + jt_sized0)"));
}

// A write of uniform code (not shared out) is made by one thread between barriers.
TEST(PrintCuda, UniformWritesAreMadeByThreadZeroBetweenBarriers) {
  std::string code = cuda_source("jagged_sum");
  size_t at = code.find("if (threadIdx.x == 0) v");
  ASSERT_NE(at, std::string::npos);
  size_t before = code.rfind("__syncthreads();", at);
  size_t after = code.find("__syncthreads();", at);
  ASSERT_NE(before, std::string::npos);
  ASSERT_NE(after, std::string::npos);
  EXPECT_EQ(count(code.substr(before, after - before), "\n"), 2) << code.substr(before, 200);
}

}  // namespace
}  // namespace jagtile::testing
