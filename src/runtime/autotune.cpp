// The autotuner's search (jagtile/autotune.h): pattern search from the default config and the
// previous best, random restarts with the full effort, each candidate prepared ahead by the
// compile thread, checked against the default's outputs, and raced against the incumbent; then
// a final interleaved comparison of the best with the default, and the store.
#include "jagtile/autotune.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <set>

#include "runtime/program_state.h"
#include "runtime/tune_measure.h"
#include "runtime/tune_store.h"

namespace jagtile {

std::optional<TuneEffort> parse_tune_effort(std::string_view name) {
  if (name == "quick") return TuneEffort::quick;
  if (name == "full") return TuneEffort::full;
  return std::nullopt;
}

std::string_view tune_effort_name(TuneEffort effort) {
  return effort == TuneEffort::quick ? "quick" : "full";
}

namespace {

using Clock = std::chrono::steady_clock;
using Point = std::vector<size_t>;
using runtime::compare_outputs;
using runtime::CompileAhead;
using runtime::median_of;
using runtime::PreparedConfig;
using runtime::race;
using runtime::RaceOutcome;
using runtime::Timer;

constexpr double kQuickBudgetS = 7.0;  // the whole quick search, compiles included
constexpr double kFullBudgetS = 60.0;
constexpr int kQuickMaxCandidates = 24;
constexpr double kSampleMs = 5.0;  // a timing sample lasts at least this long

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The point of a config in the space (nullopt when a knob's value is not in its list).
std::optional<Point> point_of(const TuneSpace& space, const Config& c) {
  Point p = space.default_point();
  for (size_t i = 0; i < space.knobs.size(); ++i) {
    const TuneKnob& k = space.knobs[i];
    const int64_t v = k.value_in(c);
    if (v <= 0) continue;  // unset: the default
    auto it = std::find(k.values.begin(), k.values.end(), v);
    if (it == k.values.end()) return std::nullopt;
    p[i] = size_t(it - k.values.begin());
  }
  return p;
}

class Search {
 public:
  Search(const Program& program, const std::string& kernel, const ArgMap& args,
         const Options& options, const TuneOptions& tune, TuneSpace space, TuneResult& result)
      : args_(args),
        tune_(tune),
        space_(std::move(space)),
        result_(result),
        compiler_(program, kernel, args, options),
        rng_(tune.seed) {
    budget_s_ = tune.budget_s > 0
                    ? tune.budget_s
                    : (tune.effort == TuneEffort::quick ? kQuickBudgetS : kFullBudgetS);
    if (tune.effort == TuneEffort::quick) budget_s_ = std::min(budget_s_, kQuickBudgetS);
  }

  // Runs the search from the default and `previous`; fills the result's config and times.
  void run(const std::optional<Point>& previous) {
    start_ = Clock::now();
    const Point def = space_.default_point();
    incumbent_ = def;
    tried_.insert(def);
    // The compile thread starts on the default and goes straight on to what comes next, so the
    // first candidate compiles while the default is measured.
    std::vector<Config> first = {space_.config_at(def)};
    if (previous && *previous != def) first.push_back(space_.config_at(*previous));
    for (const Point& p : neighbours()) first.push_back(space_.config_at(p));
    compiler_.want(first);
    default_ = compiler_.get(first[0]);
    if (!default_->handle)
      throw UserError("kernel '" + space_.kernel + "' cannot be tuned: its default config fails (" +
                          default_->error + ")",
                      "run it with `jagtile run --check` to see the error");
    const Specialised& d = *default_->handle;
    reference_ = d.run(args_).outputs;  // also warms the caches
    // Timed on a second call: the first one pays first-touch costs (fresh output pages).
    const double first_ms = Timer(args_, 1).sample(d);
    timer_ = std::make_unique<Timer>(
        args_, std::max(1, int(std::ceil(kSampleMs / std::max(first_ms, 1e-3)))));
    incumbent_handle_ = d;
    result_.candidates = 1;
    default_ms_ = best_ms_ = first_ms;
    report("default " + label(def), first_ms);

    if (previous && *previous != def && space_.admits(*previous))
      try_point(*previous, "previous best");
    pattern_search();
    while (tune_.effort == TuneEffort::full && keep_going()) {
      std::optional<Point> restart = random_point();
      if (!restart) break;  // every admitted point tried
      if (try_point(*restart, "restart")) pattern_search();
    }
    finish();
  }

 private:
  bool keep_going() const {
    if (tune_.stop && tune_.stop->load()) return false;
    if (deadline_hit_) return false;
    if (since(start_) >= search_deadline_s()) return false;
    return tune_.effort != TuneEffort::quick || result_.candidates < kQuickMaxCandidates;
  }

  // When the search stops starting candidates: the budget less the final comparison (at least
  // 3 pairs of the default's time), which is not needed while the incumbent is the default or
  // won its race against the default itself.
  double search_deadline_s() const {
    if (incumbent_ == space_.default_point() || against_default_) return budget_s_;
    return budget_s_ - std::min(budget_s_ * 0.25, 6 * default_ms_ / 1000 + 0.1);
  }

  std::string label(const Point& p) const {
    std::string s = space_.config_at(p).str();
    return s.empty() ? "(defaults)" : s;
  }

  // Neighbours of the incumbent: each knob one step up and down, the last winning move first.
  std::vector<Point> neighbours() const {
    std::vector<std::pair<size_t, int>> moves;
    if (last_move_) moves.push_back(*last_move_);
    for (size_t k = 0; k < space_.knobs.size(); ++k)
      for (int dir : {+1, -1})
        if (!last_move_ || *last_move_ != std::make_pair(k, dir)) moves.emplace_back(k, dir);
    std::vector<Point> out;
    for (auto [k, dir] : moves) {
      Point p = incumbent_;
      if ((dir < 0 && p[k] == 0) || (dir > 0 && p[k] + 1 >= space_.knobs[k].values.size()))
        continue;
      p[k] = size_t(int64_t(p[k]) + dir);
      if (!tried_.count(p) && space_.admits(p)) out.push_back(p);
    }
    return out;
  }

  void pattern_search() {
    while (keep_going()) {
      std::vector<Point> next = neighbours();
      if (next.empty()) return;
      std::vector<Config> configs;
      for (const Point& p : next) configs.push_back(space_.config_at(p));
      compiler_.want(configs);
      bool moved = false;
      for (const Point& p : next) {
        if (!keep_going()) return;
        const Point from = incumbent_;
        if (try_point(p, "neighbour")) {
          for (size_t k = 0; k < p.size(); ++k)
            if (p[k] != from[k]) last_move_ = std::make_pair(k, p[k] > from[k] ? +1 : -1);
          moved = true;
          break;  // scan the new incumbent's neighbours, the same move first
        }
      }
      if (!moved) return;
    }
  }

  std::optional<Point> random_point() {
    for (int attempt = 0; attempt < 200; ++attempt) {
      Point p(space_.knobs.size());
      for (size_t k = 0; k < p.size(); ++k)
        p[k] = std::uniform_int_distribution<size_t>(0, space_.knobs[k].values.size() - 1)(rng_);
      if (!tried_.count(p) && space_.admits(p)) return p;
    }
    return std::nullopt;
  }

  // Whether the knobs that differ from the default all keep the result's bits.
  bool keeps_bits(const Point& p) const {
    const Point def = space_.default_point();
    for (size_t k = 0; k < p.size(); ++k)
      if (p[k] != def[k] && !space_.knobs[k].keeps_result_bits) return false;
    return true;
  }

  // Prepares, checks and races one candidate; true when it became the incumbent.
  bool try_point(const Point& p, const char* why) {
    tried_.insert(p);
    ++result_.candidates;
    const Config config = space_.config_at(p);
    // A candidate whose compile and shortest race would not end before the deadline is left
    // for a later search.
    const double race_s = 6 * default_ms_ / 1000;
    if (since(start_) + race_s + compiler_.expected_wait_s(config) > search_deadline_s()) {
      --result_.candidates;
      deadline_hit_ = true;
      return false;
    }
    std::shared_ptr<const PreparedConfig> prepared = compiler_.get(config);
    if (!prepared->handle)
      return reject(p, "fails: " + prepared->error.substr(0, prepared->error.find('\n')));
    const Specialised& s = *prepared->handle;
    try {
      std::string diff =
          compare_outputs(s.run(args_).outputs, reference_, keeps_bits(p), tune_.tolerance);
      if (!diff.empty()) return reject(p, "outputs differ from the default's: " + diff);
    } catch (const std::exception& e) {
      return reject(p, std::string("fails: ") + e.what());
    }
    const bool quick = tune_.effort == TuneEffort::quick;
    // Fewer pairs for slow kernels: a quick search of a 100 ms kernel still sees candidates.
    const int pairs = (quick ? 3 : 5) + (default_ms_ < 20 ? 2 : 0);
    RaceOutcome r = race(*timer_, incumbent_handle_, s, pairs, true, [this] {
      return !(tune_.stop && tune_.stop->load()) && since(start_) < budget_s_;
    });
    char line[160];
    std::snprintf(line, sizeof line, " (%s): %.3f ms vs %.3f ms, ratio %.3f +- %.3f", why,
                  r.candidate_ms, r.incumbent_ms, r.ratio, r.noise);
    const bool wins = r.wins;
    if (wins) {
      // A race won against the default is the final comparison already.
      against_default_.reset();
      if (incumbent_ == space_.default_point()) against_default_ = r;
      incumbent_ = p;
      incumbent_handle_ = s;
      incumbent_prepared_ = prepared;
      speedup_ /= r.ratio;
    }
    // The progress times come from the races: the incumbent's least median since it won (other
    // work, the compile thread's included, only adds time), the default's that times the
    // speedup won so far. The default's first sample alone would skew them, and the budget
    // checks that scale with it: it runs while the compile thread builds the first neighbours
    // (jagged_dense_bmm at B = 1024, D = 256 on two cores: 592 ms, against 108 ms in the races
    // that followed).
    if (r.samples > 0 && r.incumbent_ms > 0 && r.candidate_ms > 0) {
      best_ms_ = wins ? r.candidate_ms : std::min(best_ms_, r.incumbent_ms);
      default_ms_ = best_ms_ * speedup_;
    }
    report(label(p) + line +
               (wins          ? ": new best"
                : !r.finished ? ": stopped by the budget"
                              : ""),
           best_ms_);
    return wins;
  }

  bool reject(const Point& p, const std::string& why) {
    ++result_.rejected;
    report(label(p) + ": rejected, " + why, best_ms_);
    return false;
  }

  void report(const std::string& line, double best_ms) {
    result_.log.push_back(line);
    if (!tune_.progress) return;
    TuneProgress pr;
    pr.done = result_.candidates;
    const int pending = int(neighbours_estimate());
    pr.total = tune_.effort == TuneEffort::quick ? std::min(kQuickMaxCandidates, pr.done + pending)
                                                 : std::max(pr.done + pending, pr.done + 1);
    pr.default_ms = default_ms_;
    pr.best_ms = best_ms;
    pr.elapsed_s = since(start_);
    const double per = pr.elapsed_s / std::max(1, pr.done);
    pr.eta_s = std::max(0.0, std::min(budget_s_ - pr.elapsed_s, per * (pr.total - pr.done)));
    pr.last = line;
    pr.best_config = space_.config_at(incumbent_).str();
    tune_.progress(pr);
  }

  size_t neighbours_estimate() const {
    return incumbent_.empty() ? space_.knobs.size() * 2 : neighbours().size();
  }

  // The best against the default, interleaved, without early exit: the reported times, and
  // the last guard against a lucky pick (a best that is not faster here is dropped).
  void finish() {
    result_.config = space_.config_at(incumbent_);
    result_.default_ms = result_.best_ms = best_ms_ = default_ms_;
    const double sample_s = std::max(default_ms_, 1e-3) / 1000 * timer_->calls_per_sample();
    const int affordable = int((budget_s_ - since(start_)) / sample_s);
    if (incumbent_ == space_.default_point()) {
      // The defaults won: a few more samples of them for the reported time.
      std::vector<double> t;
      for (int i = 0; i < std::clamp(affordable, 1, 5) && !(tune_.stop && tune_.stop->load()); ++i)
        t.push_back(timer_->sample(*default_->handle));
      if (!t.empty()) result_.default_ms = result_.best_ms = median_of(t);
      return;
    }
    const bool interrupted = tune_.stop && tune_.stop->load();
    if (against_default_) {
      result_.default_ms = against_default_->incumbent_ms;
      result_.best_ms = against_default_->candidate_ms;
      return;
    }
    // 7 pairs when the budget allows, at least 3 (a slow kernel's final check may overrun by
    // that much).
    const int pairs = interrupted ? 3 : std::clamp(affordable / 2, 3, 7);
    RaceOutcome r =
        race(*timer_, *default_->handle, incumbent_handle_, pairs, false, [] { return true; });
    result_.default_ms = r.incumbent_ms;
    result_.best_ms = r.candidate_ms;
    if (!r.wins && !interrupted) {
      result_.log.push_back("final check: " + label(incumbent_) +
                            " is not faster than the "
                            "defaults beyond noise (ratio " +
                            std::to_string(r.ratio) + "); keeping the defaults");
      result_.config = space_.config_at(space_.default_point());
      result_.best_ms = result_.default_ms;
    }
  }

  const ArgMap& args_;
  const TuneOptions& tune_;
  const TuneSpace space_;
  TuneResult& result_;
  runtime::CompileAhead compiler_;
  std::mt19937_64 rng_;
  double budget_s_ = 0;
  Clock::time_point start_;
  std::shared_ptr<const runtime::PreparedConfig> default_, incumbent_prepared_;
  std::vector<Tensor> reference_;
  std::unique_ptr<runtime::Timer> timer_;
  std::set<Point> tried_;
  Point incumbent_;
  Specialised incumbent_handle_{nullptr};
  std::optional<std::pair<size_t, int>> last_move_;
  double default_ms_ = 0, best_ms_ = 0;
  double speedup_ = 1;  // the default's time over the incumbent's: the won races' ratios
  bool deadline_hit_ = false;
  std::optional<RaceOutcome> against_default_;  // the incumbent's winning race, if vs the default
};

// A quick search is answered by a quick or full entry, a full one only by a full entry; an
// interrupted search's entry is used by calls but searched again (from its best).
bool answers(const StoredTuning& t, TuneEffort effort) {
  return t.effort == "full" || (effort == TuneEffort::quick && t.effort == "quick");
}

TuneResult from_store(const StoredTuning& t, const std::string& path, Clock::time_point t0) {
  TuneResult r;
  r.kernel = t.kernel;
  r.key = t.key;
  r.config = t.config;
  r.default_ms = t.default_ms;
  r.best_ms = t.best_ms;
  r.speedup = t.best_ms > 0 ? t.default_ms / t.best_ms : 1;
  r.candidates = t.candidates;
  r.from_cache = true;
  r.store_path = path;
  r.seconds = since(t0);
  return r;
}

}  // namespace

std::optional<TuneResult> stored_result(const Program& program, const std::string& kernel,
                                        const std::string& request, const Options& options,
                                        TuneEffort effort) {
  const auto t0 = Clock::now();
  if (request.empty()) return std::nullopt;
  const runtime::ProgramState& ps = program.state();
  const runtime::TuneKey want =
      runtime::tune_key_without_args(ps, ps.kernel_index(kernel), options);
  const std::string checks = options.checked ? "| checked" : "| unchecked";
  runtime::TuneStore& store = runtime::TuneStore::for_dir(runtime::tune_store_dir(options));
  for (const StoredTuning& t : store.all()) {
    const bool same_checks = t.specialisation.size() >= checks.size() &&
                             t.specialisation.compare(t.specialisation.size() - checks.size(),
                                                      checks.size(), checks) == 0;
    if (t.request == request && t.source_hash == want.source_hash && t.kernel == want.kernel &&
        t.machine == want.machine && t.compiler == want.compiler && t.version == want.version &&
        same_checks && answers(t, effort))
      return from_store(t, store.path(), t0);
  }
  return std::nullopt;
}

TuneResult autotune(const Program& program, const std::string& kernel, const ArgMap& args,
                    const Options& options, const TuneOptions& tune) {
  const auto t0 = Clock::now();
  if (tune.budget_s < 0 || !std::isfinite(tune.budget_s))
    throw UserError("autotune budget must be a positive number of seconds, got " +
                        std::to_string(tune.budget_s),
                    "pass budget_s > 0 (or 0 for the effort's default)");
  const runtime::ProgramState& ps = program.state();
  const size_t ki = ps.kernel_index(kernel);
  const runtime::BoundArgs bound = ps.bind(ki, args);
  Options base = options;
  base.use_tuned_config = false;  // the search compares configs; the store must not replace them
  const runtime::TuneKey key = runtime::tune_key(ps, ki, bound, base);
  runtime::TuneStore& store = runtime::TuneStore::for_dir(runtime::tune_store_dir(base));
  TuneResult result;
  result.kernel = ps.kernels[ki].name;
  result.key = key.hash();
  const std::shared_ptr<const StoredTuning> stored = store.find(result.key);
  if (stored && tune.use_stored && answers(*stored, tune.effort))
    return from_store(*stored, store.path(), t0);
  TuneSpace space = tune_space(program, result.kernel, args, base);
  result.default_config = space.defaults;
  std::optional<Point> previous;
  if (stored) previous = point_of(space, stored->config);
  {
    Search search(program, result.kernel, args, base, tune, space, result);
    search.run(previous);
  }
  result.interrupted = tune.stop && tune.stop->load();
  result.speedup = result.best_ms > 0 ? result.default_ms / result.best_ms : 1;
  if (tune.store) {
    StoredTuning t;
    t.key = result.key;
    t.kernel = key.kernel;
    t.file = ps.file;
    t.source_hash = key.source_hash;
    t.specialisation = key.specialisation;
    t.shape_bucket = key.shape_bucket;
    t.machine = key.machine;
    t.compiler = key.compiler;
    t.version = key.version;
    t.config = result.config;
    t.effort = result.interrupted ? "interrupted" : std::string(tune_effort_name(tune.effort));
    t.default_ms = result.default_ms;
    t.best_ms = result.best_ms;
    t.candidates = result.candidates;
    t.request = tune.request;
    store.save(t);
    result.store_path = store.path();
  }
  result.seconds = since(t0);
  return result;
}

}  // namespace jagtile
