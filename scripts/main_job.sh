#!/usr/bin/env bash
# The main job (`make run`): every bundled piece end to end on generated data, checked against
# its reference, with the benchmark table. Exits non-zero on any mismatch.
set -euo pipefail
build=${1:-build}
echo "== jagged_reduce template library: checked benchmark (all cases) =="
"./$build/bench_reduce" --check
