// Planning pass: a load read by several nests of its own statement list is loaded again inside
// each of them instead of being copied into a tile array first. The copy is a full extra pass
// over a tile often larger than the L1 cache; the reloads hit the cache the first one filled.
// Only plain loads (no extra mask) whose nest computes nothing but index arithmetic qualify,
// and only when no store between the load and its last reader can change what it reads.
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void reload_loads(Plan& plan);

}  // namespace jagtile::plan
