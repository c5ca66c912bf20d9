"""Shared fixtures: the bundled examples' inputs (numpy, seeded) and numpy references, and the
CLI binary for comparing the Python path with the C++ one."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

# Outputs a backend leaves unfilled (fully written, or the template's) start as NaN, so an
# element it fails to write fails a test instead of reading as zero (src/host/host_exec.cpp).
os.environ.setdefault("JAGTILE_POISON_UNFILLED", "1")

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def offsets_for(lengths, dtype=np.int32):
    return np.concatenate([[0], np.cumsum(lengths)]).astype(dtype)


def example_inputs(name: str, seed: int = 0, dtype=np.float32, batch: int = 7, m: int = 13):
    """Inputs as the kernel's parameters (dict), including an empty item and a long one."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 9, size=batch)
    lengths[1] = 0
    lengths[-1] = 21
    offs = offsets_for(lengths)
    n = int(offs[-1])
    x = rng.uniform(-1, 1, size=(n, m)).astype(dtype)
    if name in ("jagged_sum", "jagged_max", "jagged_softmax"):
        return {"x_values": x, "x_offsets": offs}
    if name == "jagged_layer_norm":
        return {"x_values": x, "x_offsets": offs, "eps": 1e-6}
    if name == "jagged_mean":
        counts = rng.integers(0, m + 1, size=batch).astype(np.int32)
        return {"x_values": x, "x_offsets": offs, "x_feature_counts": counts}
    if name == "jagged_dense_add":
        y = rng.uniform(-1, 1, size=(batch, int(lengths.max()) + 2, m)).astype(dtype)
        return {"x_values": x, "x_offsets": offs, "y": y}
    if name == "jagged_dense_bmm":
        k = m // 2 + 1
        w = rng.uniform(-1, 1, size=(batch, m, k)).astype(dtype)
        bias = rng.uniform(-1, 1, size=(batch, k)).astype(dtype)
        return {"x_values": x, "x_offsets": offs, "weight": w, "bias": bias}
    if name == "jagged_hstu_attention":
        h, d = 2, 8
        q, k, v = (rng.uniform(-1, 1, size=(n, h, d)).astype(dtype) for _ in range(3))
        return {"q": q, "k": k, "v": v, "seq_offsets": offs,
                "max_seq_len": int(max(lengths.max(), 1)), "alpha": float(1.0 / np.sqrt(d))}
    raise KeyError(name)


def reference(name: str, a: dict):
    """Plain numpy (float64) versions of the bundled examples."""
    if name == "jagged_hstu_attention":
        q, k, v, offs = (a[n].astype(np.float64) for n in ("q", "k", "v", "seq_offsets"))
        out = np.zeros_like(q)
        for b in range(len(offs) - 1):
            s, e = int(offs[b]), int(offs[b + 1])
            for h in range(q.shape[1]):
                scores = a["alpha"] * q[s:e, h] @ k[s:e, h].T
                scores = scores / (1 + np.exp(-scores))  # silu
                scores = np.tril(scores) / a["max_seq_len"]
                out[s:e, h] = scores @ v[s:e, h]
        return out
    x, offs = a["x_values"].astype(np.float64), a["x_offsets"]
    items = [x[int(offs[b]):int(offs[b + 1])] for b in range(len(offs) - 1)]
    if name == "jagged_sum":
        return np.stack([r.sum(axis=0) for r in items])
    if name == "jagged_max":
        return np.stack([r.max(axis=0) if len(r) else np.full(x.shape[1], -np.inf) for r in items])
    if name == "jagged_mean":
        out = np.zeros((len(items), x.shape[1]))
        for b, r in enumerate(items):
            c = int(a["x_feature_counts"][b])
            if len(r):
                out[b, :c] = r[:, :c].mean(axis=0)
        return out
    if name == "jagged_softmax":
        out = np.zeros_like(x)
        for b, r in enumerate(items):
            if len(r):
                e = np.exp(r - r.max(axis=0))
                out[int(offs[b]):int(offs[b + 1])] = e / e.sum(axis=0)
        return out
    if name == "jagged_layer_norm":
        out = np.zeros_like(x)
        for b, r in enumerate(items):
            if len(r):
                out[int(offs[b]):int(offs[b + 1])] = (r - r.mean()) / np.sqrt(r.var() + a["eps"])
        return out
    if name == "jagged_dense_add":
        out = a["y"].astype(np.float64).copy()
        for b, r in enumerate(items):
            out[b, :len(r)] += r
        return out
    if name == "jagged_dense_bmm":
        out = np.zeros((x.shape[0], a["weight"].shape[2]))
        for b, r in enumerate(items):
            out[int(offs[b]):int(offs[b + 1])] = r @ a["weight"][b] + a["bias"][b]
        return out
    raise KeyError(name)


EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("jagged_*.py"))


@pytest.fixture(scope="session")
def cli():
    """The jagtile CLI of the C++ build (build/ or $JAGTILE_CLI), for same-run comparisons."""
    path = pathlib.Path(os.environ.get("JAGTILE_CLI", ROOT / "build" / "jagtile"))
    if not path.exists():
        pytest.skip(f"no CLI at {path} (build it with `make build`, or set JAGTILE_CLI)")
    return path
