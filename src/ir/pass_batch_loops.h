// Pass: a full dim that a tile loop's whole body computes position by position (Helion's heads,
// `q[tile_q, :, :].transpose(0, 1)` as [H, tile_q, D]) becomes a grid loop around that tile
// loop, one batch position per iteration. In jagged_hstu_attn_2 every key block multiplies all
// H heads at once: the accumulator [H, tile_q, D], the query block and the key and value blocks
// are each H times what one head needs, megabytes that cycle through the caches for every key
// block. One head per iteration keeps them in L1 / L2, as a kernel written with
// `for head in hl.grid(H)` does, and lets the planner keep a head's key and value blocks for its
// next query block.
//
// The body after the pass is the same computation with the dim made a broadcast dim (size 1):
// `iota(X)` becomes the grid loop's index, every full(X) dim of a type a broadcast dim. That is
// exact when each value holds, at batch position h, what position h alone determines, which holds
// when every operation is pointwise along X: elementwise ops, loads and stores, reductions and
// scans over other dims, matmuls with X in their batch dims. And reordering the work must change
// nothing: no tensor is both loaded and stored inside the loop, no variable declared outside it
// is assigned inside, and nothing inside runs on the host. Only worth it where the dim is a
// matmul's batch dim inside a loop nested in the tile loop; other kernels are left alone.
#pragma once

#include "ir/ir.h"

namespace jagtile::ir {

Kernel loop_over_batch_dims(const Kernel& kernel);

}  // namespace jagtile::ir
