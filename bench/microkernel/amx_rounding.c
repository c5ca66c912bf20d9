// How tdpbf16ps rounds (docs/performance.md, "On an AMX Xeon"): one 16 x 16 tile of random
// bf16 products, `pairs` pairs of k per lane, against models of its arithmetic; prints how many
// lanes each model gets wrong. On an Emerald Rapids Xeon one pair per lane matched
// "pair rounded, then added" exactly, and from two pairs on no model matched.
//   gcc -O2 -march=native bench/microkernel/amx_rounding.c -o /tmp/amx_rounding -lm
//   /tmp/amx_rounding 1; /tmp/amx_rounding 2; /tmp/amx_rounding 16
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t bytes_per_row[16];
  uint8_t rows[16];
} Config;

static float bf16_value(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static uint16_t random_bf16(void) {  // normal, exponents within 2^+-10, either sign
  return (uint16_t)(((rand() & 1) << 15) | ((127 + rand() % 20 - 10) << 7) | (rand() & 0x7f));
}

int main(int argc, char** argv) {
  const int pairs = argc > 1 ? atoi(argv[1]) : 2;
  if (pairs < 1 || pairs > 16 || syscall(SYS_arch_prctl, 0x1023, 18) != 0) {
    fprintf(stderr, "usage: amx_rounding PAIRS (1-16), on a CPU with AMX-BF16\n");
    return 2;
  }
  Config config;
  memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 3; ++t) config.bytes_per_row[t] = 64, config.rows[t] = 16;
  __asm__ volatile("" ::: "memory");
  _tile_loadconfig(&config);
  static uint16_t A[16][32], B[16][32];
  static float C[16][16], C0[16][16];
  enum { kModels = 6 };
  const char* names[kModels] = {"fmaf low half first", "fmaf high half first",
                                "pairs rounded, added in order", "pairs summed, then added",
                                "exact sum rounded, then added", "exact sum with c, rounded once"};
  long wrong[kModels] = {0}, lanes = 0;
  for (int trial = 0; trial < 200; ++trial) {
    memset(A, 0, sizeof A);
    memset(B, 0, sizeof B);
    for (int i = 0; i < 16; ++i)
      for (int k = 0; k < 2 * pairs; ++k) A[i][k] = random_bf16();
    for (int p = 0; p < pairs; ++p)
      for (int k = 0; k < 32; ++k) B[p][k] = random_bf16();
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 16; ++j) C[i][j] = (float)(rand() % 1000 - 500) * 0.37f;
    memcpy(C0, C, sizeof C);
    __asm__ volatile("" ::: "memory");
    _tile_loadd(0, C, 64);
    _tile_loadd(1, A, 64);
    _tile_loadd(2, B, 64);
    _tile_dpbf16ps(0, 1, 2);
    _tile_stored(0, C, 64);
    for (int m = 0; m < 16; ++m)
      for (int n = 0; n < 16; ++n) {
        const float c = C0[m][n];
        float model[kModels] = {c, c, c, 0, 0, 0};
        double exact = 0;
        for (int p = 0; p < pairs; ++p) {
          const float a0 = bf16_value(A[m][2 * p]), a1 = bf16_value(A[m][2 * p + 1]);
          const float b0 = bf16_value(B[p][2 * n]), b1 = bf16_value(B[p][2 * n + 1]);
          const double pair = (double)a0 * b0 + (double)a1 * b1;  // exact in double
          model[0] = fmaf(a1, b1, fmaf(a0, b0, model[0]));
          model[1] = fmaf(a0, b0, fmaf(a1, b1, model[1]));
          model[2] += (float)pair;
          model[3] += (float)pair;
          exact += pair;
        }
        model[3] = c + model[3];
        model[4] = c + (float)exact;
        model[5] = (float)((double)c + exact);
        for (int i = 0; i < kModels; ++i) wrong[i] += model[i] != C[m][n];
        ++lanes;
      }
  }
  _tile_release();
  printf("%d pair(s) per lane, %ld lanes: lanes each model gets wrong\n", pairs, lanes);
  for (int i = 0; i < kModels; ++i) printf("  %-34s %ld\n", names[i], wrong[i]);
  return 0;
}
