# FBGEMM's jagged_softmax: softmax over each item's rows, column by column, on the first max_L
# rows of the item; the result has the jagged layout of the input:
#   out[r, d] = exp(x[r, d] - max_b[d]) / sum over the item's first max_L rows r' of exp(x[r', d] - max_b[d])
# Rows past max_L are 0 here (FBGEMM leaves them unwritten). Accumulated in float32 (float64 for float64 values), one pass for
# the running maximum and rescaled sum (online softmax), one to write.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_softmax(
    values: torch.Tensor,  # [N, D]
    x_offsets: torch.Tensor,  # [B + 1]
    max_L: int,
) -> torch.Tensor:
    """Softmax of each item's first max_L rows, column by column."""
    # float32 accumulation for 16-bit and float32 values, float64 for float64 (gradcheck).
    acc_dtype = torch.promote_types(values.dtype, torch.float32)
    N, D = values.shape
    B = x_offsets.size(0) - 1
    # Not zero-filled first (that would be a whole extra write pass): the second pass writes
    # every row of every item (0 past max_L), and the loops after it zero the rows outside
    # every item.
    out = torch.empty([N, D], dtype=values.dtype, device=values.device)
    flat = values.view(-1)

    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        for tile_d in hl.tile(D):
            run_max = hl.full([tile_b, tile_d], float("-inf"), dtype=acc_dtype)
            run_sum = hl.zeros([tile_b, tile_d], dtype=acc_dtype)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                kept = tile_k.index[None, :] < max_L
                x = hl.load(flat, [rows[:, :, None] * D + tile_d.index[None, None, :]],
                            extra_mask=kept[:, :, None]).to(acc_dtype)
                x = torch.where(kept[:, :, None], x, float("-inf"))
                new_max = torch.maximum(run_max, x.amax(dim=1))
                # A column whose rows are all past max_L keeps max -inf: exp(-inf - -inf) is
                # NaN, so its scale is taken as 1 (its sum is still 0).
                scale = torch.where(new_max == float("-inf"), 1.0, torch.exp(run_max - new_max))
                run_sum = run_sum * scale + torch.exp(x - new_max[:, None, :]).sum(dim=1)
                run_max = new_max
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                kept = tile_k.index[None, :] < max_L
                x = hl.load(flat, [rows[:, :, None] * D + tile_d.index[None, None, :]],
                            extra_mask=kept[:, :, None]).to(acc_dtype)
                probs = torch.exp(x - run_max[:, None, :]) / run_sum[:, None, :]
                out[rows, tile_d] = torch.where(kept[:, :, None], probs, 0.0).to(out.dtype)


    for tile_r in hl.tile(0, x_offsets[0]):
        out[tile_r, :] = 0
    for tile_r in hl.tile(x_offsets[B], N):
        out[tile_r, :] = 0
    return out
