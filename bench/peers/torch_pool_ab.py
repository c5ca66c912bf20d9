"""jagtile's parallel regions on torch's intra-op pool against jagtile's own threads, interleaved
in one process (docs/performance.md, issue 12): the bundled HSTU attention example, each call
either right after a torch op (a 64 MiB torch.sum, after which torch's OpenMP workers spin) or
right after another jagtile call, the four orders alternating round by round. Run from the
repository root with the package installed:
    python bench/peers/torch_pool_ab.py [--dists zipf,uniform] [--rounds 9]"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

import jagtile
from jagtile import _core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attention_peers import KERNEL, Case  # noqa: E402

SHAPES = {"uniform": (16, 32, 128, 512), "zipf": (64, 4, 128, 1024)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dists", default="zipf,uniform")
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    os.environ["JAGTILE_AUTOTUNE"] = "0"  # the defaults
    torch.set_num_threads(args.threads)
    jagtile.set_num_threads(0)  # follow torch's count, so its pool can take the regions
    if not _core.torch_pool_active():
        print("torch's pool is not in use (no torch bridge): nothing to compare")
        return 1
    kernel = jagtile.load(str(KERNEL))["jagged_hstu_attention"]
    torch_op = torch.ones((64 << 20) // 4)
    for dist in args.dists.split(","):
        case = Case(dist, *SHAPES[dist], 1)
        want = kernel(**case.args)
        times = {}
        for r in range(args.rounds):
            order = [(pool, after) for after in (True, False) for pool in (True, False)]
            for on_torch_pool, after_torch_op in (order if r % 2 == 0 else order[::-1]):
                _core.use_torch_pool(on_torch_pool)
                if after_torch_op:
                    torch_op.sum()
                t0 = time.perf_counter()
                got = kernel(**case.args)
                times.setdefault((on_torch_pool, after_torch_op), []).append(
                    (time.perf_counter() - t0) * 1e3)
                assert torch.equal(got, want), "the two pools gave different bits"
        _core.use_torch_pool(True)
        for (on_torch_pool, after_torch_op), t in times.items():
            print(f"{dist:8s} {'torch pool' if on_torch_pool else 'own pool  '} "
                  f"{'after a torch op   ' if after_torch_op else 'after jagtile call '}"
                  f"median {statistics.median(t):8.2f} ms  min {min(t):8.2f} ms  ({len(t)} calls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
