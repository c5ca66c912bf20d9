"""Every bundled example called from Python on numpy arrays: the result equals the C++ CLI's
on the same inputs (bit for bit: the same backend runs) and a numpy float64 reference."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

import jagtile
from conftest import EXAMPLE_NAMES, EXAMPLES, example_inputs, reference


def load(name):
    return jagtile.load(str(EXAMPLES / f"{name}.py"))[name]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_matches_numpy_reference(name):
    args = example_inputs(name)
    out = load(name)(**args)
    assert isinstance(out, np.ndarray)
    ref = reference(name, args)
    assert out.shape == ref.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_equals_cli_result(name, cli, tmp_path):
    args = example_inputs(name, seed=3)
    out = load(name)(**args)
    cmd = [str(cli), "run", str(EXAMPLES / f"{name}.py"), "--out", str(tmp_path / "out.npy")]
    for k, v in args.items():
        if isinstance(v, np.ndarray):
            np.save(tmp_path / f"{k}.npy", v)
            cmd += ["--arg", f"{k}={tmp_path / f'{k}.npy'}"]
        else:
            cmd += ["--arg", f"{k}={v!r}"]
    subprocess.run(cmd, check=True, capture_output=True)
    np.testing.assert_array_equal(out, np.load(tmp_path / "out.npy"))


def test_positional_and_keyword_calls_agree():
    args = example_inputs("jagged_sum")
    k = load("jagged_sum")
    a = k(args["x_values"], args["x_offsets"])
    b = k(args["x_values"], x_offsets=args["x_offsets"])
    np.testing.assert_array_equal(a, b)


def test_default_parameter_is_used_when_left_out():
    args = example_inputs("jagged_layer_norm")
    k = load("jagged_layer_norm")
    without = k(args["x_values"], args["x_offsets"])
    with_big_eps = k(args["x_values"], args["x_offsets"], eps=10.0)
    np.testing.assert_array_equal(without, k(**args))  # args carry the default 1e-6
    assert not np.allclose(without, with_big_eps)


def test_optional_tensor_none():
    args = example_inputs("jagged_dense_bmm")
    args["bias"] = None
    out = load("jagged_dense_bmm")(**args)
    ref = reference("jagged_dense_bmm", {**args, "bias": np.zeros((7, 7), np.float32)})
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_specialised_once_per_argument_types():
    k = load("jagged_sum")
    a32 = example_inputs("jagged_sum")
    k(**a32)
    k(**example_inputs("jagged_sum", seed=5, batch=11, m=4))  # new sizes: same specialisation
    assert k.cached_specialisations() == 1
    k(a32["x_values"], a32["x_offsets"].astype(np.int64))  # new offsets dtype: a new one
    assert k.cached_specialisations() == 2


def test_explain_returns_the_cli_json_keys():
    args = example_inputs("jagged_sum")
    d = jagtile.explain(load("jagged_sum"), **args)
    assert set(d) >= {"kernel", "dispatch", "reason", "plan", "device", "backend", "config",
                      "guards", "unfilled_outputs", "parallel_loops"}
    assert d["kernel"] == "jagged_sum" and d["dispatch"].startswith("template")
    g = jagtile.explain(load("jagged_softmax"), **example_inputs("jagged_softmax"))
    assert g["dispatch"] == "generic" and g["reason"]


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_jagged_reduce_library(op):
    args = example_inputs("jagged_sum")
    x, offs = args["x_values"], args["x_offsets"]
    out = jagtile.jagged_reduce(x, offs, op=op)
    items = [x[offs[b]:offs[b + 1]].astype(np.float64) for b in range(len(offs) - 1)]
    empty = {"sum": 0.0, "mean": np.nan, "max": -np.inf, "min": np.inf}[op]
    ref = np.stack([getattr(np, op)(r, axis=0) if len(r) else np.full(x.shape[1], empty)
                    for r in items])
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_jagged_reduce_feature_counts():
    args = example_inputs("jagged_mean")
    offs, counts = args["x_offsets"], args["x_feature_counts"]
    out = jagtile.jagged_reduce(args["x_values"], offs, op="mean", feature_counts=counts)
    ref = reference("jagged_mean", args)
    # The library's mean divides by the row count: 0/0 is NaN on an empty item's columns
    # (the kernel example writes 0 there instead); columns past the count hold 0.
    for b in range(len(counts)):
        if offs[b + 1] == offs[b]:
            ref[b, :counts[b]] = np.nan
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_set_num_threads_gives_identical_bits():
    args = example_inputs("jagged_sum", batch=300, m=33)
    k = load("jagged_sum")
    try:
        jagtile.set_num_threads(1)
        assert jagtile.get_num_threads() == 1
        one = k(**args)
        jagtile.set_num_threads(2)
        two = k(**args)
    finally:
        jagtile.set_num_threads(0)
    np.testing.assert_array_equal(one, two)


def test_bench_times_every_backend_that_runs_the_kernel():
    r = jagtile.bench(load("jagged_sum"), **example_inputs("jagged_sum"), repeat=3)
    impls = [x["impl"] for x in r["results"]]
    assert impls == ["template", "generic-cpu", "interp"]
    assert all(x["median_ms"] >= x["min_ms"] > 0 for x in r["results"])
    a = example_inputs("jagged_sum")
    assert r["bytes"] == a["x_values"].nbytes + a["x_offsets"].nbytes + 7 * 13 * 4
    soft = jagtile.bench(load("jagged_softmax"), **example_inputs("jagged_softmax"), repeat=2)
    assert [x["impl"] for x in soft["results"]] == ["generic-cpu", "interp"]
    assert soft["notes"] and soft["notes"][0].startswith("template: not applicable")
