"""Whether jagtile's two threads lose anything to each other on HSTU attention, or the machine
does: the bundled jagged_hstu_attention on sequences of one length each (H = 4, D = 128, about
64 MB of q, k and v), timed three ways in turn, round by round:

    one      one process, one thread
    two      one process, two threads (jagtile's pool: the work split by its scheduler)
    apart    two processes of one thread each, started together (no shared pool, no shared
             scheduling; only the machine is shared: its caches, memory and power)

Each run reports useful GFLOP/s (causal: 2 * H * D * L^2 per sequence) and jagtile's fp32 FMA
probe on its own threads, before and after. If `two` is as fast as the two `apart` runs added,
a rate lost between one thread and two belongs to the machine, not to jagtile's pool.

    .venv/bin/python bench/peers/hstu_thread_scaling.py [--lengths 1024,256] [--calls 15]
        [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEADS, DIM = 4, 128


def run_one(threads: int, lengths: list[int], calls: int) -> str:
    """One timing run in this process: the probe, each length, the probe again; one line."""
    import torch

    import jagtile
    from hstu_by_length import KERNEL, variant
    from peers_common import flop_peak_gflops

    jagtile.set_num_threads(threads)
    torch.set_num_threads(threads)
    kernel = jagtile.load(str(KERNEL))["jagged_hstu_attention"]
    before = flop_peak_gflops()
    parts = []
    for length in lengths:
        seqs = max(threads, (1 << 24) // (length * HEADS * DIM * 4))
        call, flops = variant(kernel, length, HEADS, DIM, seqs, 0)
        call()  # compile and warm up
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        gflops = flops / median / 1e9
        parts.append(f"L={length}: {median * 1e3:7.2f} ms {gflops:6.1f} GFLOP/s")
    after = flop_peak_gflops()
    return f"probe {before:6.1f} / {after:6.1f} GFLOP/s   " + "   ".join(parts)


def child(threads: int, lengths: list[int], calls: int) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--child", str(threads), "--lengths",
           ",".join(map(str, lengths)), "--calls", str(calls)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", default="1024,256")
    p.add_argument("--calls", type=int, default=15)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)  # a run's thread count
    args = p.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if args.child:
        print(run_one(args.child, lengths, args.calls), flush=True)
        return 0
    print(f"# {' '.join(sys.argv)}: H={HEADS} D={DIM}, {args.calls} calls per length, medians",
          flush=True)
    for r in range(args.rounds):
        for mode, runs in (("one", [1]), ("two", [2]), ("apart", [1, 1])):
            procs = [child(t, lengths, args.calls) for t in runs]  # started together
            outs = [proc.communicate()[0].strip() for proc in procs]
            if any(proc.returncode for proc in procs):
                print(f"round {r + 1} {mode}: a run failed", file=sys.stderr)
                return 1
            for out in outs:
                print(f"round {r + 1} {mode:5s} {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
