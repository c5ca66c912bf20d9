#!/usr/bin/env bash
# The main job (`make run`): every bundled piece end to end on generated data, checked against
# its reference, with the benchmark table. Exits non-zero on any mismatch.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac

echo "== bundled examples: jagtile run --check (default backend, then the interpreter) =="
failed=0
runs=0
for example in examples/*.py; do
  for dist in uniform one-huge; do
    for dtype in f32 bf16; do
      echo "-- $example --dist $dist --dtype $dtype"
      runs=$((runs + 1))
      if ! "$build/jagtile" run "$example" --batch 48 --features 24 --max-len 40 \
          --dist "$dist" --dtype "$dtype" --check; then
        echo "FAILED: $example --dist $dist --dtype $dtype" >&2
        failed=1
      fi
    done
  done
  echo "-- $example (explain)"
  "$build/jagtile" explain "$example" --batch 48 --features 24 --max-len 40 || failed=1
done
if [ "$failed" -ne 0 ]; then
  echo "main job: a bundled example failed its check (see above)" >&2
  exit 1
fi
echo "== all $runs example runs passed --check =="

echo
echo "== jagtile bench: every bundled example, each implementation checked, then timed =="
# A moderate shape so the whole job stays within minutes on a small machine; the issue targets
# use --batch 1024 --features 256 --max-len 512 --sparsity 0.5. The attention example ignores
# --features and keeps its default --heads 2 --head-dim 16: its quadratic work per sequence is
# still only seconds here (most of it the interpreter's rows), so it needs no smaller shape.
for example in examples/*.py; do
  echo
  "$build/jagtile" bench "$example" --batch 256 --features 64 --max-len 128 --repeat 5
done

echo
echo "== jagged_reduce template library: checked benchmark (quick cases) =="
"$build/bench_reduce" --check --quick
