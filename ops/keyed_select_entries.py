# keyed_jagged_index_select_dim1's index step (python/jagtile/ops.py): output entry s of a keyed
# jagged tensor with K keys of batch_size entries each (key-major) is input entry
#   key * batch_size + indices[i],   s = key * len(indices) + i,
# and this kernel returns, for every s at once, that entry's length and start offset, and the
# offsets of the output ([0, cumsum of the lengths...]). Reading the lengths as [K, batch_size]
# lets the bounds check refuse an index outside 0 .. batch_size - 1 (ops.py then says which).
# One program walks the entries in order, key by key, carrying the running sum across its tiles:
# the torch index arithmetic, validation and cumsum this replaces were five small calls, each
# paying its own cold start (20-35 us apiece after a cache flush). A loop over the keys around
# the tiles of indices, rather than one loop over s with key = s // len(indices) and i = s %
# len(indices): 64-bit divisions by a value known only at run time do not vectorise, and took
# the kernel from 5.3 to 14.5 us (B = 1024 entries, 4 keys, warm, two threads).
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel(config=helion.Config(block_sizes=[1, 256]))
def keyed_select_entries(
    lengths: torch.Tensor,  # [K * batch_size], int64
    offsets: torch.Tensor,  # [K * batch_size + 1], int64
    indices: torch.Tensor,  # [M], int64, each in 0 .. batch_size - 1
    batch_size: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The length, the start and the output offset of every selected entry, key after key."""
    keys = lengths.size(0) // batch_size
    m = indices.size(0)
    by_key = lengths.view(keys, batch_size)  # its bounds check refuses an index out of 0 .. batch_size - 1
    selected = torch.empty([keys * m], dtype=torch.int64, device=lengths.device)
    src = torch.empty([keys * m], dtype=torch.int64, device=lengths.device)
    out_offsets = torch.zeros([keys * m + 1], dtype=torch.int64, device=lengths.device)
    for tile_g in hl.tile(1):  # one program: the running sum crosses the keys and tiles in order
        before = hl.zeros([tile_g], dtype=torch.int64)
        for key in hl.grid(keys):
            for tile_i in hl.tile(m):
                pos = tile_g.index[:, None] * 0 + tile_i.index[None, :]  # [1, tile_i]
                i = indices[pos]
                s = key * m + pos  # output entry numbers
                n = by_key[key, i]
                selected[s] = n
                src[s] = offsets[key * batch_size + i]
                out_offsets[s + 1] = before[:, None] + torch.cumsum(n, dim=1)
                before = before + n.sum(dim=1)
    return selected, src, out_offsets
