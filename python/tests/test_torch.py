"""torch: tensors in and out without copies, custom ops (opcheck, torch.compile, torch.export),
and a clear error from backward. Skipped, with the reason counted, when torch is missing."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (make test installs it)")

import jagtile  # noqa: E402
from jagtile import _core  # noqa: E402
from conftest import EXAMPLE_NAMES, EXAMPLES, example_inputs, reference  # noqa: E402


def as_torch(args: dict) -> dict:
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in args.items()}


def kernel(name):
    return jagtile.load(str(EXAMPLES / f"{name}.py"))[name]


@pytest.fixture(scope="session")
def ops():
    """Every bundled example registered once as jagtile_test::<name>."""
    return {n: jagtile.register_torch_op(kernel(n), f"jagtile_test::{n}") for n in EXAMPLE_NAMES}


def test_torch_in_torch_out_equals_numpy_path():
    a = example_inputs("jagged_softmax")
    k = kernel("jagged_softmax")
    out = k(**as_torch(a))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), k(**a))


def test_torch_input_is_not_copied_and_output_is_not_copied():
    from test_zero_copy import sums_and_flat

    a = as_torch(example_inputs("jagged_sum"))
    x = a["x_values"]
    assert _core.wrapped_data_pointer(x) == x.data_ptr()
    out, flat = sums_and_flat(**a)
    assert isinstance(flat, torch.Tensor) and flat.data_ptr() == x.data_ptr()
    flat[0] = 42.0  # the same memory: visible through the input
    assert x[0, 0].item() == 42.0


def test_torch_bridge_is_active_under_the_torch_it_was_built_with():
    # make test installs torch before building the package, so jagtile._torch_bridge is built
    # against it; without it every torch call pays torch's Python-level exports (about 2.5 us).
    assert _core.torch_bridge_active()


def test_bridge_holds_inputs_only_during_the_call_and_results_own_their_memory():
    import sys

    a = as_torch(example_inputs("jagged_sum"))
    x = a["x_values"]
    before = sys.getrefcount(x)
    out = kernel("jagged_sum")(**a)
    assert sys.getrefcount(x) == before  # the input's reference was dropped after the call
    want = out.clone()
    del a, x
    assert torch.equal(out, want)  # the result's storage is jagtile's, alive while torch holds it
    bf16 = as_torch(example_inputs("jagged_sum"))
    bf16["x_values"] = bf16["x_values"].bfloat16()
    got = kernel("jagged_sum")(**bf16)
    assert got.dtype == torch.bfloat16 and got.shape == want.shape


def test_non_contiguous_torch_tensor_is_rejected():
    a = as_torch(example_inputs("jagged_sum"))
    with pytest.raises(jagtile.KernelError,
                       match=r"(?s)x_values' is not contiguous.*x\.contiguous\(\)"):
        kernel("jagged_sum")(a["x_values"].t().contiguous().t(), a["x_offsets"])


def test_tensor_on_a_device_jagtile_cannot_read_is_a_kernel_error():
    a = as_torch(example_inputs("jagged_sum"))
    meta = torch.empty(a["x_values"].shape, device="meta")
    with pytest.raises(jagtile.KernelError, match="argument 'x_values' cannot be read in place"):
        kernel("jagged_sum")(meta, a["x_offsets"])


def test_bfloat16_through_torch():
    a = example_inputs("jagged_sum")
    x = torch.from_numpy(a["x_values"]).to(torch.bfloat16)
    out = kernel("jagged_sum")(x, torch.from_numpy(a["x_offsets"]))
    assert out.dtype == torch.bfloat16
    ref = reference("jagged_sum", {**a, "x_values": x.float().numpy()})
    np.testing.assert_allclose(out.float().numpy(), ref, rtol=1e-2, atol=1e-2)


def test_bfloat16_result_cannot_become_numpy_clearly():
    a = example_inputs("jagged_sum")
    x = torch.from_numpy(a["x_values"]).to(torch.bfloat16)
    # torch in -> torch out; jagged_reduce on torch also returns torch: fine.
    assert jagtile.jagged_reduce(x, torch.from_numpy(a["x_offsets"])).dtype == torch.bfloat16


def test_default_threads_follow_torch():
    assert jagtile.get_num_threads() == torch.get_num_threads()


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_opcheck_bundled_example(ops, name):
    op = ops[name]
    a = as_torch(example_inputs(name))
    out = op(**a)
    np.testing.assert_allclose(out.numpy(), reference(name, example_inputs(name)), rtol=1e-4,
                               atol=1e-5)
    assert getattr(torch.ops.jagtile_test, name) is not None
    torch.library.opcheck(op, tuple(a.values()))


def test_torch_compile_fullgraph(ops):
    op = ops["jagged_sum"]

    @torch.compile(fullgraph=True)
    def f(x, offs):
        return op(x * 2.0, offs) + 1.0

    # Several sizes: after the first, torch.compile retraces with symbolic sizes, which the
    # fake implementation makes concrete.
    for batch in (7, 11, 15):
        a = as_torch(example_inputs("jagged_sum", batch=batch))
        got = f(a["x_values"], a["x_offsets"])
        want = kernel("jagged_sum")(a["x_values"] * 2.0, a["x_offsets"]) + 1.0
        torch.testing.assert_close(got, want)


def test_torch_export(ops):
    op = ops["jagged_max"]

    class M(torch.nn.Module):
        def forward(self, x, offs):
            return op(x, offs).relu()

    a = as_torch(example_inputs("jagged_max"))
    ep = torch.export.export(M(), (a["x_values"], a["x_offsets"]))
    assert "jagtile_test.jagged_max" in str(ep.graph)
    torch.testing.assert_close(ep.module()(a["x_values"], a["x_offsets"]),
                               M()(a["x_values"], a["x_offsets"]))


def test_backward_raises_naming_the_kernel(ops):
    a = as_torch(example_inputs("jagged_sum"))
    x = a["x_values"].clone().requires_grad_(True)
    out = ops["jagged_sum"](x, a["x_offsets"])
    with pytest.raises(RuntimeError, match="jagtile kernel 'jagged_sum'.*no backward"):
        out.sum().backward()
