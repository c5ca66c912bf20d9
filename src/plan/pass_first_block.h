// Planning pass: an accumulator filled with zeros and then only added to by one matmul block in
// every iteration of the contraction loop that follows (`acc = hl.zeros(...)`, then `for tile_d:
// acc = acc + a @ b`, accumulated in place by pass_accumulate.h) is not filled: the block of the
// loop's first iteration writes the product without adding D (its mask, `id != 0`), and the fill
// runs only when the loop has no iteration. The block writes exactly the elements the fill
// would have, and A @ B + 0 has the bits of A @ B (the sum starts from +0, so is never -0), so
// results are unchanged; the pass saves a pass over the accumulator and the block's read of it.
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void skip_zero_fills_before_matmuls(Plan& plan);

}  // namespace jagtile::plan
