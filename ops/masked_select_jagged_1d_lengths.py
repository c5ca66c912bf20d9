# The first half of FBGEMM's masked_select_jagged_1d: from the items' lengths and the mask,
#   offsets         = [0, cumsum(lengths)...]                      (where each item's values start)
#   masked_lengths  = number of true mask[r] over the rows r of item b   (in lengths' dtype)
#   out_offsets     = [0, cumsum(masked_lengths)...]               (where each item's kept values go)
# jagtile.ops.masked_select_jagged_1d then runs masked_select_jagged_1d.py, which writes the kept
# values. Three loops: a running sum over the items in one program, the counts item by item in
# parallel, and a second running sum. They replace two host cumsums and a dtype conversion, five
# torch calls that each paid its own start-up (14.5 us for a 1024-element cumsum after a cache
# flush, 2.0 warm; docs/performance.md, "The races measured jagtile half-cold").
from __future__ import annotations

import torch

import helion
import helion.language as hl


# The running sums: one program, tiles of 256 items. The counts: one item per program, tiles of
# 256 rows, so each program reads one run of the mask (the default 16 items x 32 rows read 16
# short runs at once; at the standard shape, B=1024, max_len 512, 2 threads, Zen 5, 84 -> 41 us
# after a cache-flushing read, 52 -> 19 us warm).
@helion.kernel(config=helion.Config(block_sizes=[1, 256, 1, 256, 1, 256]))
def masked_select_jagged_1d_lengths(
    mask: torch.Tensor,  # [N] bool
    lengths: torch.Tensor,  # [B], int32 or int64
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The items' offsets, their kept counts and the offsets of the kept values."""
    B = lengths.size(0)
    offsets = torch.zeros([B + 1], dtype=torch.int64, device=mask.device)
    kept = torch.empty([B], dtype=lengths.dtype, device=mask.device)
    out_offsets = torch.zeros([B + 1], dtype=torch.int64, device=mask.device)

    for tile_g in hl.tile(1):  # one program: the running sum crosses the tiles in order
        before = hl.zeros([tile_g], dtype=torch.int64)
        for tile_i in hl.tile(B):
            pos = tile_g.index[:, None] * 0 + tile_i.index[None, :]  # [1, tile_i]
            n = lengths[pos].to(torch.int64)
            offsets[pos + 1] = before[:, None] + torch.cumsum(n, dim=1)
            before = before + n.sum(dim=1)

    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        count = hl.zeros([tile_b], dtype=torch.int64)
        for tile_k in hl.jagged_tile(nnz):
            count = count + mask[starts[:, None] + tile_k.index[None, :]].to(torch.int64).sum(dim=1)
        kept[tile_b] = count.to(kept.dtype)

    for tile_h in hl.tile(1):
        before = hl.zeros([tile_h], dtype=torch.int64)
        for tile_j in hl.tile(B):
            pos = tile_h.index[:, None] * 0 + tile_j.index[None, :]
            n = kept[pos].to(torch.int64)
            out_offsets[pos + 1] = before[:, None] + torch.cumsum(n, dim=1)
            before = before + n.sum(dim=1)

    return offsets, kept, out_offsets
