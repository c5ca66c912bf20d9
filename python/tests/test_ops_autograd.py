"""torch.ops.jagtile.*: the trainable jagtile.ops as torch custom ops with backward. Each op's
gradients are compared with the gradients torch's autograd computes in float64 for the same
function written with plain torch ops (per-item loops), on inputs with an empty item and an
item longer than the dense length; torch.library.opcheck checks schema, fake and autograd
registration; gradcheck runs in float64 at its default tolerances."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (make test installs it)")

import jagtile.ops as jops  # noqa: E402
import jagtile.ops_torch  # noqa: E402,F401  (registers torch.ops.jagtile.*)

OPS = torch.ops.jagtile
LENGTHS = [3, 0, 7, 2, 5]


def jagged_inputs(d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(LENGTHS)
    offsets = torch.zeros(len(LENGTHS) + 1, dtype=torch.int64)
    offsets[1:] = torch.cumsum(lengths, 0)
    return torch.randn(int(offsets[-1]), d, generator=g), offsets


def per_item(offsets):
    o = offsets.tolist()
    return [(o[b], o[b + 1]) for b in range(len(o) - 1)]


# Plain-torch versions of each op, differentiable by torch's autograd (float64 in the tests).
def ref_padded(values, offsets, length):
    return torch.stack([torch.nn.functional.pad(values[a:min(b, a + length)], (0, 0, 0, length - min(b - a, length)))
                        for a, b in per_item(offsets)])


def ref_to_jagged(dense, offsets, total):
    rows = []
    for i, (a, b) in enumerate(per_item(offsets)):
        n = b - a
        kept = dense[i, :min(n, dense.shape[1])]
        rows.append(torch.cat([kept, dense.new_zeros(n - kept.shape[0], dense.shape[2])]))
    return torch.cat(rows)


def ref_softmax(values, offsets, max_l):
    out = []
    for a, b in per_item(offsets):
        n = min(b - a, max_l)
        out += [torch.softmax(values[a:a + n], dim=0), values.new_zeros(b - a - n, values.shape[1])]
    return torch.cat(out)


def ref_dense_bmm(x, offsets, y, max_l):
    out = []
    for i, (a, b) in enumerate(per_item(offsets)):
        n = min(b - a, max_l)
        out += [x[a:a + n] @ y[i], x.new_zeros(b - a - n, y.shape[2])]
    return torch.cat(out)


def ref_jagged_bmm(x, y, offsets, max_l):
    return torch.stack([x[a:min(b, a + max_l)].T @ y[a:min(b, a + max_l)] for a, b in per_item(offsets)])


def ref_vec_mul(v, a, offsets):
    """out[b * H + h] = v[b * H + h, :n] @ a[item b's first n rows, head h], n = min(len, L)."""
    heads = v.shape[0] // (offsets.shape[0] - 1)
    width = a.shape[1] // heads
    out = []
    for i, (s, e) in enumerate(per_item(offsets)):
        n = min(e - s, v.shape[1])
        rows = a[s:s + n].reshape(n, heads, width)
        out += [v[i * heads + h, :n] @ rows[:, h, :] for h in range(heads)]
    return torch.stack(out)


def check_gradients(op, ref, args, float_args, out_shape_seed=11):
    """Backward of `op(*args)` against torch autograd of `ref` in float64, for a random output
    gradient; float_args are the positions that get gradients."""
    ours_in = [a.clone().requires_grad_(True) if i in float_args else a for i, a in enumerate(args)]
    ref_in = [a.double().clone().requires_grad_(True) if i in float_args else a for i, a in enumerate(args)]
    out = op(*ours_in)
    grad = torch.randn(out.shape, generator=torch.Generator().manual_seed(out_shape_seed))
    out.backward(grad)
    ref(*ref_in).backward(grad.double())
    for i in float_args:
        torch.testing.assert_close(ours_in[i].grad.double(), ref_in[i].grad, rtol=1e-5, atol=1e-5)


def test_jagged_to_padded_dense_backward_is_dense_to_jagged():
    x, o = jagged_inputs()
    check_gradients(OPS.jagged_to_padded_dense, lambda v, off, n, p: ref_padded(v, off, n), (x, o, 4, 0.0), [0])


def test_dense_to_jagged_backward_is_jagged_to_padded_dense():
    _, o = jagged_inputs()
    y = torch.randn(len(LENGTHS), 4, 3, generator=torch.Generator().manual_seed(1))
    check_gradients(OPS.dense_to_jagged, ref_to_jagged, (y, o, int(o[-1])), [0])


def test_jagged_dense_elementwise_mul_backward_reaches_both_inputs():
    x, o = jagged_inputs()
    y = torch.randn(len(LENGTHS), 4, 4, generator=torch.Generator().manual_seed(2))

    def ref(xv, off, yv):
        return xv * ref_to_jagged(yv, off, xv.shape[0])

    check_gradients(OPS.jagged_dense_elementwise_mul, ref, (x, o, y), [0, 2])


@pytest.mark.parametrize("max_l", [4, 10])
def test_jagged_softmax_backward(max_l):
    x, o = jagged_inputs()
    check_gradients(OPS.jagged_softmax, ref_softmax, (x, o, max_l), [0])


@pytest.mark.parametrize("max_l", [4, 10])
def test_jagged_dense_bmm_backward_reaches_rows_and_weights(max_l):
    x, o = jagged_inputs()
    w = torch.randn(len(LENGTHS), 4, 3, generator=torch.Generator().manual_seed(3))
    check_gradients(OPS.jagged_dense_bmm, ref_dense_bmm, (x, o, w, max_l), [0, 2])


@pytest.mark.parametrize("max_l", [4, 10])
def test_jagged_jagged_bmm_backward_reaches_both_operands(max_l):
    x, o = jagged_inputs()
    y, _ = jagged_inputs(d=3, seed=5)
    check_gradients(OPS.jagged_jagged_bmm, ref_jagged_bmm, (x, y, o, max_l), [0, 1])


@pytest.mark.parametrize("vec_len", [4, 10])
def test_batched_dense_vec_jagged_2d_mul_backward_reaches_vectors_and_rows(vec_len):
    # 2 heads of width 3: a_values [N, 6]; vec_len 4 cuts the items of 5 and 7 rows.
    a, o = jagged_inputs(d=6, seed=6)
    v = torch.randn(len(LENGTHS) * 2, vec_len, generator=torch.Generator().manual_seed(7))
    check_gradients(OPS.batched_dense_vec_jagged_2d_mul, ref_vec_mul, (v, a, o), [0, 1])


def test_a_model_using_the_ops_trains():
    """Loss goes down: padded pooling weights, a jagged matmul, softmax over each item."""
    x, o = jagged_inputs(d=4)
    w = torch.zeros(len(LENGTHS), 4, 2, requires_grad=True)
    target = torch.randn(x.shape[0], 2, generator=torch.Generator().manual_seed(8))
    opt = torch.optim.SGD([w], lr=0.5)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((OPS.jagged_dense_bmm(x, o, w, 10) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.8 * losses[0]


def op_args(name, dtype=torch.float32):
    """Small inputs of each trainable op: an empty item and an item longer than the dense length."""
    x, o = jagged_inputs()
    y3 = torch.randn(len(LENGTHS), 4, 4, generator=torch.Generator().manual_seed(4))
    v = torch.randn(2 * len(LENGTHS), 6, generator=torch.Generator().manual_seed(5))
    x, y3, v = x.to(dtype), y3.to(dtype), v.to(dtype)
    args = {
        "jagged_to_padded_dense": (x, o, 4, 0.0),
        "dense_to_jagged": (y3, o, int(o[-1])),
        "jagged_dense_elementwise_mul": (x, o, y3),
        "jagged_softmax": (x, o, 4),
        "jagged_dense_bmm": (x, o, y3, 4),
        "jagged_jagged_bmm": (x, x.clone(), o, 4),
        "batched_dense_vec_jagged_2d_mul": (v, x, o),
    }[name]
    return tuple(a.clone().requires_grad_(a.is_floating_point()) if isinstance(a, torch.Tensor) else a
                 for a in args)


TRAINABLE = ["jagged_to_padded_dense", "dense_to_jagged", "jagged_dense_elementwise_mul", "jagged_softmax",
             "jagged_dense_bmm", "jagged_jagged_bmm", "batched_dense_vec_jagged_2d_mul"]


@pytest.mark.parametrize("name", TRAINABLE)
def test_gradcheck_in_float64(name):
    """torch.autograd.gradcheck at its default tolerances (eps 1e-6, atol 1e-5, rtol 1e-3), every
    input element: the kernels compute float64 in double, forward and backward, so the finite
    differences agree with the analytic gradients."""
    args = op_args(name, torch.float64)
    assert args[0].dtype == torch.float64
    assert torch.autograd.gradcheck(getattr(OPS, name), args)


def test_float64_forward_is_not_float32_widened():
    """jagged_softmax of float64 values equals torch's float64 softmax to ~1e-15, far below
    float32's 6e-8: the kernel did not compute in float32."""
    x, o = jagged_inputs(d=3)
    x = x.double() * 3
    got = OPS.jagged_softmax(x, o, 4)
    want = ref_softmax(x, o, 4)
    assert got.dtype == torch.float64
    assert (got - want).abs().max().item() < 1e-14


@pytest.mark.parametrize("name", TRAINABLE)
def test_opcheck(name):
    torch.library.opcheck(getattr(OPS, name), op_args(name))


# jagtile.ops.<op> with FBGEMM's conventions, as a model that swapped torch.ops.fbgemm.<op> for
# it calls it: an input that needs a gradient (or torch.compile tracing) takes the custom op,
# so the gradient arrives; an op without a backward refuses such an input by name.
FBGEMM_STYLE = {
    "jagged_to_padded_dense": (lambda x, o, w: jops.jagged_to_padded_dense(x, [o], [4]),
                               lambda x, o, w: ref_padded(x, o, 4)),
    "jagged_2d_to_dense": (lambda x, o, w: jops.jagged_2d_to_dense(x, o, 4),
                           lambda x, o, w: ref_padded(x, o, 4)),
    "jagged_softmax": (lambda x, o, w: jops.jagged_softmax(x, o, 4)[0],
                       lambda x, o, w: ref_softmax(x, o, 4)),
    "jagged_dense_bmm": (lambda x, o, w: jops.jagged_dense_bmm(x, o, w, 4)[0],
                         lambda x, o, w: ref_dense_bmm(x, o, w, 4)),
    "jagged_jagged_bmm": (lambda x, o, w: jops.jagged_jagged_bmm(x, x, o, 4),
                          lambda x, o, w: ref_jagged_bmm(x, x, o, 4)),
}


@pytest.mark.parametrize("name", sorted(FBGEMM_STYLE))
def test_fbgemm_style_op_on_an_input_that_requires_grad_passes_the_gradient_back(name):
    ours, ref = FBGEMM_STYLE[name]
    x, o = jagged_inputs()
    w = torch.randn(len(LENGTHS), 4, 3, generator=torch.Generator().manual_seed(3))
    with_grad = [0, 1] if name == "jagged_dense_bmm" else [0]  # the others ignore w
    check_gradients(lambda xv, wv: ours(xv, o, wv), lambda xv, wv: ref(xv, o, wv), (x, w),
                    with_grad)


def test_fbgemm_style_mul_and_dense_to_jagged_pass_gradients_to_every_float_input():
    x, o = jagged_inputs()
    y = torch.randn(len(LENGTHS), 4, 4, generator=torch.Generator().manual_seed(2))
    check_gradients(lambda xv, yv: jops.jagged_dense_elementwise_mul(xv, [o], yv)[0],
                    lambda xv, yv: xv * ref_to_jagged(yv, o, xv.shape[0]), (x, y), [0, 1])
    check_gradients(lambda yv: jops.dense_to_jagged(yv, [o])[0],
                    lambda yv: ref_to_jagged(yv, o, int(o[-1])), (y,), [0])


def test_fbgemm_style_op_without_a_backward_refuses_an_input_that_requires_grad_by_name():
    x, o = jagged_inputs()
    y = torch.randn(len(LENGTHS), 4, 4, requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"jagged_dense_elementwise_add: 'y' requires "
                                                  r"grad, but this op has no backward yet.*"
                                                  r"torch.no_grad\(\)"):
        jops.jagged_dense_elementwise_add(x, [o], y)
    with pytest.raises(NotImplementedError, match="jagged_index_select: 'values' requires grad"):
        jops.jagged_index_select(x.clone().requires_grad_(True), torch.tensor(LENGTHS),
                                 torch.tensor([2, 0]))
    with torch.no_grad():  # no gradient wanted: the kernel runs as before
        out = jops.jagged_dense_elementwise_add(x, [o], y)
    torch.testing.assert_close(out, ref_padded(x, o, 4) + y.detach())


def test_fbgemm_style_ops_compile_with_fullgraph_and_match_eager():
    x, o = jagged_inputs()
    w = torch.randn(len(LENGTHS), 4, 3, generator=torch.Generator().manual_seed(3))

    def model(xv, wv):
        h = jops.jagged_softmax(xv, o, 4)[0]
        return jops.jagged_to_padded_dense(jops.jagged_dense_bmm(h, o, wv, 4)[0], [o], [4])

    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(x, w), model(x, w))
