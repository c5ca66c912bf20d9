# FBGEMM's masked_select_jagged_1d, second half: the values the mask keeps, item after item, in
# their order within the item:
#   masked_values[out_offsets[b] + (kept values of item b before row r)] = values[r]   if mask[r]
# out_offsets are the offsets of the kept values (masked_select_jagged_1d_lengths.py, then a
# cumsum over items). The position within the item is an exclusive prefix count of the mask: a
# running count carried from one tile of the item to the next, plus, inside a tile, the kept
# rows at lower positions (a [tile_j, tile_k] comparison summed, block_size ops per value; the
# kernel language has no torch.cumsum yet, which would say this in one line).
from __future__ import annotations

import torch

import helion
import helion.language as hl


# One item per program and tiles of 16 rows: measured fastest of 13 configs at the standard
# shape (3.4 ms against 5.1 ms for the defaults; bench/results/fbgemm_ops_masked_select_*).
@helion.kernel(config=helion.Config(block_sizes=[1, 16, 16]))
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
            kept = keep.to(torch.int64)
            # The same rows again as a second tile (a tile cannot appear twice in one shape),
            # masked to the item.
            within = hl.zeros([tile_b, tile_k], dtype=torch.int64)
            for tile_j in hl.tile(tile_k.begin, tile_k.end):
                keep_j = hl.load(mask, [starts[:, None] + tile_j.index[None, :]],
                                 extra_mask=tile_j.index[None, :] < nnz[:, None])
                lower = tile_j.index[:, None] < tile_k.index[None, :]  # [j, i]: row j before row i
                within = within + (keep_j.to(torch.int64)[:, :, None] * lower[None, :, :]).sum(dim=1)
            dest = first[:, None] + before[:, None] + within
            hl.store(out, [dest], values[rows], extra_mask=keep)
            before = before + kept.sum(dim=1)
    return out
