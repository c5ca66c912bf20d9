# FBGEMM's jagged_to_padded_dense for one jagged dimension (also jagged_2d_to_dense):
#   out[b, l, d] = values[offsets[b] + l, d]   for l < min(len_b, max_length)
#   out[b, l, d] = padding_value               otherwise
# Items longer than max_length are truncated, as FBGEMM does. Every output element is written
# exactly once: the valid prefix from the values, the rest with the padding value.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_to_padded_dense(
    values: torch.Tensor,  # [N, D]
    offsets: torch.Tensor,  # [B + 1]
    max_length: int,
    padding_value: float = 0.0,
) -> torch.Tensor:
    """Pad (or truncate) each item of a jagged tensor to max_length rows."""
    D = values.size(1)
    B = offsets.size(0) - 1
    out = torch.empty([B, max_length, D], dtype=values.dtype, device=values.device)
    flat = values.view(-1)

    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_l in hl.tile(max_length):
            in_item = tile_l.index[None, :] < nnz[:, None]
            rows = starts[:, None] + tile_l.index[None, :]
            for tile_d in hl.tile(D):
                x = hl.load(flat, [rows[:, :, None] * D + tile_d.index[None, None, :]],
                            extra_mask=in_item[:, :, None])
                out[tile_b, tile_l, tile_d] = torch.where(in_item[:, :, None], x, padding_value)

    return out
