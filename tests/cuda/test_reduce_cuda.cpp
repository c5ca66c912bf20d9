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
#include "templates/cuda/jagged_reduce_cuda.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;

#define SKIP_WITHOUT_CUDA() \
  if (!cuda_available()) GTEST_SKIP() << "skipped (no CUDA device)"

struct Input {
  Tensor values;   // CPU
  Tensor offsets;  // CPU
  std::vector<int64_t> lengths;
};

Input make_input(const std::vector<int64_t>& lengths, int64_t cols, bool two_d, DType dtype,
                 DType offsets_dtype, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> off{0};
  for (int64_t len : lengths) off.push_back(off.back() + double(len));
  const int64_t rows = int64_t(off.back());
  std::vector<double> vals(size_t(rows * cols));
  for (auto& v : vals) v = dist(rng);
  Shape shape = two_d ? Shape{rows, cols} : Shape{rows};
  return Input{Tensor::from_doubles(shape, vals, dtype),
               Tensor::from_doubles({int64_t(off.size())}, off, offsets_dtype), lengths};
}

std::vector<int64_t> lengths_for(const std::string& dist, int64_t batch, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> len(static_cast<size_t>(batch));
  for (auto& l : len) l = int64_t(rng() % 40);
  if (dist == "empty-first" && batch > 0) len.front() = 0;
  if (dist == "empty-middle" && batch > 2) len[size_t(batch / 2)] = len[size_t(batch / 2) + 1] = 0;
  if (dist == "empty-last" && batch > 0) len.back() = 0;
  if (dist == "all-empty") std::fill(len.begin(), len.end(), 0);
  if (dist == "one-huge" && batch > 0) len[size_t(batch / 2)] = 3000;
  if (dist == "tiny") {
    for (auto& l : len) l = int64_t(rng() % 5);
  }
  return len;
}

double unit_roundoff(DType dtype) {
  switch (dtype) {
    case DType::bf16:
      return std::ldexp(1.0, -8);
    case DType::f16:
      return std::ldexp(1.0, -11);
    default:
      return 0.0;
  }
}

// GPU output vs the CPU reference. Sums may differ by reassociation (bounded by 1e-5 of the sum
// of magnitudes) plus one rounding of a 16-bit output; max and min must agree exactly.
void expect_close(const Input& in, const ReduceSpec& spec, const Tensor& got_device,
                  const std::string& what) {
  const Tensor want = jagged_reduce_reference(in.values, in.offsets, spec);
  const Tensor got = got_device.to(Device::cpu());
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  const int64_t cols = in.values.dim() == 2 ? in.values.size(1) : 1;
  const double out_ulp = unit_roundoff(got.dtype());
  const bool exact = spec.op == ReduceOp::max || spec.op == ReduceOp::min;
  int64_t row = 0;
  int failures = 0;
  for (size_t b = 0; b < in.lengths.size(); ++b) {
    const int64_t n = in.lengths[b];
    for (int64_t c = 0; c < cols; ++c) {
      double magnitude = std::abs(double(spec.effective_init()));
      for (int64_t r = row; r < row + n; ++r)
        magnitude += std::abs(in.values.item_as_double(r * cols + c));
      if (spec.effective_post() != ReducePost::identity && n > 0) magnitude /= double(n);
      const double w = want.item_as_double(int64_t(b) * cols + c);
      const double g = got.item_as_double(int64_t(b) * cols + c);
      bool ok;
      if (std::isnan(w) || std::isnan(g)) {
        ok = std::isnan(w) && std::isnan(g);
      } else if (std::isinf(w) || exact) {
        ok = w == g;
      } else {
        ok = std::abs(g - w) <= 1e-5 * (1.0 + magnitude) + out_ulp * std::abs(w);
      }
      if (!ok && ++failures <= 5) {
        ADD_FAILURE() << what << ": item " << b << " column " << c << ": got " << g
                      << ", reference " << w;
      }
    }
    row += n;
  }
  EXPECT_EQ(failures, 0) << what;
}

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
