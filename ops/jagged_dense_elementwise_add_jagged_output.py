# FBGEMM's jagged_dense_elementwise_add_jagged_output: a jagged tensor plus a dense [B, L, D]
# tensor, in the jagged layout of x (the dense tensor reads as 0 past its L rows):
#   out[offsets[b] + l, d] = x_values[offsets[b] + l, d] + (y[b, l, d] if l < L else 0)
# Rows outside every item are 0.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_dense_elementwise_add_jagged_output(
    x_values: torch.Tensor,  # [N, D]
    x_offsets: torch.Tensor,  # [B + 1]
    y: torch.Tensor,  # [B, L, D]
) -> torch.Tensor:
    """Add each item's rows of a dense tensor to the item's rows."""
    N, D = x_values.shape
    B, L, D2 = y.shape
    assert D == D2, "y must have x_values' D columns"
    assert x_offsets.size(0) == B + 1, "x_offsets must have one entry more than y has items"
    # Not zero-filled first (that would be a whole extra write pass): the item loop writes every
    # row of every item, and the loops after it zero the rows outside every item.
    out = torch.empty([N, D], dtype=x_values.dtype, device=x_values.device)
    y_flat = y.view(-1)

    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            in_dense = tile_k.index[None, :] < L
            for tile_d in hl.tile(D):
                src = (tile_b.index[:, None, None] * L + tile_k.index[None, :, None]) * D + tile_d.index[None, None, :]
                y_part = hl.load(y_flat, [src], extra_mask=in_dense[:, :, None])
                out[rows, tile_d] = x_values[rows, tile_d] + y_part


    for tile_r in hl.tile(0, x_offsets[0]):
        out[tile_r, :] = 0
    for tile_r in hl.tile(x_offsets[B], N):
        out[tile_r, :] = 0
    return out
