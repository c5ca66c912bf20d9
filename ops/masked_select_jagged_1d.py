# FBGEMM's masked_select_jagged_1d, second half: the values the mask keeps, item after item, in
# their order within the item:
#   masked_values[out_offsets[b] + (kept values of item b before row r)] = values[r]   if mask[r]
# out_offsets are the offsets of the kept values (masked_select_jagged_1d_lengths.py, then a
# cumsum over items). The position within the item is an exclusive prefix count of the mask: a
# running count carried from one tile of the item to the next, plus the count inside the tile
# (torch.cumsum along the tile's rows).
from __future__ import annotations

import torch

import helion
import helion.language as hl


# One item per program, tiles of 64 rows: the autotuner's pick at the standard shape once masked
# scatters stopped branching (0.71 ms against 0.98 ms for the 16 x 32 tiles that were fastest
# before, 2 threads, AVX2; docs/performance.md).
@helion.kernel(config=helion.Config(block_sizes=[1, 64]))
def masked_select_jagged_1d(
    values: torch.Tensor,  # [N]
    mask: torch.Tensor,  # [N] bool
    offsets: torch.Tensor,  # [B + 1]
    out_offsets: torch.Tensor,  # [B + 1]: offsets of the kept values
) -> torch.Tensor:
    """The kept values of every item, compacted."""
    B = offsets.size(0) - 1
    total = out_offsets[-1].item()
    out = torch.empty([total], dtype=values.dtype, device=values.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        first = out_offsets[tile_b]
        before = hl.zeros([tile_b], dtype=torch.int64)  # kept rows of the item's earlier tiles
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            keep = mask[rows]
            upto = torch.cumsum(keep, dim=1)  # kept rows of this tile up to and with r
            dest = first[:, None] + before[:, None] + upto - 1
            hl.store(out, [dest], values[rows], extra_mask=keep)
            before = before + keep.to(torch.int64).sum(dim=1)
    return out
