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


def _is_constant(node: ast.AST, known: set) -> bool:
    """A value jagtile accepts as a module-level constant (src/lang/module_constants.h):
    literals, tuples, lists and dicts of them, arithmetic, earlier constants and
    helion.Config(...) with constant keyword arguments."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id in known
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand, known)
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left, known) and _is_constant(node.right, known)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_is_constant(e, known) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys) \
            and all(_is_constant(v, known) for v in node.values)
    if isinstance(node, ast.Call):
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        return name == "Config" and not node.args and all(
            k.arg is not None and _is_constant(k.value, known) for k in node.keywords)
    return False


def _bound_names(node: ast.stmt) -> list:
    """The names a top-level statement binds (assignment targets, defs, imports...)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def module_constants(module: ast.Module) -> list:
    """The top-level `NAME = <constant>` statements a kernel file may keep, in order: names
    that no other top-level statement binds (a name also computed, defined or imported is left
    out, so that a kernel reading it gets an error rather than a value Python would not see)."""
    candidates, known = [], set()
    for node in module.body:
        target = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target = node.target
        if isinstance(target, ast.Name) and _is_constant(node.value, known):
            known.add(target.id)
            candidates.append((target.id, node))
    other = {name for node in module.body if not any(node is n for _, n in candidates)
             for name in _bound_names(node)}
    return [node for name, node in candidates if name not in other]


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
    # The module's absolute imports and its constants keep their lines: a kernel may use any
    # alias they bind and read any constant.
    try:
        module = ast.parse("".join(file_lines))
        kept = [node for node in module.body if isinstance(node, ast.Import)
                or (isinstance(node, ast.ImportFrom) and node.level == 0)]
        # Its constants too (BLOCK = 32, CFG = helion.Config(...)): jagtile inlines them.
        for node in kept + module_constants(module):
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
