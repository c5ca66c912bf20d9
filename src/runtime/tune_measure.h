// The autotuner's measuring side: a compile thread that prepares candidates ahead of the
// measuring thread, the output check against the default config, and the race that decides
// whether a candidate beats the incumbent by more than the measured noise.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "jagtile/autotune.h"

namespace jagtile::runtime {

// A prepared candidate: its handle, or why it could not be made.
struct PreparedConfig {
  std::optional<Specialised> handle;
  std::string error;
};

// Prepares configs on its own thread in the order they are wanted, so that compiling the next
// candidates overlaps measuring the current one. Configs are keyed by content (Config::str).
class CompileAhead {
 public:
  CompileAhead(const Program& program, std::string kernel, const ArgMap& args, Options base);
  ~CompileAhead();
  CompileAhead(const CompileAhead&) = delete;
  CompileAhead& operator=(const CompileAhead&) = delete;

  // Replaces the queue of configs to prepare next (those already prepared stay prepared).
  void want(const std::vector<Config>& configs);
  // The prepared config (waits for it; prepares it first if it was not wanted).
  std::shared_ptr<const PreparedConfig> get(const Config& config);
  // About how long get(config) would wait, in seconds: 0 when prepared, the rest of the mean
  // preparation time when it is being prepared now, else that rest plus one mean preparation.
  double expected_wait_s(const Config& config);
  // Mean wall time of the preparations so far (compiles and disk-cache loads), in seconds.
  double mean_prepare_s();

 private:
  void loop();
  std::shared_ptr<const PreparedConfig> prepare(const Config& config);

  const Program& program_;
  const std::string kernel_;
  const ArgMap& args_;
  const Options base_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Config> queue_;
  std::map<std::string, std::shared_ptr<const PreparedConfig>> done_;
  std::string in_progress_;
  std::chrono::steady_clock::time_point in_progress_since_;
  std::mutex stats_mutex_;  // the two below: written by both threads
  double prepare_s_total_ = 0;
  int prepared_count_ = 0;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

// "" when `actual` matches `expected` (bit for bit with `bitwise`, else within the tolerance
// of each output's dtype), else the first difference, described.
std::string compare_outputs(const std::vector<Tensor>& actual, const std::vector<Tensor>& expected,
                            bool bitwise, const std::function<TuneTolerance(DType)>& tolerance);

// Times calls of prepared handles: one sample is `calls_per_sample` calls (enough for a sample
// of a few milliseconds), in milliseconds per call.
class Timer {
 public:
  Timer(const ArgMap& args, int calls_per_sample) : args_(args), calls_(calls_per_sample) {}
  double sample(const Specialised& s) const;
  int calls_per_sample() const { return calls_; }

 private:
  const ArgMap& args_;
  int calls_;
};

struct RaceOutcome {
  bool wins = false;
  bool finished = true;  // false: stopped by the deadline or a stop request
  // candidate / incumbent: the larger of the median ratio over interleaved pairs and the ratio
  // of the minimums (interference from other work only adds time, so the minimums resist it).
  double ratio = 1;
  double noise = 0;         // the ratios' spread (semi-interquartile range), at least 1%
  double candidate_ms = 0;  // medians
  double incumbent_ms = 0;
  int samples = 0;
};

// Interleaved pairs (incumbent, candidate), alternating which runs first; a pair with an
// outlier (over 1.5x its config's median) is measured again once; a candidate 1.5x slower after one
// pair, or 1.2x after two, stops early (`early_exit`). Wins when both the median pair ratio and the
// ratio of minimums are below 1 - max(2%, 1.5 * noise). `keep_going` is asked between samples
// (deadline, stop request).
RaceOutcome race(const Timer& timer, const Specialised& incumbent, const Specialised& candidate,
                 int pairs, bool early_exit, const std::function<bool()>& keep_going);

double median_of(std::vector<double> v);

}  // namespace jagtile::runtime
