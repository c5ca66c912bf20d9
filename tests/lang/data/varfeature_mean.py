"""Test kernel: mean over a jagged axis with a second jagged dimension (per-item column counts)."""
from __future__ import annotations

import torch
import helion
import helion.language as hl


@helion.kernel()
def varfeature_mean(
    data: torch.Tensor,       # [rows, width]
    row_offsets: torch.Tensor,  # [items + 1]
    widths: torch.Tensor,     # [items]: valid columns per item
    width: int,
) -> torch.Tensor:
    items = row_offsets.numel() - 1
    out = torch.zeros([items, width], dtype=data.dtype, device=data.device)
    flat = data.view(-1)
    for t_item in hl.tile(items):
        lo = row_offsets[t_item]
        hi = row_offsets[t_item.index + 1]
        n = hi - lo
        w = widths[t_item]
        for t_col in hl.jagged_tile(w):
            s = hl.zeros([t_item, t_col], dtype=torch.float32)
            for t_row in hl.jagged_tile(n):
                idx = (lo[:, None] + t_row.index[None, :])[:, :, None] * width
                idx = idx + t_col.index[None, None, :]
                s = s + hl.load(flat, [idx]).sum(dim=1)
            denom = n.to(torch.float32)[:, None]
            out[t_item, t_col] = torch.where(denom > 0, s / denom, 0.0)
    return out
