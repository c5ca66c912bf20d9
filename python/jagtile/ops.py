"""jagtile.ops: FBGEMM's jagged ops, with FBGEMM's argument conventions, as kernels written in
jagtile's kernel language (the files in the repository's ops/ folder, shipped in the package).

    import jagtile.ops as jops
    padded = jops.jagged_to_padded_dense(values, [offsets], [max_len], padding_value=0.0)

Each function takes the arguments `torch.ops.fbgemm.<name>` takes and returns what it returns,
so swapping one for the other changes only the name. Tensors go in and come out without copies
(torch in, torch out; numpy in, numpy out). Differences from FBGEMM are listed per function.
One jagged dimension only: FBGEMM's multi-level offsets lists are refused with a clear error.

Training and torch.compile: where an input needs a gradient, or torch.compile is tracing, the
ops with a backward (jagtile.ops_torch) run as those torch custom ops, so gradients flow and
graphs compile whole; the others refuse an input that needs a gradient (NotImplementedError,
naming it) instead of silently returning an output without one.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from ._errors import KernelError
from ._kernel import Kernel, load

__all__ = [
    "batched_dense_vec_jagged_2d_mul", "dense_to_jagged", "expand_into_jagged_permute",
    "jagged_1d_to_dense", "jagged_2d_to_dense", "jagged_dense_bmm",
    "jagged_dense_dense_elementwise_add_jagged_output", "jagged_dense_elementwise_add",
    "jagged_dense_elementwise_add_jagged_output", "jagged_dense_elementwise_mul",
    "jagged_index_select", "jagged_jagged_bmm", "jagged_slice", "jagged_softmax",
    "jagged_to_padded_dense", "kernel_file", "keyed_jagged_index_select_dim1",
    "masked_select_jagged_1d", "pack_segments",
    "segment_sum_csr",
    "stacked_jagged_1d_to_dense", "stacked_jagged_2d_to_dense",
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
    kernel = _kernels.get(name)  # every call comes here: no lock once the kernel is loaded
    if kernel is not None:
        return kernel
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


_graph_ops = None  # jagtile.ops_torch, imported on first need (it needs torch)


def _needs_grad(inputs: dict) -> str | None:
    """The name of the first torch input that needs a gradient here, or None."""
    for name, a in inputs.items():
        if _is_torch(a) and getattr(a, "requires_grad", False):
            return name if sys.modules["torch"].is_grad_enabled() else None
    return None


def _graph_op(op: str, **inputs):
    """The torch custom op (jagtile.ops_torch) that stands for `op` when an input needs a
    gradient or torch.compile is tracing, else None. A kernel object carries no autograd, and
    Dynamo cannot trace into it; the custom ops do both, with jagtile kernels inside, so a
    model that swaps torch.ops.fbgemm.<op> for jagtile.ops.<op> still trains and compiles."""
    torch = sys.modules.get("torch")
    if torch is None or not any(_is_torch(a) for a in inputs.values()):
        return None
    compiling = getattr(getattr(torch, "compiler", None), "is_compiling", None)  # torch >= 2.3
    if _needs_grad(inputs) is None and not (compiling is not None and compiling()):
        return None
    global _graph_ops
    if _graph_ops is None:
        from . import ops_torch

        _graph_ops = ops_torch
    return getattr(_graph_ops, op)


def _no_backward(op: str, **inputs) -> None:
    """Refuses, rather than drops, a gradient that an op without a backward would lose."""
    name = _needs_grad(inputs)
    if name is not None:
        raise NotImplementedError(
            f"jagtile.ops.{op}: '{name}' requires grad, but this op has no backward yet, so its "
            f"output would carry no gradient back to '{name}'. Call it under torch.no_grad() "
            f"or on detached inputs if no gradient should flow; the ops with a backward are "
            f"listed in jagtile.ops_torch")


def jagged_to_padded_dense(values, offsets, max_lengths, padding_value: float = 0.0):
    """[N, D] values, [offsets] -> [B, max_length, D]; longer items are truncated."""
    o = _one_offsets("jagged_to_padded_dense", offsets)
    n = _one_length("jagged_to_padded_dense", max_lengths, "max_lengths")
    graph = _graph_op("jagged_to_padded_dense", values=values)
    if graph is not None:
        return graph(values, o, n, float(padding_value))
    return _kernel("jagged_to_padded_dense")(values, o, n, float(padding_value))


def jagged_2d_to_dense(values, offsets, max_sequence_length: int):
    """[N, D] values, offsets -> [B, max_sequence_length, D], padded with 0."""
    graph = _graph_op("jagged_to_padded_dense", values=values)
    if graph is not None:
        return graph(values, offsets, int(max_sequence_length), 0.0)
    return _kernel("jagged_to_padded_dense")(values, offsets, int(max_sequence_length), 0.0)


def jagged_1d_to_dense(values, offsets, max_sequence_length: int, padding_value: int):
    """[N] values, offsets -> [B, max_sequence_length], padded with `padding_value`."""
    _no_backward("jagged_1d_to_dense", values=values)
    return _kernel("jagged_1d_to_dense")(values, offsets, int(max_sequence_length),
                                          int(padding_value))


def dense_to_jagged(dense, x_offsets, total_L: int | None = None):
    """[B, L, D] dense, [offsets] -> (values [total_L, D], [offsets]). Rows of items longer than
    L are 0. total_L defaults to offsets[-1] (read from the tensor, as FBGEMM does)."""
    o = _one_offsets("dense_to_jagged", x_offsets, "x_offsets")
    if total_L is None:
        total_L = int(o[-1]) if len(o) else 0
    graph = _graph_op("dense_to_jagged", dense=dense)
    if graph is not None:
        return graph(dense, o, int(total_L)), [o]
    return _kernel("dense_to_jagged")(dense, o, int(total_L)), [o]


def jagged_dense_elementwise_add(x_values, x_offsets, y):
    """x + y with a dense [B, L, D] result; x is read as zero-padded (or truncated) to L rows."""
    o = _one_offsets("jagged_dense_elementwise_add", x_offsets, "x_offsets")
    _no_backward("jagged_dense_elementwise_add", x_values=x_values, y=y)
    return _kernel("jagged_dense_elementwise_add")(x_values, o, y)


def jagged_dense_elementwise_add_jagged_output(x_values, x_offsets, y):
    """x + y in x's jagged layout -> (values, [offsets]); y reads as 0 past its L rows."""
    o = _one_offsets("jagged_dense_elementwise_add_jagged_output", x_offsets, "x_offsets")
    _no_backward("jagged_dense_elementwise_add_jagged_output", x_values=x_values, y=y)
    return _kernel("jagged_dense_elementwise_add_jagged_output")(x_values, o, y), [o]


def jagged_dense_elementwise_mul(x_values, x_offsets, y):
    """x * y in x's jagged layout -> (values, [offsets]); rows past y's L rows are 0."""
    o = _one_offsets("jagged_dense_elementwise_mul", x_offsets, "x_offsets")
    graph = _graph_op("jagged_dense_elementwise_mul", x_values=x_values, y=y)
    if graph is not None:
        return graph(x_values, o, y), [o]
    return _kernel("jagged_dense_elementwise_mul")(x_values, o, y), [o]


def segment_sum_csr(batch_size: int, csr_seg, values):
    """out[s] = sum of values[csr_seg[s] * batch_size : csr_seg[s + 1] * batch_size] (fp32
    accumulation, the result in the values' dtype)."""
    _no_backward("segment_sum_csr", values=values)
    return _kernel("segment_sum_csr")(int(batch_size), csr_seg, values)


def jagged_softmax(values, x_offsets, max_L: int):
    """Softmax over each item's first max_L rows, per column -> (values, x_offsets). Rows past
    max_L are 0 (FBGEMM leaves them unwritten)."""
    graph = _graph_op("jagged_softmax", values=values)
    if graph is not None:
        return graph(values, x_offsets, int(max_L)), x_offsets
    return _kernel("jagged_softmax")(values, x_offsets, int(max_L)), x_offsets


def jagged_dense_bmm(x_values, x_offsets, y, max_L: int):
    """Each item's first max_L rows times the item's [D, E] matrix -> (values [N, E], x_offsets);
    rows past max_L are 0. fp32 accumulation."""
    graph = _graph_op("jagged_dense_bmm", x_values=x_values, y=y)
    if graph is not None:
        return graph(x_values, x_offsets, y, int(max_L)), x_offsets
    return _kernel("jagged_dense_bmm")(x_values, x_offsets, y, int(max_L)), x_offsets


def jagged_jagged_bmm(x_values, y_values, x_offsets, max_L: int):
    """Per item, x_rows^T @ y_rows over its first max_L rows -> [B, D, E]. fp32 accumulation."""
    graph = _graph_op("jagged_jagged_bmm", x_values=x_values, y_values=y_values)
    if graph is not None:
        return graph(x_values, y_values, x_offsets, int(max_L))
    return _kernel("jagged_jagged_bmm")(x_values, y_values, x_offsets, int(max_L))


def batched_dense_vec_jagged_2d_mul(v, a_values, a_offsets):
    """[B * H, L] vectors times each item's rows, per head (a_values is [N, H * D]) -> [B * H, D].
    fp32 accumulation."""
    graph = _graph_op("batched_dense_vec_jagged_2d_mul", v=v, a_values=a_values)
    if graph is not None:
        return graph(v, a_values, a_offsets)
    return _kernel("batched_dense_vec_jagged_2d_mul")(v, a_values, a_offsets)


def jagged_dense_dense_elementwise_add_jagged_output(x_values, x_offsets, y_0, y_1):
    """x + y_0 + y_1 in x's jagged layout -> (values, [offsets]); y reads as 0 past its L rows."""
    o = _one_offsets("jagged_dense_dense_elementwise_add_jagged_output", x_offsets, "x_offsets")
    _no_backward("jagged_dense_dense_elementwise_add_jagged_output", x_values=x_values, y_0=y_0,
                 y_1=y_1)
    return _kernel("jagged_dense_dense_elementwise_add_jagged_output")(x_values, o, y_0, y_1), [o]


def expand_into_jagged_permute(permute, input_offset, output_offset, output_size: int):
    """Output segment i lists the element indices of input segment permute[i]."""
    return _kernel("expand_into_jagged_permute")(permute, input_offset, output_offset,
                                                 int(output_size))


# The index ops below compute a few numbers per item on the host (offsets from lengths, the
# selected items' starts), with the array library of the inputs, then move the rows with one
# kernel: jagged_gather_rows (ops/jagged_gather_rows.py).


def _is_torch(a) -> bool:
    """Whether `a` is a torch tensor (torch is imported by whoever made one)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(a, torch.Tensor)


def _stacked(kernel: str, values, lengths, offset_per_key, max_lengths_per_key, padding_value):
    """One padded tensor per key t of lengths [T, B]: key t's rows start at offset_per_key[t]
    of values (a view, no copy) and run cumsum(lengths[t])."""
    if len(offset_per_key) < lengths.shape[0] or len(max_lengths_per_key) < lengths.shape[0]:
        raise ValueError(f"{kernel}: offset_per_key and max_lengths_per_key need one entry per "
                         f"key of lengths {tuple(lengths.shape)}")
    out = []
    for t in range(lengths.shape[0]):
        offsets = _offsets_of(lengths[t])
        start = int(offset_per_key[t])
        rows = values[start:start + int(offsets[-1])]
        out.append(_kernel(kernel)(rows, offsets, int(max_lengths_per_key[t]), padding_value))
    return out


def stacked_jagged_2d_to_dense(values, lengths, offset_per_key, max_lengths_per_key,
                               padding_value: int = 0):
    """[N, D] values of T keys, lengths [T, B] -> [B, max_lengths_per_key[t], D] per key,
    padded with `padding_value` (FBGEMM's argument order; its int padding)."""
    _no_backward("stacked_jagged_2d_to_dense", values=values)
    return _stacked("jagged_to_padded_dense", values, lengths, offset_per_key,
                    max_lengths_per_key, float(padding_value))


def stacked_jagged_1d_to_dense(values, lengths, offset_per_key, max_lengths_per_key,
                               padding_value: int):
    """[N] values of T keys, lengths [T, B] -> [B, max_lengths_per_key[t]] per key."""
    _no_backward("stacked_jagged_1d_to_dense", values=values)
    return _stacked("jagged_1d_to_dense", values, lengths, offset_per_key, max_lengths_per_key,
                    int(padding_value))


def _offsets_of(lengths):
    """[0, cumsum(lengths)...] as int64, in the array library of `lengths`."""
    if _is_torch(lengths):
        import torch

        out = torch.zeros(lengths.shape[0] + 1, dtype=torch.int64, device=lengths.device)
        torch.cumsum(lengths, 0, out=out[1:])
        return out
    import numpy as np

    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def _as_int64(a):
    """`a` as int64 in its own array library, itself where it already is (tiny ops spent a third
    of their time in these conversions, 2.7 us each)."""
    if _is_torch(a):
        torch = sys.modules["torch"]
        return a if a.dtype == torch.int64 else a.to(torch.int64)
    import numpy as np

    a = np.asarray(a)
    return a if a.dtype == np.int64 else a.astype(np.int64)


def _rows(values):
    """values as [N, D] (a view: 1-D values become [N, 1]), and how to shape results back."""
    if len(values.shape) == 1:
        return values.reshape(values.shape[0], 1), lambda out: out.reshape(out.shape[0])
    if len(values.shape) == 2:
        return values, lambda out: out
    rest = tuple(values.shape[1:])
    return values.reshape(values.shape[0], -1), lambda out: out.reshape((out.shape[0],) + rest)


def _gather(values, src_starts, out_lengths, total_rows=None, out_offsets=None):
    """Segment s of the result is out_lengths[s] rows of values from src_starts[s]. A caller
    gathering several tensors by the same segments passes their out_offsets once."""
    if out_offsets is None:
        out_offsets = _offsets_of(out_lengths)
    if total_rows is None:
        total_rows = int(out_offsets[-1])
    if len(values.shape) == 1:  # ids, weights: a jagged tile over the values (3x the row kernel)
        return _kernel("jagged_gather_1d")(values, _as_int64(src_starts), out_offsets,
                                           int(total_rows))
    rows, shape_back = _rows(values)
    return shape_back(_kernel("jagged_gather_rows")(rows, _as_int64(src_starts), out_offsets,
                                                    int(total_rows)))


def pack_segments(t_in, lengths, max_length: int):
    """Rows of t_in, item after item (item b has lengths[b] rows), packed into
    [B, max_length, ...] padded with 0; longer items are truncated."""
    _no_backward("pack_segments", t_in=t_in)
    offsets = _offsets_of(lengths)
    rows, _ = _rows(t_in)
    padded = _kernel("jagged_to_padded_dense")(rows, offsets, int(max_length), 0.0)
    return padded.reshape((padded.shape[0], int(max_length)) + tuple(t_in.shape[1:]))


def jagged_slice(x_values, x_lengths, start, slice_length: int):
    """Rows start[b] .. start[b] + slice_length of each item (fewer where the item ends first)
    -> (values, lengths). start[b] must not be past the item's length, as in FBGEMM."""
    _no_backward("jagged_slice", x_values=x_values)
    lengths, starts = _as_int64(x_lengths), _as_int64(start)
    past = (starts > lengths) | (starts < 0)
    if past.any():
        b = int(past.nonzero()[0][0])
        raise KernelError(f"jagtile.ops.jagged_slice: start[{b}] = {int(starts[b])} is outside "
                          f"item {b}, which has {int(lengths[b])} rows; each start must be in "
                          "0 .. the item's length")
    new_lengths = (lengths - starts).clip(0, int(slice_length))
    src = _offsets_of(lengths)[:-1] + starts
    return _gather(x_values, src, new_lengths), new_lengths


def masked_select_jagged_1d(values, lengths, mask, check_length: bool | None = None):
    """The values whose mask is true, item by item -> [masked_values, masked_lengths]. Two
    kernels: the items' offsets, their kept counts (in lengths' dtype) and the offsets of the
    kept values; then the kept values, placed by a prefix count of the mask within the item.
    check_length: whether lengths must sum to the number of values (FBGEMM's flag); jagtile
    always checks that the items fit the mask and the values."""
    _no_backward("masked_select_jagged_1d", values=values)
    if len(values.shape) != 1 or len(mask.shape) != 1 or mask.shape[0] != values.shape[0]:
        raise KernelError(f"jagtile.ops.masked_select_jagged_1d: values {tuple(values.shape)} and "
                          f"mask {tuple(mask.shape)} must be 1-D and of one length")
    if check_length and int(lengths.sum()) != values.shape[0]:
        raise KernelError(f"jagtile.ops.masked_select_jagged_1d: lengths sum to "
                          f"{int(lengths.sum())} but there are {values.shape[0]} values")
    try:
        offsets, kept, out_offsets = _kernel("masked_select_jagged_1d_lengths")(mask, lengths)
        out = _kernel("masked_select_jagged_1d")(values, mask, offsets, out_offsets)
    except KernelError:
        # The kernels compute the offsets themselves, so their errors speak of a mask load out
        # of range or of offsets out of order; say which length made them.
        lengths = _as_int64(lengths)
        negative = lengths < 0
        if negative.any():
            b = int(negative.nonzero()[0][0])
            raise KernelError(f"jagtile.ops.masked_select_jagged_1d: lengths[{b}] = "
                              f"{int(lengths[b])} is negative; lengths must be >= 0") from None
        if int(lengths.sum()) > values.shape[0]:
            raise KernelError(f"jagtile.ops.masked_select_jagged_1d: lengths sum to "
                              f"{int(lengths.sum())} but there are only {values.shape[0]} values "
                              "and mask entries") from None
        raise
    return [out, kept]


def jagged_index_select(values, lengths, indices, num_dense_output_rows: int | None = None):
    """The items indices[0], indices[1], ... of a jagged tensor -> [values, lengths]."""
    _no_backward("jagged_index_select", values=values)
    lengths, idx = _as_int64(lengths), _as_int64(indices)
    bad = (idx < 0) | (idx >= lengths.shape[0])
    if bad.any():
        i = int(bad.nonzero()[0][0])
        raise KernelError(f"jagtile.ops.jagged_index_select: indices[{i}] = {int(idx[i])} is "
                          f"not an item (there are {lengths.shape[0]}); indices must be in "
                          f"0 .. {lengths.shape[0] - 1}")
    selected = lengths[idx]
    src = _offsets_of(lengths)[idx]
    out = _gather(values, src, selected, num_dense_output_rows)
    return [out, selected]


def keyed_jagged_index_select_dim1(values, lengths, offsets, indices, batch_size: int,
                                   weights=None, selected_lengths_sum: int | None = None):
    """The batch entries indices[0], indices[1], ... of every key of a keyed jagged tensor
    (TorchRec's KeyedJaggedTensor layout: lengths holds K keys x batch_size entries, key-major,
    and offsets is [0, cumsum(lengths)...]) -> [values, lengths] or, with weights, [values,
    lengths, weights]. Output entry (k, i) is input entry (k, indices[i])."""
    _no_backward("keyed_jagged_index_select_dim1", values=values, weights=weights)
    lengths, idx = _as_int64(lengths), _as_int64(indices)
    batch_size = int(batch_size)
    n = lengths.shape[0]
    if batch_size <= 0 or n % batch_size != 0:
        raise KernelError(f"jagtile.ops.keyed_jagged_index_select_dim1: lengths has {n} entries, "
                          f"which is not a whole number of keys of batch_size {batch_size}; "
                          "lengths must hold batch_size entries per key")
    if offsets.shape[0] != n + 1:
        raise KernelError(f"jagtile.ops.keyed_jagged_index_select_dim1: offsets has "
                          f"{offsets.shape[0]} entries; it must have len(lengths) + 1 = {n + 1}")
    # Entry (k, i) of the output is entry k * batch_size + indices[i] of the input, key-major:
    # its length, its start and the output offsets, all in one kernel, whose bounds check
    # refuses an index out of range; the message below then says which one.
    try:
        selected, src, out_offsets = _kernel("keyed_select_entries")(
            lengths, _as_int64(offsets), idx, batch_size)
    except KernelError:
        bad = (idx < 0) | (idx >= batch_size)
        if bad.any():
            i = int(bad.nonzero()[0][0])
            raise KernelError(f"jagtile.ops.keyed_jagged_index_select_dim1: indices[{i}] = "
                              f"{int(idx[i])} is not a batch entry; indices must be in "
                              f"0 .. {batch_size - 1}") from None
        raise
    if weights is None:
        return [_gather(values, src, selected, selected_lengths_sum, out_offsets), selected]
    if len(values.shape) == 1 and tuple(weights.shape) == tuple(values.shape):
        # ids and weights in one pass over the segments (the common TorchRec case)
        total = int(out_offsets[-1]) if selected_lengths_sum is None else int(selected_lengths_sum)
        ids, w = _kernel("jagged_gather_1d_pair")(values, weights, src, out_offsets, total)
        return [ids, selected, w]
    return [_gather(values, src, selected, selected_lengths_sum, out_offsets), selected,
            _gather(weights, src, selected, selected_lengths_sum, out_offsets)]
