"""The bundled jagged_hstu_attention on a few sequences of one length, called in a loop, so that its
data stays in the caches: what an item's own work costs, without memory in the way (the
hstu_by_length.py rates run data larger than the caches). Useful FLOPs as issue 12 counts them,
2 * H * D * L^2 per sequence.

    .venv/bin/python bench/peers/hstu_resident.py L [SEQUENCES [CALLS [HEADS]]]

Prints the mean time per call over CALLS calls after one warm-up call, the useful GFLOP/s and the
time per (sequence, head) item. One thread; compare packages by alternating processes with
PYTHONPATH set to each.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

import jagtile

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    length = int(sys.argv[1])
    sequences = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    heads = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    dim = 128
    jagtile.set_num_threads(1)
    kernel = jagtile.load(str(ROOT / "examples" / "jagged_hstu_attention.py"))["jagged_hstu_attention"]
    g = torch.Generator().manual_seed(0)
    offsets = torch.arange(sequences + 1, dtype=torch.int64) * length
    q, k, v = (torch.randn(sequences * length, heads, dim, generator=g) for _ in range(3))
    kernel(q, k, v, offsets, length, 0.088)
    start = time.perf_counter()
    for _ in range(calls):
        kernel(q, k, v, offsets, length, 0.088)
    per_call = (time.perf_counter() - start) / calls
    flops = 2 * heads * dim * length * length * sequences
    print(f"L={length} {per_call * 1e3:.3f} ms/call, {flops / per_call / 1e9:.1f} GFLOP/s, "
          f"{per_call / (sequences * heads) * 1e6:.2f} us/item")


if __name__ == "__main__":
    main()
