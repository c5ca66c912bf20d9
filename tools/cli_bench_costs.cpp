// `jagtile bench`: the timing primitives and the fixed costs that the bandwidth table does not
// show: cold compile and warm load of the generic CPU path, and the per-call time on a tiny
// input, where a call's fixed overhead (binding, specialisation lookup, dispatch, thread start)
// dominates.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "cli_bench.h"
#include "jagtile/error.h"
#include "jagtile/reduce.h"
#include "jagtile/thread_pool.h"

namespace jagtile::cli::bench {

void stream_read(const std::vector<float>& buffer, int threads) {
  jagtile::stream_read(ThreadPool::global(), threads, buffer.data(),
                       int64_t(buffer.size() * sizeof(float)));
}

double fma_stream(int threads) {
  // 2-3 ms per worker at the FMA limit (AVX2 or AVX-512): long enough that waking the pool's
  // workers does not count, short enough to sit in every round.
  constexpr int64_t kSteps = 1000000;
  return jagtile::fma_stream(ThreadPool::global(), threads, kSteps);
}

double bf16_stream(int threads) {
  // As long as fma_stream's steps, about (bf16_stream takes the same step count).
  constexpr int64_t kSteps = 1000000;
  return jagtile::bf16_stream(ThreadPool::global(), threads, kSteps);
}

CompileCost measure_compile(const std::string& file, const std::string& kernel, const ArgMap& args,
                            const Options& options) {
  CompileCost cost;
  std::string pattern = (std::filesystem::temp_directory_path() / "jagtile-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    cost.note = "could not create a temporary cache folder";
    return cost;
  }
  Options cpu = options;
  cpu.backend = Backend::cpu;
  cpu.cache_dir = pattern;
  PrepareStats cold, warm;
  try {
    // Two fresh Programs (fresh in-memory state, as two processes): the first compiles into the
    // empty folder, the second finds the verified disk entry and only loads it.
    Specialised first = Program::from_file(file).specialise(kernel, args, cpu);
    if (std::string why = first.why_not(Backend::cpu); !why.empty()) {
      cost.note = "the generic CPU backend cannot compile this kernel: " + why;
    } else {
      cold = first.prepare();
      warm = Program::from_file(file).specialise(kernel, args, cpu).prepare();
    }
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(pattern, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::remove_all(pattern, ec);
  if (!cost.note.empty()) return cost;
  JAGTILE_CHECK(cold.source == PrepareStats::Source::compiled,
                << "a fresh cache folder served a compiled kernel without compiling");
  if (warm.source != PrepareStats::Source::disk) {
    cost.note = "the second load did not come from the disk cache";
    return cost;
  }
  cost.measured = true;
  cost.cold_ms = cold.ms;
  cost.warm_load_ms = warm.ms;
  return cost;
}

namespace {

// Median of repeated calls, for about budget_ms of wall time (at least 20, at most 2000 calls).
double median_call_us(const std::function<void()>& fn, double budget_ms = 150) {
  fn();  // specialise, compile, warm the caches: the cost measured is that of a repeated call
  Samples s;
  double start = now_ms();
  while (s.ms.size() < 2000 && (s.ms.size() < 20 || now_ms() - start < budget_ms)) {
    s.ms.push_back(time_ms(fn));
  }
  return s.median() * 1e3;
}

}  // namespace

TinyCost measure_tiny_calls(const Program& program, const KernelInfo& kernel,
                            const CommandLine& cl) {
  TinyCost cost;
  const ExampleInfo* ex = example_for(kernel);
  if (!ex || !cl.raw_args.empty()) {
    cost.note = "needs a bundled example's input recipe (and no --arg)";
    return cost;
  }
  JaggedShape tiny = cl.shape;
  tiny.batch = 4;
  tiny.features = std::min<int64_t>(cl.shape.features, 16);
  tiny.max_len = std::min<int64_t>(cl.shape.max_len, 8);
  cost.shape =
      "B=4 M=" + std::to_string(tiny.features) + " max_len=" + std::to_string(tiny.max_len);
  ArgMap args = ex->make_inputs(tiny, cl.dtype, cl.offsets_dtype);
  const Options& options = cl.options;
  auto wanted = [&](Backend b) {
    return options.backend == Backend::auto_select || options.backend == b;
  };
  // Every registered backend that runs this kernel, timed through the public call; the
  // template's direct library call right after it.
  for (const BackendInfo& b : backends()) {
    if (!wanted(b.id) || b.id == Backend::interp) continue;
    Options o = options;
    o.backend = b.id;
    Specialised s = program.specialise(kernel.name, args, o);
    if (!s.why_not(b.id).empty()) continue;
    cost.calls.push_back({impl_label(b.id, s.device()),
                          median_call_us([&] { program.call(kernel.name, args, o); })});
    if (b.id == Backend::template_lib) {
      if (std::optional<LibraryCall> call = s.library_call(args)) {
        cost.calls.push_back({"library", median_call_us([&] {
                                jagged_reduce(call->values, call->offsets, call->spec);
                              })});
      }
    }
  }
  return cost;
}

}  // namespace jagtile::cli::bench
