// Specialisation: one kernel definition (AST) + its arguments' kinds, dtypes, ranks and devices
// (never sizes) + tile sizes -> a typed tile IR kernel. Raises UserError located at
// file:line:col for anything that needs types to be found wrong.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/ir.h"
#include "lang/ast.h"

namespace jagtile::ir {

struct LowerOptions {
  // Block size of the i-th tile / jagged_tile loop in program order (grid loops take none).
  // Missing entries use the defaults below.
  std::vector<int64_t> block_sizes;
  // Kernels with a matmul use 1 and 64 instead of the outer and inner defaults, and on CPU
  // tensors 128 for their jagged loops and dense contraction loops (lower.cpp, through
  // column_blocks).
  // The outermost loop of a kernel; lower_kernel gives 1 instead to kernels that walk their
  // rows twice or write them (lower.cpp, walks_or_writes_rows).
  int64_t default_outer_block = 16;
  // An hl.tile directly inside the outermost loop usually walks the contiguous feature columns
  // (per item, per column block, per row): a wide block keeps each row's reads long enough for
  // the hardware prefetcher (32 floats read 128 B of every 1 KB row).
  int64_t default_column_block = 256;
  int64_t default_inner_block = 32;  // every other loop (jagged rows, deeper tiles)
  // The loops (block ids) that take default_row_block before column_blocks is looked at: in a
  // bf16 matmul kernel on the CPU, the jagged loops over a matmul's output rows.
  std::vector<int> row_blocks;
  int64_t default_row_block = 0;
  // The loops (block ids) that take default_column_block instead of the guess above, found by
  // lower_kernel after a first lowering: those that walk some tensor's contiguous last dim, or in
  // a matmul kernel its wide loops. Every other inner loop then takes default_inner_block.
  std::vector<int> column_blocks;
};

// `params` lists every parameter of `fn`, in declaration order, with its specialisation
// (ParamKind::none for an optional tensor left out).
Kernel lower_kernel(const ast::Module& module, const ast::Stmt& fn,
                    const std::vector<ParamSpec>& params, const LowerOptions& options = {});

// Torch's promotion of two dtypes (f16 + bf16 -> f32, int + float -> the float, ...).
DType promote_dtypes(DType a, DType b);

}  // namespace jagtile::ir
