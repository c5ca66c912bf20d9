# Softmax over the jagged axis, per item and per column:
#   out[r, m] = exp(x[r, m] - max_b[m]) / sum over rows r' of item b of exp(x[r', m] - max_b[m])
# The output has the jagged layout of the input (same offsets). Rows that belong to no item
# (before x_offsets[0] or after x_offsets[B]) are left uninitialised. One pass keeps a running
# maximum and a rescaled running sum (online softmax); a second pass writes the result.
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_softmax(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:
    """Softmax of each item's rows, column by column."""
    num_items = x_offsets.size(0) - 1
    M = x_values.size(1)
    out = torch.empty_like(x_values)

    for tile_b in hl.tile(num_items):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            run_max = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
            run_sum = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                vals = x_values[rows, tile_m].to(torch.float32)
                new_max = torch.maximum(run_max, vals.amax(dim=1))
                scale = torch.exp(run_max - new_max)
                run_sum = run_sum * scale + torch.exp(vals - new_max[:, None, :]).sum(dim=1)
                run_max = new_max
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                vals = x_values[rows, tile_m].to(torch.float32)
                probs = torch.exp(vals - run_max[:, None, :]) / run_sum[:, None, :]
                out[rows, tile_m] = probs.to(out.dtype)

    return out
