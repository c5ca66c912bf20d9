"""Helion drop-in: a Helion jagged kernel file runs on jagtile by changing only its imports,

    import jagtile.helion as helion
    import jagtile.helion.language as hl

`helion.kernel(...)` takes Helion's arguments (config=, configs=, and settings such as
static_shapes or autotune_effort, which are recorded), `helion.Config(...)` takes any Helion
config key (jagtile honours block_sizes), and the hl.* names mean what they mean in Helion."""

from __future__ import annotations

from .._config import Config
from .._kernel import kernel as _jagtile_kernel
from . import language

__all__ = ["Config", "kernel", "language"]


def kernel(fn=None, *, config=None, configs=None, **settings):
    """helion.kernel: compiled by jagtile on the first call."""
    # Helion's own `backend` setting (triton, ...) is not jagtile's backend choice: recorded.
    if "backend" in settings:
        settings["helion_backend"] = settings.pop("backend")
    return _jagtile_kernel(fn, config=config, configs=configs, **settings)
