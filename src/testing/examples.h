// The bundled examples (examples/*.py), keyed by kernel name: for each, its file, a recipe that
// generates every argument from a JaggedShape, a hand-written reference (plain loops, double
// accumulation, 16-bit outputs rounded to nearest even) and the tolerances `--check` applies.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "jagtile/compiler.h"
#include "testing/compare.h"
#include "testing/datagen.h"

namespace jagtile {

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
  // Whether the recipe reads JaggedShape::heads and head_dim, so that tools show them.
  bool uses_heads = false;
  // Matmul-class kernels: the useful floating-point operations of a call on `args` (2 per
  // multiply-add of the mathematical operation; masked-out products, as causal attention's
  // upper triangle, not counted), so benchmarks report GFLOP/s. Null for memory-bound kernels.
  std::function<double(const ArgMap& args)> useful_flops;
};

// nullptr when no bundled example has that kernel name.
const ExampleInfo* find_example(std::string_view kernel_name);
// In a fixed order (the order of examples/README.md).
std::vector<const ExampleInfo*> all_examples();
// "jagged_sum, jagged_mean, ..." for messages.
std::string example_names();

// The arguments with every tensor copied to `device` (the others as they are); the device must
// exist (Tensor::to raises otherwise). Used wherever a CPU-made input runs on a GPU.
ArgMap args_copied_to(const ArgMap& args, Device device);
// CPU copies of tensors on other devices (CPU tensors as they are).
std::vector<Tensor> tensors_on_host(const std::vector<Tensor>& tensors);

}  // namespace jagtile
