// Planning pass: a variable's last update read by one nest (`acc = acc + bias[...]` then
// `out[...] = acc.to(bf16)`: a var_assign nest, then a store) is computed inside that nest, per
// element, and not written back: one pass over the accumulator instead of two. Only where the
// array dies there (declared in the same statement list, read by no later statement), the two
// nests walk the same elements (the same loop extents, the reader reading the array at its own
// loop indices) and nothing between them changes what the update reads.
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void fuse_last_updates(Plan& plan);

}  // namespace jagtile::plan
