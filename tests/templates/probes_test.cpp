// The benchmark probes of the template library (jagtile/reduce.h): the FLOP-peak probe reports
// the operations its chains do, in proportion to steps and workers, on every SIMD path.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>

#include "jagtile/reduce.h"
#include "jagtile/thread_pool.h"

namespace jagtile {
namespace {

TEST(Probes, FmaStreamCountsItsFlopsPerStepAndWorker) {
  ThreadPool pool(2);
  const double one = fma_stream(pool, 1, 1000);
  // 2 FLOPs per lane per chain per step: a whole number of 16-lane chains per step.
  EXPECT_GT(one, 0.0);
  EXPECT_EQ(std::fmod(one / (2.0 * 16 * 1000), 1.0), 0.0) << one;
  EXPECT_EQ(fma_stream(pool, 1, 3000), 3 * one);
  EXPECT_EQ(fma_stream(pool, 2, 1000), 2 * one);
}

// The best of five runs of probe(pool, workers, steps) on one worker, in seconds.
template <class Probe>
double best_seconds(const Probe& probe, int64_t steps) {
  ThreadPool pool(1);
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    probe(pool, 1, steps);
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

TEST(Probes, FmaStreamTakesTimeInProportionToItsWork) {
  // The chains are not optimised away: ten times the steps take clearly longer (a loose bound,
  // for a shared machine).
  EXPECT_GT(best_seconds(fma_stream, 2000000), 3 * best_seconds(fma_stream, 200000));
}

// The bf16 probe counts its FLOPs the same way, on the unit it names (a whole number of tile
// steps, 4 * 16 * 16 * 32 * 2 FLOPs each, or of 12 chains of 16 lanes of pair products), and
// does nothing only where the CPU has no bf16 unit.
TEST(Probes, Bf16StreamCountsItsFlopsOnTheUnitItNames) {
  ThreadPool pool(2);
  const std::string unit(bf16_probe_unit());
  __builtin_cpu_init();
  const bool pairs = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
  const double one = bf16_stream(pool, 1, 1600);
  if (unit == "none") {
    EXPECT_FALSE(pairs);
    EXPECT_EQ(one, 0.0);
    return;
  }
  EXPECT_TRUE(pairs) << unit;
  const double per_step = unit == "amx" ? 4.0 * 16 * 16 * 32 * 2 : 2.0 * 2 * 16 * 12;
  EXPECT_EQ(unit == "amx" ? one / per_step : one / per_step / 1600, unit == "amx" ? 100.0 : 1.0)
      << unit << " " << one;
  EXPECT_EQ(bf16_stream(pool, 1, 3 * 1600), 3 * one);
  EXPECT_EQ(bf16_stream(pool, 2, 1600), 2 * one);
}

TEST(Probes, Bf16StreamTakesTimeInProportionToItsWork) {
  if (bf16_probe_unit() == "none") GTEST_SKIP() << "this CPU has no bf16 unit";
  EXPECT_GT(best_seconds(bf16_stream, 4000000), 3 * best_seconds(bf16_stream, 400000));
}

}  // namespace
}  // namespace jagtile
