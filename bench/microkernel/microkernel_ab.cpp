// Two versions of the generated code's f32 matmul microkernel in one process, alternated round by
// round on HSTU's two products hot in cache (as microkernel_alone.cpp), so a change to the
// microkernel's text is measured against the text before it under the same machine load: the
// per-round ratio B / A, its median and quartiles. Built by ab.sh from two texts (jt_matmul_a.h,
// jt_matmul_b.h), each included in a namespace of its own.
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace version_a {
#include "jt_matmul_a.h"
}
namespace version_b {
#include "jt_matmul_b.h"
}

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Buffers {
  std::vector<float> q, k, s, o;
};

// GFLOP/s of `reps` products of one version: scores (q @ k^T, k read transposed) or outputs
// (p @ v, v in place, added to the accumulator), rows `stride` floats apart.
template <class Matmul, class Fn>
double product(Fn matmul, bool scores, int reps, int64_t rows, int64_t keys, int64_t dim,
               int64_t stride, Buffers& b) {
  const double t0 = now_s();
  for (int r = 0; r < reps; ++r) {
    if (scores)
      matmul(Matmul{rows, keys, dim, b.q.data(), stride, 1, b.k.data(), 1, stride, b.s.data(), keys,
                    nullptr, 0, 0, 0, 0});
    else
      matmul(Matmul{rows, dim, keys, b.s.data(), keys, 1, b.k.data(), stride, 1, b.o.data(), dim,
                    b.o.data(), dim, 1, 0, 0});
  }
  return 2.0 * double(rows * keys * dim) * reps / (now_s() - t0) / 1e9;
}

double at(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  return x[size_t(q * double(x.size() - 1))];
}

}  // namespace

int main() {
  std::printf("%-28s %7s %9s %9s %8s %8s %8s\n", "product", "stride", "A GFLOP/s", "B GFLOP/s",
              "B/A", "q1", "q3");
  for (bool scores : {true, false}) {
    for (int64_t stride : {128, 520, 4096}) {
      const int64_t rows = 64, keys = 64, dim = 128;
      Buffers b{std::vector<float>(size_t(rows * stride), 0.5f),
                std::vector<float>(size_t(std::max(rows, keys) * stride), 0.25f),
                std::vector<float>(size_t(rows * std::max(keys, dim)), 0.0f),
                std::vector<float>(size_t(rows * dim), 0.0f)};
      std::vector<double> a_rate, b_rate, ratio;
      for (int round = 0; round < 41; ++round) {
        a_rate.push_back(product<version_a::JtMatmul>(
            [](const version_a::JtMatmul& m) { version_a::jt_matmul_f32(m); }, scores, 600, rows,
            keys, dim, stride, b));
        b_rate.push_back(product<version_b::JtMatmul>(
            [](const version_b::JtMatmul& m) { version_b::jt_matmul_f32(m); }, scores, 600, rows,
            keys, dim, stride, b));
        ratio.push_back(b_rate.back() / a_rate.back());
      }
      std::printf("%-28s %7lld %9.1f %9.1f %8.3f %8.3f %8.3f\n",
                  scores ? "scores 64x64, K=128 (k^T)" : "outputs 64x128, K=64 (v)",
                  (long long)stride, at(a_rate, 0.5), at(b_rate, 0.5), at(ratio, 0.5),
                  at(ratio, 0.25), at(ratio, 0.75));
    }
  }
}
