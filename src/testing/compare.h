// Element-wise comparison of a result with its expected value, within stated tolerances: what
// `jagtile run --check`, `jagtile bench` and the tests use to say "same result".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jagtile/tensor.h"

namespace jagtile {

// |actual - expected| <= atol + rtol * |expected|, element by element. NaN matches NaN and an
// infinity matches the same infinity.
struct Tolerance {
  double atol = 0;
  double rtol = 0;
};

// One expected output. Kernels that write a jagged output ([N, ...]) leave the rows outside
// every item unwritten; `rows` then marks the rows to compare (1) and the rest (0).
// `extra_atol` widens the absolute tolerance element by element where a float32 result is the
// sum of many terms (a sum over one huge item): its rounding error grows with the item.
struct Expected {
  Tensor value;
  std::vector<uint8_t> rows;       // empty: compare every row
  std::vector<double> extra_atol;  // empty: none; else one per element
};

// The tolerance for an output dtype: (f32_atol, f32_rtol) for float32, and for float64 too: a
// kernel written with fp32 accumulators (`hl.zeros(..., dtype=torch.float32)`, as the bundled
// examples are) has float32's accuracy whatever its inputs. 16-bit outputs differ by about one
// unit in the last place after rounding, whatever the arithmetic; integers exactly.
Tolerance scaled_tolerance(DType output, double f32_atol, double f32_rtol);
// Default tolerance for kernels without a registered one, by output dtype.
Tolerance default_tolerance(DType output);

struct Comparison {
  bool ok = true;
  double max_abs_error = 0;  // over finite pairs
  double max_rel_error = 0;  // |a - e| / |e| over finite pairs with e != 0
  std::string mismatch;      // the first mismatch, described; empty when ok
};

// Compares two tensors of the same shape (a dtype or shape difference is a mismatch, reported
// as such). Both are read on the CPU. With `rows` non-empty, only the rows (first dimension)
// marked 1 are compared.
// A tensor's elements as doubles on the host (copied from its device; floats through f32,
// integers through i64), in row-major order.
std::vector<double> host_doubles(const Tensor& t);

Comparison compare_tensors(const Tensor& actual, const Tensor& expected, Tolerance tolerance,
                           const std::vector<uint8_t>& rows = {},
                           const std::vector<double>& extra_atol = {});
// The same with an Expected's rows and extra tolerance.
Comparison compare_tensors(const Tensor& actual, const Expected& expected, Tolerance tolerance);

}  // namespace jagtile
