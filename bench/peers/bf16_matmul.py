"""bf16 jagged_dense_bmm on the CPU: the microkernel's bf16 paths on the same bf16 operands, at
the default blocks and at larger ones, next to jagtile on f32 data, torch's bf16 per-item loop
and one dense torch bf16 GEMM of the same FLOPs, all round-robin in one process. The paths:
AMX tiles where the CPU has them (the default there), AVX512-BF16 pair products
(JAGTILE_CPU_ISA=avx512bf16 drops the tiles) and the f32 path (JAGTILE_CPU_ISA=avx512 drops the
pairs too). The pair path's output must equal the f32 path's bit for bit, and the tiles' must be
within 2^-7 relative of it (one bf16 rounding of the output), checked before timing. FLOP
rates against jagtile's fp32 FMA probe and its bf16 probe (AMX where the CPU has it), both run
in the same process, and a streaming read timed in the same rounds: the bytes the kernel must
move (bf16 x, weights and output) at that rate give a floor on its time, and so a ceiling on
its FLOP rate that no schedule can pass.

    .venv/bin/python bench/peers/bf16_matmul.py [--batch 1024 --features 256 --max-len 512]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

import jagtile
from peers_common import bf16_peak_gflops, evictor, flop_peak_gflops, stream_reader

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jagged_dense_bmm.py"


class Isa:
    """JAGTILE_CPU_ISA=isa while in the block (None: unset), the caller's setting restored. The
    generated code is picked per call by the setting then in force, so every timed call of a
    variant runs inside its own."""

    def __init__(self, isa):
        self.isa = isa

    def __enter__(self):
        self.saved = os.environ.pop("JAGTILE_CPU_ISA", None)
        if self.isa:
            os.environ["JAGTILE_CPU_ISA"] = self.isa

    def __exit__(self, *exc):
        os.environ.pop("JAGTILE_CPU_ISA", None)
        if self.saved is not None:
            os.environ["JAGTILE_CPU_ISA"] = self.saved


def variant(blocks, isa, args):
    """A call of the bundled kernel under JAGTILE_CPU_ISA=isa, and its first output."""
    config = {"block_sizes": blocks} if blocks else None
    kernel = jagtile.load(str(EXAMPLE), config=config)["jagged_dense_bmm"]

    def call():
        with Isa(isa):
            return kernel(**args)

    return call, call()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--features", type=int, default=256, help="D = K")
    ap.add_argument("--max-len", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--big-blocks", default="1,256,256,256",
                    help="the second block config (tile_b, tile_k, tile_n, tile_d)")
    opts = ap.parse_args()
    torch.set_num_threads(opts.threads)
    jagtile.set_num_threads(opts.threads)

    B, D, L = opts.batch, opts.features, opts.max_len
    rng = np.random.default_rng(1)  # lengths uniform in [0.2, 0.8] * max_len, as cpu_peers
    lengths = np.clip(np.rint(L * 0.5 + (2 * rng.random(B) - 1) * 0.3 * L), 0, L).astype(np.int64)
    offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)]))
    rows = int(offsets[-1])
    f32 = dict(x_values=torch.from_numpy(rng.standard_normal((rows, D), dtype=np.float32)),
               x_offsets=offsets,
               weight=torch.from_numpy(rng.standard_normal((B, D, D), dtype=np.float32)),
               bias=torch.from_numpy(rng.standard_normal((B, D), dtype=np.float32)))
    bf16 = {n: (v.bfloat16() if v.is_floating_point() else v) for n, v in f32.items()}

    impls, agree = [], []
    big = [int(v) for v in opts.big_blocks.split(",")]
    unit = jagtile._core.bf16_probe_unit()
    paths = [(None, "amx tiles")] if unit == "amx" else []
    paths += [("avx512bf16" if unit == "amx" else None, "pairs"), ("avx512", "f32 path")]
    for blocks in (None, big):
        label = "default blocks" if blocks is None else f"blocks {big}"
        outs = {}
        for isa, path in paths:
            call, out = variant(blocks, isa, bf16)
            outs[path] = out.float()
            impls.append((f"jagtile bf16, {path}, {label}", call))
        agree.append(torch.equal(outs["pairs"].bfloat16().view(torch.int16),
                                 outs["f32 path"].bfloat16().view(torch.int16)))
        if "amx tiles" in outs:
            ref = outs["f32 path"]
            if not torch.all((outs["amx tiles"] - ref).abs() <= ref.abs() / 128 + 1e-3):
                sys.exit("bf16_matmul: the AMX path's output is not within 2^-7 of the f32 path's")
    call32, _ = variant(None, None, f32)
    impls.append(("jagtile f32, default blocks", call32))
    o = offsets.tolist()
    x, w, bias = bf16["x_values"], bf16["weight"], bf16["bias"]
    impls.append(("torch bf16 per-item loop",
                  lambda: torch.cat([x[o[i]:o[i + 1]] @ w[i] + bias[i] for i in range(B)])))
    dense_w = w[0].contiguous()
    impls.append(("torch bf16, one dense GEMM of the same FLOPs", lambda: x @ dense_w))
    read_bytes, read = stream_reader(256 << 20)
    impls.append(("streaming read (the memory probe)", read))
    if not all(agree):
        sys.exit("bf16_matmul: the pair path's output differs from the f32 path's")

    times = {name: [] for name, _ in impls}
    # Round-robin, so drift on a shared machine hits every impl alike; every call, the read's
    # included, starts with the caches evicted (peers_common.race's cold state), so that none
    # finds the inputs its neighbour in the order left there.
    evict = evictor()
    for r in range(opts.rounds):
        for name, fn in impls[r % len(impls):] + impls[:r % len(impls)]:
            evict()
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1e3)
    peak = flop_peak_gflops()
    bf16_peak = bf16_peak_gflops()
    flops = 2.0 * rows * D * D
    read_gbps = read_bytes / statistics.median(times["streaming read (the memory probe)"]) / 1e6
    must_move = 2 * (rows * D + B * D * D + rows * D + B * D)  # x, weights, output, bias (bf16)
    floor_ms = must_move / read_gbps / 1e6
    print(f"# bench/peers/bf16_matmul.py: B={B} D=K={D} max_len={L} rows={rows}, "
          f"{opts.threads} threads, {opts.rounds} rounds, cpu_isa {jagtile._core.cpu_isa()}; "
          f"fp32 FMA probe {peak:.0f} GFLOP/s; bf16 probe ({unit}) {bf16_peak:.0f} GFLOP/s; "
          f"pairs == f32 path bitwise: yes" + ("; AMX within 2^-7: yes" if unit == "amx" else ""))
    print(f"# streaming read {read_gbps:.1f} GB/s; the bf16 kernel must move {must_move / 1e6:.0f} MB: "
          f"at least {floor_ms:.1f} ms, at most {flops / floor_ms / 1e6:.0f} GFLOP/s "
          f"({100 * flops / floor_ms / 1e6 / bf16_peak:.1f}% of the bf16 probe)")
    base = statistics.median(times[next(n for n, _ in impls if "f32 path, default" in n)])
    print("| impl | median ms | GFLOP/s | % of fp32 FMA peak | % of bf16 peak | vs bf16 f32 path |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, ts in times.items():
        if name.startswith("streaming read"):
            continue
        m = statistics.median(ts)
        rate = flops / m / 1e6
        bf16_pct = f"{100 * rate / bf16_peak:.1f}%" if bf16_peak > 0 else "-"
        print(f"| {name} | {m:.3f} | {rate:.1f} | {100 * rate / peak:.1f}% | {bf16_pct} "
              f"| {base / m:.2f}x |")


if __name__ == "__main__":
    main()
