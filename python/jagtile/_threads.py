"""Worker count for kernels and jagged_reduce: set_num_threads, else torch's thread count when
torch is loaded, else jagtile's default pool (JAGTILE_NUM_THREADS or the hardware's)."""

from __future__ import annotations

import sys

_num_threads = 0  # 0: not set


def set_num_threads(n: int) -> None:
    """Kernels run with n workers from now on (0 restores the default)."""
    global _num_threads
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"set_num_threads takes an int >= 0, not {n!r}")
    _num_threads = n


def current_num_threads() -> int:
    """The worker count calls pass to C++ (0: jagtile's default pool)."""
    if _num_threads:
        return _num_threads
    torch = sys.modules.get("torch")
    if torch is not None:
        return torch.get_num_threads()
    return 0


def get_num_threads() -> int:
    from . import _core

    return current_num_threads() or _core.default_num_threads()
