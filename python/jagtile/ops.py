"""jagtile.ops: FBGEMM's jagged ops, with FBGEMM's argument conventions, as kernels written in
jagtile's kernel language (the files in the repository's ops/ folder, shipped in the package).

    import jagtile.ops as jops
    padded = jops.jagged_to_padded_dense(values, [offsets], [max_len], padding_value=0.0)

Each function takes the arguments `torch.ops.fbgemm.<name>` takes and returns what it returns,
so swapping one for the other changes only the name. Tensors go in and come out without copies
(torch in, torch out; numpy in, numpy out). Differences from FBGEMM are listed per function.
One jagged dimension only: FBGEMM's multi-level offsets lists are refused with a clear error.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ._errors import KernelError
from ._kernel import Kernel, load

__all__ = [
    "batched_dense_vec_jagged_2d_mul", "dense_to_jagged", "jagged_dense_bmm", "jagged_jagged_bmm", "jagged_1d_to_dense", "jagged_2d_to_dense", "jagged_dense_elementwise_add",
    "jagged_dense_elementwise_add_jagged_output", "jagged_dense_elementwise_mul",
    "jagged_softmax", "jagged_to_padded_dense", "kernel_file", "segment_sum_csr",
]

_lock = threading.Lock()
_kernels: dict[str, Kernel] = {}


def kernel_file(name: str) -> Path:
    """The kernel-language source of op `name`: in the installed package, or in a checkout."""
    here = Path(__file__).resolve().parent
    for folder in (here / "ops_kernels", here.parents[1] / "ops"):
        path = folder / f"{name}.py"
        if path.is_file():
            return path
    raise KernelError(f"jagtile.ops: the kernel file of '{name}' is missing (looked in "
                      f"{here / 'ops_kernels'} and {here.parents[1] / 'ops'}); reinstall jagtile")


def _kernel(name: str) -> Kernel:
    with _lock:
        if name not in _kernels:
            _kernels[name] = load(str(kernel_file(name)))[name]
        return _kernels[name]


def _one_offsets(op: str, offsets, what: str = "offsets"):
    """FBGEMM passes a list of offsets (one per jagged dimension); jagtile's ops take one."""
    if isinstance(offsets, (list, tuple)):
        if len(offsets) != 1:
            raise KernelError(f"jagtile.ops.{op}: {len(offsets)} jagged dimensions given in "
                              f"'{what}', but jagtile's op supports one; pass [offsets]")
        return offsets[0]
    return offsets


def _one_length(op: str, lengths, what: str) -> int:
    if isinstance(lengths, (list, tuple)):
        if len(lengths) != 1:
            raise KernelError(f"jagtile.ops.{op}: {len(lengths)} values in '{what}', but "
                              f"jagtile's op supports one jagged dimension; pass [max_length]")
        lengths = lengths[0]
    return int(lengths)


def jagged_to_padded_dense(values, offsets, max_lengths, padding_value: float = 0.0):
    """[N, D] values, [offsets] -> [B, max_length, D]; longer items are truncated."""
    o = _one_offsets("jagged_to_padded_dense", offsets)
    n = _one_length("jagged_to_padded_dense", max_lengths, "max_lengths")
    return _kernel("jagged_to_padded_dense")(values, o, n, float(padding_value))


def jagged_2d_to_dense(values, offsets, max_sequence_length: int):
    """[N, D] values, offsets -> [B, max_sequence_length, D], padded with 0."""
    return _kernel("jagged_to_padded_dense")(values, offsets, int(max_sequence_length), 0.0)


def jagged_1d_to_dense(values, offsets, max_sequence_length: int, padding_value: int):
    """[N] values, offsets -> [B, max_sequence_length], padded with `padding_value`."""
    return _kernel("jagged_1d_to_dense")(values, offsets, int(max_sequence_length),
                                          int(padding_value))


def dense_to_jagged(dense, x_offsets, total_L: int | None = None):
    """[B, L, D] dense, [offsets] -> (values [total_L, D], [offsets]). Rows of items longer than
    L are 0. total_L defaults to offsets[-1] (read from the tensor, as FBGEMM does)."""
    o = _one_offsets("dense_to_jagged", x_offsets, "x_offsets")
    if total_L is None:
        total_L = int(o[-1]) if len(o) else 0
    return _kernel("dense_to_jagged")(dense, o, int(total_L)), [o]


def jagged_dense_elementwise_add(x_values, x_offsets, y):
    """x + y with a dense [B, L, D] result; x is read as zero-padded (or truncated) to L rows."""
    o = _one_offsets("jagged_dense_elementwise_add", x_offsets, "x_offsets")
    return _kernel("jagged_dense_elementwise_add")(x_values, o, y)


def jagged_dense_elementwise_add_jagged_output(x_values, x_offsets, y):
    """x + y in x's jagged layout -> (values, [offsets]); y reads as 0 past its L rows."""
    o = _one_offsets("jagged_dense_elementwise_add_jagged_output", x_offsets, "x_offsets")
    return _kernel("jagged_dense_elementwise_add_jagged_output")(x_values, o, y), [o]


def jagged_dense_elementwise_mul(x_values, x_offsets, y):
    """x * y in x's jagged layout -> (values, [offsets]); rows past y's L rows are 0."""
    o = _one_offsets("jagged_dense_elementwise_mul", x_offsets, "x_offsets")
    return _kernel("jagged_dense_elementwise_mul")(x_values, o, y), [o]


def segment_sum_csr(batch_size: int, csr_seg, values):
    """out[s] = sum of values[csr_seg[s] * batch_size : csr_seg[s + 1] * batch_size] (fp32
    accumulation, the result in the values' dtype)."""
    return _kernel("segment_sum_csr")(int(batch_size), csr_seg, values)


def jagged_softmax(values, x_offsets, max_L: int):
    """Softmax over each item's first max_L rows, per column -> (values, x_offsets). Rows past
    max_L are 0 (FBGEMM leaves them unwritten)."""
    return _kernel("jagged_softmax")(values, x_offsets, int(max_L)), x_offsets


def jagged_dense_bmm(x_values, x_offsets, y, max_L: int):
    """Each item's first max_L rows times the item's [D, E] matrix -> (values [N, E], x_offsets);
    rows past max_L are 0. fp32 accumulation."""
    return _kernel("jagged_dense_bmm")(x_values, x_offsets, y, int(max_L)), x_offsets


def jagged_jagged_bmm(x_values, y_values, x_offsets, max_L: int):
    """Per item, x_rows^T @ y_rows over its first max_L rows -> [B, D, E]. fp32 accumulation."""
    return _kernel("jagged_jagged_bmm")(x_values, y_values, x_offsets, int(max_L))


def batched_dense_vec_jagged_2d_mul(v, a_values, a_offsets):
    """[B * H, L] vectors times each item's rows, per head (a_values is [N, H * D]) -> [B * H, D].
    fp32 accumulation."""
    return _kernel("batched_dense_vec_jagged_2d_mul")(v, a_values, a_offsets)
