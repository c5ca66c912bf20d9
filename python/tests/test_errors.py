"""Bad input from Python raises jagtile.KernelError with a clear, located message; the process
survives, and no output is produced."""

from __future__ import annotations

import numpy as np
import pytest

import jagtile
from conftest import EXAMPLES, example_inputs

SUM = str(EXAMPLES / "jagged_sum.py")


@pytest.fixture(scope="module")
def jagged_sum():
    return jagtile.load(SUM).jagged_sum


def test_wrong_dtype_int16(jagged_sum):
    a = example_inputs("jagged_sum")
    with pytest.raises(jagtile.KernelError, match="(?s)x_values.*int16.*cast to int32 or int64"):
        jagged_sum(a["x_values"].astype(np.int16), a["x_offsets"])


def test_float64_in_is_float64_out(jagged_sum):
    """float64 is a jagtile dtype: the result is float64, zero-copy in and out as for float32."""
    a = example_inputs("jagged_sum")
    x = a["x_values"].astype(np.float64)
    out = jagged_sum(x, a["x_offsets"])
    assert out.dtype == np.float64
    o = a["x_offsets"]
    want = np.stack([x[o[b]:o[b + 1]].sum(axis=0) for b in range(len(o) - 1)])
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_float_offsets_are_rejected_at_the_kernel_line(jagged_sum):
    a = example_inputs("jagged_sum")
    with pytest.raises(jagtile.KernelError, match="must be integers") as info:
        jagged_sum(a["x_values"], a["x_offsets"].astype(np.float32))
    assert str(info.value).startswith(f"{SUM}:")


def test_missing_argument(jagged_sum):
    a = example_inputs("jagged_sum")
    with pytest.raises(jagtile.KernelError, match="x_offsets") as info:
        jagged_sum(a["x_values"])
    assert "missing" in str(info.value).lower()


def test_wrong_keyword_suggests_the_right_one(jagged_sum):
    a = example_inputs("jagged_sum")
    with pytest.raises(jagtile.KernelError, match="x_ofsets") as info:
        jagged_sum(x_values=a["x_values"], x_ofsets=a["x_offsets"])
    assert "x_offsets" in str(info.value)


def test_too_many_positional_arguments(jagged_sum):
    a = example_inputs("jagged_sum")
    with pytest.raises(jagtile.KernelError, match="takes 2 argument"):
        jagged_sum(a["x_values"], a["x_offsets"], a["x_offsets"])


def test_decreasing_offsets_name_the_position(jagged_sum):
    a = example_inputs("jagged_sum")
    offs = a["x_offsets"].copy()
    offs[3], offs[4] = offs[4] + 1, offs[3]
    with pytest.raises(jagtile.KernelError, match="x_offsets") as info:
        jagged_sum(a["x_values"], offs)
    assert "decreas" in str(info.value) or "non-decreasing" in str(info.value)


def test_offsets_past_the_rows(jagged_sum):
    a = example_inputs("jagged_sum")
    offs = a["x_offsets"].copy()
    offs[-1] += 5
    with pytest.raises(jagtile.KernelError, match="x_offsets"):
        jagged_sum(a["x_values"], offs)


def test_non_contiguous_input_is_rejected_not_copied(jagged_sum):
    a = example_inputs("jagged_sum")
    strided = np.asfortranarray(a["x_values"])
    with pytest.raises(jagtile.KernelError, match="x_values' is not contiguous") as info:
        jagged_sum(strided, a["x_offsets"])
    assert "ascontiguousarray" in str(info.value)
    every_other = a["x_values"][::2]
    with pytest.raises(jagtile.KernelError, match="not contiguous"):
        jagged_sum(every_other, a["x_offsets"][:2])


def test_unsupported_argument_type(jagged_sum):
    a = example_inputs("jagged_sum")
    with pytest.raises(jagtile.KernelError, match="x_offsets"):
        jagged_sum(a["x_values"], "not a tensor")


def test_wrong_rank(jagged_sum):
    a = example_inputs("jagged_sum")
    with pytest.raises(jagtile.KernelError):
        jagged_sum(a["x_values"][:, 0].copy(), a["x_offsets"])  # [N]: no size(1)


def test_kernel_file_errors_are_located(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import helion.language as hl\n\ndef k(x):\n    return x +\n")
    with pytest.raises(jagtile.KernelError) as info:
        jagtile.load(str(bad))
    assert str(info.value).startswith(f"{bad}:4:")


def test_process_survives_and_works_after_errors(jagged_sum):
    a = example_inputs("jagged_sum")
    for _ in range(3):
        with pytest.raises(jagtile.KernelError):
            jagged_sum(a["x_values"].astype(np.int16), a["x_offsets"])
    out = jagged_sum(**a)
    assert out.shape == (len(a["x_offsets"]) - 1, a["x_values"].shape[1])


def test_jagged_reduce_errors():
    a = example_inputs("jagged_sum")
    with pytest.raises(jagtile.KernelError, match="unknown reduction op"):
        jagtile.jagged_reduce(a["x_values"], a["x_offsets"], op="median")
    offs = a["x_offsets"].copy()
    offs[2] = offs[3] + 1
    with pytest.raises(jagtile.KernelError, match="offsets"):
        jagtile.jagged_reduce(a["x_values"], offs)
