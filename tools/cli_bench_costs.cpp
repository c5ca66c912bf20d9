// `jagtile bench`: the timing primitives and the fixed costs that the bandwidth table does not
// show: cold compile and warm load of the generic CPU path, and the per-call time on a tiny
// input, where a call's fixed overhead (binding, specialisation lookup, dispatch, thread start)
// dominates.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "cli_bench.h"
#include "codegen/cpu/backend.h"
#include "codegen/cpu/emit_cpp.h"
#include "codegen/cpu/jit.h"
#include "jagtile/error.h"
#include "jagtile/reduce.h"
#include "jagtile/thread_pool.h"
#include "runtime/program_impl.h"
#include "runtime/template_launch.h"
#include "templates/cpu/reduce_kernel.h"

namespace jagtile::cli::bench {

void stream_read(const std::vector<float>& buffer, int threads) {
  jagtile::stream_read(ThreadPool::global(), threads, buffer.data(),
                       int64_t(buffer.size() * sizeof(float)));
}

CompileCost measure_compile(const Program& program, const std::string& kernel, const ArgMap& args,
                            const Options& options) {
  CompileCost cost;
  Options cpu = options;
  cpu.backend = Backend::cpu;
  const Program::Impl& impl = *program.impl();
  size_t index = impl.kernel_index(kernel);
  BoundArgs bound = impl.bind(index, args);
  std::shared_ptr<const Specialisation> spec = impl.specialise(index, bound, cpu);
  if (std::string why = codegen::cpu::cpu_unsupported_reason(spec->kernel); !why.empty()) {
    cost.note = "the generic CPU backend cannot compile this kernel: " + why;
    return cost;
  }
  codegen::cpu::EmitOptions emit;
  emit.checked = options.checked;
  codegen::cpu::CpuSource source = codegen::cpu::generate_cpu_source(spec->kernel, emit);

  std::string pattern = (std::filesystem::temp_directory_path() / "jagtile-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    cost.note = "could not create a temporary cache folder";
    return cost;
  }
  const std::string dir = pattern;
  codegen::cpu::JitStats cold, warm;
  try {
    // Each Jit starts with an empty in-memory cache: the first compiles into the empty folder,
    // the second finds the verified disk entry and only loads it.
    { codegen::cpu::Jit(dir).load(source.code, source.function, &cold); }
    { codegen::cpu::Jit(dir).load(source.code, source.function, &warm); }
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  JAGTILE_CHECK(cold.source == codegen::cpu::JitStats::Source::compiled,
                << "a fresh cache folder served a compiled kernel without compiling");
  if (warm.source != codegen::cpu::JitStats::Source::disk) {
    cost.note = "the second load did not come from the disk cache";
    return cost;
  }
  cost.measured = true;
  cost.cold_ms = cold.seconds * 1e3;
  cost.warm_load_ms = warm.seconds * 1e3;
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
  Options options = cl.options;
  const bool want_template =
      options.backend == Backend::auto_select || options.backend == Backend::template_lib;
  const bool want_cpu = options.backend == Backend::auto_select || options.backend == Backend::cpu;
  if (want_template && !templates_disabled()) {
    if (auto call = template_call_for(program, kernel.name, args, options)) {
      Options t = options;
      t.backend = Backend::template_lib;
      cost.calls.push_back(
          {"template", median_call_us([&] { program.call(kernel.name, args, t); })});
      cost.calls.push_back({"library", median_call_us([&] {
                              jagged_reduce(call->values, call->offsets, call->spec);
                            })});
    }
  }
  if (want_cpu) {
    Options c = options;
    c.backend = Backend::cpu;
    if (program.call(kernel.name, args, c).backend_used == Backend::cpu) {
      cost.calls.push_back(
          {"generic-cpu", median_call_us([&] { program.call(kernel.name, args, c); })});
    }
  }
  return cost;
}

}  // namespace jagtile::cli::bench
