"""A jagtile op inside torch.distributed: the data-parallel demo (examples/python/) trains on two
gloo processes on this machine, and its ranks must agree bitwise with each other and, within fp32
reordering, with one process training on every shard (docs/distributed.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (make test installs it)")
dist = pytest.importorskip("torch.distributed", reason="this torch has no torch.distributed")

from conftest import ROOT  # noqa: E402

DEMO = ROOT / "examples" / "python" / "ddp_jagged_pooling.py"


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="this torch build has no gloo backend")
def test_two_gloo_ranks_train_identically_to_one_process_on_all_shards():
    run = subprocess.run([sys.executable, str(DEMO), "--world-size", "2", "--steps", "4", "--check"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "rank 0:" in run.stdout and "rank 1:" in run.stdout
    assert "check passed: 2 ranks agree bitwise" in run.stdout


def test_demo_check_fails_when_the_ranks_train_on_unequal_shards(tmp_path):
    """The demo's check can fail: with one rank given more users than the other, DDP's averaged
    gradient is no longer the single-process gradient, and --check must say so."""
    script = tmp_path / "unequal.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(DEMO.parent)!r})\n"
        "import ddp_jagged_pooling as demo\n"
        "original = demo.make_shard\n"
        "demo.make_shard = lambda rank, users, *a: original(rank, users * (rank + 1), *a)\n"
        "if __name__ == '__main__':  # spawned ranks import this file too, and get the patch\n"
        "    sys.exit(demo.main(['--world-size', '2', '--steps', '2', '--check']))\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "data-parallel and single-process differ" in run.stderr
