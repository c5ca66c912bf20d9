"""Once torch is imported, kernels' parallel regions run on torch's intra-op pool (through
jagtile._torch_bridge) whenever jagtile's thread count equals torch's: the same bits as on
jagtile's own threads, errors raised the same way, and jagtile's own threads for other counts."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (make test installs it)")

import jagtile  # noqa: E402
from jagtile import _core  # noqa: E402
from conftest import EXAMPLES, example_inputs  # noqa: E402

GATHER = '''import torch
import helion
import helion.language as hl

@helion.kernel(config={"block_sizes": [16]})
def gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([idx.size(0)], dtype=x.dtype, device=x.device)
    for t in hl.tile(idx.size(0)):
        out[t] = x[idx[t]]
    return out
'''


@pytest.fixture
def two_torch_threads():
    """torch and jagtile at 2 threads (jagtile following torch), restored afterwards. torch's
    pool is installed afresh and kept however late its regions return: on a loaded machine
    OpenMP's threads can hold a region for milliseconds, which would otherwise hand the regions
    these tests count back to jagtile's own threads (test_torch_pool_drops_late_regions)."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    jagtile.set_num_threads(0)
    _core.use_torch_pool(True, late_after_ns=0)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        jagtile.set_num_threads(0)
        _core.use_torch_pool(True)


def as_torch(args: dict) -> dict:
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in args.items()}


def softmax_kernel():
    return jagtile.load(str(EXAMPLES / "jagged_softmax.py"), backend="cpu")["jagged_softmax"]


def test_kernels_run_on_torchs_pool_once_torch_is_imported(two_torch_threads):
    assert _core.torch_pool_active()
    args = as_torch(example_inputs("jagged_softmax", batch=400, m=32))
    k = softmax_kernel()
    before = _core.executor_regions()
    k(**args)
    assert _core.executor_regions() > before
    before = _core.executor_regions()
    jagtile.jagged_reduce(args["x_values"], args["x_offsets"], op="sum")
    assert _core.executor_regions() > before


def test_torchs_pool_and_jagtiles_own_threads_give_identical_bits(two_torch_threads):
    args = as_torch(example_inputs("jagged_softmax", batch=400, m=32))
    k = softmax_kernel()
    on_torch = k(**args)
    reduced_on_torch = jagtile.jagged_reduce(args["x_values"], args["x_offsets"], op="mean")
    _core.use_torch_pool(False)
    assert not _core.torch_pool_active()
    before = _core.executor_regions()
    on_own = k(**args)
    reduced_on_own = jagtile.jagged_reduce(args["x_values"], args["x_offsets"], op="mean")
    assert _core.executor_regions() == before
    # Bitwise, NaN included (an empty item's mean is NaN).
    np.testing.assert_array_equal(on_torch.numpy(), on_own.numpy())
    np.testing.assert_array_equal(reduced_on_torch.numpy(), reduced_on_own.numpy())


def test_a_thread_count_other_than_torchs_keeps_jagtiles_own_threads(two_torch_threads):
    args = as_torch(example_inputs("jagged_softmax", batch=400, m=32))
    k = softmax_kernel()
    jagtile.set_num_threads(3)
    before = _core.executor_regions()
    k(**args)
    assert _core.executor_regions() == before


def test_an_out_of_bounds_load_on_torchs_pool_raises_the_located_error(tmp_path, two_torch_threads):
    path = tmp_path / "gather.py"
    path.write_text(GATHER)
    k = jagtile.load(str(path), backend="cpu")["gather"]
    x = torch.arange(4096, dtype=torch.float32)
    idx = torch.arange(4096, dtype=torch.int64).flip(0)
    idx[1000] = 4096  # one past the end, in one of the 256 programs
    before = _core.executor_regions()
    with pytest.raises(jagtile.KernelError, match=r"load of tensor 'x' at index 4096 in dimension 0"):
        k(x, idx)
    assert _core.executor_regions() > before
    idx[1000] = 7
    want = x.flip(0)
    want[1000] = 7.0
    assert torch.equal(k(x, idx), want)  # and the pool still works


def test_torch_pool_drops_late_regions(two_torch_threads):
    # A limit of 1 ns makes every region late (OpenMP's join alone takes longer): after three
    # in a row the pool is dropped and the regions run on jagtile's own threads, same bits; a
    # new use_torch_pool installs it again. bench/pool_under_load.py shows why: under other
    # processes' load torch's pool held every region about 8 ms.
    args = as_torch(example_inputs("jagged_softmax", batch=400, m=32))
    k = softmax_kernel()
    want = k(**args)
    _core.use_torch_pool(True, late_after_ns=1)
    for _ in range(6):
        np.testing.assert_array_equal(k(**args).numpy(), want.numpy())
    assert not _core.torch_pool_active()
    before = _core.executor_regions()
    np.testing.assert_array_equal(k(**args).numpy(), want.numpy())
    assert _core.executor_regions() == before
    _core.use_torch_pool(True)
    assert _core.torch_pool_active()
    k(**args)
    assert _core.executor_regions() > before
