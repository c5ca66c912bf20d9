// Test helpers for the interpreter tests: compile a kernel source through the Program API and
// build small tensors by hand.
#pragma once

#include <string>
#include <vector>

#include "jagtile/compiler.h"
#include "jagtile/error.h"
#include "jagtile/tensor.h"

namespace jagtile::testing {

inline std::string kernel_header() {
  return "import torch\nimport helion\nimport helion.language as hl\n\n";
}

inline Tensor f32(const Shape& shape, const std::vector<double>& v) {
  return Tensor::from_doubles(shape, v, DType::f32);
}
inline Tensor i64(const Shape& shape, const std::vector<double>& v) {
  return Tensor::from_doubles(shape, v, DType::i64);
}
inline std::vector<double> values(const Tensor& t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.item_as_double(i));
  return out;
}

// Runs the only kernel of `body` (a kernel source without the import lines).
inline std::vector<Tensor> run(const std::string& body, const ArgMap& args,
                               const Options& options = {}) {
  Program p = Program::from_source(kernel_header() + body, "test.py");
  Options o = options;
  o.backend = Backend::interp;
  return p.call("", args, o).outputs;
}

}  // namespace jagtile::testing
