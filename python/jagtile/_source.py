"""The kernel-language source of a decorated Python function, laid out so that every line keeps
its number (and, for a function at the top of its module, its column) in the user's own file:
compile errors then point at the user's .py file, not at a copy."""

from __future__ import annotations

import ast
import inspect
import linecache
from dataclasses import dataclass


@dataclass
class KernelSource:
    text: str  # what the compiler parses: blank lines except imports and the function
    file: str  # the user's file, as error messages name it
    name: str  # the function's name (the kernel's)
    col_shift: int  # columns removed from each line (a nested function is dedented)
    lines: list  # the user's file's lines (for re-rendering a shifted error)
    outputs: int  # how many tensors the kernel returns (from its return statements)


def _leading(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def count_outputs(func: ast.FunctionDef) -> int:
    """1 for `return t`, n for `return a, b, ...` (the kernel language's two forms)."""
    counts = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            counts.add(len(value.elts) if isinstance(value, ast.Tuple) else 1)
    return max(counts) if counts else 0


def function_source(fn) -> KernelSource:
    try:
        own_lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as e:
        raise TypeError(
            f"jagtile.kernel: cannot read the source of {getattr(fn, '__name__', fn)!r} ({e}); "
            "define kernels in a .py file, or use jagtile.load(path)"
        ) from None
    file = inspect.getsourcefile(fn) or fn.__code__.co_filename
    file_lines = linecache.getlines(file) or []
    if len(file_lines) < first - 1 + len(own_lines):
        file_lines = [""] * (first - 1) + own_lines  # source known only for the function

    shift = _leading(own_lines[0])
    body = [ln[min(shift, _leading(ln)):] if ln.strip() else "\n" for ln in own_lines]
    func = ast.parse("".join(body)).body[0]
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise TypeError(f"jagtile.kernel decorates functions, not {type(func).__name__}")

    text = ["\n"] * len(file_lines)
    # The module's absolute imports keep their lines: a kernel may use any alias they bind.
    try:
        module = ast.parse("".join(file_lines))
        for node in module.body:
            if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.level == 0):
                for ln in range(node.lineno, node.end_lineno + 1):
                    text[ln - 1] = file_lines[ln - 1]
    except SyntaxError:
        pass  # a file Python itself reads in parts (exec'd text): default aliases only
    # The function, its decorators left out: the decorator's arguments were evaluated by Python
    # and reach the compiler as options (a config may be any Python expression).
    def_line = func.lineno  # 1-based within `body`
    for i, ln in enumerate(body):
        if i + 1 >= def_line:
            text[first - 1 + i] = ln if ln.endswith("\n") else ln + "\n"
    return KernelSource(
        text="".join(text),
        file=file,
        name=func.name,
        col_shift=shift,
        lines=file_lines,
        outputs=count_outputs(func),
    )


def file_outputs(path: str) -> dict:
    """{kernel name: output count} for a kernel file ({} when Python cannot parse it: the
    compiler accepted it, so a count of 1 is assumed)."""
    try:
        with open(path, encoding="utf-8") as f:
            module = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return {}
    return {
        node.name: count_outputs(node)
        for node in module.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
