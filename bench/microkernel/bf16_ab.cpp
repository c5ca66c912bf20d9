// Two versions of the generated code's bf16 matmul entry (jt_matmul_bf16: AMX tiles where the CPU
// has them, else AVX512-BF16 pairs, else the f32 path) in one process, alternated round by round
// on square n x n x n blocks of bf16 values with contiguous rows, hot in cache, one thread: the
// per-round rates and the ratio B / A (median and range). Built by `ab.sh --bf16` from two texts,
// each included in a namespace of its own (the system headers they include come first, so their
// include guards keep them out of the namespaces).
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

namespace version_a {
#include "jt_matmul_a.h"
}
namespace version_b {
#include "jt_matmul_b.h"
}

namespace {

float to_bf16(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  u &= 0xffff0000u;
  memcpy(&x, &u, 4);
  return x;
}

struct Operands {
  int64_t n;
  std::vector<float> A, B, C;
  explicit Operands(int64_t size) : n(size), A(size * size), B(size * size), C(size * size) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1, 1);
    for (float& x : A) x = to_bf16(u(rng));
    for (float& x : B) x = to_bf16(u(rng));
  }
};

// GFLOP/s of about 0.4 GFLOP of calls of `entry` (after one untimed call).
template <class Matmul, class Entry>
double rate(Operands& o, Entry entry) {
  const Matmul m{o.n, o.n, o.n,        o.A.data(), o.n,     1, o.B.data(),
                 o.n, 1,   o.C.data(), o.n,        nullptr, 0, 0};
  entry(m);
  const double flops = 2.0 * double(o.n) * double(o.n) * double(o.n);
  const int calls = int(4e8 / flops) + 1;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) entry(m);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return flops * calls / s / 1e9;
}

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x[x.size() / 2];
}

}  // namespace

int main() {
  std::printf("bf16 matmul entry, one thread, A then B alternated, 15 rounds\n");
  for (int64_t n : {64, 128, 256, 512}) {
    Operands o(n);
    std::vector<double> a, b, ratio;
    for (int r = 0; r < 15; ++r) {
      a.push_back(rate<version_a::JtMatmul>(
          o, [](const version_a::JtMatmul& m) { version_a::jt_matmul_bf16(m); }));
      b.push_back(rate<version_b::JtMatmul>(
          o, [](const version_b::JtMatmul& m) { version_b::jt_matmul_bf16(m); }));
      ratio.push_back(b.back() / a.back());
    }
    std::printf("n = %4ld: A %7.1f GFLOP/s, B %7.1f GFLOP/s (medians); B / A %.3f [%.3f, %.3f]\n",
                long(n), median(a), median(b), median(ratio),
                *std::min_element(ratio.begin(), ratio.end()),
                *std::max_element(ratio.begin(), ratio.end()));
  }
}
