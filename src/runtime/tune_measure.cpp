// The autotuner's measuring side (tune_measure.h).
#include "runtime/tune_measure.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace jagtile::runtime {

// ---- compile ahead --------------------------------------------------------------------------

CompileAhead::CompileAhead(const Program& program, std::string kernel, const ArgMap& args,
                           Options base)
    : program_(program), kernel_(std::move(kernel)), args_(args), base_(std::move(base)) {
  thread_ = std::thread([this] { loop(); });
}

CompileAhead::~CompileAhead() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  thread_.join();
}

std::shared_ptr<const PreparedConfig> CompileAhead::prepare(const Config& config) {
  const auto t0 = std::chrono::steady_clock::now();
  auto p = std::make_shared<PreparedConfig>();
  Options o = base_;
  o.config = config;
  try {
    Specialised s = program_.specialise(kernel_, args_, o);
    s.prepare();
    p->handle = s;
  } catch (const std::exception& e) {
    p->error = e.what();
  }
  std::lock_guard<std::mutex> lock(stats_mutex_);
  prepare_s_total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++prepared_count_;
  return p;
}

double CompileAhead::expected_wait_s(const Config& config) {
  const double mean = mean_prepare_s();
  const std::string key = config.str();
  std::lock_guard<std::mutex> lock(mutex_);
  if (done_.count(key)) return 0;
  double current = 0;
  if (busy_) {
    const double spent =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - in_progress_since_)
            .count();
    current = std::max(0.0, mean - spent);
  }
  return busy_ && in_progress_ == key ? current : current + mean;
}

double CompileAhead::mean_prepare_s() {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return prepared_count_ ? prepare_s_total_ / prepared_count_ : 0;
}

void CompileAhead::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Config next = queue_.front();
    queue_.pop_front();
    const std::string key = next.str();
    if (done_.count(key) || (busy_ && in_progress_ == key)) continue;
    busy_ = true;
    in_progress_ = key;
    in_progress_since_ = std::chrono::steady_clock::now();
    lock.unlock();
    std::shared_ptr<const PreparedConfig> p = prepare(next);
    lock.lock();
    done_.emplace(key, std::move(p));
    busy_ = false;
    changed_.notify_all();
  }
}

void CompileAhead::want(const std::vector<Config>& configs) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.assign(configs.begin(), configs.end());
  }
  changed_.notify_all();
}

std::shared_ptr<const PreparedConfig> CompileAhead::get(const Config& config) {
  const std::string key = config.str();
  std::unique_lock<std::mutex> lock(mutex_);
  if (auto it = done_.find(key); it != done_.end()) return it->second;
  if (!(busy_ && in_progress_ == key)) {
    // Not started: prepare it here rather than wait behind the queue.
    lock.unlock();
    std::shared_ptr<const PreparedConfig> p = prepare(config);
    lock.lock();
    return done_.emplace(key, std::move(p)).first->second;
  }
  changed_.wait(lock, [&] { return done_.count(key) > 0; });
  return done_.at(key);
}

// ---- output check ---------------------------------------------------------------------------

namespace {

TuneTolerance builtin_tolerance(DType d) {
  if (d == DType::f32) return {1e-4, 1e-4};
  if (dtype_is_float(d)) return {1e-2, 1e-2};
  return {0, 0};
}

std::string position(const Tensor& t, size_t output, int64_t flat) {
  return "output " + std::to_string(output) + " of shape " + t.shape_str() + ", element " +
         std::to_string(flat);
}

}  // namespace

std::string compare_outputs(const std::vector<Tensor>& actual, const std::vector<Tensor>& expected,
                            bool bitwise, const std::function<TuneTolerance(DType)>& tolerance) {
  if (actual.size() != expected.size())
    return std::to_string(actual.size()) + " outputs instead of " + std::to_string(expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    Tensor a = actual[i].device().is_cpu() ? actual[i] : actual[i].to(Device{});
    Tensor e = expected[i].device().is_cpu() ? expected[i] : expected[i].to(Device{});
    if (a.dtype() != e.dtype() || a.shape_str() != e.shape_str())
      return "output " + std::to_string(i) + " is " + std::string(dtype_name(a.dtype())) +
             a.shape_str() + " instead of " + std::string(dtype_name(e.dtype())) + e.shape_str();
    const int64_t n = a.numel();
    if (bitwise || !dtype_is_float(a.dtype())) {
      const auto* pa = static_cast<const unsigned char*>(a.raw_data());
      const auto* pe = static_cast<const unsigned char*>(e.raw_data());
      const int64_t size = dtype_size(a.dtype());
      for (int64_t j = 0; j < n; ++j)
        if (std::memcmp(pa + j * size, pe + j * size, size_t(size)) != 0)
          return position(a, i, j) + " differs in its bits (" +
                 std::to_string(a.item_as_double(j)) + " instead of " +
                 std::to_string(e.item_as_double(j)) + ")";
      continue;
    }
    const TuneTolerance tol = tolerance ? tolerance(a.dtype()) : builtin_tolerance(a.dtype());
    Tensor af = a.dtype() == DType::f32 ? a : a.to_dtype(DType::f32);
    Tensor ef = e.dtype() == DType::f32 ? e : e.to_dtype(DType::f32);
    const float* pa = static_cast<const float*>(af.raw_data());
    const float* pe = static_cast<const float*>(ef.raw_data());
    for (int64_t j = 0; j < n; ++j) {
      const double x = pa[j], y = pe[j];
      if (x == y || (std::isnan(x) && std::isnan(y))) continue;
      if (std::isfinite(x) && std::isfinite(y) &&
          std::fabs(x - y) <= tol.atol + tol.rtol * std::fabs(y))
        continue;
      return position(a, i, j) + " is " + std::to_string(x) + " instead of " + std::to_string(y) +
             " (tolerance: " + std::to_string(tol.atol) + " + " + std::to_string(tol.rtol) +
             " x |expected|)";
    }
  }
  return {};
}

// ---- timing ---------------------------------------------------------------------------------

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return (v[(v.size() - 1) / 2] + v[v.size() / 2]) / 2;
}

double Timer::sample(const Specialised& s) const {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls_; ++i) s.run(args_);
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(t1 - t0).count() / calls_;
}

namespace {

// Half the interquartile range: a spread that a single slow sample does not move.
double semi_iqr(std::vector<double> v) {
  if (v.size() < 2) return 0;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    double pos = q * double(v.size() - 1);
    size_t lo = size_t(pos);
    size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
  };
  return (at(0.75) - at(0.25)) / 2;
}

}  // namespace

RaceOutcome race(const Timer& timer, const Specialised& incumbent, const Specialised& candidate,
                 int pairs, bool early_exit, const std::function<bool()>& keep_going) {
  RaceOutcome r;
  std::vector<double> inc, cand;
  auto measure_pair = [&](size_t j, bool replace) {
    double ti, tc;
    if (j % 2 == 0) {
      ti = timer.sample(incumbent);
      tc = timer.sample(candidate);
    } else {
      tc = timer.sample(candidate);
      ti = timer.sample(incumbent);
    }
    if (replace) {
      inc[j] = ti, cand[j] = tc;
    } else {
      inc.push_back(ti), cand.push_back(tc);
    }
  };
  for (int j = 0; j < pairs; ++j) {
    if (!keep_going()) {
      r.finished = false;
      break;
    }
    measure_pair(size_t(j), false);
    // A clearly slower candidate stops early: 1.5x after one pair, 1.2x after two.
    if (early_exit && j == 0 && cand[0] > 1.5 * inc[0]) break;
    if (early_exit && j == 1 && median_of(cand) > 1.2 * median_of(inc)) break;
  }
  if (r.finished && inc.size() >= 3) {
    // Outliers (a preempted sample on a shared machine): measure those pairs once more.
    const double mi = median_of(inc), mc = median_of(cand);
    for (size_t j = 0; j < inc.size() && keep_going(); ++j)
      if (inc[j] > 1.5 * mi || cand[j] > 1.5 * mc) measure_pair(j, true);
  }
  std::vector<double> ratios;
  for (size_t j = 0; j < inc.size(); ++j) ratios.push_back(cand[j] / inc[j]);
  r.samples = int(inc.size());
  r.incumbent_ms = median_of(inc);
  r.candidate_ms = median_of(cand);
  if (!ratios.empty()) {
    const double of_minimums =
        *std::min_element(cand.begin(), cand.end()) / *std::min_element(inc.begin(), inc.end());
    r.ratio = std::max(median_of(ratios), of_minimums);
  }
  r.noise = std::max(0.01, semi_iqr(ratios));
  r.wins = r.finished && ratios.size() >= 3 && r.ratio < 1 - std::max(0.02, 1.5 * r.noise);
  return r;
}

}  // namespace jagtile::runtime
