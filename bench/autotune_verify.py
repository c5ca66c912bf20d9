# The autotuner's picks checked outside the autotuner (docs/performance.md, "Autotuner"):
# interleaved same-process timing of the default config against the full search's pick, through
# the Python package, on inputs drawn here (another seed than the CLI's): jagged_dense_bmm (B=256,
# D=64, K=64, lengths 51..204) and jagged_layer_norm (B=1024, M=256, lengths 102..409).
# Run from the repository root: JAGTILE_AUTOTUNE=0 .venv/bin/python bench/autotune_verify.py
import sys, time
import numpy as np
import jagtile

rng = np.random.default_rng(0)
def lengths(b, max_len):
    return np.clip(rng.integers(int(max_len * 0.2), int(max_len * 0.8) + 1, size=b), 0, max_len)

def offs(l):
    return np.concatenate([[0], np.cumsum(l)]).astype(np.int32)

def run(name, args, tuned):
    path = f"examples/{name}.py"
    d = jagtile.load(path)[name]
    t = jagtile.load(path, config=jagtile.Config(block_sizes=tuned))[name]
    a, b = d(**args), t(**args)
    err = float(np.nanmax(np.abs(a - b)))
    td, tt = [], []
    for i in range(7):
        for f, acc in ((d, td), (t, tt)) if i % 2 == 0 else ((t, tt), (d, td)):
            s = time.perf_counter(); f(**args); acc.append((time.perf_counter() - s) * 1e3)
    md, mt = float(np.median(td)), float(np.median(tt))
    print(f"{name}: default {md:.1f} ms, tuned {tuned} {mt:.1f} ms, speedup {md / mt:.2f}x, "
          f"max abs diff {err:.2e}")

l = lengths(256, 256); o = offs(l); n = int(o[-1])
run("jagged_dense_bmm", {"x_values": rng.uniform(-1, 1, (n, 64)).astype(np.float32), "x_offsets": o,
    "weight": rng.uniform(-1, 1, (256, 64, 64)).astype(np.float32),
    "bias": rng.uniform(-1, 1, (256, 64)).astype(np.float32)}, [1, 32, 512, 8])
l = lengths(1024, 512); o = offs(l); n = int(o[-1])
run("jagged_layer_norm", {"x_values": rng.uniform(-1, 1, (n, 256)).astype(np.float32), "x_offsets": o,
    "eps": 1e-6}, [2, 256, 16, 128, 32, 256, 32])
