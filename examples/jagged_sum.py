# Per-item sum over the jagged axis: out[b, m] = sum of x_values[r, m] for the rows r of item b.
# Written in the flat style: the values are viewed as one long vector and indexed by
# row * M + column. An empty item sums to 0.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_sum(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:
    """Sum the rows of each item of a jagged tensor.

    x_values:  [N, M] rows of every item, item after item
    x_offsets: [B + 1] item b owns rows x_offsets[b] .. x_offsets[b + 1]
    returns    [B, M] in the dtype of x_values
    """
    M = x_values.size(1)
    num_items = x_offsets.size(0) - 1
    out = torch.zeros([num_items, M], dtype=x_values.dtype, device=x_values.device)
    x_flat = x_values.view(-1)

    for tile_b in hl.tile(num_items):
        starts = x_offsets[tile_b]
        ends = x_offsets[tile_b.index + 1]
        nnz = ends - starts
        for tile_m in hl.tile(M):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                flat = rows[:, :, None] * M + tile_m.index[None, None, :]
                acc = acc + hl.load(x_flat, [flat]).sum(dim=1)
            out[tile_b, tile_m] = acc

    return out
