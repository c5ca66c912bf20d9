#!/usr/bin/env bash
# Cold-compile times of the generic CPU backend's matmul kernels with the microkernel linked from
# objects compiled once (the JIT's default, Jit::with_linked_matmul) and compiled whole in each
# kernel (what the JIT falls back to when an object cannot be built: here a compiler wrapper
# refuses every object compile). Rounds alternate the two, each in a cache folder of its own:
#   warm   the folder keeps its precompiled prelude and objects; only the kernel's entry is
#          removed, so each round compiles the kernel's file alone (timed by the wrapper);
#   empty  a new folder each round: the whole `jagtile run`, headers and objects included.
# Prints each mode's times sorted (the warm rounds without the first, which builds the folder).
#   usage: bench/jit_compile_times.sh [BUILD] [ROUNDS] [EXAMPLE...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rounds=${2:-6}
shift $(($# > 2 ? 2 : $#))
examples=("$@")
[ ${#examples[@]} -gt 0 ] || examples=(jagged_dense_bmm jagged_hstu_attention)
work=$(mktemp -d /tmp/jagtile-jit-times-XXXXXX)
trap 'rm -rf "$work"' EXIT
cxx=${CXX:-c++}
for mode in linked whole; do
  {
    echo '#!/usr/bin/env bash'
    [ "$mode" = whole ] && echo 'case " $* " in *" -c "*) exit 1 ;; esac'
    echo 'start=$(date +%s%N)'
    echo "$cxx \"\$@\"; rc=\$?"
    echo "case \" \$* \" in *kernel.cpp*) echo \$(( (\$(date +%s%N) - start) / 1000000 )) >> $work/$mode.ms ;; esac"
    echo 'exit $rc'
  } > "$work/cxx-$mode.sh"
  chmod +x "$work/cxx-$mode.sh"
done
run() {  # mode folder example
  CXX="$work/cxx-$1.sh" JAGTILE_CACHE_DIR="$2" JAGTILE_PRELUDE_DIR= \
    "$build/jagtile" run "$root/examples/$3.py" --backend cpu > /dev/null
}
for example in "${examples[@]}"; do
  rm -f "$work"/*.ms "$work"/*.empty
  for r in $(seq "$rounds"); do
    for mode in linked whole; do
      rm -f "$work/warm-$mode"/*.so
      run "$mode" "$work/warm-$mode" "$example"
      rm -rf "$work/empty-$mode"
      start=$(date +%s%N)
      run "$mode" "$work/empty-$mode" "$example"
      echo $(( ($(date +%s%N) - start) / 1000000 )) >> "$work/$mode.empty"
    done
  done
  for mode in linked whole; do
    # The wrapper logs two kernel compiles per round (warm, then empty): the warm ones are odd.
    warm=$(awk 'NR % 2 == 1' "$work/$mode.ms" | tail -n +2 | sort -n | tr '\n' ' ')
    empty=$(sort -n "$work/$mode.empty" | tr '\n' ' ')
    printf '%-24s %-6s warm kernel compile (ms): %s| empty folder, whole run (ms): %s\n' \
      "$example" "$mode" "$warm" "$empty"
  done
done
