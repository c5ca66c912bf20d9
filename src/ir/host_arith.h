// Host scalar arithmetic with Python's semantics, shared by the interpreter (which evaluates host
// nodes at run time) and constant folding (which evaluates them at compile time), so the two can
// never disagree.
#pragma once

#include <cstdint>
#include <optional>

#include "ir/ir.h"

namespace jagtile::ir {

// Integer ops (floor division and modulo take the divisor's sign, ** by repeated multiplication);
// comparisons and logical ops give 0 or 1. nullopt on division by zero, int64 overflow, or an op
// that has no integer form.
std::optional<int64_t> host_int_binary(Op op, int64_t x, int64_t y);

// Float ops in double precision, as Python computes them. nullopt for an op with no float form.
std::optional<double> host_float_binary(Op op, double x, double y);

}  // namespace jagtile::ir
