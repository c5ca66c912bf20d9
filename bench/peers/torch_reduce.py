#!/usr/bin/env python3
"""torch_reduce: PyTorch's jagged sums on the GPU, on exactly the data bench_reduce_cuda uses.

The data is not regenerated here: run the C++ benchmark with --dump first, which writes
DIR/<case>/values.npy and offsets.npy (bf16 values as uint16 bit patterns with jagtile's marker,
see docs/npy.md), then time torch on those files:

    build/bench_reduce_cuda --json --dump /tmp/jagged > cuda.json
    python3 bench/peers/torch_reduce.py --data /tmp/jagged --cpp-json cuda.json > torch.json

Implementations (impl names as in bench_reduce_cuda's JSON):
    torch-njt             torch.nested.nested_tensor_from_jagged(values, offsets).sum(dim=1)
    torch-segment-reduce  torch.segment_reduce(values, "sum", offsets=offsets)

Timing: CUDA events around each call after warm-up; median and minimum over --repeat calls.
bytes, gbps and pct_of_peak count the same minimum traffic as the C++ benchmark (values and
offsets read once, the [B, M] output written once). With --cpp-json, pct_of_peak uses that run's
cuda-stream-read bandwidth for the case and speedup_vs_reference is against its cuda-naive time;
without it both are null. Without a CUDA device it prints "skipped (no CUDA device)", exits 0.
"""

import argparse
import json
import os
import sys


def load_npy(path):
    import numpy as np
    import torch

    with open(path, "rb") as f:
        head = f.read(512)
    arr = np.load(path)
    if arr.dtype == np.uint16:
        if b"bfloat16" not in head:
            raise SystemExit(f"{path}: uint16 data without jagtile's bfloat16 marker")
        return torch.from_numpy(arr.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(arr)


def time_events(fn, warmup, repeat):
    import torch

    for _ in range(warmup):
        fn()
    pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
             for _ in range(repeat)]
    for start, stop in pairs:
        start.record()
        fn()
        stop.record()
    torch.cuda.synchronize()
    ms = sorted(start.elapsed_time(stop) for start, stop in pairs)
    mid = (ms[(len(ms) - 1) // 2] + ms[len(ms) // 2]) / 2
    return mid, ms[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="directory written by bench_reduce_cuda --dump")
    parser.add_argument("--cpp-json", help="bench_reduce_cuda --json output of the same run")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--case", help="only this case (e.g. uniform/f32)")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("[]")
        print("skipped (no CUDA device)", file=sys.stderr)
        return 0

    cpp = {}
    if args.cpp_json:
        with open(args.cpp_json) as f:
            for row in json.load(f):
                cpp[(row["case"], row["impl"])] = row

    device = torch.device("cuda")
    name = torch.cuda.get_device_name(device)
    rows = []
    cases = sorted(os.listdir(args.data))
    for folder in cases:
        case = folder.replace("_", "/")
        if args.case and case != args.case:
            continue
        values = load_npy(os.path.join(args.data, folder, "values.npy")).to(device)
        offsets_file = load_npy(os.path.join(args.data, folder, "offsets.npy"))
        offsets = offsets_file.to(device=device, dtype=torch.int64)
        lengths = offsets[1:] - offsets[:-1]
        items, cols = offsets.numel() - 1, values.shape[1]
        out_bytes = items * cols * values.element_size()
        moved = values.numel() * values.element_size() + offsets_file.numel() * \
            offsets_file.element_size() + out_bytes

        def njt():
            nt = torch.nested.nested_tensor_from_jagged(values, offsets)
            return nt.sum(dim=1)

        def segment():
            return torch.segment_reduce(values, "sum", offsets=offsets, axis=0)

        # Both must agree with a plain fp32 reference before anything is timed.
        want = torch.zeros(items, cols, dtype=torch.float32, device=device)
        want.index_add_(0, torch.repeat_interleave(torch.arange(items, device=device), lengths),
                        values.float())
        for impl, fn in (("torch-njt", njt), ("torch-segment-reduce", segment)):
            try:
                got = fn().float()
            except Exception as e:  # an unsupported dtype or op in this torch version
                print(f"torch_reduce: {case}: {impl} failed: {e}", file=sys.stderr)
                continue
            tol = 2e-6 * (lengths.float() + 1)[:, None] + want.abs() * (2.0 ** -7)
            if not bool(((got - want).abs() <= tol).all()):
                print(f"torch_reduce: {case}: {impl} disagrees with the reference", file=sys.stderr)
            median_ms, min_ms = time_events(fn, 3, args.repeat)
            gbps = moved / (median_ms * 1e6)
            peak = cpp.get((case, "cuda-stream-read"))
            naive = cpp.get((case, "cuda-naive"))
            rows.append({
                "case": case, "impl": impl, "threads": torch.cuda.get_device_properties(
                    device).multi_processor_count,
                "median_ms": round(median_ms, 4), "min_ms": round(min_ms, 4),
                "gbps": round(gbps, 2),
                "pct_of_peak": round(100 * gbps / peak["gbps"], 1) if peak else None,
                "speedup_vs_reference": round(naive["median_ms"] / median_ms, 2) if naive else None,
                "device": name,
            })
    json.dump(rows, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
