#!/usr/bin/env python3
"""torch_gpu_peers: what a PyTorch user runs on the GPU for the bundled matmul-class examples,
at the shapes `bench/cuda/run_gpu.sh` gives `jagtile bench --device cuda`, so that the two tables
sit side by side. It needs torch with CUDA only (not the jagtile package, which is not built on
the GPU machine): the tensors are torch's own, drawn from the same length distribution as
jagtile's generator (src/testing/datagen.cpp), not the same values. Times are CUDA events around
each call (3 warm-ups, median of --repeat); the peak is a streaming read (`x.sum()` over 2 GiB
of float32) measured in the same run.

    python3 bench/peers/torch_gpu_peers.py [--repeat 20] > torch_gpu.json

Cases:
    jagged_hstu_attention  B=16, H=8, D=128, max_len 512, lengths uniform around 384
                           torch-loop (per sequence bmm, silu, tril, bmm) and torch-padded
                           (pad, einsum, mask, einsum; the HSTU references' formulation)
    jagged_dense_bmm       B=1024, D=K=256, max_len 512, lengths uniform around 256
                           torch-loop (x[a:b] @ w[i] + bias[i]) and torch-padded (bmm)
GFLOP/s counts useful FLOPs only (causal attention: 2 * H * D * L^2 per sequence).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

import numpy as np
import torch
import torch.nn.functional as F


def uniform_lengths(rng, batch: int, max_len: int, sparsity: float) -> np.ndarray:
    # datagen.cpp's uniform_length: mean max_len * (1 - sparsity), spread +-0.3 * max_len.
    mean, spread = max_len * (1.0 - sparsity), 0.3 * max_len
    lengths = np.rint(mean + (2.0 * rng.random(batch) - 1.0) * spread)
    return np.clip(lengths, 0, max_len).astype(np.int64)


def time_ms(fn, repeat: int) -> list[float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return times


def hstu(rng, dev):
    batch, heads, dim, max_len = 16, 8, 128, 512
    lengths = uniform_lengths(rng, batch, max_len, 0.25)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    rows = int(offsets[-1])
    q, k, v = (torch.randn(rows, heads, dim, device=dev) for _ in range(3))
    alpha, bound = 1.0 / dim**0.5, int(lengths.max())
    o = offsets.tolist()

    def loop():
        outs = []
        for b in range(batch):
            qb, kb, vb = (t[o[b]:o[b + 1]].transpose(0, 1) for t in (q, k, v))
            s = torch.tril(F.silu(torch.bmm(qb, kb.transpose(1, 2)) * alpha) / bound)
            outs.append(torch.bmm(s, vb).transpose(0, 1))
        return torch.cat(outs)

    lengths_t = torch.from_numpy(lengths).to(dev)
    offsets_t = torch.from_numpy(offsets).to(dev)
    causal = torch.ones(max_len, max_len, dtype=torch.bool, device=dev).tril()
    valid = torch.arange(max_len, device=dev)[None, :] < lengths_t[:, None]

    def padded():
        def pad(t):
            return torch.nested.to_padded_tensor(
                torch.nested.nested_tensor_from_jagged(t.view(rows, -1), offsets_t), 0.0,
                output_size=(batch, max_len, heads * dim)).view(batch, max_len, heads, dim)
        qp, kp, vp = pad(q), pad(k), pad(v)
        s = F.silu(torch.einsum("bnhd,bmhd->bhnm", qp, kp) * alpha) / bound
        keep = causal[None, None] & valid[:, None, None, :] & valid[:, None, :, None]
        return torch.einsum("bhnm,bmhd->bnhd", torch.where(keep, s, 0.0), vp)[valid]

    torch.testing.assert_close(padded(), loop(), rtol=1e-3, atol=1e-3)
    flops = float(sum(2 * heads * dim * int(n) ** 2 for n in lengths))
    shape = f"batch={batch} heads={heads} head_dim={dim} max_len={max_len} sparsity=0.25"
    return "jagged_hstu_attention", shape, flops, {"torch-loop": loop, "torch-padded": padded}


def dense_bmm(rng, dev):
    batch, d, max_len = 1024, 256, 512
    lengths = uniform_lengths(rng, batch, max_len, 0.5)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    rows = int(offsets[-1])
    x = torch.randn(rows, d, device=dev)
    w = torch.randn(batch, d, d, device=dev)
    bias = torch.randn(batch, d, device=dev)
    o = offsets.tolist()
    offsets_t = torch.from_numpy(offsets).to(dev)
    lengths_t = torch.from_numpy(lengths).to(dev)
    valid = torch.arange(max_len, device=dev)[None, :] < lengths_t[:, None]

    def loop():
        return torch.cat([x[o[b]:o[b + 1]] @ w[b] + bias[b] for b in range(batch)])

    def padded():
        xp = torch.nested.to_padded_tensor(torch.nested.nested_tensor_from_jagged(x, offsets_t),
                                           0.0, output_size=(batch, max_len, d))
        return (torch.bmm(xp, w) + bias[:, None, :])[valid]

    torch.testing.assert_close(padded(), loop(), rtol=1e-3, atol=1e-2)
    flops = 2.0 * rows * d * d
    shape = f"batch={batch} features={d} max_len={max_len} sparsity=0.5"
    return "jagged_dense_bmm", shape, flops, {"torch-loop": loop, "torch-padded": padded}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=20)
    a = p.parse_args()
    if not torch.cuda.is_available():
        print("[]")
        print("skipped (no CUDA device)", file=sys.stderr)
        return 0
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 FMA, as jagtile's generated f32 code
    rng = np.random.default_rng(0)
    buffer = torch.ones(2**29, device=dev)  # 2 GiB of float32
    rows = []
    for make in (hstu, dense_bmm):
        name, shape, flops, impls = make(rng, dev)
        peak = time_ms(lambda: buffer.sum(), a.repeat)
        peak_gbps = buffer.numel() * 4 / (statistics.median(peak) * 1e6)
        for impl, fn in impls.items():
            t = time_ms(fn, a.repeat)
            med = statistics.median(t)
            rows.append({"case": name, "shape": shape, "impl": impl, "median_ms": med,
                         "min_ms": min(t), "gflops": flops / (med * 1e6),
                         "peak_read_gbps": peak_gbps, "device": torch.cuda.get_device_name()})
            print(f"{name:24} {impl:14} {med:9.3f} ms {flops / (med * 1e6):9.1f} GFLOP/s",
                  file=sys.stderr)
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
