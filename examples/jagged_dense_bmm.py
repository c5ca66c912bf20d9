# Jagged x dense batched matrix multiply: each item's rows [nnz_b, D] times the item's own
# dense weight [D, K], plus an optional per-item bias [K]:
#   out[r, :] = x_values[r, :] @ weight[b] (+ bias[b])   for the rows r of item b
# The output has the jagged layout of the input. Rows that belong to no item are left
# uninitialised. Direct style.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_dense_bmm(
    x_values: torch.Tensor,  # [N, D]
    x_offsets: torch.Tensor,  # [B + 1]
    weight: torch.Tensor,  # [B, D, K]
    bias: torch.Tensor | None,  # [B, K] or None
) -> torch.Tensor:
    """Multiply each item's rows by that item's weight matrix."""
    N, D = x_values.shape
    B, D2, K = weight.shape
    assert D == D2
    out_dtype = torch.promote_types(x_values.dtype, weight.dtype)
    out = torch.empty([N, K], dtype=out_dtype, device=x_values.device)

    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            for tile_n in hl.tile(K):
                acc = hl.zeros([tile_b, tile_k, tile_n], dtype=torch.float32)
                for tile_d in hl.tile(D):
                    a = x_values[rows, tile_d]  # [tile_b, tile_k, tile_d]
                    w = weight[tile_b, tile_d, tile_n]  # [tile_b, tile_d, tile_n]
                    acc = acc + torch.matmul(a, w)
                if bias is not None:
                    acc = acc + bias[tile_b, tile_n].unsqueeze(1)
                out[rows, tile_n] = acc.to(out_dtype)

    return out
