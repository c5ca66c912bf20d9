// The arithmetic of one element of the tile IR's binary / unary / cast nodes, through double,
// shared by the interpreter (device values) and the host executor (host scalars), so the two
// can never disagree.
#pragma once

#include "ir/ir.h"

namespace jagtile::ir {

// The dtype an operand is computed in by generated code: host ints as i64, host floats as f32
// (the generated code's float type), host bools as boolean, tile values as their dtype.
DType operand_dtype(const Node& n);

// Rounds x to what a value of dtype holds during compute (fp64 for f64, fp32 for the other
// floats).
double round_compute(DType dtype, double x);

// The arithmetic of binary / unary nodes on one element, in compute type `compute`.
double apply_binary(Op op, DType compute, double a, double b);
double apply_unary(Op op, double a);
// Converts for a cast node from a value computed as `from` (float -> int truncates; NaN and
// infinities become 0 / the limits).
double apply_cast(DType to, double x, DType from);

}  // namespace jagtile::ir
