# jagged_gather_rows (ops/jagged_gather_rows.py) for 1-D values, such as TorchRec's ids and
# weights: segment s of the output (out_offsets[s] .. out_offsets[s + 1]) is the same number of
# values starting at src_starts[s]:
#   out[out_offsets[s] + k] = values[src_starts[s] + k]
# With the values as [N, 1] rows, the row kernel spends a tile loop on each single value; here
# the jagged tile runs over the values themselves.
from __future__ import annotations

import torch

import helion
import helion.language as hl


# One segment per program, tiles of 256: each program copies one run. The default 16 segments x
# 32 interleaved 16 short runs; at the standard shape (keyed_jagged_index_select_dim1's ids, B=1024,
# max_len 512, 2 threads, Zen 5) 105 -> 68 us after a cache-flushing read, 75 -> 47 us warm;
# even at B=16384, max_len 16 (178-180 us).
@helion.kernel(config=helion.Config(block_sizes=[1, 256]))
def jagged_gather_1d(
    values: torch.Tensor,  # [N]
    src_starts: torch.Tensor,  # [S]
    out_offsets: torch.Tensor,  # [S + 1]
    total: int,
) -> torch.Tensor:
    """Gather one run of values per output segment."""
    S = src_starts.size(0)
    assert out_offsets.size(0) == S + 1, "out_offsets must have one entry more than src_starts"
    out = torch.empty([total], dtype=values.dtype, device=values.device)

    for tile_s in hl.tile(S):
        src = src_starts[tile_s]
        dst = out_offsets[tile_s]
        nnz = out_offsets[tile_s.index + 1] - dst
        for tile_k in hl.jagged_tile(nnz):
            out[dst[:, None] + tile_k.index[None, :]] = values[src[:, None] + tile_k.index[None, :]]

    return out
