"""`import jagtile.helion.language as hl`: Helion's kernel-language names (see
jagtile.language; kernel bodies are compiled by jagtile, not run by Python)."""

from ..language import __getattr__  # noqa: F401
