"""Streaming stores off and on, interleaved in one process, on two op kernels at the standard
shape (docs/performance.md, "Streaming stores for large outputs"). Run from the repository root
with the package installed: python bench/peers/streaming_ab.py"""
import os, time, statistics
import numpy as np
import jagtile
jagtile.set_num_threads(2)
rng = np.random.default_rng(1)
B, L, D = 1024, 512, 256
lens = rng.integers(0, L + 1, B); o = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
x = rng.standard_normal((int(o[-1]), D), dtype=np.float32)
y = rng.standard_normal((B, L, D), dtype=np.float32)
cases = [("ops/jagged_to_padded_dense.py", "jagged_to_padded_dense", (x, o, L)),
         ("ops/jagged_dense_elementwise_add.py", "jagged_dense_elementwise_add", (x, o, y))]
for f, name, args in cases:
    os.environ["JAGTILE_STREAM_MIN_BYTES"] = str(1 << 62)
    plain = jagtile.load(f)[name]; plain(*args)
    del os.environ["JAGTILE_STREAM_MIN_BYTES"]
    stream = jagtile.load(f)[name]; stream(*args)
    t = {"plain": [], "stream": []}
    for r in range(9):
        for label, k in (("plain", plain), ("stream", stream)):
            t0 = time.perf_counter(); k(*args); t[label].append((time.perf_counter() - t0) * 1e3)
    print(name, ", ".join(f"{l}: median {statistics.median(v):.1f} ms" for l, v in t.items()))
