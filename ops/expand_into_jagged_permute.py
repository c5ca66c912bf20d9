# FBGEMM's expand_into_jagged_permute: a permutation of segments expanded into a permutation of
# their elements. Output segment i (positions output_offset[i] .. output_offset[i + 1]) takes the
# elements of input segment permute[i] in order:
#   out[output_offset[i] + k] = input_offset[permute[i]] + k
from __future__ import annotations

import torch

import helion
import helion.language as hl


@helion.kernel()
def expand_into_jagged_permute(
    permute: torch.Tensor,  # [S]
    input_offset: torch.Tensor,  # [S + 1]
    output_offset: torch.Tensor,  # [S + 1]
    output_size: int,
) -> torch.Tensor:
    """Element indices of a segment permutation."""
    S = permute.size(0)
    out = torch.empty([output_size], dtype=permute.dtype, device=permute.device)

    for tile_s in hl.tile(S):
        src = hl.load(input_offset, [permute[tile_s]])
        dst = output_offset[tile_s]
        nnz = output_offset[tile_s.index + 1] - dst
        for tile_k in hl.jagged_tile(nnz):
            out[dst[:, None] + tile_k.index[None, :]] = (src[:, None] + tile_k.index[None, :]).to(out.dtype)

    return out
