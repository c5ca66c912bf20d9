"""The peer benchmarks' race (bench/peers/peers_common.py): every timed call of every
implementation starts from the same cache state, whatever the order of the round. Until
2026-12-06 the first implementation always followed the streaming read and the next one found
its inputs in the caches (docs/performance.md, "The races measured jagtile half-cold")."""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT

pytest.importorskip("torch")
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
    impls = [(name, (lambda name=name: log.append(name))) for name in names]
    stats, _ = peers_common.race(impls, rounds, nbytes=1 << 20)
    assert set(stats) == set(names) and all(s["cache"] == cache for s in stats.values())
    return log


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


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_race_times_the_streaming_read_after_an_eviction_once_a_round(monkeypatch, cache):
    calls = [c for c in _timed_calls(_race_log(monkeypatch, cache)) if c[1] == "stream"]
    assert calls == [("evict", "stream")] * 4


def test_race_puts_each_implementation_first_in_a_round_in_turn(monkeypatch):
    log = _race_log(monkeypatch, "cold", rounds=3)
    timed = [t for _, t in _timed_calls(log) if t != "stream"]
    firsts = [timed[r * 3] for r in range(3)]
    assert sorted(firsts) == ["a", "b", "c"]
