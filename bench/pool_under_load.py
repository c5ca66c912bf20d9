"""Parallel regions while other processes keep every core busy: torch's own op and a small
jagtile kernel, each on 1 and 2 threads, jagtile's regions on torch's intra-op pool (the default
once torch is imported) and on jagtile's own threads, with OpenMP's default wait policy and with
OMP_WAIT_POLICY=PASSIVE (which must be set before OpenMP starts, so each setting runs in a child
process).

The load, started and stopped here, at nice 19: "fuzzer" (the default) is jagtile's own
differential fuzzer (build/fuzz_differential, two jobs: compilers, test children, their
threads), the load under which torch's pool was seen to stall; "spin" is one process per core,
busy 2 ms then asleep 1 ms in turn; "none" measures without load.

    .venv/bin/python bench/pool_under_load.py [--calls N] [--load fuzzer|spin|none]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def child(calls: int) -> None:
    import numpy as np
    import torch

    import jagtile
    from jagtile import _core

    sys.path.insert(0, str(ROOT / "bench"))
    from python_vs_cli import inputs

    def median_us(fn):
        fn()
        ts = []
        for _ in range(calls):
            t0 = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t0) * 1e6)
        return sorted(ts)[len(ts) // 2]

    x, y = torch.ones(1 << 20), torch.ones(1 << 20)
    args = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
            for k, v in inputs("jagged_softmax", batch=48, m=24, max_len=40, heads=2,
                               head_dim=16).items()}
    kernel = jagtile.load(str(ROOT / "examples" / "jagged_softmax.py"))["jagged_softmax"]
    row = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        jagtile.set_num_threads(threads)
        row[f"torch.add 1M, {threads} thr"] = median_us(lambda: torch.add(x, y))
        for pool in ("torch", "own"):
            _core.use_torch_pool(pool == "torch")
            row[f"jagged_softmax, {threads} thr, {pool} pool"] = median_us(lambda: kernel(**args))
    print(json.dumps(row))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--load", choices=["fuzzer", "spin", "none"], default="fuzzer")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.child:
        child(opts.calls)
        return
    load, scratch = [], None
    if opts.load == "spin":
        # Bursts of work and sleep, like builds and test runners.
        busy = ("import os, time\nos.nice(19)\nwhile True:\n    t = time.perf_counter()\n"
                "    while time.perf_counter() - t < 0.002: pass\n    time.sleep(0.001)\n")
        load = [subprocess.Popen([sys.executable, "-c", busy]) for _ in range(os.cpu_count() or 1)]
    elif opts.load == "fuzzer":
        fuzzer = ROOT / "build" / "fuzz_differential"
        if not fuzzer.exists():
            sys.exit(f"{fuzzer} is missing: build it first (make build), or pass --load spin")
        scratch = tempfile.mkdtemp(prefix="jagtile-pool-load-")
        load = [subprocess.Popen(["nice", "-n", "19", str(fuzzer), "--seconds", "100000", "--seed",
                                  "990000", "--jobs", "2", "--out", scratch],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)]
    time.sleep(5 if load else 0)
    try:
        results = {}
        for policy in ("default", "PASSIVE"):
            env = dict(os.environ)
            env.pop("OMP_WAIT_POLICY", None)
            if policy != "default":
                env["OMP_WAIT_POLICY"] = policy
            out = subprocess.run([sys.executable, __file__, "--child", "--calls", str(opts.calls)],
                                 env=env, capture_output=True, text=True, check=True).stdout
            results[policy] = json.loads(out.strip().splitlines()[-1])
    finally:
        for p in load:
            os.killpg(p.pid, signal.SIGKILL) if opts.load == "fuzzer" else p.kill()
            p.wait()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    load_text = {"none": "no background load",
                 "spin": "one process per core at nice 19, busy 2 ms then asleep 1 ms",
                 "fuzzer": "build/fuzz_differential --jobs 2 at nice 19"}[opts.load]
    print(f"# medians of {opts.calls} calls, us; {load_text}")
    print(f"{'case':40} {'OMP default':>12} {'OMP PASSIVE':>12}")
    for case in results["default"]:
        print(f"{case:40} {results['default'][case]:12.1f} {results['PASSIVE'][case]:12.1f}")


if __name__ == "__main__":
    main()
