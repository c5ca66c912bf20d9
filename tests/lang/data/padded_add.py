# Test kernel: jagged + dense, written into a padded dense output (rows past an item's end copy y).
import torch
import helion.language as hl


def padded_add(jag: torch.Tensor, offs: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
    B, L, M = dense.shape
    out = torch.empty([B, L, M], dtype=torch.promote_types(jag.dtype, dense.dtype), device=dense.device)
    jf = jag.view(-1)
    for b in hl.tile(B):
        st = offs[b]
        n = offs[b.index + 1] - st
        n_max = n.amax()
        for m in hl.tile(M):
            for k in hl.tile(0, n_max):
                keep = k.index[None, :] < n[:, None]
                pos = (st[:, None] + k.index[None, :])[:, :, None] * M + m.index[None, None, :]
                xv = hl.load(jf, [pos], extra_mask=keep[:, :, None])
                out[b, k, m] = dense[b, k, m] + xv
            for k in hl.tile(n_max, L):
                out[b, k, m] = dense[b, k, m]
    return out
