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
        # round times C++ and Python back to back (the order rotates, so that none always
        # inherits another's cache state) and the overhead is the median of the rounds'
        # differences. The noise is the spread of the C++ rounds' medians (their interquartile
        # range): a difference below it is within the run's noise. A third timing calls
        # Program::call once per iteration of the same Python loop (binding the same arguments
        # in C++): what the kernel costs from C++ when a Python loop drives it, which separates
        # the package's own cost (Python call minus this) from what any per-call entry pays in
        # a Python loop (this minus the tight C++ loop).
        prog, call_opts = k._prog(), k._opts()

        def cpp_once(**kw):
            return _core.cpp_call_median_us(prog, name, kw, call_opts, 1)

        for fw, args in frameworks:
            per_round = max(repeat // opts.rounds, 1)
            cpp, py, looped = [], [], []
            timings = [lambda: cpp.append(_core.cpp_call_median_us(prog, name, args, call_opts,
                                                                    per_round)),
                       lambda: py.append(python_median_us(k, args, per_round)),
                       lambda: looped.append(python_median_us(cpp_once, args, per_round))]
            for r in range(opts.rounds):
                for t in timings[r % 3:] + timings[:r % 3]:
                    t()
            diff = sorted(p - c for p, c in zip(py, cpp))
            own = sorted(p - c for p, c in zip(py, looped))
            ordered = sorted(cpp)
            iqr = ordered[(3 * len(ordered)) // 4] - ordered[len(ordered) // 4]
            rows.append({"kernel": name, "size": size, "inputs": fw, "cpp_call_us": round(_median(cpp), 2),
                         "python_call_us": round(_median(py), 2),
                         "overhead_us": round(diff[len(diff) // 2], 2),
                         "cpp_round_iqr_us": round(iqr, 2),
                         "cpp_call_from_python_loop_us": round(_median(looped), 2),
                         "package_own_us": round(own[len(own) // 2], 2)})
    if opts.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'kernel':16} {'size':9} {'inputs':7} {'C++ call (us)':>14} "
          f"{'Python call (us)':>17} {'overhead (us)':>14} {'C++ noise (us)':>15} "
          f"{'C++ per Py iter (us)':>21} {'package own (us)':>17}")
    for r in rows:
        print(f"{r['kernel']:16} {r['size']:9} {r['inputs']:7} {r['cpp_call_us']:14.2f} "
              f"{r['python_call_us']:17.2f} {r['overhead_us']:14.2f} {r['cpp_round_iqr_us']:15.2f} "
              f"{r['cpp_call_from_python_loop_us']:21.2f} {r['package_own_us']:17.2f}")
    print(f"({opts.rounds} rounds per row, the order rotating; overhead: median of the rounds'"
          f" differences (Python - C++ loop); C++ noise: interquartile range of the C++ rounds'"
          f" medians; C++ per Py iter: Program::call once per iteration of a Python loop;"
          f" package own: median of Python - that;"
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
