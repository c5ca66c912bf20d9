"""jagtile.autotune: a search returns the documented keys and stores its best config, the
second call is answered from the store, later calls and explain use the stored config, and bad
efforts and kernels are reported. Each test has its own cache folder (JAGTILE_CACHE_DIR)."""

from __future__ import annotations

import pytest

import jagtile
from conftest import EXAMPLES, example_inputs


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("JAGTILE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("JAGTILE_AUTOTUNE", "1")
    return tmp_path


def load(name):
    return jagtile.load(str(EXAMPLES / f"{name}.py"))[name]


def test_autotune_returns_the_documented_keys_and_stores_the_best(cache):
    k = load("jagged_sum")
    args = example_inputs("jagged_sum")
    r = jagtile.autotune(k, **args, budget=0.5)
    for key in ("kernel", "config", "default_ms", "best_ms", "speedup", "candidates", "seconds",
                "from_cache"):
        assert key in r
    assert r["kernel"] == "jagged_sum"
    assert r["from_cache"] is False
    assert r["candidates"] >= 1
    assert (cache / "autotune.json").exists()
    again = jagtile.autotune(k, **args)
    assert again["from_cache"] is True
    assert again["config"] == r["config"]


def test_calls_and_explain_use_the_stored_config(cache):
    k = load("jagged_sum")
    args = example_inputs("jagged_sum")
    before = k(**args)
    r = jagtile.autotune(k, **args, budget=0.5)
    assert "stored autotune entry " + r["key"] in jagtile.explain(k, **args)["config"]
    after = k(**args)
    assert after.shape == before.shape
    assert abs(after - before).max() <= 1e-4


def test_bad_effort_is_a_kernel_error(cache):
    k = load("jagged_sum")
    with pytest.raises(jagtile.KernelError, match="effort must be 'quick' or 'full'"):
        jagtile.autotune(k, **example_inputs("jagged_sum"), effort="slow")


def test_autotune_takes_only_jagtile_kernels():
    with pytest.raises(TypeError, match="takes a jagtile kernel"):
        jagtile.autotune(lambda x: x, 1)
