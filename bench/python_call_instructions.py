"""Instructions per kernel call from Python, counted by valgrind's callgrind: a measure of the
package's call overhead that does not move with the machine's load (bench/python_overhead.py
times the same calls, but on a shared machine its figures drift by microseconds).

Each mode runs N calls of the bundled jagged_sum on a tiny input (4 items of 4 rows, 4 features) inside
functools.reduce, and callgrind counts only what runs inside it (--toggle-collect). Reported per
call: the whole call, C++ Program::call within it, and the difference (what the package adds,
plus a few hundred instructions of the reduce loop itself).

    .venv/bin/python bench/python_call_instructions.py [--calls N] [--json]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_calls(calls: int, framework: str) -> None:
    """The measured child: `calls` calls of jagged_sum, all inside one functools.reduce."""
    import numpy as np

    import jagtile

    kernel = jagtile.load(str(ROOT / "examples" / "jagged_sum.py"))["jagged_sum"]
    values = np.zeros((16, 4), np.float32)
    offsets = np.array([0, 4, 8, 12, 16], np.int32)
    if framework == "torch":
        import torch

        values, offsets = torch.from_numpy(values), torch.from_numpy(offsets)
    kernel(x_values=values, x_offsets=offsets)  # compile and specialise outside the count
    functools.reduce(lambda _, __: kernel(x_values=values, x_offsets=offsets), range(calls), None)


def count(calls: int, framework: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        env = dict(os.environ, PYTHONHASHSEED="0", JAGTILE_NUM_THREADS="1")
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               "--toggle-collect=functools_reduce", sys.executable, __file__,
               "--child", framework, "--calls", str(calls)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"valgrind failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        total = int(re.search(r"Collected : (\d+)", proc.stderr).group(1))
        annotated = subprocess.run(["callgrind_annotate", "--inclusive=yes", out],
                                   capture_output=True, text=True, check=True).stdout
        cpp = 0
        for line in annotated.splitlines():
            if "jagtile::Program::call(" in line:
                cpp = int(line.split()[0].replace(",", ""))
                break
    return {"inputs": framework, "calls": calls, "instructions_per_call": total // calls,
            "program_call_per_call": cpp // calls, "overhead_per_call": (total - cpp) // calls}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.child:
        run_calls(opts.calls, opts.child)
        return
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        sys.exit("needs valgrind (apt-get install valgrind)")
    frameworks = ["numpy"]
    try:
        import torch  # noqa: F401

        frameworks.append("torch")
    except ImportError:
        pass
    rows = [count(opts.calls, fw) for fw in frameworks]
    if opts.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'inputs':7} {'call (instr)':>13} {'Program::call':>14} {'package adds':>13}")
    for r in rows:
        print(f"{r['inputs']:7} {r['instructions_per_call']:13,} {r['program_call_per_call']:14,}"
              f" {r['overhead_per_call']:13,}")


if __name__ == "__main__":
    main()
