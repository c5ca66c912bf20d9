# FBGEMM's jagged_jagged_bmm: per item, the product of the transposed rows of x with the rows of
# y (both in the same jagged layout), over the item's first max_L rows:
#   out[b] = x_values[rows of b]^T @ y_values[rows of b]     [D, E] per item
# fp32 accumulation; an empty item gives zeros.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_jagged_bmm(
    x_values: torch.Tensor,  # [N, D]
    y_values: torch.Tensor,  # [N, E]
    x_offsets: torch.Tensor,  # [B + 1]
    max_L: int,
) -> torch.Tensor:
    """Sum over each item's rows of the outer products x_r^T y_r."""
    # float32 accumulation for 16-bit and float32 values, float64 for float64 (gradcheck).
    acc_dtype = torch.promote_types(x_values.dtype, torch.float32)
    N, D = x_values.shape
    N2, E = y_values.shape
    assert N == N2, "x_values and y_values must have the same rows"
    B = x_offsets.size(0) - 1
    out = torch.empty([B, D, E], dtype=x_values.dtype, device=x_values.device)

    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = torch.clamp(x_offsets[tile_b.index + 1] - starts, max=max_L)
        for tile_d in hl.tile(D):
            for tile_e in hl.tile(E):
                acc = hl.zeros([tile_b, tile_d, tile_e], dtype=acc_dtype)
                for tile_k in hl.jagged_tile(nnz):
                    rows = starts[:, None] + tile_k.index[None, :]
                    acc = acc + torch.matmul(x_values[rows, tile_d].transpose(1, 2), y_values[rows, tile_e])
                out[tile_b, tile_d, tile_e] = acc.to(out.dtype)

    return out
