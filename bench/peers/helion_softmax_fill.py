"""Helion's jagged_softmax kernel, body unchanged, beside the bundled one: does its
`torch.zeros(N * M)` output still cost a fill?

Helion's kernel writes its output through a flat view, `out[(starts + k) * M + m]`, so the output
is written in full exactly when the offsets start at 0 and end at its last row; jagtile checks
that per call and then allocates it unfilled (src/analysis/fully_written.h, ItemRowsCover). The
race times, in one process and interleaved with a streaming read:
  jagtile          the bundled examples/jagged_softmax.py (torch.empty output), the baseline;
  helion           Helion's kernel on the same offsets (from 0: no fill);
  helion-filled    Helion's kernel on the same items one row further on (offsets from 1, a
                   zero row before them): the output's first row is not written, so it is filled
                   as torch.zeros asks, with the same work otherwise.
The helion / helion-filled ratio is the fill's cost, the bundled / helion one the parity.

    python bench/peers/helion_softmax_fill.py --helion-file <helion>/examples/jagged_softmax.py
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers_common import (add_run_options, apply_run_options, close, helion_kernel,  # noqa: E402
                          lengths_for, log, offsets_of, qualify, race, report)

import jagtile  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--helion-file", required=True, help="Helion's examples/jagged_softmax.py")
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--max-len", type=int, default=512)
    p.add_argument("--features", type=int, default=256)
    add_run_options(p)
    args = p.parse_args()
    apply_run_options(args)
    rng = np.random.default_rng(args.seed)
    offsets = offsets_of(lengths_for("uniform", args.batch, args.max_len, rng))
    rows = int(offsets[-1])
    x = torch.from_numpy(rng.standard_normal((rows, args.features), dtype=np.float32))
    shifted_x = torch.cat([torch.zeros(1, args.features), x])
    shifted_offsets = offsets + 1  # the items start at row 1: row 0 is no item's
    bundled = jagtile.load(str(ROOT / "examples" / "jagged_softmax.py"))["jagged_softmax"]
    helion = helion_kernel(args.helion_file, "jagged_softmax_kernel")
    log(f"jagged_softmax: B={args.batch} max_len={args.max_len} D={args.features} rows={rows}, "
        f"{args.threads} threads, {args.rounds} rounds")
    want = bundled(x, offsets)

    def check(got):
        if got.shape[0] == rows + 1:  # the filled case: its row 0, written by no item, is zero
            if bool(got[0].any()):
                return "row 0, no item's, is not zero", None
            got = got[1:]
        diff = close(got, want, rtol=1e-5, atol=1e-6)
        return ("ok", None) if diff is None else (f"differs from bundled: {diff}", None)

    candidates = [("helion", lambda: helion(x, offsets), "-"),
                  ("helion-filled", lambda: helion(shifted_x, shifted_offsets), "-")]
    impls, results = qualify("jagged_softmax", lambda: bundled(x, offsets), candidates, check)
    if len(impls) != 3:
        raise SystemExit("a Helion run failed its check (above): nothing to race")
    nbytes = 2 * x.numel() * 4  # read once, written once
    stats, read_gbps = race(impls, args.rounds, nbytes)
    log(f"  streaming read {read_gbps:.1f} GB/s")
    out = []
    for impl, st in stats.items():
        out.append(dict(results[impl], kernel="jagged_softmax", dist="uniform", impl=impl, **st))
    report(out, args, args.out, "Helion's jagged_softmax: its zero fill skipped per call")
    fill = stats["helion-filled"]["median_ms"] / stats["helion"]["median_ms"]
    parity = stats["helion"]["median_ms"] / stats["jagtile"]["median_ms"]
    print(f"\nhelion-filled / helion {fill:.3f}x (the fill); helion / bundled {parity:.3f}x")


if __name__ == "__main__":
    main()
