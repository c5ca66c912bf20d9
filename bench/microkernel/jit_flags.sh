# Sourced by run.sh and ab.sh: jit_cxxflags prints the flags the JIT compiles generated C++ with
# (codegen/cpu/jit.cpp, compiler_flags), less -fPIC -shared. Where AVX-512 runs on 512-bit units
# (jit.cpp, avx512_on_wide_units: Intel's AVX-512 cores, AMD's from family 26, Zen 5, on) also
# 512-bit vectors and the microkernel's 6 x 4 register block (JT_MM_6X4);
# JAGTILE_VECTOR_WIDTH=256|512 and JAGTILE_REGISTER_BLOCK=8x2|6x4 set either, as for the JIT.
jit_cxxflags() {
  local flags="-O3 -march=native -std=c++17 -fopenmp-simd -fno-math-errno -fno-trapping-math"
  flags="$flags -fwrapv -w -fno-tree-loop-distribute-patterns"
  local wide=0 family
  if grep -qw avx512f /proc/cpuinfo; then
    family=$(awk -F: '/^cpu family/ {print $2 + 0; exit}' /proc/cpuinfo)
    if grep -q GenuineIntel /proc/cpuinfo; then
      wide=1
    elif grep -q AuthenticAMD /proc/cpuinfo && [ "${family:-0}" -ge 26 ]; then
      wide=1
    fi
  fi
  local width=${JAGTILE_VECTOR_WIDTH:-} block=${JAGTILE_REGISTER_BLOCK:-}
  if [ $wide = 1 ]; then
    width=${width:-512}
    block=${block:-6x4}
  fi
  if [ -n "$width" ]; then flags="$flags -mprefer-vector-width=$width"; fi
  if [ "$block" = 6x4 ]; then flags="$flags -DJT_MM_6X4=1"; fi
  echo "$flags"
}
