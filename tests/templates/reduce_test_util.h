// Shared helpers for the jagged_reduce tests: building inputs from lengths and comparing a result
// with the reference within the tolerance that fp32 reassociation allows.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "jagtile/reduce.h"
#include "jagtile/tensor.h"
#include "testing/datagen.h"

namespace jagtile::testing {

struct JaggedInput {
  Tensor values;
  Tensor offsets;
  std::vector<int64_t> lengths;
};

inline JaggedInput make_input(const std::vector<int64_t>& lengths, int64_t num_cols, DType dtype,
                              DType offsets_dtype = DType::i32, uint64_t seed = 1,
                              bool one_dim = false) {
  JaggedInput in;
  in.lengths = lengths;
  in.offsets = lengths_to_offsets(lengths, offsets_dtype);
  int64_t rows = 0;
  for (int64_t len : lengths) rows += len;
  in.values =
      one_dim ? random_values({rows}, dtype, seed) : random_values({rows, num_cols}, dtype, seed);
  return in;
}

// Summation order differs between the template (chunked) and the reference (sequential): allow
// the error of fp32 summation of `len` values in [-1, 1), plus one rounding of a 16-bit output.
inline double tolerance(double expected, int64_t len, DType out_dtype, ReduceOp op) {
  double tol = (op == ReduceOp::max || op == ReduceOp::min) ? 0.0 : 2e-6 * double(len + 1);
  if (op == ReduceOp::mean) tol /= double(std::max<int64_t>(len, 1));
  if (out_dtype == DType::bf16) tol += std::fabs(expected) * 0x1p-7 + 1e-30;
  if (out_dtype == DType::f16) tol += std::fabs(expected) * 0x1p-10 + 1e-7;
  return tol;
}

// Checks every element of `actual` against `expected` (same shape), NaN matching NaN and infinities
// matching exactly. Returns the number of mismatches (and reports the first few).
inline int compare_with_reference(const Tensor& actual, const Tensor& expected,
                                  const std::vector<int64_t>& lengths, ReduceOp op,
                                  const std::string& what) {
  EXPECT_EQ(actual.shape(), expected.shape()) << what;
  EXPECT_EQ(actual.dtype(), expected.dtype()) << what;
  if (actual.shape() != expected.shape()) return 1;
  const int64_t items = int64_t(lengths.size());
  const int64_t cols = items ? actual.numel() / items : 0;
  int mismatches = 0;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    double a = actual.item_as_double(i), e = expected.item_as_double(i);
    bool ok;
    if (std::isnan(e) || std::isinf(e)) {
      ok = (std::isnan(e) && std::isnan(a)) || a == e;
    } else {
      ok = std::fabs(a - e) <= tolerance(e, lengths[size_t(i / cols)], actual.dtype(), op);
    }
    if (!ok && ++mismatches <= 3) {
      ADD_FAILURE() << what << ": element " << i << " (item " << i / cols << ", column " << i % cols
                    << ") is " << a << ", reference " << e;
    }
  }
  return mismatches;
}

inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), size_t(a.nbytes())) == 0;
}

}  // namespace jagtile::testing
