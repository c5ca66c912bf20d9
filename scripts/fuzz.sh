#!/usr/bin/env bash
# Fuzzes the front end (lexer + parser + checker) with libFuzzer for N seconds (default 60):
# configures build-fuzz/ with clang, builds fuzz_frontend, seeds a corpus from examples/*.py and
# tests/lang/data/*.py and runs. Exits non-zero on any finding (crash, sanitizer report, an
# exception other than UserError, a >5 s input, memory blow-up); the input lands in
# build-fuzz/fuzz-artifacts/.
#   usage: scripts/fuzz.sh [SECONDS]     env: FUZZ_BUILD (build dir), JOBS (build parallelism)
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJAGTILE_BUILD_FUZZERS=ON -DJAGTILE_ENABLE_CUDA=OFF
fi
cmake --build "$build" --target fuzz_frontend -j "${JOBS:-2}"

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
