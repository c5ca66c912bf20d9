"""The bundled jagged_hstu_attention on many short items of varied lengths (uniform in [lo, hi]),
the shape of recommendation histories: items few enough per worker that jagtile runs them
longest first, so consecutive programs on a worker are not neighbours in memory. Each call
follows a 64 MB read (its inputs leave the caches); medians; useful GFLOP/s (causal: 2 H D L^2
per item). Run it under two builds of the package to compare them (the older one's installed
`jagtile` folder copied aside and put first on PYTHONPATH), alternating processes:

    .venv/bin/python bench/peers/hstu_varied.py --lengths 32,96 --items 128 --heads 1 --threads 2

With --zipf it times the races' zipf case instead (attention_peers.py: B=64, H=4, D=128, max_len
1024, seed 1) and also prints the % of jagtile's FMA probe, measured after the calls; with
--helion-file as well, Helion's jagged_hstu_attn_2 kernel (body unchanged) on that case.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

import jagtile
from hstu_by_length import KERNEL


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", default="32,96", help="lo,hi: item lengths uniform in [lo, hi]")
    p.add_argument("--items", type=int, default=128)
    p.add_argument("--heads", type=int, default=1)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--calls", type=int, default=21)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--zipf", action="store_true", help="the races' zipf case instead")
    p.add_argument("--helion-file", help="with --zipf: Helion's examples/jagged_hstu_attn_2.py, "
                   "its kernel timed instead of the bundled one")
    args = p.parse_args()
    jagtile.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    kernel = jagtile.load(str(KERNEL))["jagged_hstu_attention"]
    if args.zipf:
        from attention_peers import Case

        case = Case("zipf", 64, 4, 128, 1024, 1)
        lengths, label = case.lengths, "the races' zipf case (B=64, H=4, D=128, seed 1)"
        args.heads, args.dim = case.heads, case.dim
        q, k, v, offsets, bound, alpha = (case.q, case.k, case.v, case.offsets, case.bound,
                                          case.alpha)
    else:
        lo, hi = (int(x) for x in args.lengths.split(","))
        gen = torch.Generator().manual_seed(args.seed)
        lengths = torch.randint(lo, hi + 1, (args.items,), generator=gen)
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64), lengths.cumsum(0)])
        rows = int(offsets[-1])
        q, k, v = (torch.randn(rows, args.heads, args.dim, generator=gen) for _ in range(3))
        bound, alpha = int(lengths.max()), 0.1
        label = f"{args.items} items of {lo}-{hi} rows, H={args.heads}, D={args.dim}"
    flush = torch.ones(1 << 24)

    if args.helion_file:
        if not args.zipf:
            raise SystemExit("--helion-file needs --zipf")
        from peers_common import helion_kernel

        helion = helion_kernel(args.helion_file, "jagged_hstu_attention")
        offsets32 = offsets.to(torch.int32)
        label += ", Helion's kernel"

        def call():  # Helion's argument order: max_len, alpha, scale, q, k, v, offsets
            return helion(case.max_len, alpha, 1.0 / bound, q, k, v, offsets32)
    else:
        def call():
            return kernel(q, k, v, offsets, bound, alpha)

    call()  # compile and warm up
    times = []
    for _ in range(args.calls):
        float(flush.sum())
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    flops = sum(2 * args.heads * args.dim * int(n) ** 2 for n in lengths)
    gflops = flops / median / 1e9
    share = ""
    if args.zipf:
        from peers_common import flop_peak_gflops

        peak = flop_peak_gflops()
        share = f", {100 * gflops / peak:.1f}% of the {peak:.1f} GFLOP/s probe"
    print(f"{jagtile.__file__}: {label}, {args.threads} threads: {median * 1e3:.3f} ms, "
          f"{gflops:.1f} GFLOP/s{share}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
