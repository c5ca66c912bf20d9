"""jagtile.ops against FBGEMM's own CPU ops on the same tensors (where fbgemm-gpu-cpu loads into
this torch) and against plain torch references (always): empty items, B = 0, items longer than
the dense length (truncation), int32 and int64 offsets, float32 and bfloat16."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (make test installs it)")

import jagtile  # noqa: E402
import jagtile.ops as jops  # noqa: E402

try:
    import fbgemm_gpu  # noqa: F401

    FBGEMM = torch.ops.fbgemm
    FBGEMM_REASON = ""
except Exception as e:  # not installed, or built for another torch
    FBGEMM = None
    FBGEMM_REASON = f"fbgemm-gpu-cpu does not load into torch {torch.__version__}: {type(e).__name__}"

LENGTH_SETS = {
    "mixed": [3, 0, 7, 2, 5],  # an empty item, one longer than the dense length 4
    "all_empty": [0, 0, 0],
    "no_items": [],
}
DTYPES = [torch.float32, torch.bfloat16]


def jagged(lengths, d=6, dtype=torch.float32, offsets_dtype=torch.int64, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths, dtype=torch.int64)
    offsets = torch.zeros(len(lengths) + 1, dtype=offsets_dtype)
    offsets[1:] = torch.cumsum(lengths, 0)
    values = torch.randn(int(offsets[-1]), d, generator=g).to(dtype)
    return values, offsets, lengths


def items(values, offsets):
    o = offsets.tolist()
    return [values[o[b]:o[b + 1]] for b in range(len(o) - 1)]


def dense(b, length, d, dtype, seed=1):
    return torch.randn(b, length, d, generator=torch.Generator().manual_seed(seed)).to(dtype)


def compare_with_fbgemm(got, fbgemm_call):
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    want = fbgemm_call()
    want = want[0] if isinstance(want, tuple) else want
    assert torch.equal(got, want)


# ----------------------------------------------------------------- layout


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", LENGTH_SETS.values(), ids=LENGTH_SETS.keys())
@pytest.mark.parametrize("offsets_dtype", [torch.int32, torch.int64])
def test_jagged_to_padded_dense_pads_and_truncates(lengths, dtype, offsets_dtype):
    values, offsets, _ = jagged(lengths, dtype=dtype, offsets_dtype=offsets_dtype)
    got = jops.jagged_to_padded_dense(values, [offsets], [4], padding_value=-2.5)
    want = torch.full((len(lengths), 4, 6), -2.5, dtype=dtype)
    for b, rows in enumerate(items(values, offsets)):
        want[b, :min(len(rows), 4)] = rows[:4]
    assert torch.equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", LENGTH_SETS.values(), ids=LENGTH_SETS.keys())
def test_jagged_to_padded_dense_equals_fbgemm(lengths, dtype):
    values, offsets, _ = jagged(lengths, dtype=dtype)
    got = jops.jagged_to_padded_dense(values, [offsets], [4], padding_value=-2.5)
    compare_with_fbgemm(got, lambda: FBGEMM.jagged_to_padded_dense(values, [offsets], [4], -2.5))


def test_jagged_2d_to_dense_is_zero_padded():
    values, offsets, _ = jagged(LENGTH_SETS["mixed"])
    got = jops.jagged_2d_to_dense(values, offsets, 4)
    assert torch.equal(got, jops.jagged_to_padded_dense(values, [offsets], [4], 0.0))
    compare_with_fbgemm(got, lambda: FBGEMM.jagged_2d_to_dense(values, offsets, 4))


@pytest.mark.parametrize("dtype", DTYPES)
def test_stacked_jagged_2d_to_dense_pads_each_key_from_its_offset(dtype):
    lengths = torch.tensor([[2, 0, 5], [1, 3, 0]], dtype=torch.int64)  # keys x items
    values = dense(1, 12, 3, dtype)[0]  # key 0: rows 0..6, key 1: rows 8..11 (7 unused)
    got = jops.stacked_jagged_2d_to_dense(values, lengths, [0, 8], [4, 2], -1)
    assert len(got) == 2
    for t, (start, max_len) in enumerate([(0, 4), (8, 2)]):
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64), lengths[t].cumsum(0)])
        want = torch.full((3, max_len, 3), -1.0, dtype=dtype)
        for b in range(3):
            n = min(int(lengths[t, b]), max_len)
            want[b, :n] = values[start + int(offsets[b]):start + int(offsets[b]) + n]
        assert torch.equal(got[t], want)
    # Not compared with FBGEMM: its CPU stacked ops (fbgemm-gpu-cpu 1.9) are not deterministic
    # here. The same call repeated returned key 1 as all padding on the fourth try (in a plain
    # script, outside pytest); the first calls agree with this reference.


def test_stacked_jagged_1d_to_dense_pads_ids_per_key():
    lengths = torch.tensor([[2, 0, 1], [1, 3, 0]], dtype=torch.int64)
    values = torch.arange(7, dtype=torch.int64)
    got = jops.stacked_jagged_1d_to_dense(values, lengths, [0, 3], [2, 2], -1)
    assert torch.equal(got[0], torch.tensor([[0, 1], [-1, -1], [2, -1]]))
    assert torch.equal(got[1], torch.tensor([[3, -1], [4, 5], [-1, -1]]))  # FBGEMM's first answer


def test_stacked_jagged_2d_to_dense_needs_an_entry_per_key():
    with pytest.raises(ValueError, match="one entry per key"):
        jops.stacked_jagged_2d_to_dense(torch.zeros(3, 2), torch.ones(2, 1, dtype=torch.int64),
                                        [0], [1, 1])


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.float32])
def test_jagged_1d_to_dense_pads_ids_and_weights(dtype):
    _, offsets, lengths = jagged(LENGTH_SETS["mixed"])
    values = torch.arange(int(offsets[-1])).to(dtype) * 3
    got = jops.jagged_1d_to_dense(values, offsets, 4, -1)
    want = torch.full((5, 4), -1, dtype=dtype)
    for b, row in enumerate(items(values, offsets)):
        want[b, :min(len(row), 4)] = row[:4]
    assert torch.equal(got, want)
    compare_with_fbgemm(got, lambda: FBGEMM.jagged_1d_to_dense(values, offsets, 4, -1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", LENGTH_SETS.values(), ids=LENGTH_SETS.keys())
def test_dense_to_jagged_gathers_rows_and_zeroes_past_the_dense_length(lengths, dtype):
    _, offsets, _ = jagged(lengths)
    y = dense(len(lengths), 4, 6, dtype)
    got, got_offsets = jops.dense_to_jagged(y, [offsets])
    assert got_offsets[0] is offsets
    want = torch.zeros(int(offsets[-1]), 6, dtype=dtype)
    o = offsets.tolist()
    for b in range(len(lengths)):
        n = min(o[b + 1] - o[b], 4)
        want[o[b]:o[b] + n] = y[b, :n]
    assert torch.equal(got, want)
    compare_with_fbgemm(got, lambda: FBGEMM.dense_to_jagged(y, [offsets]))


# ----------------------------------------------------------------- elementwise


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", LENGTH_SETS.values(), ids=LENGTH_SETS.keys())
def test_jagged_dense_elementwise_add_dense_output(lengths, dtype):
    values, offsets, _ = jagged(lengths, dtype=dtype)
    y = dense(len(lengths), 4, 6, dtype)
    got = jops.jagged_dense_elementwise_add(values, [offsets], y)
    assert torch.equal(got, y + jops.jagged_to_padded_dense(values, [offsets], [4]))
    compare_with_fbgemm(got, lambda: FBGEMM.jagged_dense_elementwise_add(values, [offsets], y))


@pytest.mark.parametrize("op", ["add", "mul"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", LENGTH_SETS.values(), ids=LENGTH_SETS.keys())
def test_jagged_dense_elementwise_jagged_output(op, lengths, dtype):
    values, offsets, _ = jagged(lengths, dtype=dtype)
    y = dense(len(lengths), 4, 6, dtype)
    fn = {"add": jops.jagged_dense_elementwise_add_jagged_output,
          "mul": jops.jagged_dense_elementwise_mul}[op]
    got, got_offsets = fn(values, [offsets], y)
    assert got_offsets[0] is offsets
    y_rows = jops.dense_to_jagged(y, [offsets])[0]  # y's rows in x's layout, 0 past L
    assert torch.equal(got, values + y_rows if op == "add" else values * y_rows)
    fb_name = {"add": "jagged_dense_elementwise_add_jagged_output",
               "mul": "jagged_dense_elementwise_mul"}[op]
    compare_with_fbgemm(got, lambda: getattr(FBGEMM, fb_name)(values, [offsets], y))


@pytest.mark.parametrize("op", ["dense_to_jagged", "jagged_dense_elementwise_mul",
                                "jagged_dense_elementwise_add_jagged_output",
                                "jagged_dense_dense_elementwise_add_jagged_output", "jagged_softmax"])
def test_rows_outside_every_item_are_zero_even_in_reused_memory(op):
    # These ops do not zero-fill their output first; they write the items' rows and then zero the
    # rows before offsets[0] and from offsets[B] on. The output (2 MiB) is the size of one just
    # freed and full of 7s, which jagtile's host allocator hands out again, so a row the kernel
    # left unwritten would hold 7s here rather than 0.
    n, d, b, length = 8192, 64, 4, 1024
    offsets = torch.tensor([1000, 2000, 2000, 3500, 7000])  # rows 0-999 and 7000-8191 outside
    y = torch.randn(b, length, d, generator=torch.Generator().manual_seed(3))
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(4))
    for _ in range(2):
        junk = jops.jagged_dense_elementwise_add(torch.full((n, d), 7.0), [torch.tensor([0, n])],
                                                 torch.zeros(1, n, d))
        assert junk.shape == (1, n, d) and bool((junk == 7).all())
        del junk
        if op == "dense_to_jagged":
            out = jops.dense_to_jagged(y, [offsets], n)[0]
        elif op == "jagged_softmax":
            out = jops.jagged_softmax(x, offsets, length)[0]
        elif op == "jagged_dense_dense_elementwise_add_jagged_output":
            out = jops.jagged_dense_dense_elementwise_add_jagged_output(x, offsets, y, y)[0]
        else:
            out = getattr(jops, op)(x, [offsets], y)[0]
        assert out.shape == (n, d)
        assert bool((out[:1000] == 0).all()) and bool((out[7000:] == 0).all())
        assert bool((out[1000:7000] != 0).any())


# ----------------------------------------------------------------- reductions


@pytest.mark.parametrize("dtype", DTYPES)
def test_segment_sum_csr_sums_blocks_of_batch_size_in_float32(dtype):
    values = torch.randn(40, generator=torch.Generator().manual_seed(3)).to(dtype)
    seg = torch.tensor([0, 1, 1, 3, 10], dtype=torch.int32)
    got = jops.segment_sum_csr(4, seg, values)
    exact = torch.stack([values[4 * a:4 * b].double().sum() for a, b in zip(seg[:-1], seg[1:])])
    # fp32 accumulation, one rounding to the values' dtype at the end: within one ulp of it.
    ulp = 2.0**-23 if dtype == torch.float32 else 2.0**-8
    torch.testing.assert_close(got.double(), exact, rtol=2 * ulp, atol=1e-6)
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    ref = FBGEMM.segment_sum_csr(4, seg, values)
    if dtype == torch.float32:  # both accumulate in fp32, perhaps in another order
        torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)
    else:  # FBGEMM's bf16 sums lose more: ours must be at least as close to the exact sum
        assert ((got.double() - exact).abs() <= (ref.double() - exact).abs() + 1e-12).all()


@pytest.mark.parametrize("backend", ["interp", "cpu", "cpu-unchecked", "cuda-emulated"])
@pytest.mark.parametrize("batch_size", [0, 1, 3, 300])
@pytest.mark.parametrize("offsets_dtype", [torch.int32, torch.int64])
def test_segment_sum_csr_on_every_backend_batch_size_and_empty_segment(backend, batch_size,
                                                                      offsets_dtype, monkeypatch):
    """The kernel reads a segment as rows of batch_size values and sums the columns first: batch
    sizes below and above its 256-column block, 0, empty segments, values longer than the
    segments cover; within fp32 rounding of the exact sum on every backend."""
    import numpy as np

    if backend == "cuda-emulated":
        monkeypatch.setenv("JAGTILE_CUDA_EMULATION", "1")
    seg = np.array([0, 2, 2, 7, 8, 8], dtype=np.int64 if offsets_dtype == torch.int64 else np.int32)
    values = np.random.default_rng(5).standard_normal(8 * batch_size + 5).astype(np.float32)
    name = {"cpu-unchecked": "cpu", "cuda-emulated": "cuda"}.get(backend, backend)
    kernel = jagtile.load(str(jops.kernel_file("segment_sum_csr")), backend=name,
                          checked=backend != "cpu-unchecked")["segment_sum_csr"]
    got = kernel(batch_size, seg, values)
    exact = [values[a * batch_size:b * batch_size].astype(np.float64).sum()
             for a, b in zip(seg[:-1], seg[1:])]
    # The textbook bound of this order: each column sums (b - a) rows, then batch_size columns.
    bound = [(b - a + batch_size) * 2.0**-24 * np.abs(values[a * batch_size:b * batch_size]).sum()
             for a, b in zip(seg[:-1], seg[1:])]
    assert got.shape == (5,)
    assert all(abs(float(g) - e) <= tol for g, e, tol in zip(got, exact, bound)), (got, exact)
    assert got[1] == 0 and got[4] == 0  # empty segments


@pytest.mark.parametrize("max_len", [4, 10])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", LENGTH_SETS.values(), ids=LENGTH_SETS.keys())
def test_jagged_softmax_over_the_first_max_L_rows(lengths, dtype, max_len):
    values, offsets, lengths_t = jagged(lengths, dtype=dtype)
    got, got_offsets = jops.jagged_softmax(values, offsets, max_len)
    assert got_offsets is offsets
    kept = torch.cat([torch.arange(n) < max_len for n in lengths_t.tolist()] + [torch.zeros(0, dtype=torch.bool)])
    want = torch.zeros(values.shape, dtype=torch.float64)
    o = offsets.tolist()
    for b, rows in enumerate(items(values, offsets)):
        n = min(len(rows), max_len)
        want[o[b]:o[b] + n] = torch.softmax(rows[:n].double(), dim=0)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {"rtol": 2**-8, "atol": 1e-3}
    torch.testing.assert_close(got.double(), want, **tol)  # rows past max_L are 0 too
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    ref = FBGEMM.jagged_softmax(values, offsets, max_len)[0]
    torch.testing.assert_close(got[kept].double(), ref[kept].double(), **tol)


# ----------------------------------------------------------------- matmul

MATMUL_TOL = {torch.float32: {"rtol": 1e-5, "atol": 1e-5}, torch.bfloat16: {"rtol": 2**-7, "atol": 2e-2}}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", LENGTH_SETS.values(), ids=LENGTH_SETS.keys())
def test_jagged_dense_bmm_multiplies_the_first_max_L_rows(lengths, dtype):
    values, offsets, _ = jagged(lengths, dtype=dtype)
    y = torch.randn(len(lengths), 6, 3, generator=torch.Generator().manual_seed(5)).to(dtype)
    got, got_offsets = jops.jagged_dense_bmm(values, offsets, y, 4)
    assert got_offsets is offsets
    want = torch.zeros(values.shape[0], 3, dtype=torch.float64)
    o = offsets.tolist()
    for b, rows in enumerate(items(values, offsets)):
        n = min(len(rows), 4)
        want[o[b]:o[b] + n] = rows[:n].double() @ y[b].double()
    torch.testing.assert_close(got.double(), want, **MATMUL_TOL[dtype])
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    torch.testing.assert_close(got.double(), FBGEMM.jagged_dense_bmm(values, offsets, y, 4)[0].double(),
                               **MATMUL_TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", LENGTH_SETS.values(), ids=LENGTH_SETS.keys())
def test_jagged_jagged_bmm_sums_outer_products_per_item(lengths, dtype):
    x, offsets, _ = jagged(lengths, dtype=dtype)
    y, _, _ = jagged(lengths, d=3, dtype=dtype, seed=7)
    got = jops.jagged_jagged_bmm(x, y, offsets, 4)
    want = torch.zeros(len(lengths), 6, 3, dtype=torch.float64)
    for b, (xr, yr) in enumerate(zip(items(x, offsets), items(y, offsets))):
        want[b] = xr[:4].double().T @ yr[:4].double()
    torch.testing.assert_close(got.double(), want, **MATMUL_TOL[dtype])
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    torch.testing.assert_close(got.double(), FBGEMM.jagged_jagged_bmm(x, y, offsets, 4).double(),
                               **MATMUL_TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", [[3, 0, 7, 2, 5], [0, 0]], ids=["mixed", "all_empty"])
def test_batched_dense_vec_jagged_2d_mul_per_item_and_head(lengths, dtype):
    heads, d = 2, 3
    a, offsets, _ = jagged(lengths, d=heads * d, dtype=dtype)
    v = torch.randn(len(lengths) * heads, 4, generator=torch.Generator().manual_seed(9)).to(dtype)
    got = jops.batched_dense_vec_jagged_2d_mul(v, a, offsets)
    want = torch.zeros(len(lengths) * heads, d, dtype=torch.float64)
    for b, rows in enumerate(items(a, offsets)):
        n = min(len(rows), 4)
        for h in range(heads):
            want[b * heads + h] = v[b * heads + h, :n].double() @ rows[:n, h * d:(h + 1) * d].double()
    torch.testing.assert_close(got.double(), want, **MATMUL_TOL[dtype])
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    torch.testing.assert_close(got.double(), FBGEMM.batched_dense_vec_jagged_2d_mul(v, a, offsets).double(),
                               **MATMUL_TOL[dtype])


# ----------------------------------------------------------------- index ops


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", LENGTH_SETS.values(), ids=LENGTH_SETS.keys())
def test_jagged_dense_dense_elementwise_add_jagged_output(lengths, dtype):
    values, offsets, _ = jagged(lengths, dtype=dtype)
    y0, y1 = dense(len(lengths), 4, 6, dtype, seed=1), dense(len(lengths), 4, 6, dtype, seed=2)
    got, _ = jops.jagged_dense_dense_elementwise_add_jagged_output(values, [offsets], y0, y1)
    rows0, rows1 = jops.dense_to_jagged(y0, [offsets])[0], jops.dense_to_jagged(y1, [offsets])[0]
    # Computed in float32 and rounded once to the values' dtype.
    assert torch.equal(got, (values.float() + rows0.float() + rows1.float()).to(dtype))
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    ref = FBGEMM.jagged_dense_dense_elementwise_add_jagged_output(values, [offsets], y0, y1)[0]
    if dtype == torch.float32:
        assert torch.equal(got, ref)
    else:  # FBGEMM rounds to bf16 after each add: ours must be at least as close to the exact sum
        exact = values.double() + rows0.double() + rows1.double()
        assert ((got.double() - exact).abs() <= (ref.double() - exact).abs()).all()


@pytest.mark.parametrize("shape", [(), (6,), (2, 3)], ids=["1d", "2d", "3d"])
def test_pack_segments_pads_and_truncates_any_row_shape(shape):
    lengths = torch.tensor([3, 0, 7, 2])
    t_in = torch.randn((int(lengths.sum()),) + shape, generator=torch.Generator().manual_seed(2))
    got = jops.pack_segments(t_in, lengths, 4)
    want = torch.zeros((4, 4) + shape)
    o = [0] + torch.cumsum(lengths, 0).tolist()
    for b in range(4):
        n = min(int(lengths[b]), 4)
        want[b, :n] = t_in[o[b]:o[b] + n]
    assert torch.equal(got, want)
    compare_with_fbgemm(got, lambda: FBGEMM.pack_segments(t_in, lengths, 4))


@pytest.mark.parametrize("values_shape", [(), (3,)], ids=["1d", "2d"])
def test_jagged_slice_takes_a_window_of_each_item(values_shape):
    lengths = torch.tensor([3, 0, 4, 2, 5])
    start = torch.tensor([1, 0, 2, 2, 0])
    x = torch.randn((int(lengths.sum()),) + values_shape, generator=torch.Generator().manual_seed(4))
    got, got_lengths = jops.jagged_slice(x, lengths, start, 2)
    o = [0] + torch.cumsum(lengths, 0).tolist()
    want = torch.cat([x[o[b] + int(start[b]):min(o[b] + int(start[b]) + 2, o[b + 1])] for b in range(5)])
    assert torch.equal(got, want)
    assert got_lengths.tolist() == [2, 0, 2, 0, 2]
    if x.dim() != 1:
        return  # FBGEMM's jagged_slice takes 1-D values only: nothing to compare with
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    ref = FBGEMM.jagged_slice(x, lengths, start, 2)
    assert torch.equal(got, ref[0]) and torch.equal(got_lengths, ref[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_jagged_index_select_repeats_and_reorders_items(dtype):
    values, offsets, lengths = jagged(LENGTH_SETS["mixed"], dtype=dtype)
    indices = torch.tensor([2, 0, 2, 1, 4])
    got, got_lengths = jops.jagged_index_select(values, lengths, indices)
    per_item = items(values, offsets)
    assert torch.equal(got, torch.cat([per_item[i] for i in indices.tolist()]))
    assert got_lengths.tolist() == [7, 3, 7, 0, 5]
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    ref = FBGEMM.jagged_index_select(values, lengths, indices)
    assert torch.equal(got, ref[0]) and torch.equal(got_lengths, ref[1])


MASKED_SELECT_LENGTHS = {**LENGTH_SETS, "long_items": [70, 0, 33, 129, 1]}  # several tiles per item


@pytest.mark.parametrize("offsets_dtype", [torch.int32, torch.int64])
@pytest.mark.parametrize("dtype", DTYPES + [torch.float64])
@pytest.mark.parametrize("lengths", MASKED_SELECT_LENGTHS.values(), ids=MASKED_SELECT_LENGTHS.keys())
def test_masked_select_jagged_1d_keeps_the_masked_values_in_order(lengths, dtype, offsets_dtype):
    g = torch.Generator().manual_seed(len(lengths))
    lengths_t = torch.tensor(lengths, dtype=offsets_dtype)
    n = int(lengths_t.sum())
    values = torch.randn(n, generator=g).to(dtype)
    mask = torch.rand(n, generator=g) < 0.6
    got, got_lengths = jops.masked_select_jagged_1d(values, lengths_t, mask)
    assert torch.equal(got, values[mask])
    o = [0] + torch.cumsum(lengths_t, 0).tolist()
    assert got_lengths.tolist() == [int(mask[o[b]:o[b + 1]].sum()) for b in range(len(lengths))]
    assert got_lengths.dtype == lengths_t.dtype
    if dtype == torch.float64:
        return  # FBGEMM's CPU masked_select_jagged_1d has no float64 kernel to compare with
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    ref = FBGEMM.masked_select_jagged_1d(values, lengths_t, mask)
    assert torch.equal(got, ref[0]) and torch.equal(got_lengths, ref[1])


def test_masked_select_jagged_1d_all_kept_none_kept_and_numpy():
    import numpy as np

    values = np.arange(10, dtype=np.float32)
    lengths = np.array([4, 0, 6])
    got, got_lengths = jops.masked_select_jagged_1d(values, lengths, np.ones(10, dtype=bool))
    assert (got == values).all() and got_lengths.tolist() == [4, 0, 6]
    got, got_lengths = jops.masked_select_jagged_1d(values, lengths, np.zeros(10, dtype=bool))
    assert got.shape == (0,) and got_lengths.tolist() == [0, 0, 0]
    with pytest.raises(jagtile.KernelError, match="lengths sum to 9 but there are 10 values"):
        jops.masked_select_jagged_1d(values, np.array([4, 0, 5]), np.ones(10, dtype=bool), True)


def keyed(keys=3, batch=4, d=None, dtype=torch.float32, seed=2):
    """A keyed jagged tensor: lengths key-major (keys x batch), with empty entries."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(0, 4, (keys * batch,), generator=g)
    lengths[1] = 0
    offsets = torch.zeros(keys * batch + 1, dtype=torch.int64)
    offsets[1:] = torch.cumsum(lengths, 0)
    shape = (int(offsets[-1]),) if d is None else (int(offsets[-1]), d)
    return torch.randn(shape, generator=g).to(dtype), lengths, offsets


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_weights", [False, True])
def test_keyed_jagged_index_select_dim1_selects_batch_entries_of_every_key(dtype, with_weights):
    keys, batch = 3, 4
    values, lengths, offsets = keyed(keys, batch, dtype=dtype)
    weights = torch.rand(values.shape[0], generator=torch.Generator().manual_seed(5)) if with_weights else None
    indices = torch.tensor([3, 1, 1, 0])  # repeats, reorders, and drops entry 2
    got = jops.keyed_jagged_index_select_dim1(values, lengths, offsets, indices, batch, weights)
    assert len(got) == (3 if with_weights else 2)
    entries = [k * batch + i for k in range(keys) for i in indices.tolist()]
    o = offsets.tolist()
    assert got[1].tolist() == [int(lengths[e]) for e in entries]
    assert torch.equal(got[0], torch.cat([values[o[e]:o[e + 1]] for e in entries]))
    if with_weights:
        assert torch.equal(got[2], torch.cat([weights[o[e]:o[e + 1]] for e in entries]))


def test_keyed_jagged_index_select_dim1_matches_fbgemm():
    if FBGEMM is None:
        pytest.skip(FBGEMM_REASON)
    values, lengths, offsets = keyed(3, 4)
    weights = torch.rand(values.shape[0], generator=torch.Generator().manual_seed(5))
    indices = torch.tensor([3, 1, 1, 0])
    try:
        ref = FBGEMM.keyed_jagged_index_select_dim1(values, lengths, offsets, indices, 4, weights)
    except NotImplementedError:  # fbgemm-gpu-cpu 1.9 registers this op for CUDA only
        pytest.skip("FBGEMM's CPU build has no keyed_jagged_index_select_dim1 kernel")
    got = jops.keyed_jagged_index_select_dim1(values, lengths, offsets, indices, 4, weights)
    assert len(ref) == len(got)
    for a, b in zip(got, ref):
        assert torch.equal(a, b)


def test_keyed_jagged_index_select_dim1_takes_2d_values_and_numpy():
    import numpy as np

    values, lengths, offsets = keyed(2, 3, d=5)
    indices = torch.tensor([2, 0])
    got, got_lengths = jops.keyed_jagged_index_select_dim1(values, lengths, offsets, indices, 3)
    o = offsets.tolist()
    entries = [0 * 3 + 2, 0 * 3 + 0, 1 * 3 + 2, 1 * 3 + 0]
    assert torch.equal(got, torch.cat([values[o[e]:o[e + 1]] for e in entries]))
    np_got, np_lengths = jops.keyed_jagged_index_select_dim1(
        values.numpy(), lengths.numpy(), offsets.numpy(), indices.numpy(), 3)
    assert isinstance(np_got, np.ndarray) and np.array_equal(np_got, got.numpy())
    assert np.array_equal(np_lengths, got_lengths.numpy())


def test_keyed_jagged_index_select_dim1_with_no_indices_selects_nothing():
    values, lengths, offsets = keyed(2, 3)
    got, got_lengths = jops.keyed_jagged_index_select_dim1(values, lengths, offsets,
                                                           torch.tensor([], dtype=torch.int64), 3)
    assert got.shape == (0,) and got_lengths.shape == (0,)


@pytest.mark.parametrize("lengths_n, batch, indices, message", [
    (7, 3, [0], r"lengths has 7 entries, which is not a whole number of keys of batch_size 3"),
    (6, 3, [0, 3], r"indices\[1\] = 3 is not a batch entry; indices must be in 0 .. 2"),
    (6, 3, [-1], r"indices\[0\] = -1 is not a batch entry"),
])
def test_keyed_jagged_index_select_dim1_bad_arguments_are_refused_clearly(lengths_n, batch, indices, message):
    lengths = torch.ones(lengths_n, dtype=torch.int64)
    offsets = torch.arange(lengths_n + 1)
    with pytest.raises(jagtile.KernelError, match=message):
        jops.keyed_jagged_index_select_dim1(torch.arange(float(lengths_n)), lengths, offsets,
                                            torch.tensor(indices), batch)


def test_keyed_jagged_index_select_dim1_offsets_of_the_wrong_size_are_refused_clearly():
    values, lengths, offsets = keyed(2, 3)
    with pytest.raises(jagtile.KernelError, match=r"offsets has 6 entries; it must have len\(lengths\) \+ 1 = 7"):
        jops.keyed_jagged_index_select_dim1(values, lengths, offsets[:-1], torch.tensor([0]), 3)


def test_expand_into_jagged_permute_lists_the_permuted_segments_elements():
    permute = torch.tensor([2, 0, 1])
    input_offset, output_offset = torch.tensor([0, 3, 3, 7]), torch.tensor([0, 4, 7, 10])
    got = jops.expand_into_jagged_permute(permute, input_offset, output_offset, 10)
    assert got.tolist() == [3, 4, 5, 6, 0, 1, 2, 3, 4, 5]
    compare_with_fbgemm(got, lambda: FBGEMM.expand_into_jagged_permute(permute, input_offset, output_offset, 10))


def test_index_ops_take_numpy_and_return_numpy():
    import numpy as np

    values, _, lengths = jagged(LENGTH_SETS["mixed"])
    got, got_lengths = jops.jagged_index_select(values.numpy(), lengths.numpy(), np.array([4, 0]))
    assert isinstance(got, np.ndarray) and isinstance(got_lengths, np.ndarray)
    assert np.array_equal(got, jops.jagged_index_select(values, lengths, torch.tensor([4, 0]))[0].numpy())


def test_jagged_slice_start_past_an_item_is_refused_clearly():
    with pytest.raises(jagtile.KernelError, match=r"start\[1\] = 1 is outside item 1, which has 0 rows"):
        jops.jagged_slice(torch.arange(9.0), torch.tensor([3, 0, 4, 2]), torch.tensor([1, 1, 2, 1]), 2)


def test_jagged_index_select_index_out_of_range_is_refused_clearly():
    values, _, lengths = jagged(LENGTH_SETS["mixed"])
    with pytest.raises(jagtile.KernelError, match=r"indices\[1\] = 5 is not an item \(there are 5\)"):
        jops.jagged_index_select(values, lengths, torch.tensor([0, 5]))


# ----------------------------------------------------------------- errors


def test_two_jagged_dimensions_are_refused_clearly():
    values, offsets, _ = jagged(LENGTH_SETS["mixed"])
    with pytest.raises(jagtile.KernelError, match=r"2 jagged dimensions given in 'offsets'.*supports one"):
        jops.jagged_to_padded_dense(values, [offsets, offsets], [4, 4])


def test_mismatched_dense_batch_is_a_located_kernel_error():
    values, offsets, _ = jagged(LENGTH_SETS["mixed"])
    with pytest.raises(jagtile.KernelError, match=r"jagged_dense_elementwise_mul\.py:\d+"):
        jops.jagged_dense_elementwise_mul(values, [offsets], dense(3, 4, 6, torch.float32))


def test_op_results_share_no_memory_with_inputs_and_are_torch_tensors():
    values, offsets, _ = jagged(LENGTH_SETS["mixed"])
    out = jops.jagged_to_padded_dense(values, [offsets], [4])
    assert isinstance(out, torch.Tensor) and out.data_ptr() != values.data_ptr()


def test_rows_outside_every_item_and_past_max_L_are_zero():
    """Offsets that start after row 0 and end before the last row: the rows outside every item and
    past max_L are 0, the others match float64 references. jagged_softmax and its backward
    allocate unfilled and write every row once (the test run poisons unfilled memory with NaN);
    jagged_dense_bmm zero-fills."""
    g = torch.Generator().manual_seed(11)
    values = torch.randn(14, 3, generator=g, dtype=torch.float64)
    offsets = torch.tensor([2, 5, 5, 11])
    # Kept rows: 2..3 (item 0 has 3 rows, max_L = 2) and 5..6 (item 2 has 6).
    probs, _ = jops.jagged_softmax(values, offsets, 2)
    want = torch.zeros_like(values)
    for a in (2, 5):
        want[a:a + 2] = torch.softmax(values[a:a + 2], dim=0)
    torch.testing.assert_close(probs, want, rtol=1e-12, atol=1e-14)

    grad_out = torch.randn(14, 3, generator=g, dtype=torch.float64)
    backward = jagtile.load(str(jops.kernel_file("jagged_softmax_backward"))).jagged_softmax_backward
    grad = backward(grad_out, probs, offsets, 2)
    want_grad = torch.zeros_like(values)
    for a in (2, 5):
        y, go = want[a:a + 2], grad_out[a:a + 2]
        want_grad[a:a + 2] = y * (go - (go * y).sum(dim=0))
    torch.testing.assert_close(grad, want_grad, rtol=1e-12, atol=1e-14)

    y = torch.randn(3, 3, 2, generator=g, dtype=torch.float64)
    out, _ = jops.jagged_dense_bmm(values, offsets, y, 2)
    want_bmm = torch.zeros(14, 2, dtype=torch.float64)
    for b, a in ((0, 2), (2, 5)):
        want_bmm[a:a + 2] = values[a:a + 2] @ y[b]
    torch.testing.assert_close(out, want_bmm, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backend", ["interp", "cpu", "cpu-unchecked", "cuda-emulated"])
def test_masked_select_jagged_1d_kernels_agree_on_every_backend(backend, monkeypatch):
    """The two kernel files on each backend (the emulated CUDA runs the generated CUDA source as
    host code): items of several tiles, an empty item, a mask that keeps about half, more items
    than one tile of the running sums, int32 lengths."""
    import numpy as np

    if backend == "cuda-emulated":
        monkeypatch.setenv("JAGTILE_CUDA_EMULATION", "1")
    rng = np.random.default_rng(3)
    name = {"cpu-unchecked": "cpu", "cuda-emulated": "cuda"}.get(backend, backend)

    def kernel(file):
        return jagtile.load(str(jops.kernel_file(file)), backend=name,
                            checked=backend != "cpu-unchecked")[file]

    for lengths in (np.array([70, 0, 33, 129, 1]), rng.integers(0, 9, 600).astype(np.int32)):
        want_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        values = rng.standard_normal(int(want_offsets[-1])).astype(np.float32)
        mask = rng.random(values.shape[0]) < 0.5
        offsets, kept, out_offsets = kernel("masked_select_jagged_1d_lengths")(mask, lengths)
        assert offsets.tolist() == want_offsets.tolist()
        want_kept = [int(mask[want_offsets[b]:want_offsets[b + 1]].sum())
                     for b in range(len(lengths))]
        assert kept.tolist() == want_kept and kept.dtype == lengths.dtype
        assert out_offsets.tolist() == [0] + np.cumsum(want_kept).tolist()
        got = kernel("masked_select_jagged_1d")(values, mask, offsets, out_offsets)
        assert (got == values[mask]).all()


@pytest.mark.parametrize("lengths, message", [
    ([4, 0, 7], "lengths sum to 11 but there are only 10 values and mask entries"),
    ([4, -1, 7], r"lengths\[1\] = -1 is negative; lengths must be >= 0"),
])
def test_masked_select_jagged_1d_given_lengths_that_do_not_fit_says_which(lengths, message):
    values, mask = torch.arange(10.0), torch.ones(10, dtype=torch.bool)
    with pytest.raises(jagtile.KernelError, match=message):
        jops.masked_select_jagged_1d(values, torch.tensor(lengths), mask)


@pytest.mark.parametrize("op, args, message", [
    ("jagged_dense_elementwise_add", lambda x, o: (x, [o], torch.zeros(2, 8, 6)),
     r"x_offsets must have one entry more than y has items \(4 == 3 is false\)"),
    ("jagged_dense_bmm", lambda x, o: (x, o, torch.zeros(3, 5, 2), 8),
     r"y must be \[B, D, E\] with x_values' D columns \(6 == 5 is false\)"),
    ("jagged_jagged_bmm", lambda x, o: (x, x[:-1], o, 8),
     r"x_values and y_values must have the same rows \(10 == 9 is false\)"),
])
def test_op_given_mismatched_shapes_says_which_and_the_sizes_compared(op, args, message):
    x, o, _ = jagged([3, 0, 7])
    with pytest.raises(jagtile.KernelError, match=message):
        getattr(jops, op)(*args(x, o))
