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
#include <sys/syscall.h>  // the texts' AMX permission request includes these; outside the
#include <unistd.h>       // namespaces, so both versions see the one declaration

#include <algorithm>
#include <cstdio>
#include <vector>

#include "hstu_products.h"

namespace version_a {
#include "jt_matmul_a.h"
}
namespace version_b {
#include "jt_matmul_b.h"
}

namespace {

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
      HstuBuffers b(rows, keys, dim, stride);
      std::vector<double> a_rate, b_rate, ratio;
      for (int round = 0; round < 41; ++round) {
        a_rate.push_back(hstu_product<version_a::JtMatmul>(
            [](const version_a::JtMatmul& m) { version_a::jt_matmul_f32(m); }, scores, 600, rows,
            keys, dim, stride, b));
        b_rate.push_back(hstu_product<version_b::JtMatmul>(
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
