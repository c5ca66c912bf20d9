# keyed_jagged_index_select_dim1's index step (python/jagtile/ops.py): output entry s of a keyed
# jagged tensor with K keys of batch_size entries each (key-major) is input entry
#   key * batch_size + indices[i],   key = s // len(indices), i = s % len(indices),
# and this kernel returns that entry's length and start offset, for every s at once (the torch
# index arithmetic it replaces took six small ops).
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel(config=helion.Config(block_sizes=[256]))
def keyed_select_entries(
    lengths: torch.Tensor,  # [K * batch_size], int64
    offsets: torch.Tensor,  # [K * batch_size + 1], int64
    indices: torch.Tensor,  # [M], int64, each in 0 .. batch_size - 1
    batch_size: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The length and the start of every selected entry, key after key."""
    keys = lengths.size(0) // batch_size
    m = indices.size(0)
    selected = torch.empty([keys * m], dtype=torch.int64, device=lengths.device)
    src = torch.empty([keys * m], dtype=torch.int64, device=lengths.device)
    for tile_s in hl.tile(keys * m):
        entry = (tile_s.index // m) * batch_size + indices[tile_s.index % m]
        selected[tile_s] = lengths[entry]
        src[tile_s] = offsets[entry]
    return selected, src
