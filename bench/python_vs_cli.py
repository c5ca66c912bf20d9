"""Every bundled example called from Python and through C++ `Program::call`, each timed the way
`jagtile bench` times a kernel: one call per round after a streaming read of a buffer as large as
the inputs (read three times, as the CLI's peak probe is), the order of the calls rotating from round
to round, all in this one process. Issue 13's target reads "bundled kernels called from Python
run as fast as through the CLI, within noise, same run": here "the CLI" is its own way of timing,
and "noise" the interquartile range of the C++ calls' times over the rounds. A third call in each
round, "bare", is the floor any Python package pays: a call from Python into jagtile's extension
that converts the same arguments and returns without running anything.
`bench/python_overhead.py` measures the stricter case of calls back to back in a hot loop.

    .venv/bin/python bench/python_vs_cli.py [--shape cli|medium] [--rounds N] [--inputs torch|numpy]

Shapes: "cli" is the CLI's default example shape (batch 48, features 24, max-len 40; HSTU 2
heads of 16); "medium" is batch 256, features 64, max-len 128 (HSTU 4 heads of 32). Lengths are
uniform around half of max-len, as the CLI's default generator draws them.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time

import numpy as np

import jagtile
from jagtile import _core

ROOT = pathlib.Path(__file__).resolve().parents[1]
KERNELS = ["jagged_sum", "jagged_mean", "jagged_max", "jagged_softmax", "jagged_layer_norm",
           "jagged_dense_add", "jagged_dense_bmm", "jagged_hstu_attention"]
SHAPES = {"cli": dict(batch=48, m=24, max_len=40, heads=2, head_dim=16),
          "medium": dict(batch=256, m=64, max_len=128, heads=4, head_dim=32)}


def inputs(name: str, batch: int, m: int, max_len: int, heads: int, head_dim: int, seed=0):
    """The kernel's arguments, numpy, lengths uniform in max_len/2 +- 0.3 max_len."""
    rng = np.random.default_rng(seed)
    spread = 0.3 * max_len
    lengths = np.clip(np.rint(max_len / 2 + rng.uniform(-spread, spread, size=batch)), 0,
                      max_len).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    n = int(offsets[-1])

    def uniform(*shape):
        return rng.uniform(-1, 1, size=shape).astype(np.float32)

    if name == "jagged_hstu_attention":
        return {"q": uniform(n, heads, head_dim), "k": uniform(n, heads, head_dim),
                "v": uniform(n, heads, head_dim), "seq_offsets": offsets,
                "max_seq_len": int(max_len), "alpha": float(1.0 / np.sqrt(head_dim))}
    a = {"x_values": uniform(n, m), "x_offsets": offsets}
    if name == "jagged_mean":
        a["x_feature_counts"] = rng.integers(0, m + 1, size=batch).astype(np.int32)
    elif name == "jagged_layer_norm":
        a["eps"] = 1e-6
    elif name == "jagged_dense_add":
        a["y"] = uniform(batch, max_len, m)
    elif name == "jagged_dense_bmm":
        a["weight"], a["bias"] = uniform(batch, m, m), uniform(batch, m)
    return a


def quartiles(xs):
    q = statistics.quantiles(xs, n=4)
    return q[0], statistics.median(xs), q[2]


def race(name: str, args: dict, rounds: int) -> dict:
    kernel = jagtile.load(str(ROOT / "examples" / f"{name}.py"))[name]
    kernel(**args)  # compile, specialise and warm up outside the rounds
    prog, opts = kernel._prog(), kernel._opts()
    nbytes = sum(v.nbytes for v in args.values() if hasattr(v, "nbytes"))
    flush = np.ones(max(nbytes // 4, 1024), dtype=np.float32)

    def python_us():
        t0 = time.perf_counter_ns()
        kernel(**args)
        return (time.perf_counter_ns() - t0) / 1000

    def cpp_us():  # timed inside C++ around Program::call, as the CLI times it
        return _core.cpp_call_median_us(prog, name, args, opts, 1)

    def bare_us():  # a Python call into the extension that converts the same arguments, no run
        t0 = time.perf_counter_ns()
        _core.cpp_call_median_us(prog, name, args, opts, 0)
        return (time.perf_counter_ns() - t0) / 1000

    impls = [("cpp", cpp_us), ("python", python_us), ("bare", bare_us)]
    times = {n: [] for n, _ in impls}
    for r in range(rounds):
        for n, fn in impls[r % len(impls):] + impls[:r % len(impls)]:
            for _ in range(3):  # the CLI's peak probe: three reads of an input-sized buffer
                float(flush.sum())
            times[n].append(fn())
    (c25, cpp, c75), (p25, py, p75) = quartiles(times["cpp"]), quartiles(times["python"])
    bare = statistics.median(times["bare"])
    return {"kernel": name, "input_bytes": nbytes, "cpp_us": round(cpp, 2),
            "python_us": round(py, 2), "difference_us": round(py - cpp, 2),
            "cpp_iqr_us": round(c75 - c25, 2), "python_iqr_us": round(p75 - p25, 2),
            "bare_call_us": round(bare, 2), "beyond_bare_us": round(py - cpp - bare, 2),
            "within_noise": abs(py - cpp) <= c75 - c25}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="cli")
    ap.add_argument("--rounds", type=int, default=301)
    ap.add_argument("--inputs", choices=["torch", "numpy"], default="torch")
    ap.add_argument("--kernels", default=",".join(KERNELS))
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args()
    rows = []
    for name in opts.kernels.split(","):
        args = inputs(name, **SHAPES[opts.shape])
        if opts.inputs == "torch":
            import torch

            args = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
                    for k, v in args.items()}
        rows.append(race(name, args, opts.rounds))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    if opts.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'kernel':22} {'C++ (us)':>9} {'Python (us)':>12} {'diff (us)':>10} "
          f"{'C++ IQR (us)':>13} {'Py IQR (us)':>12}  within noise {'bare call (us)':>15} "
          f"{'diff - bare (us)':>17}")
    for r in rows:
        print(f"{r['kernel']:22} {r['cpp_us']:9.2f} {r['python_us']:12.2f} "
              f"{r['difference_us']:10.2f} {r['cpp_iqr_us']:13.2f} {r['python_iqr_us']:12.2f}  "
              f"{'yes' if r['within_noise'] else 'NO':>12} {r['bare_call_us']:15.2f} "
              f"{r['beyond_bare_us']:17.2f}")
    print(f"(shape {opts.shape}: {SHAPES[opts.shape]}; {opts.inputs} inputs; {opts.rounds} rounds, "
          f"one call of each per round after three reads of an input-sized buffer, order "
          f"rotating; medians; threads: {jagtile.get_num_threads()})")


if __name__ == "__main__":
    main()
