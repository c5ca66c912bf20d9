"""No copies at the boundary: inputs are read in place and results are handed to numpy over
jagtile's own memory."""

from __future__ import annotations

import numpy as np
import pytest

import jagtile
import jagtile.language as hl  # noqa: F401

# `torch` in the kernels below is the kernel language's name, never evaluated by Python (the
# annotations are strings, the bodies are compiled by jagtile): these tests need no torch.
from jagtile import _core
from conftest import example_inputs


@jagtile.kernel
def sums_and_flat(x_values: torch.Tensor, x_offsets: torch.Tensor):  # noqa: F821
    # Returns a view of its input next to a computed result: the view can share memory with
    # the caller's array only if the input went in, and the output came out, without a copy.
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
    return out, x_values.view(-1)


@jagtile.kernel
def scale_in_place(x_values: torch.Tensor, x_offsets: torch.Tensor, factor: float):  # noqa: F821
    B = x_offsets.size(0) - 1
    M = x_values.size(1)
    for tile_b in hl.tile(B):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                x_values[rows, tile_m] = x_values[rows, tile_m] * factor
    return x_offsets


def test_wrapped_input_has_the_producers_pointer():
    x = example_inputs("jagged_sum")["x_values"]
    assert _core.wrapped_data_pointer(x) == x.__array_interface__["data"][0]
    view = x[3:]  # a contiguous view starting inside the buffer
    assert _core.wrapped_data_pointer(view) == view.__array_interface__["data"][0]


def test_returned_view_shares_memory_with_the_input():
    a = example_inputs("jagged_sum")
    out, flat = sums_and_flat(**a)
    assert flat.shape == (a["x_values"].size,)
    assert np.shares_memory(flat, a["x_values"])
    assert flat.__array_interface__["data"][0] == a["x_values"].__array_interface__["data"][0]
    assert not np.shares_memory(out, a["x_values"])
    # The result keeps the memory alive after the caller drops its own array.
    expected = a["x_values"].reshape(-1).copy()
    del a
    np.testing.assert_array_equal(flat, expected)


def test_kernel_writes_land_in_the_callers_array():
    a = example_inputs("jagged_sum")
    x = a["x_values"]
    before = x.copy()
    scale_in_place(x, a["x_offsets"], 3.0)
    np.testing.assert_allclose(x, before * 3.0, rtol=1e-6)


def test_bad_offsets_write_nothing():
    a = example_inputs("jagged_sum")
    x = a["x_values"]
    before = x.copy()
    offs = a["x_offsets"].copy()
    offs[2] = offs[3] + 1  # decreasing at 3
    with pytest.raises(jagtile.KernelError):
        scale_in_place(x, offs, 3.0)
    np.testing.assert_array_equal(x, before)


def test_results_are_writable_numpy_arrays_owning_jagtile_memory():
    a = example_inputs("jagged_sum")
    out = jagtile.load(str(__import__("conftest").EXAMPLES / "jagged_sum.py")).jagged_sum(**a)
    assert isinstance(out, np.ndarray) and out.flags.c_contiguous and out.flags.writeable
    assert out.base is not None  # the capsule that holds jagtile's storage, not a numpy copy
    assert out.__array_interface__["data"][0] % 64 == 0  # jagtile's allocator aligns to 64
