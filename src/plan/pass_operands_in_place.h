// Planning pass: matmul operands read in place. A matmul block's A operand is a tile array
// that a value nest fills by copying float32 tensor elements one for one (`a = x[rows, tile_d]`:
// the array's element (i, j) is the tensor's element at base + i * stride_i + j * stride_j; also
// through a flattened view, `hl.load(x_flat, [rows * D + cols])`, whose row index enters times
// D: the row stride is then D times the view's).
// When that copy is the array's only filling, the matmul its only reader, and the copy covers
// exactly the rows and columns the matmul reads, the matmul takes a pointer into the tensor with
// the tensor's strides instead, and the copy goes: the microkernel broadcasts A's elements from
// wherever they are, so the tile copy was a second pass over the same bytes. The values read are
// the same elements, so the bits are the same. Float32 blocks keep B's copy (the .cpp says why),
// unless the block keeps B's packed panels (pass_memoize.h): such a B is read only to be packed,
// once per cached block, so it is read in place too, and the copy into the cache's slot (at the
// slot's first row, which the copy's row index and the operand's origin share) goes.
// Blocks with bf16 inputs read A and B in place from bf16 tensors (JtMatmul's a16 / b16): the
// copy widened each element to float32 for the microkernel to pack it back into bf16 pairs; the
// pair and tile paths now pack from the tensor, and the f32 fallback widens into a buffer of its
// own (the same values, so the same bits). Bounds checks stay: the pass runs after
// place_bounds_checks and keeps the check and diagnosing nests (the diagnosing copy still writes
// the array, which therefore stays declared while it is written).
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void read_matmul_operands_in_place(Plan& plan);

}  // namespace jagtile::plan
