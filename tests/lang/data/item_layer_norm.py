# Test kernel: layer norm over all values of each item (rows x columns), optional affine terms.
import torch
import helion
import helion.language as hl


@helion.kernel(block_sizes=[8, 32, 32])
def item_layer_norm(
    x: torch.Tensor,
    offsets: torch.Tensor,
    gamma: torch.Tensor | None,
    eps: float = 1e-5,
) -> torch.Tensor:
    rows, cols = x.shape
    assert cols > 0, "need at least one column"
    num = offsets.size(0) - 1
    y = torch.empty_like(x)
    for tb in hl.tile(num):
        s0 = offsets[tb]
        ln = offsets[tb.index + 1] - s0
        cnt = (ln * cols).to(torch.float32)
        tot = hl.zeros([tb], dtype=torch.float32)
        for tc in hl.tile(cols):
            part = hl.zeros([tb, tc], dtype=torch.float32)
            for tr in hl.jagged_tile(ln):
                part = part + x[s0[:, None] + tr.index[None, :], tc].to(torch.float32).sum(dim=1)
            tot = tot + part.sum(dim=1)
        mu = tot / cnt
        sq = hl.zeros([tb], dtype=torch.float32)
        for tc in hl.tile(cols):
            part = hl.zeros([tb, tc], dtype=torch.float32)
            for tr in hl.jagged_tile(ln):
                d = x[s0[:, None] + tr.index[None, :], tc].to(torch.float32) - mu[:, None, None]
                part = part + (d * d).sum(dim=1)
            sq = sq + part.sum(dim=1)
        inv = torch.rsqrt(sq / cnt + eps)
        for tc in hl.tile(cols):
            for tr in hl.jagged_tile(ln):
                r = s0[:, None] + tr.index[None, :]
                v = (x[r, tc].to(torch.float32) - mu[:, None, None]) * inv[:, None, None]
                if gamma is not None:
                    v = v * gamma[tc][None, None, :]
                y[r, tc] = v.to(x.dtype)
    return y
