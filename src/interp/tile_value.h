// Run-time device values of the interpreter: a dense block of numbers (one per position of the
// value's shape, masked positions included) held as doubles that are already rounded to their
// compute type (fp32 for every float dtype, exact integers, 0/1 for bools). Plus the
// broadcasting maps.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "ir/element_arith.h"
#include "ir/ir.h"

namespace jagtile::interp {

struct TileValue {
  std::vector<int64_t> ext;  // extent of each dim
  std::vector<double> data;  // row-major over ext
};
using TileValuePtr = std::shared_ptr<const TileValue>;

int64_t numel_of(const std::vector<int64_t>& ext);

// For each position of `result_ext`, the flat offset into a value of extents `ext` broadcast to
// it (right-aligned; a dim of extent 1 repeats). `ext` must be broadcastable.
std::vector<int64_t> broadcast_map(const std::vector<int64_t>& result_ext,
                                   const std::vector<int64_t>& ext);

// `a` with its dims reordered: dim d of the result is dim perm[d] of `a` (row-major data moved).
TileValuePtr permuted(const TileValue& a, const std::vector<int64_t>& perm);

// Element arithmetic (round_compute, apply_binary, ...) lives in ir/element_arith.h.
using ir::apply_binary;
using ir::apply_cast;
using ir::apply_unary;
using ir::round_compute;

}  // namespace jagtile::interp
