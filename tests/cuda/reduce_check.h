// Shared by the CUDA reduce tests: generated jagged inputs (length patterns with empty items,
// one huge item, tiny items) and the comparison of a result with the CPU reference.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "jagtile/reduce.h"
#include "jagtile/tensor.h"

namespace jagtile {

struct Input {
  Tensor values;   // CPU
  Tensor offsets;  // CPU
  std::vector<int64_t> lengths;
};

inline Input make_input(const std::vector<int64_t>& lengths, int64_t cols, bool two_d, DType dtype,
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

inline std::vector<int64_t> lengths_for(const std::string& dist, int64_t batch, uint64_t seed) {
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

inline double unit_roundoff(DType dtype) {
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
inline void expect_close(const Input& in, const ReduceSpec& spec, const Tensor& got_device,
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

}  // namespace jagtile
