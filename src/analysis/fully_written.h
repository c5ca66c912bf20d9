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
//    run zero times). Sizes compare as the same node or constant, or as equal index polynomials
//    of sizes and scalars (analysis/dispatch_poly.h: `y.size(0)` read twice).
//  * Or two such stores cover it together: inside the same loops on every dimension but one,
//    where the first's loop runs over [0, m) and the second's over [m, size) (Helion's
//    jagged_dense_add: each row's jagged columns, then the rest).
// The interpreter, the reference, still fills every allocation.
//
// A jagged output (same layout as the values: one row per row of an item) is written in full only
// for some offsets, so for it the analysis gives a condition the host executor checks per call.
#pragma once

#include <unordered_set>
#include <vector>

#include "ir/ir.h"

namespace jagtile::analysis {

std::unordered_set<const ir::Node*> fully_written_allocations(const ir::Kernel& kernel);

// A torch.zeros / torch.full allocation whose one covering store writes the rows of every item:
// rows [P[b], P[b + 1]) for b in [0, B), through the item loop b over [0, B) and either an
// hl.jagged_tile over P[b + 1] - P[b] (row P[b] + k) or an hl.tile(P[b], P[b + 1]). Its first
// index is the row (the other dimensions covered as in fully_written_allocations) or, for a
// rank-1 allocation, row * S + m with m an hl.tile / hl.grid index over [0, S). The allocation
// is made at the top of the body, nothing reads it (a view of it only returned counts as no
// read), and the loops named are the only control around the store. Since the offsets guard
// checks that P does not decrease (analysis/offsets_guards.h), the store writes every element
// exactly when, per call, P[0] == 0 and P[B] * S == size(0). B and S are host values computed
// before the allocation, so the check can decide how to allocate it.
struct ItemRowsCover {
  const ir::Node* alloc = nullptr;
  int offsets_param = -1;                // P: an index into Kernel::params
  const ir::Node* items = nullptr;       // B: the item loop's end
  const ir::Node* row_length = nullptr;  // S for a flat rank-1 store; nullptr: 1
};

std::vector<ItemRowsCover> item_covered_allocations(const ir::Kernel& kernel);

// Both lists from one walk of the kernel (what a specialisation keeps).
struct WrittenInFull {
  std::unordered_set<const ir::Node*> always;  // fully_written_allocations
  std::vector<ItemRowsCover> by_items;         // item_covered_allocations
};
WrittenInFull written_in_full(const ir::Kernel& kernel);

}  // namespace jagtile::analysis
