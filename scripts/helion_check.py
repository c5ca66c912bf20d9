#!/usr/bin/env python3
"""Run every Helion jagged kernel, unchanged, through `jagtile run` and check the results.

Issue 11 asks that every `@helion.kernel` function of Helion's `examples/jagged_*.py` and
`test/test_jagged_tile.py` runs unchanged on jagtile's interpreter and CPU backend, correct
against an independent reference, and that the error-case kernels of the test file are
rejected with located messages naming the jagged tile problem. This script checks exactly
that, against a Helion checkout given at run time:

1. It reads Helion's files (a checkout with --helion, or a bare git repository with --git-dir)
   and extracts each kernel with the file's import lines into a file of its own. Nothing of
   Helion's is stored in this repository; everything Helion-specific is read at run time.
2. For each kernel it generates small deterministic inputs over several length distributions
   (empty items, one long item, all items empty, ...), writes them as .npy files, runs
   `jagtile run` on each backend, reads the output back and compares it with a reference
   written here in plain Python from the kernel's documented semantics (not from its code).
3. Error-case kernels must stop with exit status 1 (user error) and a message that points at
   `file:line:col` inside the kernel and mentions `jagged_tile`.

Python 3 standard library only (numpy and torch are not needed).

    python3 scripts/helion_check.py                        # bare repo at the default place
    python3 scripts/helion_check.py --helion ~/src/helion  # a checkout
    python3 scripts/helion_check.py --filter softmax --backends interp --keep /tmp/hc
"""
from __future__ import annotations

import argparse
import ast
import concurrent.futures
import dataclasses
import importlib.util
import math
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from pathlib import Path

from helion_check_cases import CASES, Array, Input, read_npy, write_npy


def _load_module_constants():
    """jagtile's own rule for the module-level constants a kernel file keeps
    (python/jagtile/_source.py, standard library only), loaded without importing the package."""
    path = Path(__file__).resolve().parent.parent / "python" / "jagtile" / "_source.py"
    spec = importlib.util.spec_from_file_location("jagtile_source_rules", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module.module_constants


module_constants = _load_module_constants()

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GIT_DIR = Path("/work/.mirror/pytorch+helion/repo")
SKIPPED = 77  # the exit status of --skip-without-helion when there are no Helion sources
USER_ERROR_STATUS = 1  # tools/jagtile_main.cpp: 1 user error, 2 usage error, 3 internal error
RTOL = 1e-4

# ---------------------------------------------------------------------------------------------
# Reading Helion's files and extracting the kernels
# ---------------------------------------------------------------------------------------------


class HelionSource:
    """Helion's files, from a checkout or from a bare git repository (at one revision).

    Both forms are supported because the project keeps a bare mirror, while a user is more
    likely to have a checkout; the rest of the script only sees `files()` and `read()`.
    """

    def __init__(self, checkout: Path | None, git_dir: Path | None, rev: str):
        self.checkout, self.git_dir, self.rev = checkout, git_dir, rev

    def describe(self) -> str:
        if self.checkout:
            return str(self.checkout)
        commit = self._git("rev-parse", self.rev).strip()
        return f"{self.git_dir} @ {commit[:12]}"

    def _git(self, *args: str) -> str:
        proc = subprocess.run(["git", f"--git-dir={self.git_dir}", *args],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"error: git --git-dir={self.git_dir} {' '.join(args)}: "
                             f"{proc.stderr.strip()}")
        return proc.stdout

    def files(self) -> list[str]:
        """The files issue 11 covers, examples/jagged_*.py and test/test_jagged_tile.py, and
        the jagged kernels Helion added later under pretuned_kernels/jagged_*/."""
        if self.checkout:
            names = [p.relative_to(self.checkout).as_posix() for p in self.checkout.rglob("*.py")]
        else:
            names = self._git("ls-tree", "-r", "--name-only", self.rev).split("\n")
        wanted = [
            n
            for n in names
            if re.fullmatch(r"examples/jagged_\w+\.py", n)
            or re.fullmatch(r"pretuned_kernels/jagged_\w+/\w+\.py", n)
            or n == "test/test_jagged_tile.py"
        ]
        return sorted(wanted)

    def read(self, name: str) -> str:
        if self.checkout:
            return (self.checkout / name).read_text()
        return self._git("show", f"{self.rev}:{name}")


@dataclasses.dataclass
class Kernel:
    """One @helion.kernel function as found in a Helion file."""

    source_file: str  # e.g. "examples/jagged_sum.py"
    context: str  # the enclosing test method for kernels defined inside tests, else ""
    name: str  # the function's name
    first_line: int  # first decorator line (1-based, in the Helion file)
    last_line: int
    params: list[tuple[str, bool]]  # (name, has a default)
    text: str = ""  # the extracted kernel file

    @property
    def key(self) -> str:
        """A stable identifier: test kernels reuse names, so the test method is part of it."""
        ctx = f"{self.context}/" if self.context else ""
        return f"{Path(self.source_file).name}:{ctx}{self.name}"

    @property
    def file_stem(self) -> str:
        stem = Path(self.source_file).stem
        ctx = self.context.removeprefix("test_") if self.context else self.name
        return f"{stem}__{ctx}"


def _is_helion_kernel_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return (
        isinstance(target, ast.Attribute)
        and target.attr in ("kernel", "aot_kernel")
        and isinstance(target.value, ast.Name)
        and target.value.id == "helion"
    )


def extract_kernels(source_file: str, text: str) -> tuple[list[Kernel], list[str]]:
    """Finds every @helion.kernel function (top level or nested in test methods).

    Each kernel becomes a file holding the Helion file's module docstring, import lines and
    module-level constants (as jagtile accepts them: `HSTU_CONFIG = helion.Config(...)` that a
    decorator names) and the kernel itself, dedented, with every line at its original line number (blank
    lines in between): jagtile's `file:line:col` then points at the same line in Helion's
    file. Columns of kernels nested in test methods are shifted left by their indentation.

    Dropped: non-kernel functions, classes (they only hold test methods), the
    `if __name__ == "__main__":` block, and any other top-level statement, each reported in
    the returned notes so that the "unchanged" claim can be checked by a reader.
    """
    tree = ast.parse(text)
    lines = text.split("\n")
    kept: dict[int, str] = {}  # line number -> text, for the lines every kernel file shares
    notes: list[str] = []
    constants = module_constants(tree)

    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or any(node is c for c in constants):
            for n in range(node.lineno, node.end_lineno + 1):
                kept[n] = lines[n - 1]
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            and node is tree.body[0]
        ):
            for n in range(node.lineno, node.end_lineno + 1):
                kept[n] = lines[n - 1]
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            pass  # kernels inside are found below; the rest is non-kernel code
        elif isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
            pass
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            pass  # a string used as a section comment
        else:
            notes.append(
                f"{source_file}:{node.lineno}-{node.end_lineno}: dropped top-level "
                f"{type(node).__name__} ({lines[node.lineno - 1].strip()} ...)"
            )

    kernels: list[Kernel] = []

    def visit(node: ast.AST, context: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef):
                if any(_is_helion_kernel_decorator(d) for d in child.decorator_list):
                    kernels.append(_make_kernel(source_file, lines, kept, child, context))
                else:
                    visit(child, child.name if child.name.startswith("test") else context)
            elif isinstance(child, ast.ClassDef):
                visit(child, context)

    visit(tree, "")
    return kernels, notes


def _make_kernel(
    source_file: str, lines: list[str], kept: dict[int, str], fn: ast.FunctionDef, context: str
) -> Kernel:
    first = min(d.lineno for d in fn.decorator_list)
    last = fn.end_lineno
    original = lines[first - 1 : last]
    body = textwrap.dedent("\n".join(original))
    # "Unchanged": every line is the original line less the common indentation, nothing else.
    for n, (was, now) in enumerate(zip(original, body.split("\n")), start=first):
        if was.strip() and (not was.endswith(now) or was[: len(was) - len(now)].strip()):
            raise ValueError(f"{source_file}:{n}: kernel {fn.name} cannot be dedented unchanged")
    out = dict(kept)
    for offset, line in enumerate(body.split("\n")):
        out[first + offset] = line
    text = "\n".join(out.get(n, "") for n in range(1, last + 1)) + "\n"
    args = fn.args
    positional = args.posonlyargs + args.args
    defaults_from = len(positional) - len(args.defaults)
    params = [(a.arg, i >= defaults_from) for i, a in enumerate(positional)]
    params += [(a.arg, d is not None) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    return Kernel(source_file, context, fn.name, first, last, params, text)


# ---------------------------------------------------------------------------------------------
# Running jagtile and judging the result
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    """The outcome of one `jagtile run`. kind: "output" (compared with the reference),
    "error-case" (a kernel Helion rejects) or "expected-rejection" (a valid kernel on an input
    it cannot handle)."""

    kernel: str
    backend: str
    label: str
    kind: str
    ok: bool
    summary: str  # "max_abs=... max_rel=..." or the rejection message, or why it failed
    seconds: float
    command: str = ""
    detail: str = ""  # what to show under a failure: jagtile's message or the first mismatch
    used_backend: str = ""  # the backend jagtile reports it ran on ("auto" picks one)
    max_rel: float = 0.0


def compare(actual: Array, expected: Array) -> tuple[bool, float, float, str]:
    """Elementwise |a - e| <= RTOL * (|e| + floor) with floor = 1% of max(1, max |e|).

    The floor keeps near-zero references (a sum that cancels) from turning float32 rounding
    into huge relative errors; max_rel is reported with the same floor, so a case passes
    exactly when max_rel <= RTOL. NaN must match NaN (0/0 in a kernel is its semantics).
    """
    if actual.descr != expected.descr or actual.shape != expected.shape:
        return False, math.inf, math.inf, (
            f"output is {actual.descr} {actual.shape}, expected {expected.descr} {expected.shape}"
        )
    finite = [abs(e) for e in expected.data if not math.isnan(e)]
    floor = 0.01 * max([1.0] + finite)
    max_abs = max_rel = 0.0
    first_bad = ""
    for i, (a, e) in enumerate(zip(actual.data, expected.data)):
        if math.isnan(e) or math.isnan(a):
            if math.isnan(e) and math.isnan(a):
                continue
            err = rel = math.inf
        else:
            err = abs(a - e)
            rel = err / (abs(e) + floor)
        max_abs, max_rel = max(max_abs, err), max(max_rel, rel)
        if rel > RTOL and not first_bad:
            first_bad = f"first mismatch at flat index {i}: got {a!r}, expected {e!r}"
    return max_rel <= RTOL, max_abs, max_rel, first_bad


LOCATION = re.compile(r"(?P<file>[\w./-]+\.py):(?P<line>\d+):(?P<col>\d+)")


def judge_rejection(kernel: Kernel, inp: Input, rc: int, message: str) -> tuple[bool, str]:
    """A rejection is right when jagtile exits with the user-error status (not a crash, not an
    internal error), the message matches the expected regex, and it is located: FILE:LINE:COL
    naming the kernel file, at a line inside the kernel. Since the extracted file keeps
    Helion's line numbers, the line is also the line in Helion's file."""
    if rc < 0:
        return False, f"killed by signal {-rc}"
    if rc != USER_ERROR_STATUS:
        return False, f"exit status {rc}, expected {USER_ERROR_STATUS} (user error)"
    if not re.search(inp.reject, message):
        return False, f"message does not match /{inp.reject}/"
    kernel_file = kernel.file_stem + ".py"
    loc = [m for m in LOCATION.finditer(message) if Path(m["file"]).name == kernel_file]
    if not loc:
        return False, "message is not located (no FILE:LINE:COL naming the kernel file)"
    line = int(loc[0]["line"])
    if not kernel.first_line <= line <= kernel.last_line:
        return False, (
            f"located at line {line}, outside the kernel "
            f"(lines {kernel.first_line}-{kernel.last_line})"
        )
    # The message's first located line, without the temporary directory.
    first = next(x for x in message.split("\n") if LOCATION.search(x))
    first = LOCATION.sub(lambda m: f"{Path(m['file']).name}:{m['line']}:{m['col']}", first, 1)
    return True, first


def jagtile_command(jagtile: Path, kernel: Kernel, kfile: Path, inp: Input, idir: Path,
                    backend: str, out: Path) -> list[str]:
    """The `jagtile run` command line for one call: tensors as .npy files, scalars as text."""
    cmd = [str(jagtile), "run", str(kfile), "--kernel", kernel.name]
    for name, value in inp.args.items():
        if isinstance(value, Array):
            value = str(idir / f"{name}.npy")
        elif value is None:
            value = "none"
        else:
            value = repr(value)  # shortest text that reads back as the same float
        cmd += ["--arg", f"{name}={value}"]
    return cmd + ["--backend", backend, "--out", str(out)]


def run_one(jagtile: Path, kernel: Kernel, kfile: Path, inp: Input, idir: Path, backend: str,
            kind: str, timeout: float) -> Result:
    """Runs `jagtile run` once and judges the outcome against the Input's expectation."""
    out = idir / f"out_{backend}.npy"
    # A kernel returning several tensors writes FILE_0.npy, FILE_1.npy, ... (jagtile run --out).
    expected = inp.expected if isinstance(inp.expected, tuple) else (inp.expected,)
    outs = [out] if len(expected) == 1 else [
        idir / f"out_{backend}_{i}.npy" for i in range(len(expected))
    ]
    for path in outs:
        if path.exists():
            path.unlink()
    cmd = jagtile_command(jagtile, kernel, kfile, inp, idir, backend, out)

    def result(ok: bool, summary: str, **more) -> Result:
        return Result(kernel.key, backend, inp.label, kind, ok, summary,
                      time.monotonic() - start, shlex.join(cmd), **more)

    # The .npy inputs live on the CPU: `cuda` runs the generated CUDA through the host emulation
    # (which also compiles the source with NVRTC for sm_80 and sm_90a first).
    env = dict(os.environ, JAGTILE_CUDA_EMULATION="1") if backend == "cuda" else None
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return result(False, f"timed out after {timeout:.0f} s")
    message = (proc.stderr + proc.stdout).strip()
    used = re.search(r"ran on backend (\S+)", proc.stdout)
    used_backend = used.group(1) if used else ""

    if inp.reject is not None:
        if proc.returncode == 0:
            return result(False, "accepted, but must be rejected", detail=message,
                          used_backend=used_backend)
        ok, why = judge_rejection(kernel, inp, proc.returncode, message)
        if ok and inp.why:
            why = f"{inp.why}: {why}"
        return result(ok, why, detail="" if ok else message)

    if proc.returncode != 0:
        kind_of_error = {1: "user error", 2: "usage error", 3: "internal error"}
        what = kind_of_error.get(proc.returncode, f"exit status {proc.returncode}")
        return result(False, f"jagtile failed ({what})", detail=message)
    ok, max_abs, max_rel, first_bad = True, 0.0, 0.0, ""
    for i, (path, want) in enumerate(zip(outs, expected)):
        try:
            actual = read_npy(path)
        except (OSError, ValueError) as e:
            return result(False, f"cannot read the output: {e}", detail=message)
        one_ok, one_abs, one_rel, one_bad = compare(actual, want)
        max_abs, max_rel = max(max_abs, one_abs), max(max_rel, one_rel)
        if not one_ok and ok:
            first_bad = one_bad if len(outs) == 1 else f"output {i}: {one_bad}"
        ok = ok and one_ok
    if ok and backend == "auto" and inp.auto_backend and used_backend != inp.auto_backend:
        return result(False, f"auto ran on {used_backend or '?'}, expected {inp.auto_backend}",
                      detail=message, used_backend=used_backend)
    return result(ok, f"max_abs={max_abs:.2e} max_rel={max_rel:.2e}",
                  detail="" if ok else first_bad, used_backend=used_backend, max_rel=max_rel)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def check_signature(kernel: Kernel, inputs: list[Input]) -> str:
    """Our inputs must name exactly the kernel's parameters (required ones at least): a
    changed signature upstream is reported as such, not as a confusing jagtile error."""
    names = {n for n, _ in kernel.params}
    required = {n for n, has_default in kernel.params if not has_default}
    for inp in inputs:
        given = set(inp.args)
        if given - names or required - given:
            signature = ", ".join(n for n, _ in kernel.params)
            return (f"inputs '{inp.label}' do not fit the signature ({signature}): "
                    f"unknown {sorted(given - names)}, missing {sorted(required - given)}")
    return ""


def format_line(r: Result, width: int) -> str:
    status = "PASS" if r.ok else "FAIL"
    backend = r.backend + (f"->{r.used_backend}" if r.backend == "auto" and r.used_backend else "")
    summary = r.summary
    if r.ok and r.kind != "output":
        summary = ("rejected: " if r.kind == "error-case" else "expected rejection, ") + summary
    return (f"{status}  {r.kernel:<{width}}  {backend:<14} {r.label:<36} {summary}"
            f"  ({r.seconds:.2f} s)")


def markdown_table(results: list[Result], backends: list[str]) -> str:
    """Kernel x backend summary for docs/helion.md: passes / runs, worst relative error, and
    the backend `auto` chose."""
    rows: dict[str, dict[str, list[Result]]] = {}
    for r in results:
        rows.setdefault(r.kernel, {}).setdefault(r.backend, []).append(r)
    lines = ["| kernel | " + " | ".join(backends) + " |", "|---|" + "---|" * len(backends)]
    for kernel, per in rows.items():
        cells = []
        for b in backends:
            rs = per.get(b, [])
            passed = sum(r.ok for r in rs)
            verdict = "PASS" if passed == len(rs) else "FAIL"
            outputs = [r for r in rs if r.kind == "output"]
            if not rs:
                cell = "-"
            elif not outputs:
                cell = f"{'rejected' if verdict == 'PASS' else 'FAIL'} {passed}/{len(rs)}"
            else:
                worst = max(r.max_rel for r in outputs)
                cell = f"{verdict} {passed}/{len(rs)}, max rel {worst:.0e}"
                expected = sum(r.kind == "expected-rejection" and r.ok for r in rs)
                if expected:
                    cell += f" (incl. {expected} expected rejection)"
            used = sorted({r.used_backend for r in rs if r.used_backend})
            if b == "auto" and used:
                cell += " [" + ",".join(used) + "]"
            cells.append(cell)
        lines.append(f"| {kernel} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--helion", type=Path, help="a Helion checkout")
    src.add_argument("--git-dir", type=Path,
                     help="a Helion git directory: a bare repository or a checkout's .git "
                          f"(default {DEFAULT_GIT_DIR})")
    parser.add_argument("--rev", default="HEAD",
                        help="revision to read with --git-dir (default HEAD)")
    parser.add_argument("--jagtile", type=Path, default=REPO_ROOT / "build" / "jagtile")
    parser.add_argument("--backends", default="interp,cpu,auto",
                        help="comma-separated jagtile backends (default interp,cpu,auto; cuda "
                             "runs the generated CUDA through the host emulation)")
    parser.add_argument("--filter", default="", help="only kernels whose key contains this text")
    parser.add_argument("--keep", type=Path,
                        help="write the kernels, inputs and outputs here and keep them")
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                        help="jagtile runs at a time")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per jagtile run")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-without-helion", action="store_true",
                        help=f"exit {SKIPPED} (ctest's skip code) instead of failing when no "
                             "Helion sources are found")
    parser.add_argument("--markdown", action="store_true",
                        help="also print a kernel x backend table (as in docs/helion.md)")
    opts = parser.parse_args()

    git_dir = opts.git_dir
    if opts.helion is None and git_dir is None:
        if not DEFAULT_GIT_DIR.exists():
            if opts.skip_without_helion:
                print(f"skipped: no Helion sources ({DEFAULT_GIT_DIR} does not exist, and "
                      "neither --helion nor --git-dir was given)")
                return SKIPPED
            parser.error("give --helion PATH (a checkout) or --git-dir PATH (a bare repository)")
        git_dir = DEFAULT_GIT_DIR
    if opts.helion is not None and not (opts.helion / "examples").is_dir():
        parser.error(f"{opts.helion} is not a Helion checkout (no examples/ folder)")
    source = HelionSource(opts.helion, git_dir, opts.rev)
    if not opts.jagtile.exists():
        parser.error(f"{opts.jagtile} does not exist; build it: ninja -C build jagtile")
    backends = [b for b in opts.backends.split(",") if b]

    started = time.monotonic()
    print(f"helion: {source.describe()}")
    print(f"jagtile: {opts.jagtile}")

    kernels: list[Kernel] = []
    if not source.files():
        print("error: no examples/jagged_*.py or test/test_jagged_tile.py in the Helion sources")
        return 1
    for name in source.files():
        found, notes = extract_kernels(name, source.read(name))
        kernels += found
        for note in notes:
            print(f"note: {note}")
    print(f"found {len(kernels)} kernels in {len(source.files())} files")

    failures: list[str] = []
    keys = {k.key for k in kernels}
    if len(keys) != len(kernels):
        failures.append("two kernels share a key (same file, test method and name); "
                        "extend Kernel.key")
    for key in CASES:
        if key not in keys and opts.filter in key:
            failures.append(f"{key}: no such kernel in the Helion sources (renamed or removed?)")
    selected = [k for k in kernels if opts.filter in k.key]

    workdir = opts.keep or Path(tempfile.mkdtemp(prefix="helion_check_"))
    workdir.mkdir(parents=True, exist_ok=True)
    jobs = []  # (kernel, kernel file, input, input dir, backend, kind)
    try:
        for kernel in selected:
            case = CASES.get(kernel.key)
            if case is None:
                failures.append(f"{kernel.key}: new kernel; this script has no inputs for it")
                continue
            kfile = workdir / f"{kernel.file_stem}.py"
            kfile.write_text(kernel.text)
            rng = random.Random(zlib.crc32(f"{opts.seed}:{kernel.key}".encode()))
            inputs = case.inputs(rng)
            bad = check_signature(kernel, inputs)
            if bad:
                failures.append(f"{kernel.key}: {bad}")
                continue
            for n, inp in enumerate(inputs):
                idir = workdir / kernel.file_stem / f"{n}"
                idir.mkdir(parents=True, exist_ok=True)
                for name, value in inp.args.items():
                    if isinstance(value, Array):
                        write_npy(idir / f"{name}.npy", value)
                kind = ("error-case" if case.error_case
                        else "expected-rejection" if inp.reject else "output")
                for backend in backends:
                    jobs.append((kernel, kfile, inp, idir, backend, kind))

        width = max((len(k.key) for k in selected), default=10)
        results: list[Result] = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
            futures = [pool.submit(run_one, opts.jagtile, *job, opts.timeout) for job in jobs]
            for fut in futures:  # in submission order, so the output reads kernel by kernel
                r = fut.result()
                results.append(r)
                print(format_line(r, width), flush=True)
                if not r.ok:
                    print(f"      command: {r.command}")
                    for line in r.detail.split("\n")[:12]:
                        print(f"      | {line}")
                    failures.append(f"{r.kernel} [{r.backend}] {r.label}: {r.summary}")
    finally:
        # Failures print commands that read these files: keep them so the commands can be rerun.
        if opts.keep is None and not failures:
            shutil.rmtree(workdir, ignore_errors=True)

    elapsed = time.monotonic() - started
    passed = sum(r.ok for r in results)
    errors = sum(r.ok and r.kind == "error-case" for r in results)
    expected = sum(r.ok and r.kind == "expected-rejection" for r in results)
    print()
    print(f"summary: {passed}/{len(results)} runs passed over {len(selected)} kernels "
          f"({errors} error-case rejections, {expected} expected rejections), "
          f"{len(failures)} failure(s), {elapsed:.1f} s")
    if opts.keep or failures:
        print(f"kernels, inputs and outputs kept in {workdir}")
    if opts.markdown:
        print()
        print(markdown_table(results, backends))
    for f in failures:
        print(f"FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
