# FBGEMM's jagged_dense_elementwise_add (dense output): a dense [B, L, D] tensor plus a jagged
# tensor read as if padded with zeros to L rows per item (items longer than L are truncated):
#   out[b, l, d] = y[b, l, d] + (x_values[offsets[b] + l, d] if l < len_b else 0)
# Every output element is written once.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_dense_elementwise_add(
    x_values: torch.Tensor,  # [N, D]
    x_offsets: torch.Tensor,  # [B + 1]
    y: torch.Tensor,  # [B, L, D]
) -> torch.Tensor:
    """Add a jagged tensor, zero-padded (or truncated) to L rows per item, to a dense tensor."""
    B, L, D = y.shape
    assert x_offsets.size(0) == B + 1, "x_offsets must have one entry more than y has items"
    assert x_values.size(1) == D, "y must have x_values' D columns"
    out = torch.empty([B, L, D], dtype=y.dtype, device=y.device)
    x_flat = x_values.view(-1)

    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        for tile_l in hl.tile(L):
            rows = starts[:, None] + tile_l.index[None, :]
            in_item = tile_l.index[None, :] < nnz[:, None]
            for tile_d in hl.tile(D):
                x_part = hl.load(x_flat, [rows[:, :, None] * D + tile_d.index[None, None, :]],
                                 extra_mask=in_item[:, :, None])
                out[tile_b, tile_l, tile_d] = y[tile_b, tile_l, tile_d] + x_part

    return out
