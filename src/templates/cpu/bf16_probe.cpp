// The bf16 FLOP-peak probe (jagtile/reduce.h: bf16_stream): independent bf16 multiply-add
// chains in registers, on the fastest bf16 unit this CPU has. AMX tiles where the CPU has
// AMX-BF16 and Linux grants the process their state (the unit generated code's bf16 matmuls use
// there, codegen/cpu/cpp_matmul.cpp), else AVX512-BF16 pair products, else none. Compiled for
// those units with target attributes and chosen at run time, so the library itself needs no
// -march for them.
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "jagtile/reduce.h"
#include "jagtile/thread_pool.h"

namespace jagtile {

namespace {

volatile float g_bf16_sink;

// Tile registers: four 16 x 16 f32 accumulators, each taking a 16 x 32 bf16 tile times a 32 x 16
// one per step: 4 * 16 * 16 * 32 * 2 FLOPs. The inputs are loaded once from memory, so only the
// tile unit bounds it.
__attribute__((target("amx-tile,amx-bf16"))) double amx_stream(int64_t steps) {
  struct Config {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
  };
  alignas(64) Config config;
  std::memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = 16;
  }
  alignas(64) uint16_t ones[16 * 32];
  for (uint16_t& x : ones) x = 0x3f80;  // 1.0 as bf16
  alignas(64) float sums[16 * 16];
  // The intrinsics' asm tells GCC that ldtilecfg reads 8 bytes and tileloadd nothing.
  __asm__ volatile("" ::: "memory");
  _tile_loadconfig(&config);
  _tile_loadd(4, ones, 64);
  _tile_loadd(5, ones, 64);
  _tile_loadd(6, ones, 64);
  _tile_loadd(7, ones, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t i = 0; i < steps; ++i) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, sums, 64);
  _tile_release();
  g_bf16_sink = sums[0];
  return 4.0 * 16 * 16 * 32 * 2 * double(steps);
}

// AVX512-BF16: twelve chains of vdpbf16ps (two products per lane each), enough to cover its
// latency on both ports.
__attribute__((target("avx512f,avx512bf16"))) double pair_stream(int64_t steps) {
  constexpr int kChains = 12;
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(1e-3f * float(c));
  const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80);  // a pair of 1.0s
  for (int64_t i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], a, a);
  }
  __m512 total = acc[0];
  for (int c = 1; c < kChains; ++c) total = _mm512_add_ps(total, acc[c]);
  g_bf16_sink = _mm512_reduce_add_ps(total);
  return 2.0 * 2 * 16 * kChains * double(steps);
}

enum class Unit { none, pairs, tiles };

Unit bf16_unit() {
  static const Unit unit = [] {
    __builtin_cpu_init();
    const bool pairs = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
    if (pairs && __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-bf16") &&
        syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0)
      return Unit::tiles;
    return pairs ? Unit::pairs : Unit::none;
  }();
  return unit;
}

}  // namespace

std::string_view bf16_probe_unit() {
  switch (bf16_unit()) {
    case Unit::tiles:
      return "amx";
    case Unit::pairs:
      return "avx512bf16";
    case Unit::none:
      break;
  }
  return "none";
}

double bf16_stream(ThreadPool& pool, int workers, int64_t steps) {
  const Unit unit = bf16_unit();
  if (unit == Unit::none) return 0;
  // A tile step is 64 of a pair step's FLOPs at about 32 times its time: fewer steps for the
  // same duration.
  const int64_t unit_steps = unit == Unit::tiles ? (steps + 15) / 16 : steps;
  std::vector<double> flops(static_cast<size_t>(workers), 0.0);
  pool.run(workers, [&](int w) {
    flops[size_t(w)] = unit == Unit::tiles ? amx_stream(unit_steps) : pair_stream(unit_steps);
  });
  double total = 0;
  for (double f : flops) total += f;
  return total;
}

}  // namespace jagtile
