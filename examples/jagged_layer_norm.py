# Layer normalisation of each item over all of its values (rows x columns), without affine
# parameters: out = (x - mean_b) * rsqrt(var_b + eps), with the biased variance. Three passes
# per item tile: sum, centred sum of squares, normalise. Rows that belong to no item are left
# uninitialised; an empty item writes nothing. Direct style.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_layer_norm(
    x_values: torch.Tensor,  # [N, M]
    x_offsets: torch.Tensor,  # [B + 1]
    eps: float = 1e-6,
) -> torch.Tensor:
    """Normalise each item of a jagged tensor to zero mean and unit variance."""
    total_rows, M = x_values.shape
    num_items = x_offsets.size(0) - 1
    out = torch.empty_like(x_values)

    for tile_b in hl.tile(num_items):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        count = (nnz * M).to(torch.float32)

        total = hl.zeros([tile_b], dtype=torch.float32)
        for tile_m in hl.tile(M):
            partial = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                partial = partial + x_values[rows, tile_m].to(torch.float32).sum(dim=1)
            total = total + partial.sum(dim=1)
        mean = total / count

        squares = hl.zeros([tile_b], dtype=torch.float32)
        for tile_m in hl.tile(M):
            partial = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                centred = x_values[rows, tile_m].to(torch.float32) - mean[:, None, None]
                partial = partial + (centred * centred).sum(dim=1)
            squares = squares + partial.sum(dim=1)
        rstd = torch.rsqrt(squares / count + eps)

        for tile_m in hl.tile(M):
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                centred = x_values[rows, tile_m].to(torch.float32) - mean[:, None, None]
                out[rows, tile_m] = (centred * rstd[:, None, None]).to(x_values.dtype)

    return out
