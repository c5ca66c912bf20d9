// IR verifier: operand counts and types per node kind, dominance (every operand is defined
// before its use in the same or an enclosing block), tile dims that name enclosing loops,
// jagged parents that match their extents. A failure is an InternalError: lowering and the
// passes must never produce invalid IR, whatever the user wrote.
#pragma once

#include "ir/ir.h"

namespace jagtile::ir {

void verify(const Kernel& kernel);

}  // namespace jagtile::ir
