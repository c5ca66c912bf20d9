"""Configs: jagtile.Config (and helion.Config, which is the same class) or a dict. jagtile
honours block_sizes, reduce_chunk_rows and reduce_workers; Helion's other keys (num_warps,
num_stages, ...) are kept and have no effect on jagtile's backends."""

from __future__ import annotations

import dataclasses
from typing import Any

from . import _core
from ._errors import KernelError

_HONOURED = ("block_sizes", "reduce_chunk_rows", "reduce_workers")


class Config:
    def __init__(self, block_sizes=None, reduce_chunk_rows: int = 0, reduce_workers: int = 0,
                 **other):
        self.block_sizes = [int(b) for b in (block_sizes or [])]
        self.reduce_chunk_rows = int(reduce_chunk_rows)
        self.reduce_workers = int(reduce_workers)
        self.other = dict(other)  # recorded, no effect

    @classmethod
    def of(cls, value: Any):
        """A Config from a Config, a dict, any object with a `config`-like mapping, or None."""
        if value is None or isinstance(value, Config):
            return value
        if isinstance(value, dict):
            return cls(**value)
        if dataclasses.is_dataclass(value):
            return cls(**dataclasses.asdict(value))
        raise KernelError(f"config must be a jagtile.Config, a helion.Config or a dict, "
                          f"not {type(value).__name__}")

    def replace(self, **changes):
        d = dict(block_sizes=self.block_sizes, reduce_chunk_rows=self.reduce_chunk_rows,
                 reduce_workers=self.reduce_workers, **self.other)
        d.update(changes)
        return Config(**d)

    def __repr__(self):
        parts = [f"{k}={getattr(self, k)!r}" for k in _HONOURED if getattr(self, k)]
        parts += [f"{k}={v!r}" for k, v in self.other.items()]
        return f"Config({', '.join(parts)})"


def config_options(config: Config | None, *, backend: str, checked: bool, num_threads: int):
    c = config or Config()
    return _core.Options(backend=backend, checked=checked, num_threads=num_threads,
                         block_sizes=c.block_sizes, chunk_rows=c.reduce_chunk_rows,
                         workers=c.reduce_workers)
