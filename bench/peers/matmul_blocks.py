"""A matmul kernel at its default blocks and at the block sizes given, on the same data,
round-robin in one process, next to jagtile's fp32 FMA probe run in the same rounds: the A/B
behind the default blocks of matmul kernels (src/ir/lower.cpp, docs/performance.md). The kernels:
the bundled jagged_dense_bmm (blocks tile_b,tile_k,tile_n,tile_d), jagtile.ops'
jagged_jagged_bmm (blocks tile_b,tile_d,tile_e,tile_k; x and y both [N, D]) and the bundled
jagged_hstu_attention (blocks tile_q,tile_k) on attention_peers.py's cases (--dist uniform or
zipf; the shape options do not apply).

    .venv/bin/python bench/peers/matmul_blocks.py --blocks 1,64,64,64 --blocks 1,64,64,128 \
        [--kernel jagged_dense_bmm] [--batch 1024 --features 256 --max-len 512 --rounds 9]
        [--dtype bf16]

With --dtype bf16 the float inputs are cast to bf16 (the kernels' bf16 matmul paths: AMX tiles
or AVX512-BF16 pairs where the CPU has them) and the table adds the same rounds' bf16 probe.

Lengths are uniform in 0..max_len (as bench/peers/cpu_peers.py draws them); every variant's
output is checked against the default's first (fp32 sums in another order may differ in the
last bits).
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
from peers_common import bf16_peak_gflops, close, flop_peak_gflops

ROOT = Path(__file__).resolve().parents[2]
FILES = {"jagged_dense_bmm": ROOT / "examples" / "jagged_dense_bmm.py",
         "jagged_jagged_bmm": ROOT / "ops" / "jagged_jagged_bmm.py",
         "jagged_hstu_attention": ROOT / "examples" / "jagged_hstu_attention.py"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", choices=sorted(FILES), default="jagged_dense_bmm")
    ap.add_argument("--blocks", action="append", default=[],
                    help="block sizes in the kernel's loop order, comma-separated (repeatable)")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--features", type=int, default=256,
                    help="D: jagged_dense_bmm's weights are [batch, D, D]; jagged_jagged_bmm's "
                         "x and y [N, D]")
    ap.add_argument("--max-len", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dist", choices=["uniform", "zipf"], default="uniform",
                    help="jagged_hstu_attention's case (attention_peers.py's shapes)")
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32",
                    help="the float inputs' dtype")
    args = ap.parse_args()
    jagtile.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(args.seed)
    B, D = args.batch, args.features
    lengths = rng.integers(0, args.max_len + 1, size=B)
    offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    N = int(offsets[-1])
    g = torch.Generator().manual_seed(args.seed)
    flops = 2 * N * D * D  # the bmms: every row is a rank-1 update of (or a product with) D x D
    if args.kernel == "jagged_dense_bmm":
        inputs = dict(x_values=torch.randn(N, D, generator=g), x_offsets=offsets,
                      weight=torch.randn(B, D, D, generator=g), bias=torch.randn(B, D, generator=g))
    elif args.kernel == "jagged_jagged_bmm":
        inputs = dict(x_values=torch.randn(N, D, generator=g),
                      y_values=torch.randn(N, D, generator=g), x_offsets=offsets,
                      max_L=args.max_len)
    else:
        from attention_peers import Case

        shape = (16, 32, 128, 512) if args.dist == "uniform" else (64, 4, 128, 1024)
        case = Case(args.dist, *shape, args.seed)
        inputs, flops, N = case.args, case.flops, case.rows
        B, D, args.max_len = shape[0], shape[2], shape[3]

    bf16 = args.dtype == "bf16"
    if bf16:
        inputs = {n: v.bfloat16() if isinstance(v, torch.Tensor) and v.is_floating_point() else v
                  for n, v in inputs.items()}
    variants = [("default", None)] + [(b, [int(x) for x in b.split(",")]) for b in args.blocks]
    calls, want = {}, None
    for name, blocks in variants:
        config = {"block_sizes": blocks} if blocks else None
        kernel = jagtile.load(str(FILES[args.kernel]), config=config)[args.kernel]
        got = kernel(**inputs)  # compiles
        if want is None:
            want = got
        elif (why := close(got.float(), want.float(), rtol=2 ** -7 if bf16 else 1e-5,
                           atol=5e-2 if bf16 else 1e-3)) is not None:
            sys.exit(f"blocks {name}: output differs from the default's: {why}")
        calls[name] = lambda kernel=kernel: kernel(**inputs)

    times = {name: [] for name in calls}
    peaks, bf16_peaks = [], []
    for r in range(args.rounds):
        peaks.append(flop_peak_gflops(rounds=3))
        if bf16:
            bf16_peaks.append(bf16_peak_gflops(rounds=3))
        order = list(calls)[r % len(calls):] + list(calls)[:r % len(calls)]
        for name in order:
            t0 = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - t0)
    peak = statistics.median(peaks)
    bf16_peak = statistics.median(bf16_peaks) if bf16 else 0.0
    print(f"{args.kernel} {args.dtype} B={B} D={D} max_len={args.max_len} N={N}, {args.threads} "
          f"threads, {args.rounds} rounds; same-run f32 FMA probe {peak:.1f} GFLOP/s"
          + (f", bf16 probe {bf16_peak:.1f} GFLOP/s" if bf16 else ""))
    print("| blocks | median ms | GFLOP/s | % of FMA probe |" + (" % of bf16 probe |" if bf16 else "")
          + "\n|---|---:|---:|---:|" + ("---:|" if bf16 else ""))
    for name, ts in times.items():
        t = statistics.median(ts)
        rate = flops / t / 1e9
        print(f"| {name} | {t * 1e3:.2f} | {rate:.1f} | {100 * rate / peak:.1f}% |"
              + (f" {100 * rate / bf16_peak:.1f}% |" if bf16 else ""))


if __name__ == "__main__":
    main()
