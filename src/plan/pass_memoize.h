// Planning pass (generated C++ only): tile loads memoised across an outer tile loop. In attention
// the key and value blocks `k[tile_k, head, :]` are copied into tile arrays once per query block,
// so each block is copied once for every query block after it, and with rows a head's stride
// apart (16 KiB at 32 heads of 128) the copies miss L2 every time. A value nest that fills a tile
// array by loading tensor elements at indices that depend only on an inner tile loop K (its
// tile's start and limit) and on values fixed across the enclosing tile loop Q now fills a slice
// of a cache array declared in front of Q, once per block of K, and every read of the tile array
// reads that slice: the first use copies, later query blocks reuse it. Each slot records the
// block it holds and its rows; a use of another block, or of more rows, fills it again. The cache
// is direct-mapped over a power of two of one-block slots, 16384 rows in all (256 blocks of 64),
// so it holds Q's whole range up to that and never more memory; when the range would take more
// than 1 MiB (checked at run time: it would not stay in L2), it has one slot, refilled for each
// block as the plain copy was. Conditions: K's start is fixed
// across Q, its end is too or is Q's tile end (the range the cache is sized for), the tensors
// loaded are never stored by the function, and the tile array is written only by the nest. Bounds
// checks are placed afterwards, on the fill. K may also start at Q's tile (`hl.tile(tile_q.begin,
// end)`, the reverse causal nest of an attention backward's dK / dV) where its blocks have Q's
// size and its end is fixed: its blocks then lie on Q's grid, and a block's id is K's plus Q's,
// counted from Q's start, the same from one Q tile to the next.
//
// Where the cached block is only ever the B operand of float32 matmul blocks that pack it (its
// columns strided: attention's `k_blk.T`), each in a matmul nest that runs after the fill whenever
// the fill runs, and the block's rows are 32 or a multiple of 64 (a slot's panels then take its
// rows rounded up to the widest panel, 64 columns, at any vector width), the cache also keeps the
// block's packed panels (`memo_panels`, JtMatmul::b_panels): the first matmul after a fill packs
// them (`memo_ready` false), the later query blocks read them as they are instead of packing the
// block again, the same values in the same order. read_matmul_operands_in_place
// (pass_operands_in_place.h) then reads such a B from the tensor and drops the copy: the block is
// packed once, straight from the tensor.
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void memoize_block_loads(Plan& plan);

}  // namespace jagtile::plan
