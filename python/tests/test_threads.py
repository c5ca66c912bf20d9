"""The GIL is released while a kernel runs: another Python thread keeps running meanwhile."""

from __future__ import annotations

import threading
import time

import jagtile
from conftest import EXAMPLES, example_inputs


def test_other_python_threads_run_during_a_kernel():
    # The interpreter backend on a mid-sized input: a call of a few hundred milliseconds.
    k = jagtile.load(str(EXAMPLES / "jagged_softmax.py"), backend="interp").jagged_softmax
    a = example_inputs("jagged_softmax", batch=2000, m=64)
    done = threading.Event()
    span = {}

    def work():
        span["start"] = time.perf_counter()
        k(**a)
        span["end"] = time.perf_counter()
        done.set()

    t = threading.Thread(target=work)
    t.start()
    ticks = []
    while not done.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    t.join()
    inside = [x for x in ticks if span["start"] <= x <= span["end"]]
    duration = span["end"] - span["start"]
    assert duration > 0.1, f"the call took only {duration:.3f} s: enlarge the input"
    # With the GIL held for the whole call this thread would not tick at all inside it.
    assert len(inside) >= 10, (len(inside), duration)
    gaps = [b - a for a, b in zip(inside, inside[1:])]
    assert max(gaps) < duration / 2, (max(gaps), duration)
