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

TEST(Probes, FmaStreamTakesTimeInProportionToItsWork) {
  ThreadPool pool(1);
  auto time_of = [&](int64_t steps) {
    double best = 1e30;
    for (int i = 0; i < 5; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      fma_stream(pool, 1, steps);
      best = std::min(best,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  // The chains are not optimised away: ten times the steps take clearly longer (a loose bound,
  // for a shared machine).
  EXPECT_GT(time_of(2000000), 3 * time_of(200000));
}

}  // namespace
}  // namespace jagtile
