# Sourced by run.sh and ab.sh: jit_cxxflags prints the flags the JIT compiles generated C++ with
# (codegen/cpu/jit.cpp, compiler_flags), less -fPIC -shared: on Intel CPUs with AVX-512 also
# 512-bit vectors and the microkernel's register block for 512-bit FMA units (JT_MM_6X4).
jit_cxxflags() {
  local flags="-O3 -march=native -std=c++17 -fopenmp-simd -fno-math-errno -fno-trapping-math"
  flags="$flags -fwrapv -w -fno-tree-loop-distribute-patterns"
  if grep -q GenuineIntel /proc/cpuinfo && grep -qw avx512f /proc/cpuinfo; then
    flags="$flags -mprefer-vector-width=512 -DJT_MM_6X4=1"
  fi
  echo "$flags"
}
