# Test kernel: softmax over each item's rows, per column, with an online max/normaliser.
import torch
import helion.language as hl
import helion


@helion.kernel
def online_softmax(vals: torch.Tensor, offs: torch.Tensor) -> torch.Tensor:
    n_rows = offs[-1].item()
    groups, feat = offs.size(0) - 1, vals.size(1)
    out = torch.zeros([n_rows * feat], dtype=vals.dtype, device=vals.device)
    flat_in = vals.view(-1)
    for g in hl.tile(groups):
        begin = offs[g]
        length = offs[g.index + 1] - begin
        longest = length.amax()
        for f in hl.tile(feat):
            run_max = hl.full([g, f], float("-inf"), dtype=torch.float32)
            run_sum = hl.zeros([g, f], dtype=torch.float32)
            for r in hl.tile(0, longest):
                pos = (begin[:, None] + r.index[None, :])[:, :, None] * feat + f.index[None, None, :]
                ok = (r.index[None, :] < length[:, None])[:, :, None] & (f.index < feat)[None, None, :]
                x = hl.load(flat_in, [pos], extra_mask=ok).to(torch.float32)
                x = torch.where(ok, x, float("-inf"))
                new_max = torch.maximum(run_max, x.amax(dim=1))
                run_sum = run_sum * torch.exp(run_max - new_max) + torch.exp(
                    x - new_max[:, None, :]
                ).sum(dim=1)
                run_max = new_max
            for r in hl.tile(0, longest):
                pos = (begin[:, None] + r.index[None, :])[:, :, None] * feat + f.index[None, None, :]
                ok = (r.index[None, :] < length[:, None])[:, :, None] & (f.index < feat)[None, None, :]
                x = hl.load(flat_in, [pos], extra_mask=ok).to(torch.float32)
                y = torch.exp(x - run_max[:, None, :]) / run_sum[:, None, :]
                hl.store(out, [pos], y.to(vals.dtype), extra_mask=ok)
    return out.reshape([n_rows, feat])
