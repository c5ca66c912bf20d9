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

// One head of causal-style attention over items, as the mask tests write it: query tiles over
// each item, key tiles from the item's start to `key_end`, scores `s = scores`, then the mask,
// the line defining p, any extra lines and the accumulation into acc [tq, D].
struct OneHeadAttention {
  std::string key_end = "last";
  std::string scores = "torch.matmul(qb, k[tk, :].T) * scale";
  std::string mask;
  std::string p_line = "p = torch.where(mask, s, 0.0)";
  std::string extra;  // whole lines, indented for the key loop
  std::string accumulate = "acc = acc + torch.matmul(p, v[tk, :])";
};

inline std::string one_head_attention(const OneHeadAttention& a) {
  const std::string body = "                ";
  return R"(
@helion.kernel()
def attn(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, offsets: torch.Tensor,
         scale: float) -> torch.Tensor:
    out = torch.zeros_like(v)
    D = q.size(1)
    for item in hl.grid(offsets.size(0) - 1):
        first = offsets[item]
        last = offsets[item + 1]
        for tq in hl.tile(first, last):
            qb = q[tq, :]
            acc = hl.zeros([tq, D], dtype=torch.float32)
            for tk in hl.tile(first, )" +
         a.key_end + "):\n" + body + "s = " + a.scores + "\n" + body + "mask = " + a.mask + "\n" +
         body + a.p_line + "\n" + a.extra + body + a.accumulate + R"(
            out[tq, :] = acc
    return out
)";
}

// The kernel above lowered for f32 q, k, v [rows, D], i64 offsets and a float scale.
inline ir::Kernel lower_one_head_attention(const std::string& source) {
  return lower_source(source,
                      {tensor_spec("q", DType::f32, 2), tensor_spec("k", DType::f32, 2),
                       tensor_spec("v", DType::f32, 2), tensor_spec("offsets", DType::i64, 1),
                       scalar_spec("scale", ir::ParamKind::float_scalar)});
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
