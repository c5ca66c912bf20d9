# Causal SiLU attention over jagged sequences, per head, as in HSTU (generative recommenders):
# for each sequence b (rows seq_offsets[b] .. seq_offsets[b+1]) and head h,
#   S = (q_b @ k_b^T) * alpha
#   P = silu(S) / max_seq_len, with P[i, j] = 0 where j > i (causal)
#   out_b = P @ v_b
# q, k, v and out are [L, H, D] with L the rows of all sequences. HSTU divides by the longest
# sequence the batch may hold instead of normalising each row (no softmax), so max_seq_len is a
# host integer that must be at least the longest sequence. Products accumulate in float32;
# out has v's dtype. Rows that belong to no sequence are left uninitialised.
from __future__ import annotations

import torch
import torch.nn.functional as F

import helion
import helion.language as hl


@helion.kernel()
def jagged_hstu_attention(
    q: torch.Tensor,  # [L, H, D]
    k: torch.Tensor,  # [L, H, D]
    v: torch.Tensor,  # [L, H, D]
    seq_offsets: torch.Tensor,  # [B + 1]
    max_seq_len: int,
    alpha: float,
) -> torch.Tensor:
    """Causal SiLU attention of every sequence with itself, head by head."""
    L, H, D = q.shape
    num_seqs = seq_offsets.size(0) - 1
    out = torch.empty_like(v)

    for seq in hl.grid(num_seqs):
        first = seq_offsets[seq]
        last = seq_offsets[seq + 1]
        for head in hl.grid(H):
            for tile_q in hl.tile(first, last):
                q_blk = q[tile_q, head, :].to(torch.float32)  # [tile_q, D]
                acc = hl.zeros([tile_q, D], dtype=torch.float32)
                # Key blocks past the query block are masked entirely: stop at its end.
                for tile_k in hl.tile(first, tile_q.end):
                    k_blk = k[tile_k, head, :].to(torch.float32)  # [tile_k, D]
                    v_blk = v[tile_k, head, :].to(torch.float32)  # [tile_k, D]
                    scores = torch.matmul(q_blk, k_blk.T) * alpha  # [tile_q, tile_k]
                    probs = F.silu(scores) / max_seq_len
                    causal = tile_q.index[:, None] >= tile_k.index[None, :]
                    probs = torch.where(causal, probs, 0.0)
                    acc = acc + torch.matmul(probs, v_blk)
                out[tile_q, head, :] = acc.to(out.dtype)

    return out
