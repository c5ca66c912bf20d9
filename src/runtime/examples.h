// The bundled examples (examples/*.py), keyed by kernel name: for each, its file, a recipe that
// generates every argument from a JaggedShape, a hand-written reference (plain loops, double
// accumulation, 16-bit outputs rounded to nearest even) and the tolerances `--check` applies.
// Also the output comparison shared by the CLI and the tests.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "jagtile/compiler.h"
#include "core/datagen.h"

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

struct ExampleInfo {
  std::string kernel;               // "jagged_sum": the kernel's name in its file
  std::string file;                 // "examples/jagged_sum.py", relative to the source root
  std::string summary;              // one line: what it computes
  std::vector<std::string> params;  // the kernel's parameters, in order (the recipe's keys)
  // Every argument the kernel needs (parameters with defaults may be left out), generated
  // deterministically from the shape (its seed included).
  std::function<ArgMap(const JaggedShape& shape, DType values, DType offsets)> make_inputs;
  // The expected outputs for `args` (any valid arguments, not only generated ones). Raises
  // UserError when an argument is missing or malformed.
  std::function<std::vector<Expected>(const ArgMap& args)> reference;
  // Tolerances against the reference and between backends, by output dtype.
  std::function<Tolerance(DType output)> tolerance;
};

// nullptr when no bundled example has that kernel name.
const ExampleInfo* find_example(std::string_view kernel_name);
// In a fixed order (the order of examples/README.md).
std::vector<const ExampleInfo*> all_examples();
// "jagged_sum, jagged_mean, ..." for messages.
std::string example_names();

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
Comparison compare_tensors(const Tensor& actual, const Tensor& expected, Tolerance tolerance,
                           const std::vector<uint8_t>& rows = {},
                           const std::vector<double>& extra_atol = {});
// The same with an Expected's rows and extra tolerance.
Comparison compare_tensors(const Tensor& actual, const Expected& expected, Tolerance tolerance);

}  // namespace jagtile
