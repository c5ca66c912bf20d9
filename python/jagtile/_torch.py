"""jagtile kernels as torch custom ops (torch.library.custom_op): the implementation calls the
kernel on the tensors as they are (no copies), the fake implementation computes the output
shapes from the kernel's host part, and backward raises an error naming the kernel."""

from __future__ import annotations

import torch
from torch._subclasses.fake_tensor import unset_fake_temporarily

from ._kernel import Kernel

_SCHEMA_TYPES = {
    "tensor": "Tensor",
    "untyped": "Tensor",
    "optional_tensor": "Tensor?",
    "int": "int",
    "float": "float",
    "bool": "bool",
}

_DTYPES = {
    "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
    "int32": torch.int32, "int64": torch.int64, "bool": torch.bool,
}


def _schema(fn: Kernel) -> str:
    parts = []
    for p in fn.params:
        s = f"{_SCHEMA_TYPES[p['kind']]} {p['name']}"
        if p["has_default"]:
            d = p["default"]
            s += "=None" if d is None else f"={d!r}"
        elif p["kind"] == "optional_tensor":
            s += "=None"
        parts.append(s)
    ret = "Tensor" if fn.outputs == 1 else "(" + ", ".join(["Tensor"] * fn.outputs) + ")"
    return f"({', '.join(parts)}) -> {ret}"


def register(fn: Kernel, qualname: str):
    if not isinstance(fn, Kernel):
        raise TypeError(f"register_torch_op takes a jagtile kernel, not {type(fn).__name__}")
    if "::" not in qualname:
        raise ValueError(f"op name '{qualname}' must be 'namespace::name'")
    names = fn.param_names

    def impl(*args):
        out = fn(**dict(zip(names, args)))
        return out

    op = torch.library.custom_op(qualname, impl, mutates_args=(), schema=_schema(fn))

    def fake(*args):
        # The host part runs on zero-filled CPU stand-ins of the inputs' sizes: output shapes
        # that depend only on sizes come out right (a shape read from data with .item() would
        # see zeros; see docs/python.md).
        device = next((a.device for a in args if isinstance(a, torch.Tensor)), None)
        with unset_fake_temporarily():
            stand_ins = [
                torch.zeros([int(s) for s in a.shape], dtype=a.dtype)
                if isinstance(a, torch.Tensor) else a
                for a in args
            ]
            specs = fn.output_specs(**dict(zip(names, stand_ins)))
        outs = [torch.empty(shape, dtype=_DTYPES[dt], device=device) for shape, dt, _ in specs]
        return outs[0] if fn.outputs == 1 else tuple(outs)

    op.register_fake(fake)

    def setup_context(ctx, inputs, output):
        pass

    def backward(ctx, *grads):
        raise RuntimeError(
            f"jagtile kernel '{fn.name}' (torch op {qualname}) has no backward: jagtile ops are "
            "forward-only; compute the gradient with a separate kernel or detach the inputs")

    op.register_autograd(backward, setup_context=setup_context)
    return op
