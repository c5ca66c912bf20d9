// HSTU's two products, timed for one version of the microkernel (microkernel_alone.cpp,
// microkernel_ab.cpp): scores (q @ k^T, k read transposed) and outputs (p @ v, v in place, added
// to the accumulator), rows `stride` floats apart as in a [L, H, D] tensor.
#pragma once

#include <stdint.h>

#include <algorithm>
#include <chrono>
#include <vector>

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct HstuBuffers {
  HstuBuffers(int64_t rows, int64_t keys, int64_t dim, int64_t stride)
      : q(size_t(rows * stride), 0.5f),
        k(size_t(std::max(rows, keys) * stride), 0.25f),
        s(size_t(rows * std::max(keys, dim)), 0.0f),
        o(size_t(rows * dim), 0.0f) {}
  std::vector<float> q, k, s, o;
};

// GFLOP/s of `reps` products by `matmul` (a version's jt_matmul_f32, its JtMatmul type `Matmul`).
template <class Matmul, class Fn>
double hstu_product(Fn matmul, bool scores, int reps, int64_t rows, int64_t keys, int64_t dim,
                    int64_t stride, HstuBuffers& b) {
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
