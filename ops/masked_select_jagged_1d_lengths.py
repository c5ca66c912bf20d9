# The first half of FBGEMM's masked_select_jagged_1d: how many values of each item the mask keeps,
#   masked_lengths[b] = number of true mask[r] over the rows r of item b.
# jagtile.ops.masked_select_jagged_1d turns these into the result's offsets (a cumsum over items)
# and then runs masked_select_jagged_1d.py, which writes the kept values.
from __future__ import annotations

import torch

import helion
import helion.language as hl


# One item per program, tiles of 256 rows: each program reads one run of the mask. The default
# 16 items x 32 rows read 16 short runs at once; at the standard shape (B=1024, max_len 512, 2
# threads, Zen 5) 84 -> 41 us after a cache-flushing read, 52 -> 19 us warm; even at B=16384,
# max_len 16 (140 us either way).
@helion.kernel(config=helion.Config(block_sizes=[1, 256]))
def masked_select_jagged_1d_lengths(
    mask: torch.Tensor,  # [N] bool
    offsets: torch.Tensor,  # [B + 1]
) -> torch.Tensor:
    """The number of kept values of each item."""
    B = offsets.size(0) - 1
    out = torch.empty([B], dtype=torch.int64, device=mask.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        kept = hl.zeros([tile_b], dtype=torch.int64)
        for tile_k in hl.jagged_tile(nnz):
            kept = kept + mask[starts[:, None] + tile_k.index[None, :]].to(torch.int64).sum(dim=1)
        out[tile_b] = kept
    return out
