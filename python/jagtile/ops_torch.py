"""jagtile.ops as torch custom ops with autograd: `import jagtile.ops_torch` registers
torch.ops.jagtile.<name> for the trainable ops, each with a fake implementation (output shapes,
for torch.compile and torch.export) and a backward made of these ops (so it traces too), whose
kernels are jagtile.ops kernels as well:

    jagged_to_padded_dense <-> dense_to_jagged   each other's gradient
    jagged_dense_elementwise_mul                 grad_x = g * y (jagged), grad_y = g * x padded
    jagged_softmax                               ops/jagged_softmax_backward.py
    jagged_dense_bmm, jagged_jagged_bmm          each other, with transposed operands
    batched_dense_vec_jagged_2d_mul              ops/batched_dense_vec_jagged_2d_mul_backward.py

One jagged dimension, plain offsets tensors (not FBGEMM's lists): these are the ops a model's
graph holds. Gradients flow to the float inputs; offsets and sizes get none.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import ops as _ops

_NS = "jagtile"


def _c(t: Tensor) -> Tensor:
    """Gradients arrive in any layout; jagtile reads contiguous tensors only."""
    return t if t.is_contiguous() else t.contiguous()


# --------------------------------------------------------------------------- layout


@torch.library.custom_op(f"{_NS}::jagged_to_padded_dense", mutates_args=())
def jagged_to_padded_dense(values: Tensor, offsets: Tensor, max_length: int,
                           padding_value: float = 0.0) -> Tensor:
    return _ops.jagged_to_padded_dense(values, [offsets], [max_length], padding_value)


@jagged_to_padded_dense.register_fake
def _(values, offsets, max_length, padding_value=0.0):
    return values.new_empty((offsets.shape[0] - 1, max_length, values.shape[1]))


def _padded_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[1])
    ctx.rows = inputs[0].shape[0]


def _padded_backward(ctx, grad):
    (offsets,) = ctx.saved_tensors
    # Truncated rows and the padding do not depend on the values: dense_to_jagged drops the
    # former (0 past the dense length) and never reads the latter.
    return dense_to_jagged(_c(grad), offsets, ctx.rows), None, None, None


jagged_to_padded_dense.register_autograd(_padded_backward, setup_context=_padded_setup)


@torch.library.custom_op(f"{_NS}::dense_to_jagged", mutates_args=())
def dense_to_jagged(dense: Tensor, offsets: Tensor, total_L: int) -> Tensor:
    return _ops.dense_to_jagged(dense, [offsets], total_L)[0]


@dense_to_jagged.register_fake
def _(dense, offsets, total_L):
    return dense.new_empty((total_L, dense.shape[2]))


def _to_jagged_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[1])
    ctx.length = inputs[0].shape[1]


def _to_jagged_backward(ctx, grad):
    (offsets,) = ctx.saved_tensors
    return jagged_to_padded_dense(_c(grad), offsets, ctx.length, 0.0), None, None


dense_to_jagged.register_autograd(_to_jagged_backward, setup_context=_to_jagged_setup)


# --------------------------------------------------------------------------- elementwise


@torch.library.custom_op(f"{_NS}::jagged_dense_elementwise_mul", mutates_args=())
def jagged_dense_elementwise_mul(x_values: Tensor, x_offsets: Tensor, y: Tensor) -> Tensor:
    return _ops.jagged_dense_elementwise_mul(x_values, [x_offsets], y)[0]


@jagged_dense_elementwise_mul.register_fake
def _(x_values, x_offsets, y):
    return torch.empty_like(x_values)


def _mul_setup(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _mul_backward(ctx, grad):
    x, offsets, y = ctx.saved_tensors
    grad = _c(grad)
    grad_x = jagged_dense_elementwise_mul(grad, offsets, y)
    grad_y = jagged_to_padded_dense(grad * x, offsets, y.shape[1], 0.0)
    return grad_x, None, grad_y


jagged_dense_elementwise_mul.register_autograd(_mul_backward, setup_context=_mul_setup)


# --------------------------------------------------------------------------- softmax


@torch.library.custom_op(f"{_NS}::jagged_softmax", mutates_args=())
def jagged_softmax(values: Tensor, offsets: Tensor, max_L: int) -> Tensor:
    return _ops.jagged_softmax(values, offsets, max_L)[0]


@jagged_softmax.register_fake
def _(values, offsets, max_L):
    return torch.empty_like(values)


@torch.library.custom_op(f"{_NS}::jagged_softmax_backward", mutates_args=())
def jagged_softmax_backward(grad_output: Tensor, output: Tensor, offsets: Tensor, max_L: int) -> Tensor:
    return _ops._kernel("jagged_softmax_backward")(grad_output, output, offsets, max_L)


@jagged_softmax_backward.register_fake
def _(grad_output, output, offsets, max_L):
    return torch.empty_like(output)


def _softmax_setup(ctx, inputs, output):
    ctx.save_for_backward(output, inputs[1])
    ctx.max_L = inputs[2]


def _softmax_backward(ctx, grad):
    output, offsets = ctx.saved_tensors
    return jagged_softmax_backward(_c(grad), output, offsets, ctx.max_L), None, None


jagged_softmax.register_autograd(_softmax_backward, setup_context=_softmax_setup)


# --------------------------------------------------------------------------- matmul


@torch.library.custom_op(f"{_NS}::jagged_dense_bmm", mutates_args=())
def jagged_dense_bmm(x_values: Tensor, x_offsets: Tensor, y: Tensor, max_L: int) -> Tensor:
    return _ops.jagged_dense_bmm(x_values, x_offsets, y, max_L)[0]


@jagged_dense_bmm.register_fake
def _(x_values, x_offsets, y, max_L):
    return x_values.new_empty((x_values.shape[0], y.shape[2]))


def _dense_bmm_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[0], inputs[1], inputs[2])
    ctx.max_L = inputs[3]


def _dense_bmm_backward(ctx, grad):
    x, offsets, y = ctx.saved_tensors
    grad = _c(grad)
    grad_x = jagged_dense_bmm(grad, offsets, _c(y.transpose(1, 2)), ctx.max_L)
    grad_y = jagged_jagged_bmm(x, grad, offsets, ctx.max_L)
    return grad_x, None, grad_y, None


jagged_dense_bmm.register_autograd(_dense_bmm_backward, setup_context=_dense_bmm_setup)


@torch.library.custom_op(f"{_NS}::jagged_jagged_bmm", mutates_args=())
def jagged_jagged_bmm(x_values: Tensor, y_values: Tensor, x_offsets: Tensor, max_L: int) -> Tensor:
    return _ops.jagged_jagged_bmm(x_values, y_values, x_offsets, max_L)


@jagged_jagged_bmm.register_fake
def _(x_values, y_values, x_offsets, max_L):
    return x_values.new_empty((x_offsets.shape[0] - 1, x_values.shape[1], y_values.shape[1]))


def _jagged_bmm_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[0], inputs[1], inputs[2])
    ctx.max_L = inputs[3]


def _jagged_bmm_backward(ctx, grad):
    x, y, offsets = ctx.saved_tensors
    grad = _c(grad)  # [B, D, E]
    grad_x = jagged_dense_bmm(y, offsets, _c(grad.transpose(1, 2)), ctx.max_L)
    grad_y = jagged_dense_bmm(x, offsets, grad, ctx.max_L)
    return grad_x, grad_y, None, None


jagged_jagged_bmm.register_autograd(_jagged_bmm_backward, setup_context=_jagged_bmm_setup)


@torch.library.custom_op(f"{_NS}::batched_dense_vec_jagged_2d_mul", mutates_args=())
def batched_dense_vec_jagged_2d_mul(v: Tensor, a_values: Tensor, a_offsets: Tensor) -> Tensor:
    return _ops.batched_dense_vec_jagged_2d_mul(v, a_values, a_offsets)


@batched_dense_vec_jagged_2d_mul.register_fake
def _(v, a_values, a_offsets):
    # v is [B * H, L] and a_values [N, H * D], with B = len(a_offsets) - 1: the result is [B * H, D].
    heads = v.shape[0] // (a_offsets.shape[0] - 1)
    return v.new_empty((v.shape[0], a_values.shape[1] // heads))


@torch.library.custom_op(f"{_NS}::batched_dense_vec_jagged_2d_mul_backward", mutates_args=())
def batched_dense_vec_jagged_2d_mul_backward(grad_output: Tensor, v: Tensor, a_values: Tensor,
                                             a_offsets: Tensor) -> tuple[Tensor, Tensor]:
    return tuple(_ops._kernel("batched_dense_vec_jagged_2d_mul_backward")(grad_output, v, a_values,
                                                                         a_offsets))


@batched_dense_vec_jagged_2d_mul_backward.register_fake
def _(grad_output, v, a_values, a_offsets):
    return torch.empty_like(v), torch.empty_like(a_values)


def _vec_mul_setup(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _vec_mul_backward(ctx, grad):
    v, a_values, a_offsets = ctx.saved_tensors
    grad_v, grad_a = batched_dense_vec_jagged_2d_mul_backward(_c(grad), v, a_values, a_offsets)
    return grad_v, grad_a, None


batched_dense_vec_jagged_2d_mul.register_autograd(_vec_mul_backward, setup_context=_vec_mul_setup)
