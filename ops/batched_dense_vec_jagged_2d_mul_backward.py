# The gradients of batched_dense_vec_jagged_2d_mul (ops/batched_dense_vec_jagged_2d_mul.py), for
# out[b * H + h, d] = sum over l < n_b of v[b * H + h, l] * a_values[offsets[b] + l, h * D + d],
# with n_b = min(len_b, L):
#   grad_v[b * H + h, l]               = sum over d of grad_out[b * H + h, d] * a_values[offsets[b] + l, h * D + d]
#   grad_a[offsets[b] + l, h * D + d]  = v[b * H + h, l] * grad_out[b * H + h, d]
# for l < n_b; both are 0 elsewhere (the forward reads neither v past n_b nor an item's rows
# past L). fp32 accumulation.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def batched_dense_vec_jagged_2d_mul_backward(
    grad_out: torch.Tensor,  # [B * H, D]
    v: torch.Tensor,  # [B * H, L]
    a_values: torch.Tensor,  # [N, H * D]
    a_offsets: torch.Tensor,  # [B + 1]
) -> tuple[torch.Tensor, torch.Tensor]:
    """grad_v and grad_a of a dense vector per (item, head) times the item's rows."""
    # float32 accumulation for 16-bit and float32 values, float64 for float64 (gradcheck).
    acc_dtype = torch.promote_types(a_values.dtype, torch.float32)
    BH, L = v.shape
    N, HD = a_values.shape
    B = a_offsets.size(0) - 1
    H = BH // B
    assert H * B == BH, "v must have B * H rows: a whole number of heads per item"
    D = HD // H
    assert D * H == HD, "a_values must have H * D columns: a whole number of columns per head"
    assert grad_out.size(0) == BH, "grad_out must have v's B * H rows"
    assert grad_out.size(1) == D, "grad_out must have D columns, a head's width"
    grad_v = torch.zeros_like(v)
    grad_a = torch.zeros_like(a_values)
    g_flat = grad_out.view(-1)
    v_flat = v.view(-1)
    a_flat = a_values.view(-1)
    grad_v_flat = grad_v.view(-1)
    grad_a_flat = grad_a.view(-1)

    for tile_b, tile_h in hl.tile([B, H]):
        starts = a_offsets[tile_b]
        nnz = torch.clamp(a_offsets[tile_b.index + 1] - starts, max=L)
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]  # [b, k]
            v_index = (tile_b.index[:, None, None] * H + tile_h.index[None, :, None]) * L + tile_k.index[None, None, :]
            vv = hl.load(v_flat, [v_index])  # [b, h, k]
            acc = hl.zeros([tile_b, tile_h, tile_k], dtype=acc_dtype)
            for tile_d in hl.tile(D):
                gg = hl.load(g_flat, [(tile_b.index[:, None, None] * H + tile_h.index[None, :, None]) * D
                                      + tile_d.index[None, None, :]])  # [b, h, d]
                a_index = (rows[:, None, :, None] * HD + tile_h.index[None, :, None, None] * D
                           + tile_d.index[None, None, None, :])  # [b, h, k, d]
                aa = hl.load(a_flat, [a_index])
                acc = acc + (gg[:, :, None, :].to(acc_dtype) * aa.to(acc_dtype)).sum(dim=3)
                ga = vv[:, :, :, None].to(acc_dtype) * gg[:, :, None, :].to(acc_dtype)
                hl.store(grad_a_flat, [a_index], ga.to(grad_a.dtype))
            hl.store(grad_v_flat, [v_index], acc.to(grad_v.dtype))

    return grad_v, grad_a
