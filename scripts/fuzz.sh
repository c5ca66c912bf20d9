#!/usr/bin/env bash
# Fuzzes the front end (lexer + parser + checker) with libFuzzer for N seconds (default 60):
# configures build-fuzz/ with clang, builds fuzz_frontend, seeds a corpus from examples/*.py and
# tests/lang/data/*.py and runs. Exits non-zero on any finding (crash, sanitizer report, an
# exception other than UserError, a >5 s input, memory blow-up); the input lands in
# build-fuzz/fuzz-artifacts/.
#   usage: scripts/fuzz.sh [SECONDS]     env: FUZZ_BUILD (build dir), JOBS (build parallelism)
#          scripts/fuzz.sh --runtime [SECONDS]   the same for .npy reading and offsets /
#                                                feature-count validation (fuzz_runtime_inputs)
#          scripts/fuzz.sh --binding [SECONDS]   the same for argument binding: the bundled
#                                                examples on the interpreter with arguments
#                                                from the input (fuzz_arg_binding; it builds
#                                                the whole library instrumented, minutes)
#
# With --differential, runs the differential fuzzer instead (docs/fuzzing.md): random valid
# kernels on every backend, compared with the interpreter, failures saved and reduced under
# build/fuzz-diff/ (a scratch JIT cache there too). Exits non-zero on any failure.
#   usage: scripts/fuzz.sh --differential [--hours H | --seconds S] [--seed S] [--jobs J]
#   env: BUILD (the Release build dir, default build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = "--differential" ]; then
  shift
  seconds=3600 seed=$(date +%s) jobs=$(nproc)
  while [ $# -gt 0 ]; do
    case "$1" in
      --hours) seconds=$(awk "BEGIN { print int($2 * 3600) }"); shift 2 ;;
      --seconds) seconds=$2; shift 2 ;;
      --seed) seed=$2; shift 2 ;;
      --jobs) jobs=$2; shift 2 ;;
      *) echo "fuzz.sh --differential: unknown option $1" >&2; exit 2 ;;
    esac
  done
  build=${BUILD:-$root/build}
  generator=()
  command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$build" --target fuzz_differential -j "${JOBS:-2}"
  out="$build/fuzz-diff"
  mkdir -p "$out/jit-cache"
  echo "differential fuzzing for ${seconds}s from seed $seed with $jobs jobs (failures: $out)"
  # The seed is printed so that a run can be repeated exactly.
  JAGTILE_CACHE_DIR="$out/jit-cache" "$build/fuzz_differential" --seconds "$seconds" \
    --seed "$seed" --jobs "$jobs" --out "$out" --json
  exit $?
fi

target=fuzz_frontend
if [ "${1:-}" = "--runtime" ]; then
  # The runtime's input handling (.npy reading, offsets / feature-count validation):
  # tests/fuzz/fuzz_runtime_inputs.cpp.
  target=fuzz_runtime_inputs
  shift
elif [ "${1:-}" = "--binding" ]; then
  target=fuzz_arg_binding  # tests/fuzz/fuzz_arg_binding.cpp
  shift
fi
seconds=${1:-60}
build=${FUZZ_BUILD:-$root/build-fuzz}
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJAGTILE_BUILD_FUZZERS=ON -DJAGTILE_ENABLE_CUDA=OFF
fi
cmake --build "$build" --target "$target" -j "${JOBS:-2}"

if [ "$target" = fuzz_arg_binding ]; then
  corpus="$build/fuzz-corpus-binding"
  artifacts="$build/fuzz-artifacts-binding"
  mkdir -p "$corpus" "$artifacts"
  echo "fuzzing argument binding for ${seconds}s (corpus: $corpus)"
  "$build/fuzz_arg_binding" -max_total_time="$seconds" -max_len=1024 -timeout=5 \
    -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus"
  echo "fuzz: no findings in ${seconds}s"
  exit 0
fi

if [ "$target" = fuzz_runtime_inputs ]; then
  corpus="$build/fuzz-corpus-runtime"
  artifacts="$build/fuzz-artifacts-runtime"
  mkdir -p "$corpus" "$artifacts"
  # Seeds: real .npy files behind a 0 byte (the target's .npy mode), and small offsets.
  for f in "$root"/tests/data/*.npy; do
    [ -f "$f" ] && { printf '\0'; cat "$f"; } > "$corpus/seed_$(basename "$f")"
  done
  # A valid float32 [2, 3] .npy, built by hand (numpy need not be installed).
  python3 - "$corpus/seed_f32.npy" <<'PY' || true
import struct, sys
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
header += " " * (63 - len(header) % 64) + "\n"
data = b"\x00" + b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
open(sys.argv[1], "wb").write(data + struct.pack("<6f", 1, 2, 3, 4, 5, 6))
PY
  printf '\001\000\010\004\000\000\000\002\000\000\000\005\000\000\000' > "$corpus/seed_offsets"
  echo "fuzzing the runtime's input handling for ${seconds}s (corpus: $corpus)"
  "$build/fuzz_runtime_inputs" -max_total_time="$seconds" -max_len=4096 -timeout=5 \
    -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus"
  echo "fuzz: no findings in ${seconds}s"
  exit 0
fi

corpus="$build/fuzz-corpus"
artifacts="$build/fuzz-artifacts"
mkdir -p "$corpus" "$artifacts"
for f in "$root"/examples/*.py "$root"/tests/lang/data/*.py; do
  [ -f "$f" ] && cp "$f" "$corpus/seed_$(basename "$f")"
done

echo "fuzzing the front end for ${seconds}s (corpus: $corpus)"
"$build/fuzz_frontend" -max_total_time="$seconds" -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
  -dict="$root/tests/fuzz/frontend.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
  "$corpus"
echo "fuzz: no findings in ${seconds}s"
