# FBGEMM's jagged_1d_to_dense: a jagged vector (ids, weights) padded or truncated per item:
#   out[b, l] = values[offsets[b] + l]   for l < min(len_b, max_length)
#   out[b, l] = padding_value            otherwise
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_1d_to_dense(
    values: torch.Tensor,  # [N]
    offsets: torch.Tensor,  # [B + 1]
    max_length: int,
    padding_value: int = 0,
) -> torch.Tensor:
    """Pad (or truncate) each item of a jagged vector to max_length entries."""
    B = offsets.size(0) - 1
    out = torch.empty([B, max_length], dtype=values.dtype, device=values.device)

    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_l in hl.tile(max_length):
            in_item = tile_l.index[None, :] < nnz[:, None]
            x = hl.load(values, [starts[:, None] + tile_l.index[None, :]], extra_mask=in_item)
            out[tile_b, tile_l] = torch.where(in_item, x, padding_value)

    return out
