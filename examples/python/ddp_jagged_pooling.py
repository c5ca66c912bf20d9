#!/usr/bin/env python3
"""Data-parallel training over jagged batches, with a jagtile op inside torch.distributed.

Each process (rank) holds its own shard of users. A user's history is a jagged list of item
feature rows ([N, M] values, [B + 1] offsets, and the number of feature columns that user has).
The model pools each history with the bundled jagged_mean kernel, registered as the torch op
`jagtile_demo::jagged_mean`, then scores the pooled vector with a small MLP. DistributedDataParallel
(gloo) averages the MLP's gradients across ranks, exactly as it would around any torch op: jagtile
brings no engine of its own (docs/distributed.md).

    python examples/python/ddp_jagged_pooling.py --world-size 2 --steps 5

The pooling has no backward (jagtile ops are forward-only), so it sits where the data enters the
model: its inputs are features, not parameters. With --check, every rank's parameters must end
equal bitwise, and equal (within fp32 reordering) to one process training on all shards at once.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

import jagtile

EXAMPLES = Path(__file__).resolve().parents[1]
OP_NAME = "jagtile_demo::jagged_mean"


_registered_op = None


def jagged_mean_op():
    """The bundled jagged_mean kernel as a torch op, registered once per process (spawned ranks
    import this module afresh)."""
    global _registered_op
    if _registered_op is None:
        kernel = jagtile.load(str(EXAMPLES / "jagged_mean.py"))["jagged_mean"]
        _registered_op = jagtile.register_torch_op(kernel, OP_NAME)
    return _registered_op


def make_shard(rank: int, users: int, features: int, max_len: int, seed: int):
    """One rank's users: histories of 0..max_len rows (empty histories included), each user with
    1..features feature columns, and a regression target per user."""
    g = torch.Generator().manual_seed(seed * 1000 + rank)
    lengths = torch.randint(0, max_len + 1, (users,), generator=g)
    offsets = torch.zeros(users + 1, dtype=torch.int64)
    offsets[1:] = torch.cumsum(lengths, 0)
    values = torch.randn(int(offsets[-1]), features, generator=g)
    feature_counts = torch.randint(1, features + 1, (users,), generator=g)
    target = torch.randn(users, 1, generator=g)
    return values, offsets, feature_counts, target


def concatenate_shards(shards):
    """All ranks' users as one jagged batch (offsets shifted), for the single-process check."""
    values = torch.cat([s[0] for s in shards])
    offsets, base = [torch.zeros(1, dtype=torch.int64)], 0
    for s in shards:
        offsets.append(s[1][1:] + base)
        base += int(s[1][-1])
    return values, torch.cat(offsets), torch.cat([s[2] for s in shards]), torch.cat([s[3] for s in shards])


class PooledScorer(torch.nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.mlp = torch.nn.Sequential(torch.nn.Linear(features, 16), torch.nn.SiLU(), torch.nn.Linear(16, 1))

    def forward(self, values, offsets, feature_counts):
        pooled = jagged_mean_op()(values, offsets, feature_counts)  # [B, M], no copies in or out
        return self.mlp(pooled)


def train(model, optimizer, batch, steps: int):
    values, offsets, feature_counts, target = batch
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(values, offsets, feature_counts), target)
        loss.backward()
        optimizer.step()
    return float(loss.detach())


def new_model(features: int):
    torch.manual_seed(0)  # the same initial parameters on every rank and in the reference
    model = PooledScorer(features)
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


def worker(rank: int, world_size: int, init_file: str, args, result_dir: str):
    torch.set_num_threads(1)
    jagtile.set_num_threads(1)  # one core per rank: the ranks share the machine
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        shard = make_shard(rank, args.users, args.features, args.max_len, args.seed)
        model, optimizer = new_model(args.features)
        ddp = DistributedDataParallel(model)
        loss = train(ddp, optimizer, shard, args.steps)
        print(f"rank {rank}: {args.users} users, {int(shard[1][-1])} rows, loss after {args.steps} steps {loss:.6f}",
              flush=True)
        torch.save({k: v.detach().clone() for k, v in model.state_dict().items()},
                   os.path.join(result_dir, f"rank{rank}.pt"))
        # Every rank's collectives finished, and DDP's reducer (which keeps the process group
        # and its last allreduce alive) released before the group goes: torch's gloo backend
        # otherwise can free that allreduce on its own thread while this process shuts its
        # interpreter down, which aborts the rank ("terminate called without an active
        # exception"; one test run in three to six failed this way before it).
        dist.barrier()
        del ddp, model, optimizer
        gc.collect()
    finally:
        dist.destroy_process_group()


def run(args) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        init_file = os.path.join(tmp, "rendezvous")
        mp.spawn(worker, args=(args.world_size, init_file, args, tmp), nprocs=args.world_size, join=True)
        states = [torch.load(os.path.join(tmp, f"rank{r}.pt")) for r in range(args.world_size)]
    if not args.check:
        return 0

    failures = []
    for r in range(1, args.world_size):
        for k in states[0]:
            if not torch.equal(states[0][k], states[r][k]):
                failures.append(f"parameter {k} differs between rank 0 and rank {r}")
    # One process, every shard at once: the mean loss over equal shards has the gradient DDP
    # computes (the average of the ranks' gradients), so the parameters must agree.
    shards = [make_shard(r, args.users, args.features, args.max_len, args.seed) for r in range(args.world_size)]
    model, optimizer = new_model(args.features)
    train(model, optimizer, concatenate_shards(shards), args.steps)
    for k, v in model.state_dict().items():
        if not torch.allclose(states[0][k], v, rtol=1e-5, atol=1e-6):
            worst = float((states[0][k] - v).abs().max())
            failures.append(f"parameter {k}: data-parallel and single-process differ by {worst:g}")
    for f in failures:
        print("check failed:", f, file=sys.stderr)
    if not failures:
        print(f"check passed: {args.world_size} ranks agree bitwise, and with one process on all shards")
    return 1 if failures else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--world-size", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--users", type=int, default=64, help="users per rank")
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--max-len", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--check", action="store_true", help="compare ranks and a single-process run")
    args = p.parse_args(argv)
    if args.world_size < 1:
        p.error("--world-size must be at least 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
