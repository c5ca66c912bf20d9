// A model of the generated jagged_dense_bmm loop (one thread, 1024 items of 128 rows, D = K = 256,
// blocks of 128 rows, 64 columns and 128 of the contraction, the weight block copied into a tile
// array, the rows of x read in place, the output written with the bias), built on the generated
// code's own microkernel (jt_matmul.h, from `bench/microkernel/run.sh --print`), to see where its
// time goes against the microkernel alone. Each flag takes one cost away or adds one remedy:
//   1  the next item's rows of x and its weight streamed in by the blocks (JtMatmul::prefetch)
//   2  the output kept in cache (two items' outputs written in turn)
//   4  the inputs kept in cache (two items' x and weight read in turn)
//   8  streaming stores for the output
//   32 2 MiB pages for x, weight and the output (transparent huge pages, advised)
// Prints the time of a pass over the items, GFLOP/s, and the cycles in the weight copies and in
// the products (rdtsc). Build and run (the JIT's flags; on AMD, without the last two):
//   bench/microkernel/run.sh --print > /tmp/jt_matmul.h
//   c++ -O3 -march=native -std=c++17 -fopenmp-simd -fno-math-errno -fno-trapping-math -fwrapv \
//     -w -I/tmp bench/microkernel/bmm_item_model.cpp -o /tmp/bmm_model \
//     -mprefer-vector-width=512 -DJT_MM_6X4=1
//   for f in 0 32 34 38 40 41; do /tmp/bmm_model $f; done
#include <immintrin.h>
#include <sys/mman.h>
#include <x86intrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "jt_matmul.h"

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

float* buffer(int64_t bytes, bool huge) {
  const int64_t page = int64_t(2) << 20, rounded = (bytes + page - 1) / page * page;
  float* p = static_cast<float*>(std::aligned_alloc(size_t(page), size_t(rounded)));
  if (huge) madvise(p, size_t(rounded), MADV_HUGEPAGE);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const int flags = argc > 1 ? std::atoi(argv[1]) : 0;
  const bool stream = flags & 1, out_cached = flags & 2, in_cached = flags & 4,
             streaming = flags & 8, huge = flags & 32;
  const int64_t B = 1024, R = 128, D = 256, K = 256;
  float* x = buffer(B * R * D * 4, huge);
  float* w = buffer(B * D * K * 4, huge);
  float* out = buffer(B * R * K * 4, huge);
  float* bias = buffer(B * K * 4, false);
  for (int64_t i = 0; i < B * R * D; ++i) x[i] = 0.001f * float(i % 97);
  for (int64_t i = 0; i < B * D * K; ++i) w[i] = 0.002f * float(i % 89);
  for (int64_t i = 0; i < B * K; ++i) bias[i] = 1.0f;
  std::memset(out, 0, size_t(B * R * K * 4));
  alignas(64) static float acc[128 * 64], wblock[128 * 64];
  for (int round = 0; round < 4; ++round) {
    uint64_t copy_cycles = 0, product_cycles = 0;
    const double t0 = now_s();
    for (int64_t item = 0; item < B; ++item) {
      const int64_t b = in_cached ? item % 2 : item, o = out_cached ? item % 2 : item;
      JtPrefetch next = {};
      if (stream && b + 1 < B) {
        jt_prefetch_add(&next, x, (b + 1) * R * D * 4, D * 4, R, D * 4);
        jt_prefetch_add(&next, w, (b + 1) * D * K * 4, D * K * 4, 1, D * K * 4);
      }
      jt_prefetch_start(&next);
      for (int64_t n0 = 0; n0 < K; n0 += 64) {
        for (int64_t k0 = 0; k0 < D; k0 += 128) {
          const uint64_t c0 = __rdtsc();
          for (int64_t i = 0; i < 128; ++i)
            for (int64_t j = 0; j < 64; ++j) wblock[i * 64 + j] = w[(b * D + k0 + i) * K + n0 + j];
          const uint64_t c1 = __rdtsc();
          jt_matmul_f32(JtMatmul{R, 64, 128, x + b * R * D + k0, D, 1, wblock, 64, 1, acc, 64,
                                 k0 ? acc : nullptr, 64, 1, 0, 0, nullptr, nullptr, nullptr, 0,
                                 stream ? &next : nullptr});
          copy_cycles += c1 - c0;
          product_cycles += __rdtsc() - c1;
        }
        for (int64_t r = 0; r < R; ++r) {
          float* row = out + (o * R + r) * K + n0;
          for (int64_t j = 0; j < 64; j += 16) {
            const __m512 v = _mm512_add_ps(_mm512_load_ps(acc + r * 64 + j),
                                           _mm512_loadu_ps(bias + b * K + n0 + j));
            if (streaming)
              _mm512_stream_ps(row + j, v);
            else
              _mm512_storeu_ps(row + j, v);
          }
        }
      }
    }
    _mm_sfence();
    const double t = now_s() - t0;
    if (round > 0)  // the first pass pays the page faults
      std::printf("flags %2d: %6.1f ms, %6.1f GFLOP/s, weight copies %5.1f Mcycles, products %5.1f\n",
                  flags, t * 1e3, 2.0 * double(B * R * D * K) / t / 1e9, double(copy_cycles) / 1e6,
                  double(product_cycles) / 1e6);
  }
}
