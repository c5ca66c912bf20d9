"""Inputs and references for scripts/helion_check.py, one entry per Helion jagged kernel.

The references are plain Python written from each kernel's documented semantics (docstrings,
Helion's own tests and examples' descriptions), never translated from the kernel bodies, so a
compiler bug cannot be mirrored in its own reference. Inputs are small and deterministic and
cover the length distributions jagged kernels get wrong most easily.

Also holds the tiny Array type and the .npy reader/writer (standard library only).
"""
from __future__ import annotations

import ast
import dataclasses
import math
import random
import struct
import sys
from array import array
from pathlib import Path
from typing import Callable

# ---------------------------------------------------------------------------------------------
# .npy files (format 1.0; the subset jagtile writes and reads, see docs/npy.md)
# ---------------------------------------------------------------------------------------------

# descr -> (array typecode, bytes per element); little-endian only, as jagtile requires.
_NPY_TYPES = {"<f4": ("f", 4), "<i8": ("q", 8), "<i4": ("i", 4), "|b1": ("B", 1)}


@dataclasses.dataclass
class Array:
    """A dense row-major tensor: a dtype descr ('<f4', '<i8', '<i4'), a shape and flat data.

    Kept deliberately tiny: the references index it with `at()` and build results with
    `Array.zeros()`; nothing here tries to be numpy.
    """

    descr: str
    shape: tuple
    data: list

    @staticmethod
    def zeros(descr: str, shape: tuple) -> "Array":
        return Array(descr, tuple(shape), [0.0 if descr == "<f4" else 0] * math.prod(shape))

    def flat_index(self, idx: tuple) -> int:
        assert len(idx) == len(self.shape), (idx, self.shape)
        flat = 0
        for i, n in zip(idx, self.shape):
            assert 0 <= i < n, (idx, self.shape)
            flat = flat * n + i
        return flat

    def at(self, *idx: int):
        return self.data[self.flat_index(idx)]

    def put(self, idx: tuple, value) -> None:
        self.data[self.flat_index(idx)] = value


def write_npy(path: Path, arr: Array) -> None:
    """Writes a version 1.0 .npy file, header padded so the data starts at a multiple of 64."""
    typecode, size = _NPY_TYPES[arr.descr]
    assert len(arr.data) == math.prod(arr.shape), (arr.shape, len(arr.data))
    dims = ", ".join(map(str, arr.shape))
    shape = f"({dims},)" if len(arr.shape) == 1 else f"({dims})"
    header = f"{{'descr': '{arr.descr}', 'fortran_order': False, 'shape': {shape}, }}"
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    payload = array(typecode, arr.data)
    if sys.byteorder != "little":
        payload.byteswap()
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(payload.tobytes())


def read_npy(path: Path) -> Array:
    """Reads a .npy file of format 1.0, 2.0 or 3.0 with one of the dtypes in _NPY_TYPES."""
    raw = Path(path).read_bytes()
    if raw[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not a .npy file")
    major = raw[6]
    if major == 1:
        hlen, start = struct.unpack("<H", raw[8:10])[0], 10
    else:
        hlen, start = struct.unpack("<I", raw[8:12])[0], 12
    header = ast.literal_eval(raw[start : start + hlen].decode("latin1").strip())
    descr, shape = header["descr"], tuple(header["shape"])
    if header.get("fortran_order"):
        raise ValueError(f"{path}: fortran_order files are not handled here")
    if descr not in _NPY_TYPES:
        raise ValueError(f"{path}: dtype {descr} is not handled here")
    typecode, size = _NPY_TYPES[descr]
    payload = array(typecode)
    body = raw[start + hlen :]
    count = math.prod(shape)
    if len(body) != count * size:
        raise ValueError(f"{path}: {len(body)} data bytes, shape {shape} needs {count * size}")
    payload.frombytes(body)
    if sys.byteorder != "little":
        payload.byteswap()
    return Array(descr, shape, payload.tolist())


# ---------------------------------------------------------------------------------------------
# Deterministic inputs
# ---------------------------------------------------------------------------------------------


def f32(values) -> list[float]:
    """Rounds to float32, so the references see exactly the values jagtile reads."""
    return array("f", values).tolist()


def rand_f32(rng: random.Random, shape: tuple, lo: float = -1.0, hi: float = 1.0) -> Array:
    return Array("<f4", tuple(shape), f32(rng.uniform(lo, hi) for _ in range(math.prod(shape))))


def ints(values, descr: str = "<i8") -> Array:
    values = list(values)
    return Array(descr, (len(values),), values)


def offsets_of(lengths: list[int], descr: str = "<i8") -> Array:
    out = [0]
    for n in lengths:
        out.append(out[-1] + n)
    return ints(out, descr)


# Item-length distributions. Each is (label, function of rng -> lengths). They cover what a
# jagged kernel gets wrong most easily: empty items (first, last, consecutive), one item
# much longer than any tile, a batch with no rows at all, and a batch with no items (B = 0).
def _mixed(rng: random.Random, max_len: int = 12) -> list[int]:
    lengths = [rng.randint(1, max_len) for _ in range(7)]
    lengths[2] = 0
    return lengths


def _empty_items(rng: random.Random, max_len: int = 12) -> list[int]:
    some = [rng.randint(1, max_len) for _ in range(3)]
    return [0, some[0], 0, 0, some[1], 1, some[2], 0]


def _one_long(rng: random.Random, long_len: int = 300) -> list[int]:
    return [rng.randint(0, 4), rng.randint(1, 4), long_len, 0, rng.randint(1, 4)]


def _all_empty(rng: random.Random) -> list[int]:
    return [0, 0, 0, 0]


def _no_items(rng: random.Random) -> list[int]:
    return []


LENGTHS = {
    "mixed": _mixed,
    "empty-items": _empty_items,
    "one-long": _one_long,
    "all-empty": _all_empty,
    "no-items": _no_items,
}


def describe_lengths(lengths: list[int]) -> str:
    return f"B={len(lengths)},N={sum(lengths)},max={max(lengths, default=0)}"


# ---------------------------------------------------------------------------------------------
# References: plain Python, written from each kernel's documented semantics
# ---------------------------------------------------------------------------------------------


def silu(x: float) -> float:
    # x * sigmoid(x), written to avoid overflow of exp for large |x|.
    if x >= 0:
        return x / (1.0 + math.exp(-x))
    e = math.exp(x)
    return x * e / (1.0 + e)


def spans(offsets: Array) -> list[tuple[int, int]]:
    o = offsets.data
    return [(o[i], o[i + 1]) for i in range(len(o) - 1)]


def ref_jagged_sum(x: Array, offsets: Array) -> Array:
    """out[b, m] = sum of x[r, m] over the rows r of item b (0 for an empty item)."""
    m = x.shape[1]
    out = Array.zeros("<f4", (len(offsets.data) - 1, m))
    for b, (s, e) in enumerate(spans(offsets)):
        for j in range(m):
            out.put((b, j), math.fsum(x.at(r, j) for r in range(s, e)))
    return out


def ref_jagged_mean(x: Array, offsets: Array, counts: Array, max_m: int) -> Array:
    """out[b, m] = mean over item b's rows r of x.view(-1)[r * max_m + m] for m < counts[b]; 0
    elsewhere and for empty items. The kernel strides by max_m, so this is x[r, m] exactly when
    x is max_m wide (Helion's documented layout); a wider x is read as the kernel reads it."""
    out = Array.zeros("<f4", (len(offsets.data) - 1, max_m))
    for b, (s, e) in enumerate(spans(offsets)):
        if e > s:
            for j in range(counts.data[b]):
                out.put((b, j), math.fsum(x.data[r * max_m + j] for r in range(s, e)) / (e - s))
    return out


def ref_jagged_softmax(x: Array, offsets: Array) -> Array:
    """Softmax over the rows of each item, separately for every column; shape [N, M]."""
    n, m = offsets.data[-1], x.shape[1]
    out = Array.zeros("<f4", (n, m))
    for s, e in spans(offsets):
        for j in range(m):
            col = [x.at(r, j) for r in range(s, e)]
            if not col:
                continue
            top = max(col)
            exps = [math.exp(v - top) for v in col]
            total = math.fsum(exps)
            for r, v in zip(range(s, e), exps):
                out.put((r, j), v / total)
    return out


def ref_jagged_layer_norm(x: Array, offsets: Array, eps: float) -> Array:
    """Per item: mean and (biased) variance over all its rows and columns, then
    (x - mean) / sqrt(var + eps). Rows of empty items: there are none."""
    m = x.shape[1]
    out = Array.zeros("<f4", x.shape)
    for s, e in spans(offsets):
        vals = [x.at(r, j) for r in range(s, e) for j in range(m)]
        if not vals:
            continue
        mean = math.fsum(vals) / len(vals)
        var = math.fsum((v - mean) ** 2 for v in vals) / len(vals)
        rstd = 1.0 / math.sqrt(var + eps)
        for r in range(s, e):
            for j in range(m):
                out.put((r, j), (x.at(r, j) - mean) * rstd)
    return out


def ref_jagged_dense_add(x_data: Array, offsets: Array, y: Array) -> Array:
    """Row i of the jagged x holds x_data[offsets[i]:offsets[i+1]] as its first K_i columns
    (zeros after); out = x + y, dense [rows, N]."""
    out = Array(y.descr, y.shape, list(y.data))
    for i, (s, e) in enumerate(spans(offsets)):
        for j in range(e - s):
            out.put((i, j), y.at(i, j) + x_data.data[s + j])
    return out


def ref_jagged_dense_bmm(offsets: Array, jagged: Array, dense: Array, bias: Array | None) -> Array:
    """Rows of item b times dense[b] ([D, K]), plus bias[b] when given; shape [L, K]."""
    d, k = dense.shape[1], dense.shape[2]
    out = Array.zeros("<f4", (jagged.shape[0], k))
    for b, (s, e) in enumerate(spans(offsets)):
        for r in range(s, e):
            for c in range(k):
                acc = math.fsum(jagged.at(r, t) * dense.at(b, t, c) for t in range(d))
                out.put((r, c), acc + (bias.at(b, c) if bias is not None else 0.0))
    return out


def ref_hstu_attention(
    q: Array, k: Array, v: Array, offsets: Array, alpha: float, scale: float, strict: bool
) -> Array:
    """HSTU causal attention per sequence and head: out[i] = sum over j <= i (j < i when
    strict) of silu(alpha * q[i].k[j]) * scale * v[j]; positions are relative to the
    sequence, rows outside every sequence are 0."""
    _, heads, dim = q.shape
    dim_v = v.shape[2]
    out = Array.zeros("<f4", v.shape)
    for s, e in spans(offsets):
        for h in range(heads):
            for i in range(s, e):
                acc = [0.0] * dim_v
                for j in range(s, i if strict else i + 1):
                    dot = math.fsum(q.at(i, h, t) * k.at(j, h, t) for t in range(dim))
                    w = silu(dot * alpha) * scale
                    for t in range(dim_v):
                        acc[t] += w * v.at(j, h, t)
                for t in range(dim_v):
                    out.put((i, h, t), acc[t])
    return out


def ref_target_hstu(
    q: Array, k: Array, v: Array, grad_out: Array, offsets: Array, num_targets: Array
) -> tuple[Array, Array, Array, Array]:
    """Target-aware causal HSTU attention (Helion's pretuned_kernels/jagged_hstu_attention, its
    module docstring): in a sequence [s, e) with t targets, history rows end at h = e - t; query
    i sees key j when j <= i and j < h (history, causally), or when j == i (a target sees
    itself, never another target). S = q[i].k[j] (no scale), P = silu(S):
    out[i] = sum_j P v[j]. Backward with dO = grad_out: dP = dO[i].v[j],
    dS = dP sigmoid(S) (1 + S (1 - sigmoid(S))); dq[i] = sum_j dS k[j],
    dk[j] = sum_i dS q[i], dv[j] = sum_i P dO[i]. Returns (out, dq, dk, dv)."""
    _, heads, dim = q.shape
    out, dq, dk, dv = (Array.zeros("<f4", q.shape) for _ in range(4))
    acc = {name: {} for name in ("out", "dq", "dk", "dv")}  # (row, head, col) -> terms

    def add(name: str, key: tuple, term: float) -> None:
        acc[name].setdefault(key, []).append(term)

    for b, (s, e) in enumerate(spans(offsets)):
        history_end = e - num_targets.at(b)
        for h in range(heads):
            for i in range(s, e):
                for j in range(s, i + 1):
                    if not (j < history_end or j == i):
                        continue
                    score = math.fsum(q.at(i, h, c) * k.at(j, h, c) for c in range(dim))
                    sig = 1.0 / (1.0 + math.exp(-score)) if score >= -700 else 0.0
                    prob = silu(score)
                    d_prob = math.fsum(grad_out.at(i, h, c) * v.at(j, h, c) for c in range(dim))
                    d_score = d_prob * sig * (1.0 + score * (1.0 - sig))
                    for c in range(dim):
                        add("out", (i, h, c), prob * v.at(j, h, c))
                        add("dq", (i, h, c), d_score * k.at(j, h, c))
                        add("dk", (j, h, c), d_score * q.at(i, h, c))
                        add("dv", (j, h, c), prob * grad_out.at(i, h, c))
    for name, arr in (("out", out), ("dq", dq), ("dk", dk), ("dv", dv)):
        for key, terms in acc[name].items():
            arr.put(key, math.fsum(terms))
    return out, dq, dk, dv


def ref_row_sum(x: Array, offsets: Array, plus: float = 0.0) -> Array:
    """out[b] = sum over item b of (x[r] + plus)."""
    return Array(
        "<f4",
        (len(offsets.data) - 1,),
        [math.fsum(x.data[r] + plus for r in range(s, e)) for s, e in spans(offsets)],
    )


def ref_dense_jagged_mean(x: Array, lengths: Array, counts: Array) -> Array:
    """x is padded [B, K, M]: out[b, m] = mean of x[b, :lengths[b], m] for m < counts[b],
    0 for m >= counts[b]. An empty item divides 0 by 0, as the kernel (and torch) do: NaN."""
    b_n, _, m_n = x.shape
    out = Array.zeros("<f4", (b_n, m_n))
    for b in range(b_n):
        n = lengths.data[b]
        for m in range(counts.data[b]):
            total = math.fsum(x.at(b, r, m) for r in range(n))
            out.put((b, m), total / n if n else math.nan)
    return out


def ref_2d_lengths_sum(x: Array, lengths: Array) -> Array:
    """x padded [B1, B2, K]: out[i, j] = sum of x[i, j, :lengths[i, j]]."""
    b1, b2 = lengths.shape
    out = Array.zeros("<f4", (b1, b2))
    for i in range(b1):
        for j in range(b2):
            out.put((i, j), math.fsum(x.at(i, j, r) for r in range(lengths.at(i, j))))
    return out


def ref_2d_offsets_sum(x: Array, offsets: Array) -> Array:
    """offsets [B1 + 1, B2], one offsets column per j: out[i, j] = sum of
    x[offsets[i, j]:offsets[i + 1, j]]."""
    b1, b2 = offsets.shape[0] - 1, offsets.shape[1]
    out = Array.zeros("<f4", (b1, b2))
    for i in range(b1):
        for j in range(b2):
            s, e = offsets.at(i, j), offsets.at(i + 1, j)
            out.put((i, j), math.fsum(x.data[s:e]))
    return out


# ---------------------------------------------------------------------------------------------
# Cases: which inputs each kernel gets and what it must produce
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Input:
    """One call: arguments by parameter name (Array, int, float, or None for `--arg x=none`)
    and either the output it must produce or the rejection it must get."""

    label: str
    args: dict
    expected: Array | tuple | None = None  # a tuple: one Array per output, in order
    reject: str | None = None  # a regex the error message must match, when it must be rejected
    why: str = ""  # for an input that is rejected although the kernel is valid: why
    auto_backend: str | None = None  # the backend `--backend auto` must choose, when it matters


@dataclasses.dataclass
class Case:
    """What to do with one kernel: inputs(rng) gives the calls. An `error_case` kernel is one
    Helion's tests expect to be rejected (helion.exc.InvalidJaggedTileUsage); jagtile must
    reject it with a located message about the jagged tile, whatever the inputs."""

    inputs: Callable[[random.Random], list[Input]]
    error_case: bool = False


PAD = 777.0  # value of padding positions in padded inputs: a masking bug shows up at once


def _padded(rng, shape, valid: Callable[[tuple], bool]) -> Array:
    x = rand_f32(rng, shape)
    for flat in range(len(x.data)):
        idx, rest = [], flat
        for n in reversed(shape):
            idx.append(rest % n)
            rest //= n
        if not valid(tuple(reversed(idx))):
            x.data[flat] = PAD
    return x


def flat_inputs(make: Callable[[random.Random, list[int], str], Input]):
    """The standard length distributions for kernels over values [N, ...] + offsets [B + 1],
    plus one run with int32 offsets."""

    def inputs(rng: random.Random) -> list[Input]:
        calls = []
        for label, dist in LENGTHS.items():
            lengths = dist(rng)
            calls.append(make(rng, lengths, "<i8"))
            calls[-1].label = f"{label}({describe_lengths(lengths)})"
        lengths = _mixed(rng)
        calls.append(make(rng, lengths, "<i4"))
        calls[-1].label = f"mixed-i32-offsets({describe_lengths(lengths)})"
        return calls

    return inputs


def _sum_input(rng, lengths, odt, m=13):
    x, off = rand_f32(rng, (sum(lengths), m)), offsets_of(lengths, odt)
    return Input("", {"x_data": x, "x_offsets": off}, ref_jagged_sum(x, off))


def _mean_input(rng, lengths, odt, m=9):
    counts = [rng.randint(0, m) for _ in lengths]
    if counts:
        counts[0] = m  # one item with every feature, one with none
        counts[-1] = 0
    item_of_row = [b for b, n in enumerate(lengths) for _ in range(n)]
    x = _padded(rng, (sum(lengths), m), lambda i: i[1] < counts[item_of_row[i[0]]])
    off, fc = offsets_of(lengths, odt), ints(counts, "<i4")
    args = {"x_data": x, "x_offsets": off, "x_feature_counts": fc, "max_M": m}
    # The template runs it under the guard max_M == x_data.size(1), which holds here.
    return Input("", args, ref_jagged_mean(x, off, fc, m), auto_backend="template")


def _mean_inputs(rng: random.Random) -> list[Input]:
    """The standard inputs, plus values wider than max_M: the guard fails and `auto` must take
    the generic path, still correct."""
    calls = flat_inputs(_mean_input)(rng)
    lengths, m = _mixed(rng), 9
    x = rand_f32(rng, (sum(lengths), m + 3))
    off = offsets_of(lengths, "<i8")
    fc = ints([rng.randint(0, m) for _ in lengths], "<i4")
    args = {"x_data": x, "x_offsets": off, "x_feature_counts": fc, "max_M": m}
    calls.append(Input(f"wider-than-max_M({describe_lengths(lengths)},M={m + 3})", args,
                       ref_jagged_mean(x, off, fc, m), auto_backend="cpu"))
    return calls


def _softmax_input(rng, lengths, odt, m=5):
    x, off = rand_f32(rng, (sum(lengths), m), -3.0, 3.0), offsets_of(lengths, odt)
    return Input("", {"x_data": x, "x_offsets": off}, ref_jagged_softmax(x, off))


def _layer_norm_input(rng, lengths, odt, m=6):
    x, off = rand_f32(rng, (sum(lengths), m), -2.0, 3.0), offsets_of(lengths, odt)
    if odt == "<i4":  # once with an explicit eps, the other calls use the default 1e-6
        args = {"x_values": x, "x_offsets": off, "eps": 1e-3}
        return Input("", args, ref_jagged_layer_norm(x, off, 1e-3))
    return Input("", {"x_values": x, "x_offsets": off}, ref_jagged_layer_norm(x, off, 1e-6))


def _dense_add_input(rng, lengths, odt):
    width = max(lengths, default=0) + 3
    x, off = rand_f32(rng, (sum(lengths),)), offsets_of(lengths, odt)
    y = rand_f32(rng, (len(lengths), width))
    return Input("", {"x_data": x, "x_offsets": off, "y": y}, ref_jagged_dense_add(x, off, y))


def _bmm_inputs(rng: random.Random) -> list[Input]:
    calls = []
    d, k = 6, 5
    for label, dist in LENGTHS.items():
        lengths = dist(rng)
        off = offsets_of(lengths)
        jag = rand_f32(rng, (sum(lengths), d))
        dense = rand_f32(rng, (len(lengths), d, k))
        bias = rand_f32(rng, (len(lengths), k))
        for with_bias in (True, False):
            b = bias if with_bias else None
            args = {"seq_offsets": off, "jagged": jag, "dense": dense, "bias": b}
            tag = "bias" if with_bias else "bias=None"
            ref = ref_jagged_dense_bmm(off, jag, dense, b)
            calls.append(Input(f"{label}({describe_lengths(lengths)},{tag})", args, ref))
    return calls


def _hstu_args(rng, lengths, max_seq_len, heads=2, dim=8, odt="<i8"):
    n = sum(lengths)
    q, k, v = (rand_f32(rng, (n, heads, dim)) for _ in range(3))
    return q, k, v, offsets_of(lengths, odt)


def _hstu1_inputs(rng: random.Random) -> list[Input]:
    """examples/jagged_hstu_attn.py: its q tile spans max_seq_len rows from each sequence's
    start whatever the sequence's length, so only inputs where every sequence has length
    max_seq_len stay inside the tensors. Those must be correct; an input whose last sequence
    is short must be rejected by jagtile's bounds checks with a clear message, not crash."""
    calls = []
    alpha = 0.25
    for label, b, msl in (("all-full", 3, 37), ("all-full-single", 1, 70)):
        lengths = [msl] * b
        q, k, v, off = _hstu_args(rng, lengths, msl)
        args = {"max_seq_len": msl, "alpha": alpha, "q": q, "k": k, "v": v, "seq_offsets": off}
        ref = ref_hstu_attention(q, k, v, off, alpha, 1.0 / msl, strict=True)
        calls.append(Input(f"{label}({describe_lengths(lengths)})", args, ref))
    lengths, msl = [37, 20, 1], 37
    q, k, v, off = _hstu_args(rng, lengths, msl)
    args = {"max_seq_len": msl, "alpha": alpha, "q": q, "k": k, "v": v, "seq_offsets": off}
    calls.append(
        Input(
            f"varied({describe_lengths(lengths)})",
            args,
            reject=r"(?s)tensor '[qkv]'.*out of bounds",
            why="the kernel reads rows past the last sequence",
        )
    )
    return calls


def _hstu2_inputs(rng: random.Random) -> list[Input]:
    """examples/jagged_hstu_attn_2.py: correct on any lengths (its tiles are bounded by each
    sequence's start and end); int32 offsets as in the example's own driver."""
    calls = []
    alpha = 0.25
    for label, lengths in (
        ("varied", [rng.randint(1, 40) for _ in range(4)]),
        ("empty-items", [0, 23, 0, 5, 1, 0]),
        ("one-long", [3, 150, 0, 7]),
        ("all-empty", [0, 0, 0]),
    ):
        msl = max(max(lengths, default=0), 1)
        q, k, v, off = _hstu_args(rng, lengths, msl, odt="<i4")
        scale = 1.0 / msl
        args = {"max_seq_len": msl, "alpha": alpha, "attn_scale": scale}
        args |= {"q": q, "k": k, "v": v, "seq_offsets": off}
        ref = ref_hstu_attention(q, k, v, off, alpha, scale, strict=False)
        calls.append(Input(f"{label}({describe_lengths(lengths)})", args, ref))
    return calls


def _target_hstu_inputs(part: str):
    """pretuned_kernels/jagged_hstu_attention: the forward ("fwd"), dQ ("dq") or dK and dV
    ("dk_dv", two outputs) kernel, on any lengths, each sequence with 0 to all of its rows
    targets; int32 offsets and targets as the file's own driver builds them, and int64."""

    def inputs(rng: random.Random) -> list[Input]:
        calls = []
        for label, lengths, odt in (
            ("varied", [rng.randint(1, 40) for _ in range(4)], "<i8"),
            ("empty-items", [0, 23, 0, 5, 1, 0], "<i8"),
            ("one-long", [3, 150, 0, 7], "<i4"),
            ("all-empty", [0, 0, 0], "<i8"),
        ):
            q, k, v, off = _hstu_args(rng, lengths, max(lengths, default=0), odt=odt)
            grad_out = rand_f32(rng, q.shape)
            # No targets, some, and a sequence of targets only, in turn.
            targets = [(0, rng.randint(0, min(n, 10)), n)[i % 3] for i, n in enumerate(lengths)]
            num_targets = ints(targets, odt)
            args = {"q": q, "k": k, "v": v}
            if part != "fwd":
                args["grad_out"] = grad_out
            args |= {"seq_offsets": off, "num_targets": num_targets}
            out, dq, dk, dv = ref_target_hstu(q, k, v, grad_out, off, num_targets)
            expected = {"fwd": out, "dq": dq, "dk_dv": (dk, dv)}[part]
            calls.append(Input(f"{label}({describe_lengths(lengths)})", args, expected))
        return calls

    return inputs


def _row_sum_input(plus: float):
    def make(rng, lengths, odt):
        x, off = rand_f32(rng, (sum(lengths),)), offsets_of(lengths, odt)
        return Input("", {"x_data": x, "x_offsets": off}, ref_row_sum(x, off, plus))

    return make


def _dense_jagged_mean_inputs(rng: random.Random) -> list[Input]:
    """test_nested_jagged_tile: padded x [B, K, M], lengths (int64), feature counts (int32).
    The empty-item input expects NaN where the kernel divides 0 by 0 (m < counts[b])."""
    calls = []
    for label, lengths, max_k, max_m in (
        ("mixed", [rng.randint(1, 6) for _ in range(5)], 6, 7),
        ("one-long", [2, 200, 1], 200, 4),
        ("empty-item-nan", [3, 0, 2, 0], 4, 5),
    ):
        counts = [rng.randint(0, max_m) for _ in lengths]
        counts[0] = max_m
        ln, fc = ints(lengths), ints(counts, "<i4")
        shape = (len(lengths), max_k, max_m)
        x = _padded(rng, shape, lambda i: i[1] < lengths[i[0]] and i[2] < counts[i[0]])
        args = {"x": x, "lengths": ln, "feature_counts": fc}
        ref = ref_dense_jagged_mean(x, ln, fc)
        calls.append(Input(f"{label}({describe_lengths(lengths)})", args, ref))
    return calls


def _2d_lengths_inputs(rng: random.Random) -> list[Input]:
    """test_jagged_tile_2d_parent: padded x [B1, B2, K] and lengths [B1, B2]."""
    calls = []
    shapes = (("mixed", 3, 4, 9, None), ("one-long", 2, 3, 150, (1, 2)))
    for label, b1, b2, max_k, long_at in shapes:
        short = max_k if long_at is None else 5
        lens = [[rng.randint(0, short) for _ in range(b2)] for _ in range(b1)]
        lens[0][1] = 0
        if long_at:
            lens[long_at[0]][long_at[1]] = max_k
        ln = Array("<i8", (b1, b2), [n for row in lens for n in row])
        x = _padded(rng, (b1, b2, max_k), lambda i: i[2] < lens[i[0]][i[1]])
        args = {"x": x, "lengths": ln}
        calls.append(Input(f"{label}(B1={b1},B2={b2},K={max_k})", args, ref_2d_lengths_sum(x, ln)))
    return calls


def _2d_offsets_inputs(rng: random.Random) -> list[Input]:
    """test_jagged_tile_tensor_index_2d_parent_blocksize_1: offsets [B1 + 1, B2], each column
    its own non-decreasing offsets into one flat x (columns may start past 0)."""
    calls = []
    shapes = (("mixed", 4, 3, [0, 0, 5], 0), ("one-long", 3, 2, [0, 3], 120))
    for label, b1, b2, base, long_len in shapes:
        cols = []
        for j in range(b2):
            lens = [rng.randint(0, 6) for _ in range(b1)]
            lens[j % b1] = 0
            if long_len and j == b2 - 1:
                lens[1] = long_len
            col = [base[j]]
            for n in lens:
                col.append(col[-1] + n)
            cols.append(col)
        off = Array("<i8", (b1 + 1, b2), [cols[j][i] for i in range(b1 + 1) for j in range(b2)])
        total = max(c[-1] for c in cols) + 4
        x = rand_f32(rng, (total,))
        args = {"x_data": x, "offsets": off}
        calls.append(Input(f"{label}(B1={b1},B2={b2},N={total})", args, ref_2d_offsets_sum(x, off)))
    return calls


def _error_inputs(make_args: Callable[[random.Random], dict]):
    def inputs(rng: random.Random) -> list[Input]:
        return [Input("test's inputs", make_args(rng), reject=r"(?i)jagged[_ ]tile")]

    return inputs


def _chained_args(rng):
    x = Array("<f4", (3, 4, 5), [float(i) for i in range(60)])
    return {"x": x, "lengths": ints([3, 1, 2]), "feature_counts": ints([2, 4, 3, 5], "<i4")}


def _bad_outer_args(rng):
    return {"x": rand_f32(rng, (8,)), "lengths": ints([2, 3])}


def _dense_add_bad_args(rng):
    return {"x": rand_f32(rng, (8, 16)), "y": rand_f32(rng, (8, 16))}


T = "test_jagged_tile.py:"
CASES: dict[str, Case] = {
    "jagged_sum.py:jagged_sum_kernel": Case(flat_inputs(_sum_input)),
    "jagged_mean.py:jagged_mean_kernel": Case(_mean_inputs),
    "jagged_softmax.py:jagged_softmax_kernel": Case(flat_inputs(_softmax_input)),
    "jagged_layer_norm.py:jagged_layer_norm_kernel": Case(flat_inputs(_layer_norm_input)),
    "jagged_dense_add.py:jagged_dense_add_2d": Case(flat_inputs(_dense_add_input)),
    "jagged_dense_bmm.py:jagged_dense_bmm": Case(_bmm_inputs),
    "jagged_hstu_attn.py:_helion_jagged_attention_kernel": Case(_hstu1_inputs),
    "jagged_hstu_attn_2.py:jagged_hstu_attention": Case(_hstu2_inputs),
    "jagged_hstu_attention.py:jagged_hstu_attention_fwd": Case(_target_hstu_inputs("fwd")),
    "jagged_hstu_attention.py:jagged_hstu_attention_bwd_dq": Case(_target_hstu_inputs("dq")),
    "jagged_hstu_attention.py:jagged_hstu_attention_bwd_dk_dv": Case(_target_hstu_inputs("dk_dv")),
    T + "test_jagged_tile_jagged_sum/jagged_row_sum": Case(flat_inputs(_row_sum_input(0.0))),
    T + "test_jagged_tile_reduction_mask/jagged_row_sum": Case(flat_inputs(_row_sum_input(1.0))),
    T + "test_jagged_tile_blocksize_1/jagged_row_sum": Case(flat_inputs(_row_sum_input(0.0))),
    T + "test_nested_jagged_tile/dense_jagged_mean": Case(_dense_jagged_mean_inputs),
    T + "test_jagged_tile_cannot_be_used_without_parent/chained_jagged_mean": Case(
        _error_inputs(_chained_args), error_case=True
    ),
    T + "test_jagged_tile_cannot_be_outermost_loop/bad_outer_jagged_tile": Case(
        _error_inputs(_bad_outer_args), error_case=True
    ),
    T + "test_jagged_tile_cannot_be_outer_and_scalar/bad_outer_jagged_tile": Case(
        _error_inputs(_bad_outer_args), error_case=True
    ),
    T + "test_jagged_tile_no_scalar_bound/dense_add_bad_jagged_tile": Case(
        _error_inputs(_dense_add_bad_args), error_case=True
    ),
    T + "test_jagged_tile_2d_parent/jagged_tile_2d_parent": Case(_2d_lengths_inputs),
    T + "test_jagged_tile_tensor_index_parent_blocksize_1/jagged_row_sum": Case(
        flat_inputs(_row_sum_input(0.0))
    ),
    T + "test_jagged_tile_tensor_index_2d_parent_blocksize_1/jagged_tile_2d_parent": Case(
        _2d_offsets_inputs
    ),
}
