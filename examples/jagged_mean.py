# Per-item mean with two jagged dimensions: item b owns the rows x_offsets[b] .. x_offsets[b+1]
# and only its first x_feature_counts[b] columns. out[b, m] is the mean of column m over the
# item's rows for m < x_feature_counts[b]; every other entry (masked columns, empty items) is 0.
# Flat style, like the sum example.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_mean(
    x_values: torch.Tensor,  # [N, M]
    x_offsets: torch.Tensor,  # [B + 1]
    x_feature_counts: torch.Tensor,  # [B], each in [0, M]
) -> torch.Tensor:
    """Mean over the rows of each item, on the item's own columns only."""
    total_rows, M = x_values.shape
    num_items = x_offsets.size(0) - 1
    out = torch.zeros([num_items, M], dtype=x_values.dtype, device=x_values.device)
    x_flat = x_values.view(-1)

    for tile_b in hl.tile(num_items):
        starts = x_offsets[tile_b]
        ends = x_offsets[tile_b.index + 1]
        nnz = ends - starts
        columns = x_feature_counts[tile_b]
        for tile_m in hl.jagged_tile(columns):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                flat = rows[:, :, None] * M + tile_m.index[None, None, :]
                acc += hl.load(x_flat, [flat]).sum(dim=1)
            # Count in float32, never in the (possibly 16-bit) value dtype: 16-bit floats
            # cannot hold every row count exactly.
            count = nnz.to(torch.float32)[:, None]
            out[tile_b, tile_m] = torch.where(count > 0, acc / count, 0.0)

    return out
