// Pass: removes nodes whose values nothing uses and that have no effect (unused sizes, tile
// attributes, loads, allocations, variables never read and their assignments).
#pragma once

#include "ir/ir.h"

namespace jagtile::ir {

Kernel eliminate_dead_code(const Kernel& kernel);

}  // namespace jagtile::ir
