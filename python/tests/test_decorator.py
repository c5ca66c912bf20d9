"""@jagtile.kernel on functions of this file: compiled on first call, cached per argument
types, configs from the decorator, errors located in this file."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import jagtile
import jagtile.language as hl  # noqa: F401

# `torch` in the kernels below is the kernel language's name, never evaluated by Python (the
# annotations are strings, the bodies are compiled by jagtile): these tests need no torch.  (read by the compiler, not by Python)
from conftest import example_inputs, reference


@jagtile.kernel
def row_sums(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:  # noqa: F821
    M = x_values.size(1)
    B = x_offsets.size(0) - 1
    out = torch.zeros([B, M], dtype=x_values.dtype, device=x_values.device)
    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                acc = acc + x_values[rows, tile_m].sum(dim=1)
            out[tile_b, tile_m] = acc
    return out


@jagtile.kernel(config=jagtile.Config(block_sizes=[4, 8, 2]), backend="cpu")
def scaled_rows(x_values: torch.Tensor, x_offsets: torch.Tensor, scale: float = 2.0):  # noqa: F821
    out = torch.empty_like(x_values)
    B = x_offsets.size(0) - 1
    M = x_values.size(1)
    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                out[rows, tile_m] = x_values[rows, tile_m] * scale
    return out


# Module constants a kernel reads (jagtile inlines them; Python's own value is the same).
FIRST_ROWS = 2
ROW_SCALE = 0.5 * FIRST_ROWS


@jagtile.kernel
def first_rows_scaled(x_values: torch.Tensor, x_offsets: torch.Tensor):  # noqa: F821
    out = torch.zeros_like(x_values)
    for b in hl.grid(x_offsets.size(0) - 1):
        start = x_offsets[b]
        end = x_offsets[b + 1]
        for t in hl.tile(start, min(end, start + FIRST_ROWS)):
            out[t, :] = x_values[t, :] * ROW_SCALE
    return out


@jagtile.kernel
def bad_call(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:  # noqa: F821
    out = torch.zeros_like(x_values)
    for tile_b in hl.tile(x_offsets.size(0) - 1):
        out[tile_b, :] = torch.frobnicate(x_values[tile_b, :])  # MARK-frobnicate
    return out


def _line_of(marker: str) -> int:
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    return next(i + 1 for i, ln in enumerate(lines) if marker in ln and "_line_of" not in ln)


def test_decorated_kernel_matches_reference_and_is_cached():
    args = example_inputs("jagged_sum")
    out = row_sums(**args)
    np.testing.assert_allclose(out, reference("jagged_sum", args), rtol=1e-5, atol=1e-6)
    row_sums(**example_inputs("jagged_sum", seed=9, batch=3))
    assert row_sums.cached_specialisations() == 1
    row_sums(args["x_values"].astype(np.float16), args["x_offsets"])
    assert row_sums.cached_specialisations() == 2


def test_compiled_on_first_call_not_at_definition():
    def body(x_values, x_offsets):
        return torch.frobnicate(x_values)  # noqa: F821  (an error, found only when compiled)

    k = jagtile.kernel(body)  # no error here: nothing is parsed yet
    with pytest.raises(jagtile.KernelError, match="frobnicate"):
        k(**example_inputs("jagged_sum"))


def test_decorator_config_reaches_the_compiler():
    args = example_inputs("jagged_sum")
    d = jagtile.explain(scaled_rows, **args)
    assert "block_sizes=[4, 8, 2]" in d["config"]
    assert d["backend"] == "cpu"
    out = scaled_rows(**args, scale=3.0)
    offs = args["x_offsets"]
    used = slice(int(offs[0]), int(offs[-1]))
    np.testing.assert_allclose(out[used], args["x_values"][used] * 3.0, rtol=1e-6)


def test_kernel_reads_module_constants_and_python_min():
    args = example_inputs("jagged_sum")
    out = first_rows_scaled(**args)
    want = np.zeros_like(args["x_values"])
    offs = args["x_offsets"]
    for b in range(len(offs) - 1):
        rows = slice(int(offs[b]), min(int(offs[b + 1]), int(offs[b]) + FIRST_ROWS))
        want[rows] = args["x_values"][rows] * ROW_SCALE
    np.testing.assert_array_equal(out, want)


def test_compile_error_points_at_this_file():
    args = example_inputs("jagged_sum")
    with pytest.raises(jagtile.KernelError) as info:
        bad_call(**args)
    line = _line_of("MARK-frobnicate")
    text = str(info.value)
    assert text.startswith(f"{__file__}:{line}:"), text
    assert "torch.frobnicate" in text  # the source line, quoted from this file
    assert info.value.line == line and info.value.file == __file__
    assert isinstance(info.value, ValueError)


def test_nested_kernel_error_has_the_real_column():
    @jagtile.kernel
    def nested(x_values: torch.Tensor, x_offsets: torch.Tensor):  # noqa: F821
        out = torch.zeros_like(x_values)
        for tile_b in hl.tile(x_offsets.size(0) - 1):
            out[tile_b, :] = torch.frobnicate(x_values[tile_b, :])  # MARK-nested
        return out

    with pytest.raises(jagtile.KernelError) as info:
        nested(**example_inputs("jagged_sum"))
    line = _line_of("MARK-nested")
    src_line = inspect.getsource(inspect.getmodule(_line_of)).splitlines()[line - 1]
    e = info.value
    assert e.line == line
    # The caret's column is the real one in this file (the function is indented 4 more).
    assert str(e).startswith(f"{__file__}:{line}:{e.column}:")
    assert src_line[e.column - 1:].startswith("torch.frobnicate") or \
        src_line[e.column - 1:].startswith("frobnicate"), (e.column, src_line)


def test_nested_kernel_error_raised_by_a_later_call_has_the_real_column():
    # The first call compiles; the second, with a 1-D tensor, fails while specialising, an error
    # raised from the C++ call path and relocated there.
    @jagtile.kernel
    def nested2(x_values: torch.Tensor, x_offsets: torch.Tensor):  # noqa: F821
        out = torch.zeros_like(x_values)
        for tile_b in hl.tile(x_offsets.size(0) - 1):
            out[tile_b, :] = x_values[tile_b, :] * 2  # MARK-later
        return out

    x = np.ones((4, 3), np.float32)
    offsets = np.array([0, 1, 2, 3, 4], np.int64)
    assert nested2(x, offsets).shape == (4, 3)
    with pytest.raises(jagtile.KernelError, match="too many indices") as info:
        nested2(np.ones(4, np.float32), offsets)
    line = _line_of("MARK-later")
    src_line = inspect.getsource(inspect.getmodule(_line_of)).splitlines()[line - 1]
    e = info.value
    assert e.line == line and str(e).startswith(f"{__file__}:{line}:{e.column}:")
    assert src_line[e.column - 1:].startswith(":]"), (e.column, src_line)


def test_language_names_refuse_to_run_in_python():
    with pytest.raises(RuntimeError, match="only inside a function decorated"):
        hl.tile(3)
