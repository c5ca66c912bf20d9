#!/usr/bin/env bash
# One call on a GPU machine: the GPU tests, the benchmarks and torch's peers, each step under its
# own time limit so that one hang cannot take the others with it. Logs and JSON go to a work
# folder (default out/); with $OUT set (the device tool), the folder is also packed into
# $OUT/gpu_results.tgz after every step, so that whatever finished comes back.
#   bench/cuda/run_gpu.sh [--quick | --tests | --bench]
#     --quick: tests and one benchmark case; --tests: the device tests only; --bench: the
#     benchmarks and the fuzzing only (a lease is short: run the tests first, then the rest while
#     the machine is still warm).
# JAGTILE_GPU_DEADLINE (seconds, default 540) caps the whole script: each step's own limit is cut
# to what is left before it, and a step with under 10 s left is skipped, so that the call returns
# (with its packed logs) inside the device tool's command limit.
# JAGTILE_GPU_BUILD names a build folder with the binaries already built (default build-cuda,
# configured and built here when a binary is missing).
set -uo pipefail
cd "$(dirname "$0")/../.."
work="${JAGTILE_GPU_WORK:-out}"
mkdir -p "$work"
build="${JAGTILE_GPU_BUILD:-build-cuda}"
quick=0 tests=1 benches=1
case "${1:-}" in
  --quick) quick=1 ;;
  --tests) benches=0 ;;
  --bench) tests=0 ;;
  "") ;;
  *) echo "usage: $0 [--quick | --tests | --bench]" >&2; exit 2 ;;
esac
deadline="${JAGTILE_GPU_DEADLINE:-540}"

pack() { [ -n "${OUT:-}" ] && tar czf "$OUT/gpu_results.tgz" -C "$work" . 2>/dev/null; }
# step NAME SECONDS COMMAND...: stdout to NAME.out (the JSON steps), stderr to NAME.log.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((deadline - SECONDS - 5))
  if [ "$left" -lt 10 ]; then
    echo "== $name: skipped (the script's deadline of $deadline s is near)"
    return 124
  fi
  [ "$left" -lt "$limit" ] && limit=$left
  local start=$SECONDS
  timeout "$limit" "$@" > "$work/$name.out" 2> "$work/$name.log"
  local rc=$?
  echo "== $name: exit $rc in $((SECONDS - start)) s"
  tail -n 6 "$work/$name.out" "$work/$name.log" 2>/dev/null | grep -v '^$' | tail -n 8
  pack
  return $rc
}

nvidia-smi > "$work/nvidia-smi.txt" 2>&1 || true
head -n 12 "$work/nvidia-smi.txt"
binaries=(test_cuda test_codegen_cuda bench_reduce_cuda jagtile fuzz_differential)
for b in "${binaries[@]}"; do
  if [ ! -x "$build/$b" ]; then
    echo "building $build (missing $b)"
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DJAGTILE_ENABLE_CUDA=ON \
      > "$work/cmake.log" 2>&1 &&
      cmake --build "$build" -j "$(nproc)" --target test_cuda test_codegen_cuda \
        bench_reduce_cuda jagtile_cli fuzz_differential > "$work/build.log" 2>&1 ||
      { echo "build failed: see build.log"; tail -20 "$work/build.log"; pack; exit 1; }
    break
  fi
done

# 1. Correctness on the device: the template's tests, then the generated CUDA's.
if [ $tests = 1 ]; then
  step test_cuda 150 "$build/test_cuda"
  step test_codegen_cuda_device 240 "$build/test_codegen_cuda" --gtest_filter='*CudaDevice*'
fi
[ $benches = 1 ] || exit 0

# 2. The CUDA template against a naive kernel, the streaming read and torch, same data.
cases=()
[ $quick = 1 ] && cases=(--case uniform/f32)
step bench_reduce_cuda 200 "$build/bench_reduce_cuda" "${cases[@]}" --json --dump /tmp/jagtile-gpu-data
step torch_reduce 150 python3 bench/peers/torch_reduce.py --data /tmp/jagtile-gpu-data \
  --cpp-json "$work/bench_reduce_cuda.out"
rm -rf /tmp/jagtile-gpu-data
[ $quick = 1 ] && exit 0

# 2b. Where the template's rows kernel spends its time (it read at 12-35% of the streaming read on
#     an H200, slower than the naive kernel: docs/performance.md): Nsight Compute on one launch of
#     it, clocks left alone, throughput and warp stall sections. Skipped where ncu is missing or
#     cannot read counters (gVisor machines).
if command -v ncu > /dev/null 2>&1; then
  step ncu_rows_kernel 120 ncu --clock-control none --kernel-name regex:reduce_rows_kernel \
    --launch-skip 3 --launch-count 1 --section SpeedOfLight --section WarpStateStats \
    --section MemoryWorkloadAnalysis --section LaunchStats --section Occupancy \
    "$build/bench_reduce_cuda" --case long/f32 --repeat 1
fi

# 3. Every bundled example through `jagtile bench --device cuda` (generated CUDA, and the CUDA
#    template where the kernel routes to it), then torch on the GPU at the matmul shapes.
std=(--batch 1024 --features 256 --max-len 512 --sparsity 0.5)
for ex in jagged_sum jagged_mean jagged_max jagged_softmax jagged_layer_norm jagged_dense_add \
  jagged_dense_bmm; do
  step "bench_$ex" 90 "$build/jagtile" bench "examples/$ex.py" --device cuda --json --repeat 7 \
    "${std[@]}"
done
step bench_jagged_hstu_attention 120 "$build/jagtile" bench examples/jagged_hstu_attention.py \
  --device cuda --json --repeat 5 --batch 16 --heads 8 --head-dim 128 --max-len 512 \
  --sparsity 0.25
step torch_gpu_peers 120 python3 bench/peers/torch_gpu_peers.py

# 4. Differential fuzzing with the generated CUDA on the device against the interpreter.
step fuzz_cuda 100 "$build/fuzz_differential" --seconds 75 --seed 70000 --jobs 8 \
  --backends interp,cuda --out "$work/fuzz" --json
exit 0
