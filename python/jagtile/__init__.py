"""jagtile: jagged-tensor kernels, compiled by jagtile's C++ compiler.

    import jagtile
    ks = jagtile.load("examples/jagged_sum.py")
    out = ks.jagged_sum(values, offsets)          # numpy in, numpy out; torch in, torch out

    @jagtile.kernel
    def row_sums(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor: ...

See docs/python.md."""

from __future__ import annotations

from . import _core
from ._config import Config
from ._errors import KernelError
from ._kernel import Kernel, KernelFile, kernel, load
from ._threads import get_num_threads, set_num_threads

_core.set_kernel_error_class(KernelError)

__all__ = [
    "Config", "Kernel", "KernelError", "KernelFile", "autotune", "bench", "explain",
    "get_num_threads",
    "jagged_reduce", "kernel", "load", "register_torch_op", "set_num_threads",
]
__version__ = "0.1.0"


def explain(fn: Kernel, *args, ir: bool = False, code: bool = False, **kwargs) -> dict:
    """How `fn(*args, **kwargs)` would run: the keys of `jagtile explain --json` (kernel,
    dispatch, reason, plan, device, backend, config, guards; ir and code when asked)."""
    if not isinstance(fn, Kernel):
        raise TypeError(f"jagtile.explain takes a jagtile kernel, not {type(fn).__name__}")
    return fn.explain(*args, ir=ir, code=code, **kwargs)


def autotune(fn: Kernel, *args, effort: str = "quick", budget: float = 0.0,
             use_stored: bool = True, seed: int = 0, **kwargs) -> dict:
    """Searches the configs of `fn` for these arguments (their types and shape bucket) on this
    machine, checks each against the default config's outputs, and stores the best in the
    cache folder, where every later call with arguments of that bucket finds it
    (JAGTILE_AUTOTUNE=0 ignores stored configs). effort="quick" takes seconds; "full" runs
    for `budget` seconds (default 60). Returns the keys of `jagtile autotune --json` (kernel,
    config, default_ms, best_ms, speedup, candidates, seconds, from_cache) plus key, store
    and the search's log. See docs/autotune.md."""
    if not isinstance(fn, Kernel):
        raise TypeError(f"jagtile.autotune takes a jagtile kernel, not {type(fn).__name__}")
    return fn.autotune(*args, effort=effort, budget=budget, use_stored=use_stored, seed=seed,
                       **kwargs)


def bench(fn: Kernel, *args, repeat: int = 11, **kwargs) -> dict:
    """Every backend that runs `fn(*args, **kwargs)`, checked against the interpreter, then
    timed: {"kernel", "bytes", "results": [{"impl", "median_ms", "min_ms", "gbps"}], "notes"}
    (the keys of `jagtile bench --json` that apply without a bundled example's recipe)."""
    from ._bench import bench as run

    return run(fn, *args, repeat=repeat, **kwargs)


def jagged_reduce(values, offsets, op: str = "sum", feature_counts=None):
    """The jagged_reduce template library: out[b] = op over rows offsets[b]..offsets[b+1] of
    values ([N] or [N, M]; f32/f16/bf16), accumulated in fp32. Returns [B] or [B, M] in the
    values' dtype, as the same array type as `values`. With feature_counts ([B]), columns
    >= feature_counts[b] hold 0."""
    return _core.jagged_reduce(values, offsets, op, feature_counts)


def register_torch_op(fn: Kernel, qualname: str):
    """Registers `fn` as the torch custom op `qualname` ("namespace::name") with a fake
    implementation (output shapes from the kernel's host part), usable under torch.compile and
    torch.export. Returns the op (also torch.ops.namespace.name)."""
    from ._torch import register

    return register(fn, qualname)
