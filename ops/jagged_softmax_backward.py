# The gradient of jagged_softmax (ops/jagged_softmax.py) with respect to its input, given the
# forward output y and the output gradient g, both in the jagged layout:
#   grad[r, d] = y[r, d] * (g[r, d] - sum over the item's first max_L rows r' of g[r', d] * y[r', d])
# Rows past max_L get 0 (the forward output did not depend on them). fp32 accumulation.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_softmax_backward(
    grad_output: torch.Tensor,  # [N, D]
    output: torch.Tensor,  # [N, D]
    x_offsets: torch.Tensor,  # [B + 1]
    max_L: int,
) -> torch.Tensor:
    """d(softmax)/dx applied to grad_output, per item and column."""
    # float32 accumulation for 16-bit and float32 values, float64 for float64 (gradcheck).
    acc_dtype = torch.promote_types(output.dtype, torch.float32)
    N, D = output.shape
    B = x_offsets.size(0) - 1
    # Not zero-filled first: every row of every item is written once (0 past max_L), and the
    # loops after it zero the rows outside every item.
    grad = torch.empty([N, D], dtype=output.dtype, device=output.device)

    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        used = torch.clamp(nnz, max=max_L)
        for tile_d in hl.tile(D):
            dot = hl.zeros([tile_b, tile_d], dtype=acc_dtype)
            for tile_k in hl.jagged_tile(used):
                rows = starts[:, None] + tile_k.index[None, :]
                g = grad_output[rows, tile_d].to(acc_dtype)
                y = output[rows, tile_d].to(acc_dtype)
                dot = dot + (g * y).sum(dim=1)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                kept = tile_k.index[None, :] < max_L
                g = grad_output[rows, tile_d].to(acc_dtype)
                y = output[rows, tile_d].to(acc_dtype)
                grad[rows, tile_d] = torch.where(kept[:, :, None], y * (g - dot[:, None, :]), 0.0).to(grad.dtype)

    for tile_r in hl.tile(0, x_offsets[0]):
        grad[tile_r, :] = 0
    for tile_r in hl.tile(x_offsets[B], N):
        grad[tile_r, :] = 0
    return grad
