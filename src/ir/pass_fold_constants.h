// Pass: folds host arithmetic on constants (sizes such as `B + 1` with B constant, `-1`,
// `float("-inf")` converted) into constants, with Python's semantics.
#pragma once

#include "ir/ir.h"

namespace jagtile::ir {

Kernel fold_constants(const Kernel& kernel);

}  // namespace jagtile::ir
