# FBGEMM's dense_to_jagged for one jagged dimension: the rows of each item taken from the dense
# tensor, in the jagged layout given by the offsets:
#   out[offsets[b] + l, d] = dense[b, l, d]   for l < len_b and l < L
#   out[offsets[b] + l, d] = 0                for L <= l < len_b (past the dense tensor)
# out has total_L rows (FBGEMM's total_L, normally offsets[B]); rows outside every item are 0.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def dense_to_jagged(
    dense: torch.Tensor,  # [B, L, D]
    offsets: torch.Tensor,  # [B + 1]
    total_L: int,
) -> torch.Tensor:
    """Gather each item's rows of a padded dense tensor into a jagged tensor."""
    B, L, D = dense.shape
    assert offsets.size(0) == B + 1, "offsets must have one entry more than dense has items"
    # Not zero-filled first (that would be a whole extra write pass): the item loop writes every
    # row of every item (0 past the dense length), and the loops after it zero the rows outside
    # every item.
    out = torch.empty([total_L, D], dtype=dense.dtype, device=dense.device)
    dense_flat = dense.view(-1)

    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            in_dense = tile_k.index[None, :] < L
            for tile_d in hl.tile(D):
                src = (tile_b.index[:, None, None] * L + tile_k.index[None, :, None]) * D + tile_d.index[None, None, :]
                out[rows, tile_d] = hl.load(dense_flat, [src], extra_mask=in_dense[:, :, None])

    for tile_r in hl.tile(0, offsets[0]):
        out[tile_r, :] = 0
    for tile_r in hl.tile(offsets[B], total_L):
        out[tile_r, :] = 0

    return out
