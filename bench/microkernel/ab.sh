#!/bin/bash
# Times two versions of the generated code's f32 matmul microkernel against each other in one
# process (microkernel_ab.cpp): A and B are each a build folder (its jagtile prints the text) or a
# file holding the text (as `run.sh --print` writes it). With --bf16, the bf16 entry instead
# (bf16_ab.cpp: AMX tiles where the CPU has them, square blocks).
#   bench/microkernel/ab.sh [--bf16] A B        e.g.  bench/microkernel/ab.sh /tmp/before.h build
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/jit_flags.sh"
driver=microkernel_ab
if [ "${1:-}" = "--bf16" ]; then driver=bf16_ab; shift; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
text() {  # text SOURCE OUT: the microkernel text of a build folder or a file
  if [ -d "$1" ]; then "$here/run.sh" --print "$1" > "$2"; else cp "$1" "$2"; fi
}
text "$1" "$work/jt_matmul_a.h"
text "$2" "$work/jt_matmul_b.h"
"${CXX:-c++}" $(jit_cxxflags) -I"$work" -I"$here" "$here/$driver.cpp" -o "$work/$driver"
"$work/$driver"
