# Test kernel: each item's rows times that item's own weight matrix, with an optional bias.
import torch
import helion
import helion.language as hl
import torch.nn.functional as F


@helion.kernel()
def grouped_bmm(
    seq_offsets: torch.Tensor, rows: torch.Tensor, weights: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    L, D = rows.shape
    B, D2, K = weights.shape
    assert D == D2, "inner dimensions differ"
    out = torch.empty([L, K], dtype=torch.promote_types(rows.dtype, weights.dtype), device=rows.device)
    for tb, tk in hl.tile([B, K]):
        start = seq_offsets[tb]
        count = seq_offsets[tb.index + 1] - start
        for tl in hl.jagged_tile(count):
            r = start[:, None] + tl.index[None, :]
            acc = hl.zeros([tb, tl, tk], dtype=torch.float32)
            for td in hl.tile(D):
                acc = hl.dot(rows[r, td], weights[tb, td, tk], acc=acc)
            if bias is not None:
                acc = acc + bias[tb, tk].unsqueeze(1)
            out[r, tk] = acc.to(out.dtype)
    return out


@helion.kernel()
def grid_scale(x: torch.Tensor, scale: float = 2.0) -> torch.Tensor:
    n = x.numel()
    y = torch.empty_like(x)
    for i in hl.grid(n):
        y[i] = F.silu(x[i]) * scale
    return y
