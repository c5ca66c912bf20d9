#!/bin/bash
# Two builds of the jagtile CLI raced on the generated CPU code of a fixed set of kernels: each
# case's `jagtile bench --backend cpu` run with the old binary, then the new, three rounds
# alternated, each binary with its own JIT cache folder (compiled once, before the rounds). Prints
# the generic-cpu median (ms), GB/s and % of the same-run read per run.
#
#   bench/ab_generic_cpu.sh OLD_JAGTILE NEW_JAGTILE [THREADS] [ROUNDS]
#
# A compiler change is measured by building the commit before it in a worktree
# (git worktree add /tmp/old REV && cmake -S /tmp/old -B /tmp/old/build -G Ninja
# -DCMAKE_BUILD_TYPE=Release && ninja -C /tmp/old/build jagtile). The masked_select case's
# inputs (FBGEMM's standard shape: B = 1024, lengths uniform in [0, 512], int64 ids, each kept
# with probability 1/2, seed 0) are written by the project's Python (.venv) and the case is
# skipped without it.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 OLD_JAGTILE NEW_JAGTILE [THREADS] [ROUNDS]" >&2
  exit 2
fi
OLD=$1 NEW=$2 T=${3:-2} ROUNDS=${4:-3}
cd "$(dirname "$0")/.."
CACHE=$(mktemp -d)
trap 'rm -rf "$CACHE"' EXIT

bench_one() {  # binary cache args...
  local bin=$1 cache=$2
  shift 2
  JAGTILE_CACHE_DIR=$cache "$bin" bench "$@" --backend cpu --threads "$T" 2>&1 |
    awk '/^generic-cpu  / {print $2, $3, $4; found = 1} END {if (!found) print "failed"}'
}

run() {  # name args...
  local name=$1
  shift
  bench_one "$OLD" "$CACHE/old" "$@" --repeat 1 >/dev/null
  bench_one "$NEW" "$CACHE/new" "$@" --repeat 1 >/dev/null
  for r in $(seq "$ROUNDS"); do
    echo "$name old r$r: $(bench_one "$OLD" "$CACHE/old" "$@")"
    echo "$name new r$r: $(bench_one "$NEW" "$CACHE/new" "$@")"
  done
}

MS_DIR=$CACHE/masked_select
if [ -x .venv/bin/python ] && .venv/bin/python - "$MS_DIR" <<'PY'
import os, sys
import numpy as np
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(0)
lengths = rng.integers(0, 513, 1024)
offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
mask = rng.random(int(offsets[-1])) < 0.5
kept = np.array([mask[a:b].sum() for a, b in zip(offsets[:-1], offsets[1:])])
np.save(f"{d}/values.npy", rng.integers(0, 1 << 40, int(offsets[-1])).astype(np.int64))
np.save(f"{d}/mask.npy", mask)
np.save(f"{d}/offsets.npy", offsets)
np.save(f"{d}/out_offsets.npy", np.concatenate([[0], np.cumsum(kept)]).astype(np.int64))
PY
then
  run masked_select ops/masked_select_jagged_1d.py --arg "values=$MS_DIR/values.npy" \
    --arg "mask=$MS_DIR/mask.npy" --arg "offsets=$MS_DIR/offsets.npy" \
    --arg "out_offsets=$MS_DIR/out_offsets.npy" --repeat 101
fi
for k in jagged_layer_norm jagged_softmax jagged_dense_add; do
  run "$k" "examples/$k.py" --batch 512 --features 128 --max-len 256 --repeat 21
done
run hstu examples/jagged_hstu_attention.py --batch 16 --heads 4 --head-dim 128 --max-len 512 \
  --repeat 11
