#!/usr/bin/env python3
"""cpu_peers: jagtile, called through the Python package, against what a PyTorch user calls
today for the same jagged op, on the same tensors, in one process.

    .venv/bin/python bench/peers/cpu_peers.py --out bench/results/cpu_peers   # table, JSON, PNG

Kernels: the bundled examples (examples/*.py) with every item on all its columns, so each peer
computes exactly what the kernel does. Peers, where the op has one:
    torch-segment-reduce   torch.segment_reduce(values, op, offsets=...)
    torch-nested           a jagged-layout nested tensor (torch.nested.nested_tensor_from_jagged)
    torch-index-add        out.index_add_(0, item_of_row, values) (item ids precomputed, untimed)
    torch-padded           pad to [B, max_len, M] (torch.nested.to_padded_tensor), dense op, mask
    torch-loop             the op per item, in a Python loop over items
    numpy                  np.add.reduceat and friends, or a per-item loop
    fbgemm                 torch.ops.fbgemm.* CPU jagged ops (package fbgemm-gpu-cpu), if installed
Each peer's output is checked against jagtile's before it is timed; a peer that differs, or that
torch does not support on the CPU, is reported as such and not timed.

Timing: all implementations of a case are timed round-robin (interleaved), --rounds calls each,
every call from the same cache state (--cache: cold, after a 256 MiB read, or warm, after its own
untimed call); medians. % of peak = (minimum bytes moved / median time) / streaming-read
bandwidth, where the streaming read (torch.sum over a float32 buffer as large as the case's bytes,
same threads) is timed in the same rounds as the implementations. jagged_dense_bmm and attention
also report GFLOP/s (useful FLOPs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

import jagtile
from peers_common import (add_run_options, apply_run_options, close, flop_peak_gflops, lengths_for,
                          log, own_pool_candidates, qualify, race, report, tune)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


# ---------------------------------------------------------------- data


class Case:
    """One kernel on one length distribution: tensors, byte and FLOP counts, item structure."""

    def __init__(self, name, dist, batch, features, max_len, seed, bmm_features=64):
        rng = np.random.default_rng(seed)
        self.name, self.dist = name, dist
        if name == "jagged_dense_bmm":  # its own width: [B, D, D] weights grow fast
            features = bmm_features
        lengths = lengths_for(dist, batch, max_len, rng)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        n = int(offsets[-1])
        self.lengths = torch.from_numpy(lengths)
        self.offsets = torch.from_numpy(offsets)
        self.values = torch.from_numpy(rng.standard_normal((n, features), dtype=np.float32))
        self.batch, self.features, self.max_len = batch, features, max_len
        self.rows = n
        self.item_of_row = torch.repeat_interleave(torch.arange(batch), self.lengths)
        self.args: dict = {"x_values": self.values, "x_offsets": self.offsets}
        out_elems = batch * features
        self.flops = 0
        if name == "jagged_mean":
            self.args["x_feature_counts"] = torch.full((batch,), features, dtype=torch.int64)
        elif name == "jagged_layer_norm":
            self.args["eps"] = 1e-6
            out_elems = n * features
        elif name == "jagged_softmax":
            out_elems = n * features
        elif name == "jagged_dense_add":
            self.padded_len = max_len
            y = rng.standard_normal((batch, max_len, features), dtype=np.float32)
            self.args["y"] = torch.from_numpy(y)
            out_elems = y.size
        elif name == "jagged_dense_bmm":
            k = features
            self.args["weight"] = torch.from_numpy(rng.standard_normal((batch, features, k), dtype=np.float32))
            self.args["bias"] = torch.from_numpy(rng.standard_normal((batch, k), dtype=np.float32))
            out_elems = n * k
            self.flops = 2 * n * features * k
        in_bytes = sum(int(a.numel() * a.element_size()) for a in self.args.values() if isinstance(a, torch.Tensor))
        self.bytes = in_bytes + out_elems * 4


# ---------------------------------------------------------------- peers per kernel


def njt(case):
    return torch.nested.nested_tensor_from_jagged(case.values, case.offsets)


def padded(case, fill=0.0):
    return torch.nested.to_padded_tensor(njt(case), fill, output_size=(case.batch, case.max_len, case.features))


def row_mask(case):
    return (torch.arange(case.max_len)[None, :] < case.lengths[:, None])[:, :, None]


def per_item(case, fn):
    x, o = case.values, case.offsets.tolist()
    return [fn(x[o[b]:o[b + 1]]) for b in range(case.batch)]


def np_reduceat(case, ufunc, empty_value):
    x = case.values.numpy()
    starts = case.offsets.numpy()[:-1]
    nonempty = case.lengths.numpy() > 0
    out = np.full((case.batch, case.features), empty_value, dtype=np.float32)
    if nonempty.any():  # reduceat reads a row even for an empty segment: reduce the others only
        out[nonempty] = ufunc.reduceat(x, starts[nonempty], axis=0)
    return torch.from_numpy(out)


def fbgemm_op(name):
    try:
        import fbgemm_gpu  # noqa: F401  (registers torch.ops.fbgemm)
    except Exception:
        return None
    return getattr(torch.ops.fbgemm, name, None)


# Peers not run at all, with the measured reason (they would take the benchmark's whole budget).
SKIPPED = {
    ("torch-nested", "jagged_sum"): "sum over the jagged dim of a nested tensor on the CPU: 23.8 s for "
                                    "one call at batch 256; at batch 1024 its allocation exceeds this machine's 24 GiB and fails",
}
SKIPPED[("torch-nested", "jagged_mean")] = SKIPPED[("torch-nested", "jagged_sum")].replace("sum over", "mean over")
SKIPPED[("torch-nested", "jagged_max")] = SKIPPED[("torch-nested", "jagged_sum")].replace("sum over", "amax over")


def peers_for(case):
    """(impl, callable or None, reason when None) for the case's kernel."""
    c, name = case, case.name
    fb = fbgemm_op
    seg = lambda op: (lambda: torch.segment_reduce(c.values, op, offsets=c.offsets, axis=0, unsafe=True))  # noqa: E731
    to_padded = fb("jagged_to_padded_dense")
    fb_padded = (lambda fill: to_padded(c.values, [c.offsets], [c.max_len], fill)) if to_padded else None
    if name == "jagged_sum":
        out = torch.zeros(c.batch, c.features)
        return [
            ("torch-segment-reduce", seg("sum")),
            ("torch-nested", lambda: njt(c).sum(dim=1)),
            ("torch-index-add", lambda: out.zero_().index_add_(0, c.item_of_row, c.values)),
            ("torch-padded", lambda: padded(c).sum(dim=1)),
            ("numpy", lambda: np_reduceat(c, np.add, 0.0)),
            ("fbgemm", (lambda: fb_padded(0.0).sum(dim=1)) if fb_padded else None),
        ]
    if name == "jagged_mean":
        denom = c.lengths.clamp(min=1).to(torch.float32)[:, None]
        return [
            ("torch-segment-reduce", lambda: torch.segment_reduce(c.values, "mean", offsets=c.offsets, axis=0,
                                                                  unsafe=True, initial=0.0)),
            ("torch-nested", lambda: njt(c).mean(dim=1)),
            ("torch-padded", lambda: padded(c).sum(dim=1) / denom),
            ("numpy", lambda: np_reduceat(c, np.add, 0.0) / denom),
            ("fbgemm", (lambda: fb_padded(0.0).sum(dim=1) / denom) if fb_padded else None),
        ]
    if name == "jagged_max":
        return [
            ("torch-segment-reduce", seg("max")),
            ("torch-nested", lambda: njt(c).amax(dim=1)),
            ("torch-padded", lambda: padded(c, float("-inf")).amax(dim=1)),
            ("numpy", lambda: np_reduceat(c, np.maximum, -np.inf)),
            ("fbgemm", (lambda: fb_padded(float("-inf")).amax(dim=1)) if fb_padded else None),
        ]
    if name == "jagged_softmax":
        mask = row_mask(c)

        def padded_softmax():
            p = torch.softmax(padded(c, float("-inf")), dim=1)
            return p[mask.expand_as(p)].view(-1, c.features)

        fb_softmax = fb("jagged_softmax")
        return [
            ("torch-nested", lambda: torch.softmax(njt(c), dim=1).values()),
            ("torch-padded", padded_softmax),
            ("torch-loop", lambda: torch.cat(per_item(c, lambda r: torch.softmax(r, dim=0)))),
            ("fbgemm", (lambda: fb_softmax(c.values, c.offsets, c.max_len)[0]) if fb_softmax else None),
        ]
    if name == "jagged_layer_norm":
        def norm(r):
            return torch.nn.functional.layer_norm(r.reshape(-1), (r.numel(),), eps=1e-6).view_as(r)

        mask = row_mask(c)
        count = (c.lengths * c.features).clamp(min=1).to(torch.float32)[:, None, None]

        def padded_norm():
            p = padded(c)
            centred = (p - p.sum(dim=(1, 2), keepdim=True) / count) * mask
            var = (centred * centred).sum(dim=(1, 2), keepdim=True) / count
            out = centred * torch.rsqrt(var + 1e-6)
            return out[mask.expand_as(out)].view(-1, c.features)

        return [("torch-loop", lambda: torch.cat(per_item(c, norm))), ("torch-padded", padded_norm)]
    if name == "jagged_dense_add":
        y = c.args["y"]
        fb_add = fb("jagged_dense_elementwise_add")
        return [
            ("torch-padded", lambda: padded(c) + y),
            ("fbgemm", (lambda: fb_add(c.values, [c.offsets], y)) if fb_add else None),
        ]
    if name == "jagged_dense_bmm":
        w, bias = c.args["weight"], c.args["bias"]
        fb_bmm = fb("jagged_dense_bmm")
        mask = row_mask(c)

        def padded_bmm():
            p = torch.baddbmm(bias[:, None, :], padded(c), w)
            return p[mask.expand(-1, -1, p.shape[2])].view(-1, p.shape[2])

        o = c.offsets.tolist()
        return [
            ("torch-loop", lambda: torch.cat([torch.addmm(bias[b], c.values[o[b]:o[b + 1]], w[b])
                                              for b in range(c.batch)])),
            ("torch-padded", padded_bmm),
            ("fbgemm", (lambda: fb_bmm(c.values, c.offsets, w, c.max_len)[0] + bias[c.item_of_row])
             if fb_bmm else None),
        ]
    return []


# ---------------------------------------------------------------- timing


def check_peer(case, got, want) -> tuple[str, str | None]:
    """(status, note). A per-item reduction that differs only on empty items is still timed: a
    user gets the same numbers on every item with rows; the note says what differs."""
    diff = close(got, want)
    if diff is None:
        return "ok", None
    if case.name in ("jagged_sum", "jagged_mean", "jagged_max") and tuple(got.shape) == tuple(want.shape):
        nonempty = case.lengths > 0
        if close(got[nonempty], want[nonempty]) is None:
            sample = got[~nonempty][0, 0].item() if (~nonempty).any() else None
            return "ok", f"empty items give {sample} (jagtile: {want[~nonempty][0, 0].item()})"
    return f"differs from jagtile: {diff}", None


def run_case(case, kernel, rounds: int, log, extra=()) -> list[dict]:
    ours = kernel(**case.args)
    rows_defined = None
    if case.name in ("jagged_softmax", "jagged_layer_norm", "jagged_dense_bmm"):
        rows_defined = case.rows  # rows outside every item are unspecified; all rows belong here
    want = ours[:rows_defined] if rows_defined is not None else ours
    candidates = []
    for impl, fn in peers_for(case):
        if (impl, case.name) in SKIPPED and case.rows * case.features > 2**20:
            fn, missing = None, "skipped: " + SKIPPED[(impl, case.name)]
        else:
            missing = "fbgemm-gpu-cpu not installed" if impl == "fbgemm" else "unavailable"
        candidates.append((impl, fn, missing))
    candidates += extra
    impls, results = qualify(f"{case.name}/{case.dist}", lambda: kernel(**case.args), candidates,
                             lambda got: check_peer(case, got, want))
    # Matmul-class kernels: the f32 FMA probe before and after the race, its best the limit.
    peaks = [flop_peak_gflops()] if case.flops else []
    stats, peak_gbps = race(impls, rounds, case.bytes, case.flops)
    flop_peak = max(peaks + [flop_peak_gflops()]) if case.flops else None
    log(f"  {case.name}/{case.dist}: streaming read {peak_gbps:.1f} GB/s"
        + (f", f32 FMA peak {flop_peak:.1f} GFLOP/s" if flop_peak else ""))
    for impl, st in stats.items():
        results[impl].update(st)
        if flop_peak and st.get("gflops"):
            results[impl]["pct_of_flop_peak"] = 100.0 * st["gflops"] / flop_peak
            log(f"    {impl}: {st['gflops']:.1f} GFLOP/s, "
                f"{results[impl]['pct_of_flop_peak']:.1f}% of the FMA peak")
    extra_fields = dict(flop_peak_gflops=flop_peak) if flop_peak else {}
    return [dict(kernel=case.name, dist=case.dist, batch=case.batch, features=case.features,
                 max_len=case.max_len, rows=case.rows, bytes=case.bytes, stream_read_gbps=peak_gbps,
                 **extra_fields, **r)
            for r in results.values()]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="jagtile against PyTorch, numpy and FBGEMM on the CPU")
    p.add_argument("--kernels", default="jagged_sum,jagged_mean,jagged_max,jagged_softmax,jagged_layer_norm,"
                                        "jagged_dense_add,jagged_dense_bmm")
    p.add_argument("--dists", default="uniform,zipf")
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--features", type=int, default=256)
    p.add_argument("--max-len", type=int, default=512)
    p.add_argument("--bmm-features", type=int, default=64,
                   help="jagged_dense_bmm's D = K (weights [batch, D, D])")
    add_run_options(p)
    args = p.parse_args(argv)
    apply_run_options(args)
    rows = []
    for name in args.kernels.split(","):
        kernel = jagtile.load(str(EXAMPLES / f"{name}.py"))[name]
        for dist in args.dists.split(","):
            case = Case(name, dist, args.batch, args.features, args.max_len, args.seed,
                        args.bmm_features)
            log(f"{name} / {dist}: {case.rows} rows, {case.bytes / 1e6:.0f} MB")
            config = tune(kernel, case.args) if args.autotune else "defaults"
            extra = own_pool_candidates(args, lambda: kernel(**case.args))
            rows += [dict(r, jagtile_config=config)
                     for r in run_case(case, kernel, args.rounds, log, extra)]
    report(rows, args, args.out, "jagtile vs PyTorch / numpy / FBGEMM on the CPU (higher is better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
