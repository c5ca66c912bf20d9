// Inner program loops: an `hl.grid` loop nested directly in the outermost `hl.grid` whose
// iterations are as independent as the outer loop's, so that a backend may run each (outer,
// inner) pair as a program of its own. HSTU attention runs its heads that way: written as
// `for seq in hl.grid(B): ... for head in hl.grid(H): ...`, one program per sequence would hold
// all its heads, and a sequence with most of the work would keep one thread busy while the
// others idle (zipf lengths: 1.42x on two threads instead of 2x, docs/performance.md).
//
// The outer loop's iterations are independent by the language's rule (docs/language.md §5); an
// inner loop's are not, so this is a conservative proof that they are here. The inner loop G is
// returned when all of these hold:
//  * the outer loop is a grid loop whose body is pure scalar values (loads of one element,
//    arithmetic, the loop's index: no store, assert, variable, branch or other loop), then G,
//    the last node of the body;
//  * G is a grid loop from the constant 0 to a host value (not one computed in the outer body);
//  * every store inside G indexes some dimension with G's index itself, so two inner iterations
//    never write the same element;
//  * no tensor stored inside G is loaded anywhere in the outer body (views followed to the
//    tensor they view), so no iteration reads what another writes;
//  * every variable assigned inside G is declared inside G;
//  * G's `.id` is not read (a program's one iteration of G counts from its own start).
// Running the outer body's scalar values once per pair instead of once per outer iteration
// changes nothing but their cost: they are pure, and a load that fails fails for the first
// pair of its outer iteration, before any of its inner iterations ran, as in the nested loops.
#pragma once

#include "ir/ir.h"

namespace jagtile::analysis {

// The inner grid loop of `outer` (a top-level loop node) whose iterations can be programs, or
// null. A pure function of the IR.
const ir::Node* inner_program_loop(const ir::Node& outer);

}  // namespace jagtile::analysis
