# Jagged + dense: y is a dense [B, L, M] tensor (L >= every item's length) and the jagged
# tensor is read as if padded with zeros to L rows per item:
#   out[b, k, m] = y[b, k, m] + (x_values[x_offsets[b] + k, m] if k < nnz_b else 0)
# The first inner loop runs to the tile's longest item (a bound computed on the device) with
# an explicit mask for shorter items; the second copies the remaining padding rows of y.
# Mixed style: flat indexing for the jagged load, direct indexing for the dense tensors.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_dense_add(
    x_values: torch.Tensor,  # [N, M]
    x_offsets: torch.Tensor,  # [B + 1]
    y: torch.Tensor,  # [B, L, M]
) -> torch.Tensor:
    """Add a jagged tensor, zero-padded to L rows per item, to a dense tensor."""
    B, L, M = y.shape
    assert x_offsets.size(0) == B + 1
    assert x_values.size(1) == M
    out_dtype = torch.promote_types(x_values.dtype, y.dtype)
    out = torch.empty([B, L, M], dtype=out_dtype, device=y.device)
    x_flat = x_values.view(-1)

    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        max_nnz = nnz.amax()
        for tile_m in hl.tile(M):
            for tile_k in hl.tile(0, max_nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                in_item = tile_k.index[None, :] < nnz[:, None]
                x_part = hl.load(
                    x_flat,
                    [rows[:, :, None] * M + tile_m.index[None, None, :]],
                    extra_mask=in_item[:, :, None],
                )
                out[tile_b, tile_k, tile_m] = y[tile_b, tile_k, tile_m] + x_part
            for tile_k in hl.tile(max_nnz, L):
                out[tile_b, tile_k, tile_m] = y[tile_b, tile_k, tile_m]

    return out
