// Pass: sizes that a top-level assert has found equal become one node. The lowering checks that
// the full dims an operation combines agree at run time (`acc + p @ v` with acc [tile, D] from
// q.size(2) and the product [tile, v.size(2)]) with host asserts ahead of the device loops. After
// the last of them, every node refers to one size per class (a constant where the class has one,
// else its earliest top-level size), as operand and as the size of its full dims, so the two
// operands' dims are the same dim: later passes see one size (the planner's in-place
// accumulation of a matmul compares its array's extents with the variable's).
//
// Only asserts of the kernel's top-level block count: `assert_(a == b)` with a and b sizes of
// parameter tensors or integer constants. They run, in order, before any later statement, so a
// replaced size is used only once its equality has been checked; nothing before the last such
// assert changes.
#pragma once

#include "ir/ir.h"

namespace jagtile::ir {

Kernel unify_asserted_sizes(const Kernel& kernel);

}  // namespace jagtile::ir
