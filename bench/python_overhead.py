"""Call overhead of the Python package: the median time of one kernel call from Python on a
tiny input, next to the median of C++ Program::call on the same arguments in the same process
(issue 13's target: at most 5 us above it). Also the same for numpy and torch inputs.

    .venv/bin/python bench/python_overhead.py [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np

import jagtile
from jagtile import _core

ROOT = pathlib.Path(__file__).resolve().parents[1]


def tiny_inputs(batch=4, m=16, max_len=8, seed=0):
    """Inputs of the jagged_sum / jagged_softmax examples (lengths uniform in 0..max_len)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_len + 1, size=batch)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    values = rng.uniform(-1, 1, size=(int(offsets[-1]), m)).astype(np.float32)
    return {"x_values": values, "x_offsets": offsets}


def python_median_us(fn, args, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        fn(**args)
        times.append((time.perf_counter_ns() - t0) / 1000)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=6000, help="calls per implementation")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--medium", action="store_true",
                    help="also B=256 M=64 max_len=128 (the CLI bench's shape)")
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args()

    rows = []
    cases = [("tiny", dict(batch=4, m=16, max_len=8), opts.repeat)]
    if opts.medium:  # the CLI bench's shape: Python and C++ should agree within noise
        cases.append(("B256xM64", dict(batch=256, m=64, max_len=128), opts.rounds * 100))
    for (size, shape, repeat), name in [(c, n) for c in cases
                                        for n in ("jagged_sum", "jagged_softmax")]:
        k = jagtile.load(str(ROOT / "examples" / f"{name}.py"))[name]
        a = tiny_inputs(**shape)
        k(**a)  # compile and warm up
        frameworks = [("numpy", a)]
        if "torch" in sys.modules or _try_torch():
            import torch

            frameworks.append(("torch", {n: torch.from_numpy(v) for n, v in a.items()}))
        # Rounds interleaved and paired: the machine is shared and its speed drifts, so each
        # round times C++ and Python back to back (which goes first alternates, so that neither
        # always inherits the other's cache state) and the overhead is the median of the rounds'
        # differences. The noise is the spread of the C++ rounds' medians (their interquartile
        # range): a difference below it is within the run's noise.
        for fw, args in frameworks:
            per_round = max(repeat // opts.rounds, 1)
            cpp, py = [], []
            for r in range(opts.rounds):
                for which in ((0, 1) if r % 2 == 0 else (1, 0)):
                    if which == 0:
                        cpp.append(_core.cpp_call_median_us(k._prog(), name, args, k._opts(),
                                                            per_round))
                    else:
                        py.append(python_median_us(k, args, per_round))
            diff = sorted(p - c for p, c in zip(py, cpp))
            ordered = sorted(cpp)
            iqr = ordered[(3 * len(ordered)) // 4] - ordered[len(ordered) // 4]
            rows.append({"kernel": name, "size": size, "inputs": fw, "cpp_call_us": round(_median(cpp), 2),
                         "python_call_us": round(_median(py), 2),
                         "overhead_us": round(diff[len(diff) // 2], 2),
                         "cpp_round_iqr_us": round(iqr, 2)})
    if opts.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'kernel':16} {'size':9} {'inputs':7} {'C++ call (us)':>14} "
          f"{'Python call (us)':>17} {'overhead (us)':>14} {'C++ noise (us)':>15}")
    for r in rows:
        print(f"{r['kernel']:16} {r['size']:9} {r['inputs']:7} {r['cpp_call_us']:14.2f} "
              f"{r['python_call_us']:17.2f} {r['overhead_us']:14.2f} {r['cpp_round_iqr_us']:15.2f}")
    print(f"({opts.rounds} paired rounds per row, the order alternating; overhead: median of the"
          f" rounds' differences; C++ noise: interquartile range of the C++ rounds' medians;"
          f" tiny: B=4 M=16 max_len=8; threads: {jagtile.get_num_threads()})")


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def _try_torch():
    try:
        import torch  # noqa: F401

        return True
    except ImportError:
        return False


if __name__ == "__main__":
    main()
