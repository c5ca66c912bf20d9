# Per-item maximum over the jagged axis: out[b, m] = max of x_values[r, m] over the rows r of
# item b. An empty item yields -inf (the identity of max). Direct style: the values are
# indexed as x_values[rows, tile_m].
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_max(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:
    """Column-wise maximum of the rows of each item."""
    num_items = x_offsets.size(0) - 1
    M = x_values.size(1)
    out = torch.empty([num_items, M], dtype=x_values.dtype, device=x_values.device)

    for tile_b in hl.tile(num_items):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            best = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                best = torch.maximum(best, x_values[rows, tile_m].amax(dim=1))
            out[tile_b, tile_m] = best

    return out
