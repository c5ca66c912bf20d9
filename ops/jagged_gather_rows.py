# Copies runs of rows: segment s of the output (rows out_offsets[s] .. out_offsets[s + 1]) is
# the same number of rows of `values` starting at src_starts[s]:
#   out[out_offsets[s] + k, :] = values[src_starts[s] + k, :]
# The shared body of FBGEMM's jagged_index_select and jagged_slice (jagtile.ops computes the
# per-segment starts and lengths, B numbers, and calls this for the rows).
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def jagged_gather_rows(
    values: torch.Tensor,  # [N, D]
    src_starts: torch.Tensor,  # [S]
    out_offsets: torch.Tensor,  # [S + 1]
    total_rows: int,
) -> torch.Tensor:
    """Gather one run of rows per output segment."""
    D = values.size(1)
    S = src_starts.size(0)
    assert out_offsets.size(0) == S + 1, "out_offsets must have one entry more than src_starts"
    out = torch.empty([total_rows, D], dtype=values.dtype, device=values.device)

    for tile_s in hl.tile(S):
        src = src_starts[tile_s]
        dst = out_offsets[tile_s]
        nnz = out_offsets[tile_s.index + 1] - dst
        for tile_k in hl.jagged_tile(nnz):
            for tile_d in hl.tile(D):
                out[dst[:, None] + tile_k.index[None, :], tile_d] = values[src[:, None] + tile_k.index[None, :], tile_d]

    return out
