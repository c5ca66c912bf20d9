"""Worker count for kernels and jagged_reduce: set_num_threads, else torch's thread count when
torch is imported, else jagtile's default pool (JAGTILE_NUM_THREADS or the hardware's). Kept in
the extension, which reads it on every call."""

from __future__ import annotations

from . import _core


def set_num_threads(n: int) -> None:
    """Kernels and jagged_reduce run with n workers from now on (0 restores the default)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"set_num_threads takes an int >= 0, not {n!r}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """The worker count calls use now."""
    return _core.current_num_threads() or _core.default_num_threads()
