#!/usr/bin/env python3
"""pretuned_hstu_peers: Helion's pretuned target-aware jagged HSTU attention (its forward and its
two backward kernels, dQ and dK / dV, written for TPUs), bodies unchanged, run by jagtile on the
CPU against what a PyTorch user trains with today, on the same tensors, in one process.

    .venv/bin/python bench/peers/pretuned_hstu_peers.py \\
        --helion-file <helion>/pretuned_kernels/jagged_hstu_attention/jagged_hstu_attention.py \\
        --threads 2 --out bench/results/pretuned_hstu_peers

Shape: B=16 sequences of lengths uniform in [256, 512], H=4 heads of D=128 (the file's
NUM_HEADS and HEAD_DIM), float32, each sequence with 1 to 10 targets (as the file's benchmark
draws them). The semantics (the file's docstring): a query sees the history keys up to itself
and its own key; a target never sees another target. No score scale.

Cases and implementations:
    forward   jagtile        the forward kernel
              torch-loop     per sequence: heads first, bmm(q, k^T), silu, the target-aware
                             causal mask, bmm with v
    training  jagtile        forward, then the dQ and the dK / dV kernels (they recompute the
                             scores, as flash-style backward passes do)
              torch-loop     the same loop's forward and its autograd backward
Outputs are checked against torch's. GFLOP/s counts useful FLOPs, causal: 2 * H * D * L^2 per
sequence for the forward (two matmuls of 2 * H * D * L^2 / 2), three times that for a training
step (the backward's four products dP, dV, dQ, dK; the scores' recomputation is not counted).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
import torch.nn.functional as F

from peers_common import (add_run_options, apply_run_options, close, flop_peak_gflops,
                          helion_kernel, log, log_flop_rows, qualify, race, report)


class Case:
    def __init__(self, batch: int, heads: int, dim: int, min_len: int, max_len: int, seed: int):
        rng = np.random.default_rng(seed)
        lengths = rng.integers(min_len, max_len + 1, size=batch)
        targets = np.minimum(rng.integers(1, 11, size=batch), lengths)
        self.batch, self.heads, self.dim = batch, heads, dim
        self.offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
        self.num_targets = torch.from_numpy(targets.astype(np.int64))
        self.rows = int(self.offsets[-1])

        def tensor():
            return torch.from_numpy(rng.standard_normal((self.rows, heads, dim), dtype=np.float32) * 0.1)

        self.q, self.k, self.v, self.grad_out = tensor(), tensor(), tensor(), tensor()
        self.flops = int(sum(2 * heads * dim * int(n) ** 2 for n in lengths))
        self.bytes = 4 * self.rows * heads * dim * 4  # q, k, v read, out written (forward)


def keep_mask(length: int, num_targets: int) -> torch.Tensor:
    """[length, length]: query i keeps key j for j <= i among the history rows, and j == i."""
    i = torch.arange(length)[:, None]
    j = torch.arange(length)[None, :]
    return ((j <= i) & (j < length - num_targets)) | (i == j)


def torch_forward(c: Case, q, k, v):
    o = c.offsets.tolist()
    outs = []
    for b in range(c.batch):
        n = o[b + 1] - o[b]
        qs, ks, vs = (t[o[b]:o[b + 1]].transpose(0, 1) for t in (q, k, v))  # [H, n, D]
        p = F.silu(torch.bmm(qs, ks.transpose(1, 2)))
        p = torch.where(keep_mask(n, int(c.num_targets[b]))[None], p, 0.0)
        outs.append(torch.bmm(p, vs).transpose(0, 1))
    return torch.cat(outs)


def torch_training_step(c: Case):
    q, k, v = (t.detach().requires_grad_() for t in (c.q, c.k, c.v))
    out = torch_forward(c, q, k, v)
    out.backward(c.grad_out)
    return out.detach(), q.grad, k.grad, v.grad


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Helion's pretuned jagged HSTU on jagtile vs PyTorch")
    p.add_argument("--helion-file", required=True,
                   help="Helion's pretuned_kernels/jagged_hstu_attention/jagged_hstu_attention.py")
    p.add_argument("--batch", type=int, default=16)
    add_run_options(p)
    args = p.parse_args(argv)
    apply_run_options(args)
    fwd, dq, dkdv = (helion_kernel(args.helion_file, f"jagged_hstu_attention_{name}")
                     for name in ("fwd", "bwd_dq", "bwd_dk_dv"))
    c = Case(args.batch, 4, 128, 256, 512, args.seed)
    log(f"pretuned HSTU: B={c.batch} H={c.heads} D={c.dim}, {c.rows} rows, "
        f"{c.flops / 1e9:.1f} useful forward GFLOP")
    base = (c.q, c.k, c.v, c.offsets, c.num_targets)
    grads = (c.q, c.k, c.v, c.grad_out, c.offsets, c.num_targets)

    def jagtile_step():
        return (fwd(*base), dq(*grads), *dkdv(*grads))

    want_step = torch_training_step(c)
    rows = []
    for case, ours, theirs, want, flops in (
        ("forward", lambda: fwd(*base), lambda: torch_forward(c, c.q, c.k, c.v), want_step[0],
         c.flops),
        ("training", jagtile_step, lambda: torch_training_step(c), want_step, 3 * c.flops),
    ):
        wanted = want if isinstance(want, tuple) else (want,)
        got = ours()
        got = got if isinstance(got, tuple) else (got,)
        for name, g, w in zip(("out", "dq", "dk", "dv"), got, wanted):
            diff = close(g, w)
            if diff:
                raise SystemExit(f"{case}: jagtile's {name} differs from torch's: {diff}")
        impls, results = qualify(case, ours, [("torch-loop", theirs, "unavailable")],
                                 lambda got: ("ok", None))
        peaks = [flop_peak_gflops()]
        stats, read_gbps = race(impls, args.rounds, c.bytes, flops)
        peak = max(peaks + [flop_peak_gflops()])
        log(f"  {case}: streaming read {read_gbps:.1f} GB/s, f32 FMA peak {peak:.1f} GFLOP/s")
        for impl, st in stats.items():
            r = results[impl]
            r.update(st)
            r["pct_of_flop_peak"] = 100.0 * st["gflops"] / peak
            rows.append(dict(kernel=f"pretuned_hstu_{case}", dist="uniform", batch=c.batch,
                             heads=c.heads, head_dim=c.dim, rows=c.rows, useful_flops=flops,
                             stream_read_gbps=read_gbps, flop_peak_gflops=peak, **r))
    log_flop_rows(rows, lambda r: f"{r['kernel']:24s}")
    report(rows, args, args.out, "Helion's pretuned jagged HSTU (fwd + bwd): jagtile vs PyTorch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
