"""The bundled jagged_hstu_attention on sequences of one length each, to see what a short sequence
costs: for each length L, heads H as given (their rows interleaved in memory, as in the races)
and one head (the same work with each head's rows contiguous), each with as many sequences as
make about --gflop useful GFLOP (data far larger than the caches) and with --small sequences
(data that stays in the last-level cache between calls). All variants run round-robin in one
process beside jagtile's fp32 FMA probe on the same threads, so their GFLOP/s and % of the probe
are same-run figures. Useful FLOPs are the causal ones, 2 * H * D * L^2 per sequence (two matmuls
of half an L x L block), as issue 12 counts them.

    .venv/bin/python bench/peers/hstu_by_length.py [--lengths 16,32,64,128] [--threads 1]

Zipf-skewed lengths (attention_peers.py) hold many sequences of 15-60 rows; this separates their
cost per (sequence, head) item from the long sequences'. With --zipf-model SEED it then predicts
the zipf race's % of the probe (attention_peers.py's draw: B=64, max_len 1024, that seed; the
races use seed 1) from these rates: each sequence's time is its useful FLOPs at the measured rate
of its length (interpolated in log2 L between the measured lengths, the end rates beyond them),
and the time and FLOP shares of each band of lengths show where the time goes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

import jagtile
from peers_common import flop_peak_gflops, lengths_for, log

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "examples" / "jagged_hstu_attention.py"


def variant(kernel, length: int, heads: int, dim: int, sequences: int, seed: int):
    """A call of the kernel on `sequences` sequences of `length` rows each, and its useful FLOPs."""
    g = torch.Generator().manual_seed(seed)
    offsets = torch.arange(sequences + 1, dtype=torch.int64) * length
    q, k, v = (torch.randn(sequences * length, heads, dim, generator=g) for _ in range(3))
    flops = 2 * heads * dim * length * length * sequences

    def call():
        return kernel(q, k, v, offsets, length, 0.1)

    return call, flops


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="16,32,64,128")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--gflop", type=float, default=0.2, help="useful GFLOP per large call")
    ap.add_argument("--small", type=int, default=16, help="sequences of the cache-resident calls")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=5, help="calls per variant per round")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--zipf-model", type=int, metavar="SEED",
                    help="predict the zipf race of that seed from the measured rates")
    args = ap.parse_args()
    jagtile.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    kernel = jagtile.load(str(KERNEL))["jagged_hstu_attention"]

    variants = []  # (label, L, H, sequences, call, flops)
    for length in (int(x) for x in args.lengths.split(",")):
        for heads in (args.heads, 1):
            large = max(1, round(args.gflop * 1e9 / (2 * heads * args.dim * length * length)))
            for sequences in (large, args.small * args.heads // heads):
                call, flops = variant(kernel, length, heads, args.dim, sequences, args.seed)
                call()  # compile (once) and warm
                variants.append((f"L={length} H={heads} B={sequences}", length, heads, sequences,
                                 call, flops))
    log(f"{len(variants)} variants, {args.rounds} rounds of {args.calls} calls each")

    times = {v[0]: [] for v in variants}
    probes = []
    for r in range(args.rounds):  # round-robin, the order rotating: drift hits every variant alike
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        probes.append(flop_peak_gflops(rounds=3))
        for label, _, _, _, call, _ in order:
            for _ in range(args.calls):
                t0 = time.perf_counter()
                call()
                times[label].append(time.perf_counter() - t0)
    peak = statistics.median(probes)

    print(f"# bench/peers/hstu_by_length.py --lengths {args.lengths} --heads {args.heads} "
          f"--threads {args.threads}: bundled jagged_hstu_attention, D={args.dim}, f32")
    print(f"# FMA probe: median {peak:.1f} GFLOP/s over the rounds "
          f"({min(probes):.1f}-{max(probes):.1f}), {args.threads} thread(s)")
    print(f"{'variant':24} {'data MB':>8} {'median ms':>10} {'us/item':>8} {'GFLOP/s':>8} "
          f"{'% probe':>8}")
    rates = {}  # length -> fraction of the probe, the large calls with args.heads heads
    for label, length, heads, sequences, _, flops in variants:
        median = statistics.median(times[label])
        data_mb = 4 * sequences * length * heads * args.dim * 4 / 1e6  # q, k, v, out
        per_item = median * 1e6 / (sequences * heads)
        gflops = flops / median / 1e9
        print(f"{label:24} {data_mb:8.1f} {median * 1e3:10.3f} {per_item:8.2f} {gflops:8.1f} "
              f"{100 * gflops / peak:7.1f}%")
        if heads == args.heads and sequences != args.small:
            rates[length] = gflops / peak
    if args.zipf_model is not None:
        zipf_model(rates, args.zipf_model)
    return 0


def zipf_model(rates: dict, seed: int) -> None:
    """The zipf race's % of the probe if each of its sequences ran at the measured rate of its
    length, and each band's share of the FLOPs and of the time."""
    lengths = lengths_for("zipf", 64, 1024, np.random.default_rng(seed))
    lengths = lengths[lengths > 0].astype(np.float64)
    known = sorted(rates)
    rate = np.interp(np.log2(lengths), np.log2(known), [rates[n] for n in known])
    flops = lengths**2  # 2 H D L^2 per sequence: the constant cancels in every share
    time_of = flops / rate
    print(f"# zipf model, seed {seed}: {len(lengths)} sequences, {int(lengths.sum())} rows, the "
          f"longest {int(lengths.max())}; rates measured at L = {', '.join(map(str, known))}")
    print(f"predicted: {100 * flops.sum() / time_of.sum():.1f}% of the probe")
    bands = [0, 64, 128, 256, 512, 1025]
    for lo, hi in zip(bands, bands[1:]):
        inside = (lengths >= lo) & (lengths < hi)
        print(f"  L in [{lo}, {hi}): {int(inside.sum()):3d} sequences, "
              f"{100 * flops[inside].sum() / flops.sum():5.1f}% of the FLOPs, "
              f"{100 * time_of[inside].sum() / time_of.sum():5.1f}% of the time")


if __name__ == "__main__":
    sys.exit(main())
