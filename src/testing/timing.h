// Wall-clock timing for the benchmarks and `jagtile bench`: one sample per round, reported as
// median and minimum (medians resist the noise of a shared machine; minimums show the best case).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace jagtile {

struct TimingSamples {
  std::vector<double> ms;

  double median() const {
    if (ms.empty()) return 0;
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    return (v[(v.size() - 1) / 2] + v[v.size() / 2]) / 2;
  }
  double min() const { return ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end()); }
};

inline double now_ms() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(clock::now().time_since_epoch()).count();
}

inline double time_ms(const std::function<void()>& fn) {
  const double t0 = now_ms();
  fn();
  return now_ms() - t0;
}

}  // namespace jagtile
