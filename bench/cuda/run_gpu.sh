#!/usr/bin/env bash
# One call on a GPU machine: build (unless build-cuda/ was carried over), run the CUDA tests, then
# the benchmark and torch's peers on the same data. Everything lands in ${OUT:-out}/.
#   bench/cuda/run_gpu.sh [--quick]        (--quick: tests and one benchmark case only)
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-out}"
mkdir -p "$out"
build=build-cuda
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
if [ ! -x "$build/test_cuda" ] || [ ! -x "$build/bench_reduce_cuda" ]; then
  cmake -S . -B "$build" -G Ninja -DJAGTILE_ENABLE_CUDA=ON > "$out/cmake.log" 2>&1 &&
    cmake --build "$build" --target test_cuda bench_reduce_cuda -j 16 > "$out/build.log" 2>&1 ||
    { echo "build failed: see $out/build.log"; tail -20 "$out/build.log" "$out/cmake.log"; exit 1; }
fi
"$build/test_cuda" > "$out/test_cuda.log" 2>&1
echo "test_cuda exit $?"; tail -5 "$out/test_cuda.log"
cases=()
[ "${1:-}" = "--quick" ] && cases=(--case uniform/f32)
"$build/bench_reduce_cuda" "${cases[@]}" --json --dump "$out/data" > "$out/bench_reduce_cuda.json" 2> "$out/bench.err"
echo "bench_reduce_cuda exit $?"
python3 bench/peers/torch_reduce.py --data "$out/data" --cpp-json "$out/bench_reduce_cuda.json" \
  > "$out/torch_reduce.json" 2> "$out/torch.err"
echo "torch_reduce exit $?"
rm -rf "$out/data"  # large; regenerated deterministically from the seeds
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
rows = json.load(open(f"{out}/bench_reduce_cuda.json")) + json.load(open(f"{out}/torch_reduce.json"))
print(f"{'case':16} {'impl':22} {'median ms':>10} {'GB/s':>8} {'% peak':>7}")
for r in rows:
    pct = r['pct_of_peak'] if r['pct_of_peak'] is not None else float('nan')
    print(f"{r['case']:16} {r['impl']:22} {r['median_ms']:10.3f} {r['gbps']:8.1f} {pct:7.1f}")
PY
