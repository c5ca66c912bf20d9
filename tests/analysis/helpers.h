// Test helpers for the dispatch tests: compile a kernel source through the real front end and
// lowering (Program::from_source + the runtime's specialise step), derive near-miss variants
// of a template-shaped kernel by replacing one line, and build small argument sets.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "analysis/dispatch.h"
#include "jagtile/compiler.h"
#include "runtime/program_state.h"

namespace jagtile::dispatch_test {

inline std::string source_dir() {
#ifdef JAGTILE_SOURCE_DIR
  return JAGTILE_SOURCE_DIR;
#else
  return ".";
#endif
}

inline std::string read_example(const std::string& name) {
  std::ifstream in(source_dir() + "/examples/" + name + ".py");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string header() {
  return "import torch\nimport helion\nimport helion.language as hl\n\n";
}

// A template-shaped sum in the direct form; every near-miss test changes one line of it.
inline std::string direct_sum() {
  return header() +
         "def k(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:\n"
         "    M = x_values.size(1)\n"
         "    num_items = x_offsets.size(0) - 1\n"
         "    out = torch.zeros([num_items, M], dtype=x_values.dtype, device=x_values.device)\n"
         "    for tile_b in hl.tile(num_items):\n"
         "        starts = x_offsets[tile_b]\n"
         "        ends = x_offsets[tile_b.index + 1]\n"
         "        nnz = ends - starts\n"
         "        for tile_m in hl.tile(M):\n"
         "            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)\n"
         "            for tile_k in hl.jagged_tile(nnz):\n"
         "                rows = starts[:, None] + tile_k.index[None, :]\n"
         "                acc = acc + x_values[rows, tile_m].sum(dim=1)\n"
         "            out[tile_b, tile_m] = acc\n"
         "    return out\n";
}

// `base` with each `from` (which must occur exactly once) replaced by its `to`.
inline std::string variant(std::string base,
                           const std::vector<std::pair<std::string, std::string>>& edits) {
  for (const auto& [from, to] : edits) {
    size_t at = base.find(from);
    EXPECT_NE(at, std::string::npos) << "variant: '" << from << "' not in the base kernel";
    if (at == std::string::npos) continue;
    EXPECT_EQ(base.find(from, at + 1), std::string::npos) << "variant: '" << from << "' twice";
    base.replace(at, from.size(), to);
  }
  return base;
}

struct ArgSpec {
  DType values = DType::f32;
  int values_rank = 2;
  DType offsets = DType::i64;
  bool counts = false;  // adds x_feature_counts [B] (i32)
};

// Small valid arguments for (x_values, x_offsets[, x_feature_counts]): B = 3, M = 4, N = 5.
inline ArgMap small_args(const ArgSpec& s = {}) {
  ArgMap a;
  Shape vshape = s.values_rank == 2 ? Shape{5, 4} : Shape{5};
  a["x_values"] = Tensor::zeros(vshape, s.values);
  a["x_offsets"] = Tensor::from_doubles({4}, {0, 2, 2, 5}, s.offsets);
  if (s.counts) a["x_feature_counts"] = Tensor::from_doubles({3}, {4, 0, 2}, DType::i32);
  return a;
}

// The specialised IR of the only kernel in `source` for `args`.
inline ir::Kernel lower(const std::string& source, const ArgMap& args) {
  Program p = Program::from_source(source, "test.py");
  const runtime::ProgramState& ps = p.state();
  size_t ki = ps.kernel_index("");
  runtime::BoundArgs b = ps.bind(ki, args);
  return ps.specialise(ki, b, Options{})->kernel;
}

inline analysis::DispatchResult detect(const std::string& source,
                                       const ArgMap& args = small_args()) {
  return analysis::detect_dispatch(lower(source, args));
}

}  // namespace jagtile::dispatch_test
