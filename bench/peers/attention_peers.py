#!/usr/bin/env python3
"""attention_peers: jagged causal SiLU attention (HSTU) on the CPU, jagtile against what a PyTorch
user runs today, on the same tensors, in one process.

    .venv/bin/python bench/peers/attention_peers.py --out bench/results/attention_peers

Cases (issue 12's shapes, float32): "uniform": B=16, H=32, D=128, lengths uniform in
[max_len/2, max_len] with max_len 512; "zipf": B=64, H=4, D=128, max_len 1024, zipf-skewed
lengths. --scale shrinks B (for a quick run).

Implementations:
    jagtile        examples/jagged_hstu_attention.py through the Python package
    torch-loop     per sequence: heads first, bmm(q, k^T), silu, causal mask, bmm with v
    torch-padded   pad to [B, max_len, H, D], einsum, silu, causal mask, einsum, unpad: the
                   reference generative-recommenders and Helion's HSTU example compare with
    jagtile-helion Helion's own kernel (examples/jagged_hstu_attn_2.py of a Helion checkout,
                   --helion-file), body unchanged, extracted as scripts/helion_check.py does and
                   run on jagtile; it visits every key block and masks (twice the work)
Each peer's output is checked against jagtile's first. Timing is round-robin (peers_common.race)
beside a streaming read; GFLOP/s counts useful FLOPs only, causal: 2 * H * D * L^2 per sequence
(two matmuls of 2 * H * D * L^2 / 2), as tritonbench and generative-recommenders count them. The
FLOP peak is jagtile's same-run f32 FMA probe on the same threads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import jagtile
from peers_common import (add_run_options, apply_run_options, close, flop_peak_gflops,
                          helion_kernel, lengths_for, log, log_flop_rows, own_pool_candidates,
                          qualify, race, report, tune)

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "examples" / "jagged_hstu_attention.py"


class Case:
    def __init__(self, dist: str, batch: int, heads: int, dim: int, max_len: int, seed: int):
        rng = np.random.default_rng(seed)
        if dist == "uniform":
            lengths = rng.integers(max_len // 2, max_len + 1, size=batch)
        else:  # zipf: most sequences short, a few at max_len (as jagtile's datagen draws them)
            lengths = lengths_for("zipf", batch, max_len, rng)
        self.name, self.dist = "jagged_hstu_attention", dist
        self.batch, self.heads, self.dim, self.max_len = batch, heads, dim, max_len
        self.lengths = torch.from_numpy(lengths.astype(np.int64))
        self.offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
        rows = int(self.offsets[-1])
        self.rows = rows

        def tensor():
            return torch.from_numpy(rng.standard_normal((rows, heads, dim), dtype=np.float32))

        self.q, self.k, self.v = tensor(), tensor(), tensor()
        self.alpha = 1.0 / dim**0.5
        self.bound = int(lengths.max())  # HSTU's max_seq_len: the tightest bound
        self.args = dict(q=self.q, k=self.k, v=self.v, seq_offsets=self.offsets,
                         max_seq_len=self.bound, alpha=self.alpha)
        self.flops = int(sum(2 * heads * dim * int(n) ** 2 for n in lengths))
        self.bytes = 4 * rows * heads * dim * 4  # q, k, v read, out written


def torch_loop(c: Case):
    o = c.offsets.tolist()
    outs = []
    for b in range(c.batch):
        q, k, v = (t[o[b]:o[b + 1]].transpose(0, 1) for t in (c.q, c.k, c.v))  # [H, L, D]
        s = F.silu(torch.bmm(q, k.transpose(1, 2)) * c.alpha) / c.bound
        s = torch.tril(s)
        outs.append(torch.bmm(s, v).transpose(0, 1))
    return torch.cat(outs)


def torch_padded(c: Case):
    def pad(t):
        return torch.nested.to_padded_tensor(
            torch.nested.nested_tensor_from_jagged(t.view(c.rows, -1), c.offsets), 0.0,
            output_size=(c.batch, c.max_len, c.heads * c.dim)).view(c.batch, c.max_len, c.heads, c.dim)

    q, k, v = pad(c.q), pad(c.k), pad(c.v)
    s = F.silu(torch.einsum("bnhd,bmhd->bhnm", q, k) * c.alpha) / c.bound
    causal = torch.ones(c.max_len, c.max_len, dtype=torch.bool).tril()
    valid = torch.arange(c.max_len)[None, :] < c.lengths[:, None]  # [B, max_len]
    keep = causal[None, None] & valid[:, None, None, :] & valid[:, None, :, None]
    out = torch.einsum("bhnm,bmhd->bnhd", torch.where(keep, s, 0.0), v)
    return out[valid]  # [rows, H, D]


def run_case(case: Case, kernel, rounds: int, helion=None, extra=()) -> list[dict]:
    want = kernel(**case.args)[:case.rows]
    tol = dict(rtol=1e-4, atol=1e-5)

    def check(got):
        diff = close(got, want, **tol)
        return ("ok", None) if diff is None else (f"differs from jagtile: {diff}", None)

    candidates = [*extra, ("torch-loop", lambda: torch_loop(case), "unavailable"),
                  ("torch-padded", lambda: torch_padded(case), "unavailable")]
    if helion is not None:
        offsets32 = case.offsets.to(torch.int32)
        candidates.insert(0, ("jagtile-helion", lambda: helion(
            case.max_len, case.alpha, 1.0 / case.bound, case.q, case.k, case.v, offsets32), "-"))
    impls, results = qualify(f"attention/{case.dist}", lambda: kernel(**case.args), candidates, check)
    peaks = [flop_peak_gflops()]
    stats, read_gbps = race(impls, rounds, case.bytes, case.flops)
    peaks.append(flop_peak_gflops())
    peak = max(peaks)  # a limit: a probe slowed by a neighbour on a shared machine is not it
    log(f"  attention/{case.dist}: streaming read {read_gbps:.1f} GB/s, f32 FMA peak {peak:.1f} GFLOP/s")
    rows = []
    for impl, st in stats.items():
        r = results[impl]
        r.update(st)
        r["pct_of_flop_peak"] = 100.0 * st["gflops"] / peak
        rows.append(dict(kernel=case.name, dist=case.dist, batch=case.batch, heads=case.heads,
                         head_dim=case.dim, max_len=case.max_len, rows=case.rows, bytes=case.bytes,
                         useful_flops=case.flops, stream_read_gbps=read_gbps,
                         flop_peak_gflops=peak, **r))
    for impl, r in results.items():
        if "median_ms" not in r:
            rows.append(dict(kernel=case.name, dist=case.dist, **r))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="jagged HSTU attention: jagtile vs PyTorch on the CPU")
    p.add_argument("--dists", default="uniform,zipf")
    p.add_argument("--scale", type=float, default=1.0, help="multiplies the batch sizes")
    p.add_argument("--helion-file", help="Helion's examples/jagged_hstu_attn_2.py, also timed")
    add_run_options(p)
    args = p.parse_args(argv)
    apply_run_options(args)
    kernel = jagtile.load(str(KERNEL))["jagged_hstu_attention"]
    helion = helion_kernel(args.helion_file, "jagged_hstu_attention") if args.helion_file else None
    shapes = {"uniform": (16, 32, 128, 512), "zipf": (64, 4, 128, 1024)}
    rows = []
    for dist in args.dists.split(","):
        batch, heads, dim, max_len = shapes[dist]
        case = Case(dist, max(1, int(batch * args.scale)), heads, dim, max_len, args.seed)
        log(f"attention / {dist}: B={case.batch} H={heads} D={dim} max_len={max_len}, "
            f"{case.rows} rows, {case.flops / 1e9:.1f} useful GFLOP")
        config = tune(kernel, case.args) if args.autotune else "defaults"
        rows += [dict(r, jagtile_config=config)
                 for r in run_case(case, kernel, args.rounds, helion,
                                   own_pool_candidates(args, lambda: kernel(**case.args)))]
    log_flop_rows(rows, lambda r: f"{r['dist']:8s}")
    report(rows, args, args.out, "jagged HSTU attention: jagtile vs PyTorch on the CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
