# FBGEMM's batched_dense_vec_jagged_2d_mul: a dense vector per (item, head) times the item's
# jagged matrix. a_values holds H heads side by side: a_values[r, h * D + d]. With B items and
# v of shape [B * H, L]:
#   out[b * H + h, d] = sum over l < min(len_b, L) of v[b * H + h, l] * a_values[offsets[b] + l, h * D + d]
# fp32 accumulation; an empty item gives zeros.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def batched_dense_vec_jagged_2d_mul(
    v: torch.Tensor,  # [B * H, L]
    a_values: torch.Tensor,  # [N, H * D]
    a_offsets: torch.Tensor,  # [B + 1]
) -> torch.Tensor:
    """Per item and head: a row vector times the item's rows."""
    # float32 accumulation for 16-bit and float32 values, float64 for float64 (gradcheck).
    acc_dtype = torch.promote_types(a_values.dtype, torch.float32)
    BH, L = v.shape
    N, HD = a_values.shape
    B = a_offsets.size(0) - 1
    H = BH // B
    assert H * B == BH, "v must have B * H rows: a whole number of heads per item"
    D = HD // H
    assert D * H == HD, "a_values must have H * D columns: a whole number of columns per head"
    out = torch.empty([BH, D], dtype=v.dtype, device=v.device)
    a_flat = a_values.view(-1)
    v_flat = v.view(-1)
    out_flat = out.view(-1)

    for tile_b, tile_h in hl.tile([B, H]):
        starts = a_offsets[tile_b]
        nnz = torch.clamp(a_offsets[tile_b.index + 1] - starts, max=L)
        for tile_d in hl.tile(D):
            acc = hl.zeros([tile_b, tile_h, tile_d], dtype=acc_dtype)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]  # [b, k]
                vv = hl.load(v_flat, [(tile_b.index[:, None, None] * H + tile_h.index[None, :, None]) * L
                                      + tile_k.index[None, None, :]])  # [b, h, k]
                aa = hl.load(a_flat, [rows[:, None, :, None] * HD + tile_h.index[None, :, None, None] * D
                                      + tile_d.index[None, None, None, :]])  # [b, h, k, d]
                acc = acc + (vv[:, :, :, None].to(acc_dtype) * aa.to(acc_dtype)).sum(dim=2)
            out_rows = tile_b.index[:, None] * H + tile_h.index[None, :]
            hl.store(out_flat, [out_rows[:, :, None] * D + tile_d.index[None, None, :]], acc.to(out.dtype))

    return out
