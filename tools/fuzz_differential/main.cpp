// fuzz_differential: generates random kernels (src/testing/kernel_gen.h), runs each on every
// backend in a forked child, compares with the interpreter, saves and reduces failures.
// Usage and the meaning of each failure: docs/fuzzing.md.
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "child.h"
#include "jagtile/cuda.h"
#include "minimize.h"

namespace jagtile::fuzz {
namespace {

const char* kUsage =
    "usage: fuzz_differential [--seconds N] [--seed S] [--count K] [--json] [--out DIR]\n"
    "                         [--jobs J] [--timeout S] [--no-minimize] [--minimize-seconds S]\n"
    "                         [--regress DIR] [--backends a,b,...] [--keep-cache]\n"
    "       fuzz_differential --print SEED          print the kernel and inputs of a seed\n"
    "       fuzz_differential --replay CASE_DIR     run a saved case (kernel.py + case.txt)\n";

struct Args {
  double seconds = 0;
  uint64_t seed = 1;
  int64_t count = 0;
  bool json = false;
  std::string out = "fuzz-out";
  int jobs = 1;
  double timeout = 120;
  bool minimize = true;
  double minimize_seconds = 300;
  std::string regress;
  std::vector<std::string> backends;
  bool keep_cache = false;  // compile into JAGTILE_CACHE_DIR instead of scratch folders
  std::string replay;
  int64_t print = -1;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::cerr << "fuzz_differential: " << why << "\n" << kUsage;
  std::exit(2);
}

// Whether a CUDA device answers, asked in a throwaway child: a CUDA context started here would
// not survive the fork of every case's child.
bool cuda_device_in_child() {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) ::_exit(jagtile::cuda_available() ? 0 : 1);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(k + " needs a value");
      return argv[++i];
    };
    try {
      if (k == "--seconds")
        a.seconds = std::stod(value());
      else if (k == "--seed")
        a.seed = std::stoull(value());
      else if (k == "--count")
        a.count = std::stoll(value());
      else if (k == "--json")
        a.json = true;
      else if (k == "--out")
        a.out = value();
      else if (k == "--jobs")
        a.jobs = std::max(1, std::stoi(value()));
      else if (k == "--timeout")
        a.timeout = std::stod(value());
      else if (k == "--no-minimize")
        a.minimize = false;
      else if (k == "--keep-cache")
        a.keep_cache = true;
      else if (k == "--minimize-seconds")
        a.minimize_seconds = std::stod(value());
      else if (k == "--regress")
        a.regress = value();
      else if (k == "--replay")
        a.replay = value();
      else if (k == "--print")
        a.print = std::stoll(value());
      else if (k == "--backends") {
        std::stringstream ss(value());
        for (std::string b; std::getline(ss, b, ',');) a.backends.push_back(b);
      } else if (k == "--help" || k == "-h") {
        std::cout << kUsage;
        std::exit(0);
      } else {
        usage_error("unknown option " + k);
      }
    } catch (const std::invalid_argument&) {
      usage_error("bad value for " + k);
    } catch (const std::out_of_range&) {
      usage_error("bad value for " + k);
    }
  }
  if (a.replay.empty() && a.print < 0 && a.seconds <= 0 && a.count <= 0)
    usage_error("give --seconds N or --count K");
  if (a.print < 0 && std::find(a.backends.begin(), a.backends.end(), "cuda") != a.backends.end() &&
      !cuda_device_in_child())
    usage_error(
        "--backends names cuda, the generated CUDA on a GPU, but this machine has no CUDA "
        "device (use cuda-emulated for the host emulation)");
  return a;
}

void make_dirs(const std::string& path) {
  std::string cur;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '/');) {
    cur += part;
    if (!cur.empty()) ::mkdir(cur.c_str(), 0755);
    cur += "/";
  }
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Kernel `seed`'s case, with the settings whose turn it is (settings_in_turn). A setting in the
// fuzzer's own environment is kept for every kernel (the child inherits it), not taken in turn.
DiffCase case_of(const GenKernel& k, uint64_t seed, const std::vector<std::string>& backends) {
  DiffCase c{k.source(), k.inputs, k.outputs, backends, {}};
  for (auto& [name, value] : settings_in_turn(seed))
    if (!std::getenv(name.c_str())) c.settings.emplace_back(name, value);
  return c;
}

std::string describe(const CaseFailure& f) {
  return f.kind + " on " + f.backend +
         (f.input >= 0 ? " (input " + std::to_string(f.input) + ")" : "") + ": " +
         f.detail.substr(0, 600);
}

void save_case(const std::string& dir, const DiffCase& c, const std::string& comment) {
  make_dirs(dir);
  write_file(dir + "/kernel.py", c.source);
  write_file(dir + "/case.txt", case_text(c, comment));
}

std::string scratch_cache(const Args& a, const std::string& name) {
  return a.keep_cache ? std::string() : a.out + "/jit/" + name;
}

void remove_tree(const std::string& dir) {
  std::error_code ignored;
  if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
}

int replay(const Args& a) {
  DiffCase c = parse_case(read_file(a.replay + "/kernel.py"), read_file(a.replay + "/case.txt"));
  if (!a.backends.empty()) c.backends = a.backends;
  CaseReport r = run_case_forked(c, a.timeout, scratch_cache(a, "replay"));
  remove_tree(scratch_cache(a, "replay"));
  for (const CaseFailure& f : r.failures) std::cout << describe(f) << "\n";
  std::cout << "replay " << a.replay << ": " << r.runs << " runs, " << r.failures.size()
            << " failures\n";
  return r.failures.empty() ? 0 : 1;
}

struct Active {
  uint64_t seed;
  GenKernel kernel;
  std::string cache_dir;
  std::unique_ptr<ChildRun> child;
};

int fuzz(const Args& a) {
  const double start = now_seconds();
  int64_t kernels = 0, runs = 0, failures = 0, started = 0;
  uint64_t next_seed = a.seed;
  std::vector<std::unique_ptr<Active>> active;
  // First failure of each signature, reduced after the fuzzing time.
  struct ToReduce {
    GenKernel kernel;
    uint64_t seed;
    CaseFailure failure;
  };
  std::map<std::string, ToReduce> to_reduce;
  std::vector<uint64_t> failed_seeds;
  std::map<std::string, int64_t> by_label;
  auto more = [&] {
    if (a.count > 0 && started >= a.count) return false;
    if (a.seconds > 0 && now_seconds() - start >= a.seconds) return false;
    return true;
  };
  while (more() || !active.empty()) {
    while (more() && int(active.size()) < a.jobs) {
      auto act = std::make_unique<Active>();
      act->seed = next_seed++;
      act->kernel = generate_kernel(act->seed);
      act->cache_dir = scratch_cache(a, "seed-" + std::to_string(act->seed));
      act->child = std::make_unique<ChildRun>(case_of(act->kernel, act->seed, a.backends),
                                              a.timeout, act->cache_dir);
      active.push_back(std::move(act));
      ++started;
    }
    std::vector<struct pollfd> fds;
    for (auto& act : active) fds.push_back({act->child->fd(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), 100);
    for (size_t i = 0; i < active.size();) {
      Active& act = *active[i];
      if (!act.child->poll_once()) {
        ++i;
        continue;
      }
      const CaseReport& r = act.child->report();
      ++kernels;
      runs += r.runs;
      for (const auto& [label, n] : r.by_label) by_label[label] += n;
      if (!r.failures.empty()) {
        ++failures;
        failed_seeds.push_back(act.seed);
        std::string dir = a.out + "/seed-" + std::to_string(act.seed);
        std::string comment = "seed " + std::to_string(act.seed) + " (" + act.kernel.shape + ")\n";
        for (const CaseFailure& f : r.failures) comment += describe(f) + "\n";
        comment += "reproduce: fuzz_differential --replay " + dir;
        save_case(dir, case_of(act.kernel, act.seed, a.backends), comment);
        if (!a.json || true)
          std::cerr << "FAIL seed " << act.seed << ": " << describe(r.failures[0]) << "\n";
        const CaseFailure& f = r.failures[0];
        if (!to_reduce.count(f.signature()))
          to_reduce.emplace(f.signature(), ToReduce{act.kernel, act.seed, f});
      }
      remove_tree(act.cache_dir);
      active.erase(active.begin() + std::ptrdiff_t(i));
    }
  }
  const double fuzz_seconds = now_seconds() - start;
  if (a.minimize) {
    for (auto& [sig, item] : to_reduce) {
      const GenKernel& k = item.kernel;
      const CaseFailure& f = item.failure;
      std::cerr << "reducing: " << sig << "\n";
      const std::string cache = scratch_cache(a, "reduce");
      Reduced red =
          minimize(k, case_of(k, item.seed, {}).settings, f, a.timeout, a.minimize_seconds, cache,
                   [](const std::string& s) { std::cerr << s << "\n"; });
      remove_tree(cache);
      std::string name = "s" +
                         std::to_string(uint64_t(std::hash<std::string>{}(k.source()) % 100000)) +
                         "-" + f.kind + "-" + f.backend;
      std::string comment = "reduced from a generated kernel (" + k.shape + ") in " +
                            std::to_string(red.tries) + " tries\nfailure: " + describe(f) +
                            "\nreplay: fuzz_differential --replay DIR";
      save_case(a.out + "/reduced/" + name, red.diff, comment);
      if (!a.regress.empty()) save_case(a.regress + "/" + name, red.diff, comment);
      std::cerr << "reduced case: " << a.out << "/reduced/" << name << " (" << red.tries
                << " tries, " << red.accepted << " kept)\n";
    }
  }
  std::ostringstream js;
  js << "{\"kernels\": " << kernels << ", \"runs\": " << runs << ", \"failures\": " << failures
     << ", \"seconds\": " << int64_t(fuzz_seconds * 10) / 10.0 << ", \"first_seed\": " << a.seed
     << ", \"runs_by_backend\": {";
  for (auto it = by_label.begin(); it != by_label.end(); ++it)
    js << (it == by_label.begin() ? "" : ", ") << "\"" << it->first << "\": " << it->second;
  js << "}, \"failed_seeds\": [";
  for (size_t i = 0; i < failed_seeds.size(); ++i) js << (i ? ", " : "") << failed_seeds[i];
  js << "]}";
  if (!a.json) {
    std::cout << "fuzz_differential: " << kernels << " kernels, " << runs << " runs, " << failures
              << " failing kernels in " << fuzz_seconds << " s";
    if (fuzz_seconds > 0) std::cout << " (" << double(kernels) / fuzz_seconds << " kernels/s)";
    std::cout << "\n";
  }
  std::cout << js.str() << std::endl;
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace jagtile::fuzz

int main(int argc, char** argv) {
  using namespace jagtile::fuzz;
  Args a = parse_args(argc, argv);
  // Outputs a backend leaves unfilled (fully written, or the template's) start as NaN, so an
  // element it fails to write is a mismatch, not a lucky zero. Set before any thread starts.
  ::setenv("JAGTILE_POISON_UNFILLED", "1", 1);
  // Every kernel compiles in a scratch cache folder of its own; the precompiled preludes (the
  // same for every kernel of a flavour) are built once per run in a shared one.
  if (!a.keep_cache && !std::getenv("JAGTILE_PRELUDE_DIR"))
    ::setenv("JAGTILE_PRELUDE_DIR", (a.out + "/jit/preludes").c_str(), 1);
  try {
    if (a.print >= 0) {
      GenKernel k = generate_kernel(uint64_t(a.print));
      std::cout << k.source() << "\n"
                << case_text(case_of(k, uint64_t(a.print), a.backends),
                             "seed " + std::to_string(a.print));
      return 0;
    }
    if (!a.replay.empty()) return replay(a);
    return fuzz(a);
  } catch (const std::exception& e) {
    std::cerr << "fuzz_differential: " << e.what() << "\n";
    return 3;
  }
}
