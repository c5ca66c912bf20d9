# FBGEMM's jagged_dense_bmm: each item's first max_L rows times the item's dense matrix,
# in the jagged layout of x:
#   out[offsets[b] + l, :] = x_values[offsets[b] + l, :] @ y[b]   for l < max_L
#   out[offsets[b] + l, :] = 0                                    for l >= max_L
# fp32 accumulation; rows outside every item are 0.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_dense_bmm(
    x_values: torch.Tensor,  # [N, D]
    x_offsets: torch.Tensor,  # [B + 1]
    y: torch.Tensor,  # [B, D, E]
    max_L: int,
) -> torch.Tensor:
    """Multiply each item's rows (up to max_L of them) by the item's own matrix."""
    # float32 accumulation for 16-bit and float32 values, float64 for float64 (gradcheck).
    acc_dtype = torch.promote_types(x_values.dtype, torch.float32)
    N, D = x_values.shape
    B, D2, E = y.shape
    assert D == D2, "y must be [B, D, E] with x_values' D columns"
    assert x_offsets.size(0) == B + 1, "x_offsets must have one entry more than y has items"
    out = torch.zeros([N, E], dtype=x_values.dtype, device=x_values.device)

    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = torch.clamp(x_offsets[tile_b.index + 1] - starts, max=max_L)
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            for tile_e in hl.tile(E):
                acc = hl.zeros([tile_b, tile_k, tile_e], dtype=acc_dtype)
                for tile_d in hl.tile(D):
                    acc = acc + torch.matmul(x_values[rows, tile_d], y[tile_b, tile_d, tile_e])
                out[rows, tile_e] = acc.to(out.dtype)

    return out
