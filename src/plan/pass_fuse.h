// Planning pass: a value read by a single nest in the same statement list is computed inside
// that nest, per element, instead of into a tile array, when nothing between the two changes
// what it reads (no tensor store after a load, no write of an array it reads). So
// `acc = acc + load(x).sum(dim=1)` is one nest that loads, reduces and updates in place.
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void fuse_single_consumers(Plan& plan);

}  // namespace jagtile::plan
