"""The peer benchmarks' race (bench/peers/peers_common.py): every timed call of every
implementation starts from the same cache state, whatever the order of the round. Until
2026-12-06 the first implementation always followed the streaming read and the next one found
its inputs in the caches (docs/performance.md, "The races measured jagtile half-cold")."""

from __future__ import annotations

import platform
import sys

import pytest

from conftest import ROOT

torch = pytest.importorskip("torch")
sys.path.insert(0, str(ROOT / "bench" / "peers"))
import peers_common  # noqa: E402


def _race_log(monkeypatch, cache: str, names=("a", "b", "c"), rounds=4) -> list[str]:
    """Runs race() on implementations that only log their calls; returns the log, in which
    'timed' marks the call that race() times next."""
    log: list[str] = []
    monkeypatch.setattr(peers_common, "evictor", lambda: (lambda: log.append("evict")))
    monkeypatch.setattr(peers_common, "stream_reader",
                        lambda nbytes: (64 << 20, lambda: log.append("stream")))
    timed = peers_common.timed
    monkeypatch.setattr(peers_common, "timed", lambda fn: (log.append("timed"), timed(fn))[1])
    monkeypatch.setattr(peers_common, "_cache", cache)
    # The data state flushes the case's inputs and the untimed call's outputs: each impl returns
    # a tensor of its own, and the log names each flushed tensor by its identity (_which).
    inputs = [torch.zeros(4), torch.ones(2)]
    outputs = {name: torch.full((3,), float(i)) for i, name in enumerate(names)}
    monkeypatch.setattr(peers_common, "cache_line_flusher", lambda: (lambda tensors: log.append(
        "flush " + " ".join(_which(t, inputs, outputs) for t in tensors))))
    impls = [(name, (lambda name=name: (log.append(name), outputs[name])[1])) for name in names]
    stats, _ = peers_common.race(impls, rounds, nbytes=1 << 20, inputs=inputs)
    assert set(stats) == set(names) and all(s["cache"] == cache for s in stats.values())
    return log


def _which(t, inputs, outputs) -> str:
    """A flushed tensor's name in the log: input0, input1, or the impl whose output it is."""
    for i, x in enumerate(inputs):
        if t is x:
            return f"input{i}"
    return next((name for name, out in outputs.items() if t is out), "unknown")


def _timed_calls(log: list[str]):
    """(what ran just before, what was timed) for every timed call in the log."""
    return [(log[i - 1], log[i + 1]) for i, e in enumerate(log) if e == "timed"]


def test_race_times_every_implementation_right_after_an_eviction_when_cold(monkeypatch):
    calls = _timed_calls(_race_log(monkeypatch, "cold"))
    assert len(calls) == 4 * 4  # three implementations and the streaming read, four rounds
    assert all(before == "evict" for before, _ in calls), calls


def test_race_times_every_implementation_right_after_its_own_untimed_call_when_warm(monkeypatch):
    calls = [c for c in _timed_calls(_race_log(monkeypatch, "warm")) if c[1] != "stream"]
    assert len(calls) == 3 * 4
    assert all(before == timed for before, timed in calls), calls


def test_race_times_every_implementation_after_its_inputs_and_outputs_are_flushed_when_data(
        monkeypatch):
    log = _race_log(monkeypatch, "data")
    # (the call before the flush, the flush, the timed call) for every timed implementation
    calls = [(log[i - 2], log[i - 1], log[i + 1]) for i, e in enumerate(log)
             if e == "timed" and log[i + 1] != "stream"]
    assert len(calls) == 3 * 4
    assert all(before == timed and flush == f"flush input0 input1 {timed}"
               for before, flush, timed in calls), calls


def test_race_refuses_the_data_state_without_the_case_inputs(monkeypatch):
    monkeypatch.setattr(peers_common, "_cache", "data")
    monkeypatch.setattr(peers_common, "stream_reader", lambda nbytes: (1 << 20, lambda: None))
    with pytest.raises(ValueError, match="needs the input tensors"):
        peers_common.race([("a", lambda: None)], 1, nbytes=1 << 20)


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="clflush is an x86-64 instruction")
def test_cache_line_flusher_leaves_every_value_as_it_was():
    values = torch.arange(100_003, dtype=torch.float32)[1:]  # a start that is not line-aligned
    before = values.clone()
    peers_common.cache_line_flusher()([values, torch.empty(0)])
    assert torch.equal(values, before)


@pytest.mark.parametrize("cache", ["cold", "warm", "data"])
def test_race_times_the_streaming_read_after_an_eviction_once_a_round(monkeypatch, cache):
    calls = [c for c in _timed_calls(_race_log(monkeypatch, cache)) if c[1] == "stream"]
    assert calls == [("evict", "stream")] * 4


def test_race_puts_each_implementation_first_in_a_round_in_turn(monkeypatch):
    log = _race_log(monkeypatch, "cold", rounds=3)
    timed = [t for _, t in _timed_calls(log) if t != "stream"]
    firsts = [timed[r * 3] for r in range(3)]
    assert sorted(firsts) == ["a", "b", "c"]
