// The CUDA jagged_reduce template against the CPU reference: the differential grid (B=0, empty
// items first/middle/last/all, one huge item, tiny items, M=1..1000, 16-bit inputs and outputs,
// i32/i64 offsets, every op and post, feature counts, small chunks that cut items between
// workers), bitwise determinism run to run, and device-mismatch errors. Skips without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "jagtile/cuda.h"
#include "jagtile/error.h"
#include "jagtile/reduce.h"
#include "reduce_check.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;

#define SKIP_WITHOUT_CUDA() \
  if (!cuda_available()) GTEST_SKIP() << "skipped (no CUDA device)"

Tensor run_cuda(const Input& in, const ReduceSpec& spec) {
  ReduceSpec dev_spec = spec;
  if (spec.feature_counts.defined())
    dev_spec.feature_counts = spec.feature_counts.to(Device::cuda(0));
  return jagged_reduce(in.values.to(Device::cuda(0)), in.offsets.to(Device::cuda(0)), dev_spec);
}

TEST(CudaReduce, DifferentialGrid) {
  SKIP_WITHOUT_CUDA();
  const std::vector<std::string> dists{"uniform",   "empty-first", "empty-middle", "empty-last",
                                       "all-empty", "one-huge",    "tiny"};
  uint64_t seed = 1;
  for (const std::string& dist : dists) {
    for (int64_t cols : {1, 3, 17, 129, 1000}) {
      for (DType dtype : {DType::f32, DType::bf16, DType::f16}) {
        const DType off_dtype = (seed % 2) ? DType::i32 : DType::i64;
        const int64_t batch = cols >= 1000 ? 9 : 37;
        const Input in =
            make_input(lengths_for(dist, batch, seed), cols, cols != 1, dtype, off_dtype, seed);
        ++seed;
        for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean, ReduceOp::max, ReduceOp::min}) {
          ReduceSpec spec;
          spec.op = op;
          const std::string what =
              dist + " M=" + std::to_string(cols) + " " + std::string(dtype_name(dtype)) + " " +
              std::string(dtype_name(off_dtype)) + " " + std::string(reduce_op_name(op));
          expect_close(in, spec, run_cuda(in, spec), what);
        }
      }
    }
  }
}

TEST(CudaReduce, ZeroItemsAndZeroColumns) {
  SKIP_WITHOUT_CUDA();
  const Input none = make_input({}, 8, true, DType::f32, DType::i64, 1);
  const Tensor out = run_cuda(none, ReduceSpec{});
  EXPECT_EQ(out.shape(), (Shape{0, 8}));
  const Input narrow = make_input({3, 0, 2}, 0, true, DType::f32, DType::i32, 2);
  EXPECT_EQ(run_cuda(narrow, ReduceSpec{}).shape(), (Shape{3, 0}));
}

TEST(CudaReduce, SmallChunksCutItemsBetweenWorkers) {
  SKIP_WITHOUT_CUDA();
  for (int64_t chunk : {1, 3, 7, 64}) {
    for (int64_t cols : {1, 16, 256}) {
      const Input in = make_input(lengths_for("one-huge", 200, 9), cols, true, DType::f32,
                                  DType::i64, uint64_t(chunk));
      for (ReduceOp op : {ReduceOp::sum, ReduceOp::max}) {
        ReduceSpec spec;
        spec.op = op;
        spec.chunk_rows = chunk;
        expect_close(in, spec, run_cuda(in, spec),
                     "chunk_rows=" + std::to_string(chunk) + " M=" + std::to_string(cols));
      }
    }
  }
}

TEST(CudaReduce, InitPostCountsAndOutputDtypes) {
  SKIP_WITHOUT_CUDA();
  const Input in =
      make_input(lengths_for("empty-middle", 50, 4), 33, true, DType::bf16, DType::i32, 4);
  std::vector<double> counts;
  for (int b = 0; b < 50; ++b) counts.push_back(double((b * 7) % 34));
  for (DType out_dtype : {DType::f32, DType::bf16, DType::f16}) {
    for (ReducePost post :
         {ReducePost::identity, ReducePost::divide_by_count, ReducePost::divide_or_value}) {
      ReduceSpec spec;
      spec.op = ReduceOp::sum;
      spec.init = 0.25f;
      spec.post = post;
      spec.post_value = -3.5f;
      spec.masked_value = 9.0f;
      spec.out_dtype = out_dtype;
      spec.feature_counts = Tensor::from_doubles({50}, counts, DType::i64);
      expect_close(
          in, spec, run_cuda(in, spec),
          "post " + std::to_string(int(post)) + " out " + std::string(dtype_name(out_dtype)));
    }
  }
  ReduceSpec max_spec;
  max_spec.op = ReduceOp::max;
  max_spec.init = 0.5f;  // a kernel's full(0.5) accumulator
  max_spec.feature_counts = Tensor::from_doubles({50}, counts, DType::i32);
  expect_close(in, max_spec, run_cuda(in, max_spec), "max with init");
}

TEST(CudaReduce, BitwiseIdenticalRunToRun) {
  SKIP_WITHOUT_CUDA();
  const Input in =
      make_input(lengths_for("one-huge", 300, 5), 129, true, DType::f32, DType::i64, 5);
  ReduceSpec spec;
  spec.chunk_rows = 5;
  const Tensor first = run_cuda(in, spec).to(Device::cpu());
  for (int run = 0; run < 3; ++run) {
    const Tensor again = run_cuda(in, spec).to(Device::cpu());
    ASSERT_EQ(std::memcmp(first.raw_data(), again.raw_data(), size_t(first.nbytes())), 0)
        << "run " << run;
  }
}

TEST(CudaReduce, TensorsOnDifferentDevicesAreUserErrors) {
  SKIP_WITHOUT_CUDA();
  const Input in = make_input({2, 3}, 4, true, DType::f32, DType::i64, 6);
  const Tensor values = in.values.to(Device::cuda(0));
  const Tensor offsets = in.offsets.to(Device::cuda(0));
  Tensor host_out = Tensor::empty({2, 4}, DType::f32);
  try {
    jagged_reduce_cuda(values, offsets, ReduceSpec{}, host_out);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'out' is on cpu but 'values' is on cuda:0"));
  }
  Tensor dev_out = Tensor::empty({2, 4}, DType::f32, Device::cuda(0));
  try {
    jagged_reduce_cuda(values, in.offsets, ReduceSpec{}, dev_out);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'offsets' is on cpu"));
  }
}

}  // namespace
}  // namespace jagtile
