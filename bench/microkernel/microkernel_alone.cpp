// The f32 matmul microkernel of generated C++ on its own, hot in cache, beside an FMA probe of
// the same run (its best round: a limit, which a preempted round only lowers): HSTU's two
// products (64 x 64 scores over D = 128 with k transposed, and 64 x 128 outputs over 64 keys with
// v read in place) at several row strides. Built by run.sh from the microkernel text `jagtile
// explain --code` prints (jt_matmul.h), so an edit of that text can be timed without a kernel
// around it.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "hstu_products.h"
#include "jt_matmul.h"

namespace {

// GFLOP/s of 16 independent FMA chains on one thread, each in its own register (an array would
// be kept in memory): the core's FMA throughput.
double fma_probe(int reps) {
#define JT_CHAINS(X) \
  X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define JT_DECLARE(i) __m512 a##i = _mm512_set1_ps(1.0f + 1e-3f * i);
#define JT_STEP(i) a##i = _mm512_fmadd_ps(a##i, b, c);
#define JT_SUM(i) sum = _mm512_add_ps(sum, a##i);
  JT_CHAINS(JT_DECLARE)
  __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  __asm__("" : "+v"(b), "+v"(c));  // kept in registers, not folded into memory operands
  const double t0 = now_s();
  for (int r = 0; r < reps; ++r) {
    JT_CHAINS(JT_STEP)
  }
  const double t = now_s() - t0;
  __m512 sum = _mm512_setzero_ps();
  JT_CHAINS(JT_SUM)
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  return 2.0 * 16 * 16 * reps / t / 1e9;
}

double product(bool scores, int reps, int64_t rows, int64_t keys, int64_t dim, int64_t stride) {
  HstuBuffers b(rows, keys, dim, stride);
  return hstu_product<JtMatmul>([](const JtMatmul& m) { jt_matmul_f32(m); }, scores, reps, rows,
                                keys, dim, stride, b);
}

double best(const std::vector<double>& x) {
  return *std::max_element(x.begin(), x.end());
}

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x[x.size() / 2];
}

}  // namespace

int main() {
  std::printf("%-28s %8s %10s %10s %8s\n", "product", "stride", "probe", "GFLOP/s", "% probe");
  std::printf("(probe: the best of 11 rounds; GFLOP/s: the median of 11, alternated with it)\n");
  for (bool scores : {true, false}) {
    for (int64_t stride : {128, 512, 520, 4096}) {
      std::vector<double> probe, rate;
      for (int round = 0; round < 11; ++round) {  // alternated, so drift hits both alike
        probe.push_back(fma_probe(3000000));
        rate.push_back(product(scores, 3000, 64, 64, 128, stride));
      }
      std::printf("%-28s %8lld %10.1f %10.1f %7.1f%%\n",
                  scores ? "scores 64x64, K=128 (k^T)" : "outputs 64x128, K=64 (v)",
                  (long long)stride, best(probe), median(rate), 100.0 * median(rate) / best(probe));
    }
  }
}
