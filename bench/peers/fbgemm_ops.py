#!/usr/bin/env python3
"""fbgemm_ops: every op of jagtile.ops against FBGEMM's CPU op of the same name and the best
plain-torch way to compute it, on the same tensors, in one process (issue 17's benchmark).

    .venv/bin/python bench/peers/fbgemm_ops.py --out bench/results/fbgemm_ops   # table, JSON, PNG

Standard shape (tritonbench's jagged operators): B = 1024 items, max_len 512, D = 256 features,
lengths uniform in 0..max_len (so about half the padded rows are used). Every implementation's
output is checked against jagtile's before timing; all are timed round-robin beside a streaming
read of the op's minimum traffic (peers_common.race). Without fbgemm-gpu-cpu (it loads only into
the torch it was built for) the FBGEMM rows say so.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jagtile  # noqa: E402
import jagtile.helion.language as hl  # noqa: E402
import jagtile.ops as jops  # noqa: E402
from peers_common import (add_cache_option, close, lengths_for, log, offsets_of,  # noqa: E402
                          own_pool_candidates, qualify, race, report, set_cache)

try:
    import fbgemm_gpu  # noqa: F401

    FB = torch.ops.fbgemm
except Exception as e:  # not installed, or built for another torch
    FB = None
    FB_REASON = f"fbgemm-gpu-cpu does not load: {type(e).__name__}"


class Data:
    """One jagged batch and the dense tensors the ops read, shared by every op."""

    def __init__(self, batch, max_len, d, dist, seed):
        rng = np.random.default_rng(seed)
        self.B, self.L, self.D = batch, max_len, d
        self.lengths = torch.from_numpy(lengths_for(dist, batch, max_len, rng))
        self.offsets = offsets_of(self.lengths.numpy())
        self.N = int(self.offsets[-1])
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(self.N, d, generator=g)
        self.y = torch.randn(batch, max_len, d, generator=g)
        self.mask = torch.arange(max_len)[None, :] < self.lengths[:, None]  # [B, L] rows in use
        self.ids = torch.randint(0, 1 << 30, (self.N,), generator=g)

    def padded(self, fill=0.0):
        njt = torch.nested.nested_tensor_from_jagged(self.x, self.offsets)
        return torch.nested.to_padded_tensor(njt, fill, output_size=(self.B, self.L, self.D))


@jagtile.kernel
def padded_with_zeros(values: torch.Tensor, offsets: torch.Tensor, max_length: int) -> torch.Tensor:
    """jagged_to_padded_dense as a user writes it: a torch.zeros output that the loops then
    write whole (the compiler drops the fill: analysis/fully_written.h)."""
    D = values.size(1)
    B = offsets.size(0) - 1
    out = torch.zeros([B, max_length, D], dtype=values.dtype, device=values.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_l in hl.tile(max_length):
            in_item = tile_l.index[None, :] < nnz[:, None]
            rows = starts[:, None] + tile_l.index[None, :]
            for tile_d in hl.tile(D):
                out[tile_b, tile_l, tile_d] = hl.load(
                    values, [rows[:, :, None], tile_d.index[None, None, :]],
                    extra_mask=in_item[:, :, None])
    return out


def op_cases(d: Data, small_d: int):
    """(op, bytes, flops, jagtile fn, fbgemm fn or None, [(torch impl name, fn)], the tensors
    its implementations read, which --cache data flushes)."""
    f32, i64 = 4, 8
    x, o, y, L = d.x, d.offsets, d.y, d.L
    xd = x[:, :small_d].contiguous()  # the matmuls use D = small_d features (the small shape)
    w = torch.randn(d.B, small_d, small_d, generator=torch.Generator().manual_seed(3))
    ol = o.tolist()
    fb = FB
    keep = torch.rand(d.N, generator=torch.Generator().manual_seed(4)) < 0.5  # for masked_select
    kept = int(keep.sum())
    cases = [
        ("jagged_to_padded_dense", d.N * d.D * f32 + d.B * L * d.D * f32, 0,
         lambda: jops.jagged_to_padded_dense(x, [o], [L]),
         fb and (lambda: fb.jagged_to_padded_dense(x, [o], [L])),
         [("torch-nested-to-padded", lambda: d.padded())],
         [x, o]),
        ("jagged_to_padded_dense_user_zeros", d.N * d.D * f32 + d.B * L * d.D * f32, 0,
         lambda: padded_with_zeros(x, o, L),
         fb and (lambda: fb.jagged_to_padded_dense(x, [o], [L])),
         [("torch-nested-to-padded", lambda: d.padded())],
         [x, o]),
        ("dense_to_jagged", 2 * d.N * d.D * f32, 0,
         lambda: jops.dense_to_jagged(y, [o])[0],
         fb and (lambda: fb.dense_to_jagged(y, [o])[0]),
         [("torch-mask-select", lambda: y[d.mask])],
         [y, o, d.mask]),
        ("jagged_1d_to_dense", d.N * i64 + d.B * L * i64, 0,
         lambda: jops.jagged_1d_to_dense(d.ids, o, L, 0),
         fb and (lambda: fb.jagged_1d_to_dense(d.ids, o, L, 0)),
         [("torch-masked-scatter", lambda: torch.zeros(d.B, L, dtype=torch.int64).masked_scatter_(d.mask, d.ids))],
         [d.ids, o, d.mask]),
        ("jagged_dense_elementwise_add", d.N * d.D * f32 + 2 * d.B * L * d.D * f32, 0,
         lambda: jops.jagged_dense_elementwise_add(x, [o], y),
         fb and (lambda: fb.jagged_dense_elementwise_add(x, [o], y)),
         [("torch-padded", lambda: y + d.padded())],
         [x, o, y]),
        ("jagged_dense_elementwise_add_jagged_output", 3 * d.N * d.D * f32, 0,
         lambda: jops.jagged_dense_elementwise_add_jagged_output(x, [o], y)[0],
         fb and (lambda: fb.jagged_dense_elementwise_add_jagged_output(x, [o], y)[0]),
         [("torch-mask-select", lambda: x + y[d.mask])],
         [x, o, y, d.mask]),
        ("jagged_dense_elementwise_mul", 3 * d.N * d.D * f32, 0,
         lambda: jops.jagged_dense_elementwise_mul(x, [o], y)[0],
         fb and (lambda: fb.jagged_dense_elementwise_mul(x, [o], y)[0]),
         [("torch-mask-select", lambda: x * y[d.mask])],
         [x, o, y, d.mask]),
        ("segment_sum_csr", d.N * d.D * f32 + d.B * f32, 0,
         lambda: jops.segment_sum_csr(d.D, o, x.view(-1)),
         fb and (lambda: fb.segment_sum_csr(d.D, o.to(torch.int32), x.view(-1))),
         [("torch-segment-reduce", lambda: torch.segment_reduce(x.view(-1), "sum", offsets=o * d.D, unsafe=True))],
         [x, o]),
        ("jagged_softmax", 2 * d.N * d.D * f32, 0,
         lambda: jops.jagged_softmax(x, o, L)[0],
         fb and (lambda: fb.jagged_softmax(x, o, L)[0]),
         [("torch-padded", lambda: torch.softmax(d.padded(float("-inf")), dim=1)[d.mask])],
         [x, o, d.mask]),
        ("jagged_dense_bmm", 2 * d.N * small_d * f32 + w.numel() * f32, 2 * d.N * small_d * small_d,
         lambda: jops.jagged_dense_bmm(xd, o, w, L)[0],
         fb and (lambda: fb.jagged_dense_bmm(xd, o, w, L)[0]),
         [("torch-loop", lambda: torch.cat([xd[ol[b]:ol[b + 1]] @ w[b] for b in range(d.B)]))],
         [xd, o, w]),
        ("jagged_jagged_bmm", 2 * d.N * small_d * f32 + w.numel() * f32, 2 * d.N * small_d * small_d,
         lambda: jops.jagged_jagged_bmm(xd, xd, o, L),
         fb and (lambda: fb.jagged_jagged_bmm(xd, xd, o, L)),
         [("torch-loop", lambda: torch.stack([xd[ol[b]:ol[b + 1]].T @ xd[ol[b]:ol[b + 1]] for b in range(d.B)]))],
         [xd, o]),
        # TorchRec-like int64 ids, one per row, half of them kept.
        ("masked_select_jagged_1d", d.N * (i64 + 1) + kept * i64, 0,
         lambda: jops.masked_select_jagged_1d(d.ids, d.lengths, keep)[0],
         fb and (lambda: fb.masked_select_jagged_1d(d.ids, d.lengths, keep)[0]),
         [("torch-masked-select", lambda: (torch.masked_select(d.ids, keep),
                                            torch.segment_reduce(keep.to(torch.float32), "sum", lengths=d.lengths))[0])],
         [d.ids, d.lengths, keep]),
        ("jagged_index_select", 2 * d.N * d.D * f32, 0,
         lambda: jops.jagged_index_select(x, d.lengths, d.perm)[0],
         fb and (lambda: fb.jagged_index_select(x, d.lengths, d.perm)[0]),
         [("torch-index-select", lambda: x.index_select(0, d.perm_rows))],
         [x, d.lengths, d.perm, d.perm_rows]),
        # TorchRec's layout: int64 ids with float weights, 4 keys x B/4 batch entries (key-major),
        # the batch entries permuted.
        ("keyed_jagged_index_select_dim1", 2 * d.keyed_n * (i64 + f32), 0,
         lambda: jops.keyed_jagged_index_select_dim1(d.keyed_ids, d.keyed_lengths, d.keyed_offsets,
                                                     d.keyed_perm, d.keyed_batch, d.keyed_weights)[0],
         fb and (lambda: fb.keyed_jagged_index_select_dim1(d.keyed_ids, d.keyed_lengths, d.keyed_offsets,
                                                           d.keyed_perm, d.keyed_batch, d.keyed_weights)[0]),
         [("torch-index-select", lambda: torch_keyed_index_select(d)[0])],
         [d.keyed_ids, d.keyed_lengths, d.keyed_offsets, d.keyed_perm, d.keyed_weights]),
    ]
    return cases


def torch_keyed_index_select(d):
    """keyed_jagged_index_select_dim1 in plain torch, from the lengths as the op gets them: the
    selected entries, each output value's source index (repeat_interleave), two index_selects."""
    keys = d.keyed_lengths.shape[0] // d.keyed_batch
    entries = (torch.arange(keys)[:, None] * d.keyed_batch + d.keyed_perm[None, :]).reshape(-1)
    selected, src = d.keyed_lengths[entries], d.keyed_offsets[entries]
    out_starts = torch.cumsum(selected, 0) - selected
    rows = torch.repeat_interleave(src - out_starts, selected) + torch.arange(int(selected.sum()))
    return d.keyed_ids.index_select(0, rows), d.keyed_weights.index_select(0, rows)


# Output checks are within fp32 reordering (peers_common.close), except where an op sums so many
# values that reordering moves the result further: segment_sum_csr adds about 65k floats per item
# at the standard shape, where two summation orders differed by 0.012 (relative 5e-5).
TOLERANCE = {"segment_sum_csr": {"rtol": 1e-4, "atol": 0.05}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--max-len", type=int, default=512)
    p.add_argument("--features", type=int, default=256)
    p.add_argument("--matmul-features", type=int, default=64)
    p.add_argument("--dist", default="uniform")
    p.add_argument("--ops", default="", help="comma-separated subset (default: all)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=1)
    add_cache_option(p, data=True)
    p.add_argument("--out", help="write OUT.json, OUT.md and OUT.png")
    p.add_argument("--own-pool", action="store_true",
                   help="also time jagtile on its own threads, after the torch rows (the A/B of "
                        "running on torch's intra-op pool)")
    args = p.parse_args(argv)
    set_cache(args.cache)
    torch.set_num_threads(args.threads)
    jagtile.set_num_threads(args.threads)

    d = Data(args.batch, args.max_len, args.features, args.dist, args.seed)
    d.perm = torch.randperm(d.B, generator=torch.Generator().manual_seed(5))
    d.perm_rows = torch.cat([torch.arange(int(d.offsets[b]), int(d.offsets[b + 1])) for b in d.perm.tolist()])
    keys = 4
    d.keyed_batch = d.B // keys
    d.keyed_lengths = d.lengths[:keys * d.keyed_batch]
    d.keyed_offsets = d.offsets[:keys * d.keyed_batch + 1]
    d.keyed_n = int(d.keyed_offsets[-1])
    d.keyed_ids, d.keyed_weights = d.ids[:d.keyed_n], d.x[:d.keyed_n, 0].contiguous()
    d.keyed_perm = torch.randperm(d.keyed_batch, generator=torch.Generator().manual_seed(6))
    log(f"{d.B} items, {d.N} rows of {d.D} (max_len {d.L}, {args.dist}); fbgemm: "
        f"{'loaded' if FB is not None else FB_REASON}")
    wanted = set(filter(None, args.ops.split(",")))
    rows = []
    for op, nbytes, flops, ours, fbgemm, torch_impls, inputs in op_cases(d, args.matmul_features):
        if wanted and op not in wanted:
            continue
        want = ours()

        def check(got, op=op, want=want):
            diff = close(got, want, **TOLERANCE.get(op, {}))
            return ("ok", None) if diff is None else (f"differs from jagtile: {diff}", None)

        candidates = [("fbgemm", fbgemm, None if fbgemm else FB_REASON)]
        candidates += [(name, fn, "unavailable") for name, fn in torch_impls]
        candidates += own_pool_candidates(args, ours)
        impls, results = qualify(op, ours, candidates, check)
        stats, peak = race(impls, args.rounds, nbytes, flops, inputs)
        for impl, st in stats.items():
            results[impl].update(st)
        log(f"  {op}: " + ", ".join(f"{k} {v['median_ms']:.1f} ms" for k, v in stats.items())
            + f"; streaming read {peak:.1f} GB/s")
        rows += [dict(kernel=op, dist=args.dist, bytes=nbytes, stream_read_gbps=peak, **r)
                 for r in results.values()]
    report(rows, args, args.out, "jagtile.ops vs FBGEMM CPU and plain torch (higher is better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
