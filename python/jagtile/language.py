"""`import jagtile.language as hl`: the names kernels use (hl.tile, hl.jagged_tile, hl.zeros,
hl.load, ...). Kernel bodies are compiled by jagtile, never run by Python, so these exist only
for imports and editors; calling one outside a kernel raises an error that says so."""


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)

    def outside_kernel(*args, **kwargs):
        raise RuntimeError(
            f"hl.{name} is part of the kernel language: it means something only inside a "
            "function decorated with @jagtile.kernel (jagtile compiles that body; Python "
            "never runs it)")

    outside_kernel.__name__ = name
    return outside_kernel
