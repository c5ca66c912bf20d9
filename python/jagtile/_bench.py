"""jagtile.bench: every backend that can run a kernel, on the same arguments, checked against
the interpreter and then timed; the keys follow `jagtile bench --json` where they mean the same
(kernel, bytes, results[impl, median_ms, min_ms, gbps]). The CLI's peak read and hand-written
reference need the bundled examples' recipes, which the package does not ship."""

from __future__ import annotations

import time

import numpy as np

from ._errors import KernelError
from ._kernel import Kernel

_LABELS = {"template": "template", "cpu": "generic-cpu", "interp": "interp"}


def _as_numpy(x):
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu()
        return (x.float() if str(x.dtype) == "torch.bfloat16" else x).numpy()
    return np.asarray(x)


def _outputs(result):
    return list(result) if isinstance(result, tuple) else [result]


def _nbytes(x) -> int:
    if isinstance(x, np.ndarray):
        return int(x.nbytes)
    if hasattr(x, "element_size"):
        return int(x.numel() * x.element_size())
    return 0


def bench(fn: Kernel, *args, repeat: int = 11, backends=("template", "cpu", "interp"),
          **kwargs) -> dict:
    if not isinstance(fn, Kernel):
        raise TypeError(f"jagtile.bench takes a jagtile kernel, not {type(fn).__name__}")
    reference = [_as_numpy(o) for o in _outputs(fn.with_backend("interp")(*args, **kwargs))]
    in_bytes = sum(_nbytes(a) for a in list(args) + list(kwargs.values()))
    out_bytes = sum(o.nbytes for o in reference)
    results, notes = [], []
    for name in backends:
        k = fn.with_backend(name)
        try:
            got = [_as_numpy(o) for o in _outputs(k(*args, **kwargs))]
        except KernelError as e:
            notes.append(f"{_LABELS.get(name, name)}: not applicable ({e.message or e})")
            continue
        for i, (g, r) in enumerate(zip(got, reference)):
            if g.shape != r.shape or not np.allclose(g, r, rtol=1e-4, atol=1e-5, equal_nan=True):
                raise KernelError(f"bench: output {i} of backend '{name}' differs from the "
                                  f"interpreter's (max abs error "
                                  f"{np.nanmax(np.abs(g.astype(np.float64) - r)):.3g})")
        times = []
        for _ in range(repeat if name != "interp" else min(repeat, 3)):
            t0 = time.perf_counter()
            k(*args, **kwargs)
            times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        median = times[len(times) // 2]
        results.append({"impl": _LABELS.get(name, name), "median_ms": median,
                        "min_ms": times[0],
                        "gbps": (in_bytes + out_bytes) / (median * 1e6) if median else 0.0})
    return {"kernel": fn.name, "bytes": in_bytes + out_bytes, "results": results,
            "notes": notes}
