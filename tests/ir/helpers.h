// Test helpers for the IR tests: parse a kernel source and lower its only (or named) kernel
// for given parameter specs, without the runtime.
#pragma once

#include <string>
#include <vector>

#include "ir/pipeline.h"
#include "lang/check.h"
#include "lang/parser.h"

namespace jagtile::testing {

inline ir::ParamSpec tensor_spec(const std::string& name, DType dtype, int rank) {
  ir::ParamSpec s;
  s.name = name;
  s.kind = ir::ParamKind::tensor;
  s.dtype = dtype;
  s.rank = rank;
  return s;
}

inline ir::ParamSpec scalar_spec(const std::string& name, ir::ParamKind kind) {
  ir::ParamSpec s;
  s.name = name;
  s.kind = kind;
  return s;
}

inline std::string header() {
  return "import torch\nimport helion\nimport helion.language as hl\n\n";
}

// Lowers the first kernel of `source` (import lines are prepended; their 4 lines shift line
// numbers by 4). The checker runs first unless check is false.
inline ir::Kernel lower_source(const std::string& source, const std::vector<ir::ParamSpec>& specs,
                               bool check = true, const std::string& file = "k.py") {
  ast::Module m = lang::parse_module(header() + source, file);
  if (check) lang::check_module(m);
  std::vector<const ast::Stmt*> defs = lang::kernel_defs(m);
  ir::LowerOptions lo;
  lo.block_sizes = lang::decorator_config(m, *defs.at(0)).block_sizes;
  return ir::compile_ir(m, *defs.at(0), specs, lo, false).kernel;
}

// A per-item column sum: columns directly inside the items loop, jagged rows below them.
inline const char* kJaggedColumnSum = R"(
@helion.kernel()
def k(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    M = x.size(1)
    B = offsets.size(0) - 1
    out = torch.zeros([B, M], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                acc = acc + x[starts[:, None] + tile_k.index[None, :], tile_m].sum(dim=1)
            out[tile_b, tile_m] = acc
    return out
)";

}  // namespace jagtile::testing
