// Planning pass (generated C++ only): the next item's matmul operands streamed in during this
// item's products. A program of jagged_dense_bmm (one item: its rows times its own weight) reads
// its operands from memory once, in its first blocks' first passes: the item's rows (read in
// place by the microkernel) and its weight (copied into a tile array), 384 KiB at batch 1024 / D
// = K = 256. Those first reads stalled on memory while the rest of the item's products ran from
// cache; on an AMX Xeon (two 512-bit FMA ports) that was most of the gap between the kernel and
// its microkernel alone (docs/performance.md, "jagged_dense_bmm: the next item's operands
// streamed in").
//
// In a function whose programs are single items (block size 1, no inner program loop) and that
// has matmul blocks, each tensor a block reads (in place, or through the value nest that fills
// its operand array with one load) is prefetched for the program this worker runs next
// (DeviceFunc::next_program) when its first index is one of:
//   - the program's index plus loop indices (`weight[tile_b, ...]`): that program's slice;
//   - an item's first row, read from a rank-1 offsets tensor at the program's index into a tile
//     array, plus loop indices (`x[starts + tile_k.index, ...]`): that item's rows, from its
//     offset to the next offset.
// The rows are whole rows of the tensor (its trailing dims), listed in
// DeviceFunc::operand_prefetches; the matmul blocks fetch them a line at a time between their
// products (JtMatmul::prefetch, 1 MiB at most). The offsets are read under an in-bounds test
// (hint loads, never checked). A prefetch never fails and changes no value; a wrong guess costs
// bandwidth only. JAGTILE_PREFETCH=0 plans none, as for the rows of pass_prefetch.h.
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void prefetch_next_operands(Plan& plan);

}  // namespace jagtile::plan
