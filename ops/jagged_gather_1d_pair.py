# jagged_gather_1d (ops/jagged_gather_1d.py) for two 1-D tensors gathered by the same segments,
# such as TorchRec's ids and weights in keyed_jagged_index_select_dim1:
#   out_a[out_offsets[s] + k] = a[src_starts[s] + k]
#   out_b[out_offsets[s] + k] = b[src_starts[s] + k]
# One pass over the segments instead of two: each segment's bounds are read once, and the two
# runs are copied side by side.
from __future__ import annotations

import torch

import helion
import helion.language as hl


# One segment per program, tiles of 256, as jagged_gather_1d (the reason is there).
@helion.kernel(config=helion.Config(block_sizes=[1, 256]))
def jagged_gather_1d_pair(
    a: torch.Tensor,  # [N]
    b: torch.Tensor,  # [N]
    src_starts: torch.Tensor,  # [S]
    out_offsets: torch.Tensor,  # [S + 1]
    total: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gather one run of a and of b per output segment."""
    S = src_starts.size(0)
    assert out_offsets.size(0) == S + 1, "out_offsets must have one entry more than src_starts"
    assert a.size(0) == b.size(0), "a and b must have one length"
    out_a = torch.empty([total], dtype=a.dtype, device=a.device)
    out_b = torch.empty([total], dtype=b.dtype, device=b.device)

    for tile_s in hl.tile(S):
        src = src_starts[tile_s]
        dst = out_offsets[tile_s]
        nnz = out_offsets[tile_s.index + 1] - dst
        for tile_k in hl.jagged_tile(nnz):
            rows = src[:, None] + tile_k.index[None, :]
            out_a[dst[:, None] + tile_k.index[None, :]] = a[rows]
            out_b[dst[:, None] + tile_k.index[None, :]] = b[rows]

    return out_a, out_b
