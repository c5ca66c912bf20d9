// Outputs a kernel writes in full: the `torch.zeros` / `torch.full` allocations whose every
// element one store overwrites before anything could read it. The generic backends allocate them
// unfilled (host::ExecOptions::overwritten), which saves a whole pass over the output: for a
// padded layout kernel that is a third of its memory traffic. A pure function of the IR, and
// conservative: an allocation is listed only when all of these hold.
//  * It is made at the top of the kernel body (not inside a loop or a branch).
//  * Nothing reads it: the tensor is only stored to, returned, or asked its size (no load, view
//    or scalar read, so no `+=` and no aliasing).
//  * One store covers it: without extra_mask; its index on every dimension d is the index of a
//    distinct hl.tile / hl.grid loop running from 0 to the allocation's size d; and those loops
//    are the only control around the store (no branch, no jagged loop, no other loop, which could
//    run zero times).
// The interpreter, the reference, still fills every allocation.
#pragma once

#include <unordered_set>

#include "ir/ir.h"

namespace jagtile::analysis {

std::unordered_set<const ir::Node*> fully_written_allocations(const ir::Kernel& kernel);

}  // namespace jagtile::analysis
