// `jagtile autotune`: search the configs of a kernel for the given inputs (a bundled example's
// shape options or --arg), print the best and its speedup (or one JSON object), with a progress
// bar on a terminal and plain lines otherwise; --space prints the space, --show the store.
// Ctrl-C ends the search and keeps (stores and prints) the best config found so far.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "jagtile/autotune.h"

namespace jagtile::cli {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

std::string config_json(const Config& c) {
  std::string bs;
  for (size_t i = 0; i < c.block_sizes.size(); ++i)
    bs += (i ? ", " : "") + std::to_string(c.block_sizes[i]);
  return "{\"block_sizes\": [" + bs + "], \"chunk_rows\": " + std::to_string(c.reduce_chunk_rows) +
         ", \"workers\": " + std::to_string(c.reduce_workers) +
         ", \"text\": " + json_string(c.str()) + "}";
}

std::string config_text(const Config& c) {
  return c.str().empty() ? "the defaults" : c.str();
}

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Progress on stderr: a bar redrawn in place on a terminal, one line per candidate otherwise.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool terminal) : terminal_(terminal) {}
  // Ends the bar's line, so that what follows starts on its own.
  void finish() {
    if (terminal_ && drawn_) std::cerr << "\n";
    drawn_ = false;
  }

  void operator()(const TuneProgress& p) {
    const double speedup = p.best_ms > 0 ? p.default_ms / p.best_ms : 1;
    const std::string stats = std::to_string(p.done) + "/" + std::to_string(p.total) + "  best " +
                              fixed(p.best_ms, 3) + " ms (" + fixed(speedup, 2) + "x)  elapsed " +
                              fixed(p.elapsed_s, 1) + " s  ETA " + fixed(p.eta_s, 1) + " s";
    if (!terminal_) {
      std::cerr << "autotune: [" << stats << "] " << p.last << "\n";
      return;
    }
    constexpr int kWidth = 24;
    const int filled = p.total > 0 ? std::min(kWidth, kWidth * p.done / p.total) : 0;
    std::cerr << "\r\033[K[" << std::string(size_t(filled), '#')
              << std::string(size_t(kWidth - filled), '.') << "] " << stats << std::flush;
    drawn_ = true;
  }

 private:
  bool terminal_;
  bool drawn_ = false;
};

int show_store(const CommandLine& cl) {
  std::vector<StoredTuning> entries = stored_tunings(cl.options.cache_dir);
  // With a KERNEL_FILE, only the entries of its kernels (by name).
  std::vector<std::string> names;
  if (!cl.file.empty()) {
    // Named: kernels() refers into the program, which a temporary in the range-for would
    // destroy before the loop body runs.
    const Program program = load_program(cl.file);
    for (const KernelInfo& k : program.kernels()) names.push_back(k.name);
  }
  auto shown_entry = [&](const StoredTuning& t) {
    return cl.file.empty() || std::find(names.begin(), names.end(), t.kernel) != names.end();
  };
  if (cl.json) {
    std::cout << "[";
    bool first = true;
    for (const StoredTuning& t : entries) {
      if (!shown_entry(t)) continue;
      std::cout << (first ? "" : ",\n ") << "{\"key\": " << json_string(t.key)
                << ", \"kernel\": " << json_string(t.kernel)
                << ", \"file\": " << json_string(t.file)
                << ", \"config\": " << config_json(t.config)
                << ", \"shape_bucket\": " << json_string(t.shape_bucket)
                << ", \"specialisation\": " << json_string(t.specialisation)
                << ", \"machine\": " << json_string(t.machine)
                << ", \"effort\": " << json_string(t.effort) << ", \"default_ms\": " << t.default_ms
                << ", \"best_ms\": " << t.best_ms << "}";
      first = false;
    }
    std::cout << "]\n";
    return 0;
  }
  std::cout << "autotune store: " << tune_store_path(cl.options.cache_dir) << "\n";
  int shown = 0;
  for (const StoredTuning& t : entries) {
    if (!shown_entry(t)) continue;
    ++shown;
    std::cout << t.key << "  " << t.kernel << "  " << config_text(t.config) << "  (" << t.effort
              << ", " << fixed(t.default_ms, 3) << " -> " << fixed(t.best_ms, 3)
              << " ms)\n    file " << t.file << "\n    args " << t.specialisation << "\n    shape "
              << t.shape_bucket << "\n    machine " << t.machine << "; " << t.compiler
              << "; jagtile " << t.version << "\n";
  }
  if (shown == 0)
    std::cout << "(no stored configs" << (cl.file.empty() ? "" : " for the kernels of " + cl.file)
              << ")\n";
  return 0;
}

void print_space(const TuneSpace& space, bool json) {
  if (!json) {
    std::cout << space.str();
    return;
  }
  std::cout << "{\"kernel\": " << json_string(space.kernel)
            << ", \"backend\": " << json_string(space.backend) << ", \"knobs\": [";
  for (size_t i = 0; i < space.knobs.size(); ++i) {
    const TuneKnob& k = space.knobs[i];
    std::cout << (i ? ", " : "") << "{\"name\": " << json_string(k.name)
              << ", \"role\": " << json_string(k.role) << ", \"values\": [";
    for (size_t j = 0; j < k.values.size(); ++j) std::cout << (j ? ", " : "") << k.values[j];
    std::cout << "], \"default\": " << k.default_value << "}";
  }
  std::cout << "], \"defaults\": " << config_json(space.defaults) << ", \"constraints\": [";
  for (size_t i = 0; i < space.constraints.size(); ++i)
    std::cout << (i ? ", " : "") << json_string(space.constraints[i]);
  std::cout << "], \"not_tunable\": [";
  for (size_t i = 0; i < space.not_tunable.size(); ++i)
    std::cout << (i ? ", " : "") << json_string(space.not_tunable[i]);
  std::cout << "]}\n";
}

void print_result(const TuneResult& r, const CommandLine& cl) {
  if (cl.json) {
    std::cout << "{\"kernel\": " << json_string(r.kernel)
              << ", \"config\": " << config_json(r.config) << ", \"default_ms\": " << r.default_ms
              << ", \"best_ms\": " << r.best_ms << ", \"speedup\": " << r.speedup
              << ", \"candidates\": " << r.candidates << ", \"rejected\": " << r.rejected
              << ", \"seconds\": " << r.seconds
              << ", \"from_cache\": " << (r.from_cache ? "true" : "false")
              << ", \"interrupted\": " << (r.interrupted ? "true" : "false")
              << ", \"effort\": " << json_string(std::string(tune_effort_name(cl.effort)))
              << ", \"key\": " << json_string(r.key) << "}\n";
    return;
  }
  if (r.interrupted) std::cout << "interrupted: keeping the best config found so far\n";
  std::cout << r.kernel << ": best config " << config_text(r.config) << "\n  "
            << (r.from_cache ? "stored, " : "") << fixed(r.speedup, 2) << "x over the defaults ("
            << fixed(r.default_ms, 3) << " ms -> " << fixed(r.best_ms, 3) << " ms), "
            << r.candidates << " candidates";
  if (r.rejected) std::cout << " (" << r.rejected << " rejected)";
  std::cout << ", " << fixed(r.seconds, 2) << " s\n";
  if (!r.store_path.empty())
    std::cout << "  stored in " << r.store_path << " (key " << r.key
              << "); run, bench and calls with inputs of this shape bucket use it\n";
}

// Everything that determines a bundled example's generated inputs, as one line.
std::string input_request(const CommandLine& cl) {
  const JaggedShape& s = cl.shape;
  std::ostringstream os;
  os << "generated batch=" << s.batch << " features=" << s.features << " max_len=" << s.max_len
     << " sparsity=" << s.sparsity << " dist=" << length_dist_name(s.dist) << " seed=" << s.seed
     << " heads=" << s.heads << " head_dim=" << s.head_dim << " dtype=" << dtype_name(cl.dtype)
     << " offsets=" << dtype_name(cl.offsets_dtype);
  return os.str();
}

}  // namespace

int autotune_command(const CommandLine& cl) {
  if (cl.show) return show_store(cl);
  Program program = load_program(cl.file);
  int status = 0;
  for (const KernelInfo* kernel : select_kernels(program, cl, false)) {
    // A bundled example's inputs follow from the shape options alone: a stored answer for them
    // is found without generating them (which takes seconds at benchmark sizes).
    const std::string request =
        example_for(*kernel) && cl.raw_args.empty() ? input_request(cl) : "";
    if (!cl.space && !cl.retune) {
      if (std::optional<TuneResult> r =
              stored_result(program, kernel->name, request, cl.options, cl.effort)) {
        print_result(*r, cl);
        continue;
      }
    }
    ArgMap args = build_args(*kernel, cl);
    if (cl.space) {
      print_space(tune_space(program, kernel->name, args, cl.options), cl.json);
      continue;
    }
    TuneOptions tune;
    tune.effort = cl.effort;
    tune.budget_s = cl.budget_s;
    tune.use_stored = !cl.retune;
    tune.request = request;
    if (const ExampleInfo* ex = example_for(*kernel)) {
      auto example_tolerance = ex->tolerance;
      tune.tolerance = [example_tolerance](DType d) {
        Tolerance t = example_tolerance(d);
        return TuneTolerance{t.atol, t.rtol};
      };
    }
    ProgressPrinter printer(::isatty(STDERR_FILENO) != 0);
    tune.progress = [&printer](const TuneProgress& p) { printer(p); };
    g_interrupted.store(false);
    tune.stop = &g_interrupted;
    auto previous = std::signal(SIGINT, on_interrupt);
    TuneResult r;
    try {
      r = autotune(program, kernel->name, args, cl.options, tune);
    } catch (...) {
      std::signal(SIGINT, previous);
      printer.finish();
      throw;
    }
    std::signal(SIGINT, previous);
    printer.finish();
    print_result(r, cl);
    if (r.interrupted) status = 130;
  }
  return status;
}

}  // namespace jagtile::cli
