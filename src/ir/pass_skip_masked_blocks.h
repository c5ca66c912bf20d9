// Pass: a tile loop whose only effect is to accumulate terms that an index mask zeroes (causal
// attention's `acc = acc + (where(q_idx >= k_idx, p, 0) @ v)`) skips the blocks where that mask
// is false at every valid position. Its body is wrapped in `if_ (some position may be
// unmasked)`, with the test computed from the ranges of the tile indices the mask compares:
// `tile_q.end - 1 >= tile_k.begin` for the causal mask. So a Helion kernel that visits every
// key block and masks spends no FLOPs on the blocks above the diagonal.
//
// What is skipped adds only zeros: x + 0 == x, except that a skipped block no longer turns -0.0
// into +0.0, and no longer spreads a NaN or an infinity that sits in a masked position of the
// other matmul operand (0 * inf). Every backend runs the transformed IR, the interpreter
// included, so they agree with each other exactly.
//
// The loop qualifies when its body (nested regions included) has no store, assert, return or
// host read; every variable declared outside it is assigned once, at the body's top level, as
// `v = v + t`, `v = t + v` or `v = matmul(a, b, v)`; and each added term is zero wherever a mask
// is false: `where(m, x, 0)`, and casts, unsqueezes, permutes, products, matmuls and sums of it.
// The mask must compare affine index expressions (tile indices of this loop or of enclosing
// tile / grid loops, plus or minus scalars defined outside the loop); `&` of masks also counts.
#pragma once

#include "ir/ir.h"

namespace jagtile::ir {

Kernel skip_masked_blocks(const Kernel& kernel);

}  // namespace jagtile::ir
