// `jagtile bench`: times every implementation of one kernel on the same inputs (the template
// through the compiler, the generic CPU backend, the interpreter on small inputs, the bundled
// example's hand-written reference, and the library template called directly), next to the
// machine's streaming-read peak measured in the same run. Every implementation's result is
// checked before it is timed; rounds are interleaved so that a shared machine's noise hits
// them alike; the table (or --json, DESIGN section 5) reports medians and minimums.
#include "cli_bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "jagtile/cuda.h"
#include "jagtile/error.h"
#include "jagtile/reduce.h"
#include "jagtile/thread_pool.h"

namespace jagtile::cli {
namespace {

using bench::Samples;

// The interpreter runs tile by tile; past this many input elements it would dominate the run.
constexpr int64_t kInterpMaxElements = int64_t(2) << 20;
// Rounds of the slow implementations (interpreter, reference): enough for a stable median.
constexpr int kSlowRounds = 3;
constexpr int kDefaultRepeat = 11;
constexpr int kPeakReadsPerRound = 3;

struct Impl {
  std::string name;
  std::function<std::vector<Tensor>()> run;
  bool slow = false;
  Samples samples;
};

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string shape_text(const KernelInfo& kernel, const CommandLine& cl, const ArgMap& args) {
  std::ostringstream os;
  if (const ExampleInfo* ex = example_for(kernel); ex && cl.raw_args.empty()) {
    os << "batch=" << cl.shape.batch << " features=" << cl.shape.features
       << " max_len=" << cl.shape.max_len << " sparsity=" << cl.shape.sparsity
       << " dist=" << length_dist_name(cl.shape.dist) << " dtype=" << dtype_name(cl.dtype)
       << " offsets=" << dtype_name(cl.offsets_dtype) << " seed=" << cl.shape.seed;
    if (ex->uses_heads) os << " heads=" << cl.shape.heads << " head_dim=" << cl.shape.head_dim;
    return os.str();
  }
  const char* sep = "";
  for (const auto& [name, value] : args) {
    os << sep << name << "=";
    if (const Tensor* t = std::get_if<Tensor>(&value)) {
      os << dtype_name(t->dtype()) << t->shape_str();
    } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
      os << *i;
    } else if (const double* d = std::get_if<double>(&value)) {
      os << *d;
    } else {
      os << "none";
    }
    sep = " ";
  }
  return os.str();
}

int64_t tensor_elements(const ArgMap& args, int64_t* bytes) {
  int64_t elements = 0;
  for (const auto& [_, value] : args) {
    if (const Tensor* t = std::get_if<Tensor>(&value)) {
      elements += t->numel();
      *bytes += t->nbytes();
    }
  }
  return elements;
}

// Compares one implementation's outputs with the expected ones; returns the first mismatch,
// empty when they agree.
std::string mismatch(const std::vector<Tensor>& actual, const std::vector<Expected>& expected,
                     const std::function<Tolerance(DType)>& tolerance) {
  if (actual.size() != expected.size()) {
    return "returned " + std::to_string(actual.size()) + " output(s), expected " +
           std::to_string(expected.size());
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    Comparison c = compare_tensors(actual[i], expected[i], tolerance(expected[i].value.dtype()));
    if (!c.ok) return "output " + std::to_string(i) + ": " + c.mismatch;
  }
  return {};
}

double rows_median(const std::vector<Impl>& impls, const std::string& name) {
  for (const Impl& i : impls) {
    if (i.name == name) return i.samples.median();
  }
  return NAN;
}

struct Row {
  std::string impl;
  double median_ms, min_ms, gbps, pct_of_peak, speedup;  // speedup NaN without a reference
  double gflops = NAN, pct_of_flop_peak = NAN;           // matmul-class kernels only
  double pct_of_bf16_peak = NAN;                         // and bf16 inputs
};

// The same run's FLOP peak, for kernels with a useful-FLOP count.
struct FlopPeak {
  double flops = 0;     // useful FLOPs of one call (0: not a matmul-class kernel)
  double gflops = NAN;  // the FMA probe's median rate
  // On bf16 inputs, the bf16 probe's median rate and its unit (bf16_probe_unit); NaN otherwise.
  double bf16_gflops = NAN;
  std::string bf16_unit;
};

void print_json(const std::string& kernel, const std::string& shape, int64_t bytes,
                int64_t valid_bytes, double peak_gbps, const FlopPeak& flop_peak, int threads,
                const std::vector<Row>& rows, const bench::CompileCost& compile,
                const bench::TinyCost& tiny, const std::vector<std::string>& notes) {
  auto num = [](double v, const char* f) { return std::isfinite(v) ? fmt(f, v) : "null"; };
  std::ostringstream os;
  os << "{\"kernel\": " << json_string(kernel) << ", \"shape\": " << json_string(shape)
     << ", \"bytes\": " << bytes;
  if (valid_bytes > 0) os << ", \"valid_bytes\": " << valid_bytes;
  os << ", \"peak_read_gbps\": " << num(peak_gbps, "%.3f");
  if (flop_peak.flops > 0)
    os << ", \"useful_flops\": " << fmt("%.0f", flop_peak.flops)
       << ", \"peak_f32_gflops\": " << num(flop_peak.gflops, "%.2f");
  if (std::isfinite(flop_peak.bf16_gflops))
    os << ", \"peak_bf16_gflops\": " << num(flop_peak.bf16_gflops, "%.2f")
       << ", \"bf16_probe_unit\": " << json_string(flop_peak.bf16_unit);
  os << ", \"threads\": " << threads << ", \"isa\": " << json_string(std::string(reduce_cpu_isa()))
     << ",\n \"results\": [";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    os << (i ? ",\n  " : "\n  ") << "{\"impl\": " << json_string(r.impl)
       << ", \"median_ms\": " << num(r.median_ms, "%.4f")
       << ", \"min_ms\": " << num(r.min_ms, "%.4f") << ", \"gbps\": " << num(r.gbps, "%.3f")
       << ", \"pct_of_peak\": " << num(r.pct_of_peak, "%.2f")
       << ", \"speedup_vs_reference\": " << num(r.speedup, "%.3f");
    if (flop_peak.flops > 0)
      os << ", \"gflops\": " << num(r.gflops, "%.3f")
         << ", \"pct_of_flop_peak\": " << num(r.pct_of_flop_peak, "%.2f");
    if (std::isfinite(flop_peak.bf16_gflops))
      os << ", \"pct_of_bf16_peak\": " << num(r.pct_of_bf16_peak, "%.2f");
    os << "}";
  }
  os << "],\n \"compile\": ";
  if (compile.measured) {
    os << "{\"cold_ms\": " << fmt("%.2f", compile.cold_ms)
       << ", \"warm_load_ms\": " << fmt("%.3f", compile.warm_load_ms)
       << ", \"method\": \"JIT into an empty temporary cache folder, then a fresh JIT loading "
          "that folder's entry\"}";
  } else {
    os << "null";
  }
  os << ",\n \"tiny_call_us\": {";
  for (size_t i = 0; i < tiny.calls.size(); ++i) {
    os << (i ? ", " : "") << json_string(tiny.calls[i].impl) << ": "
       << fmt("%.2f", tiny.calls[i].us);
  }
  os << "}, \"tiny_shape\": " << json_string(tiny.shape) << ",\n \"notes\": [";
  for (size_t i = 0; i < notes.size(); ++i) os << (i ? ", " : "") << json_string(notes[i]);
  os << "]}\n";
  std::cout << os.str();
}

void print_table(const std::string& kernel, const std::string& shape, int64_t bytes,
                 double peak_gbps, const FlopPeak& flop_peak, int threads,
                 const std::vector<Row>& rows, const bench::CompileCost& compile,
                 const bench::TinyCost& tiny, const std::vector<std::string>& notes) {
  std::printf("%s: %s\n", kernel.c_str(), shape.c_str());
  std::printf(
      "bytes: %.2f MB (minimum traffic: inputs read once, outputs written once); peak: %.2f GB/s "
      "(same-run streaming read, %d threads, %s)\n",
      double(bytes) / 1e6, peak_gbps, threads, std::string(reduce_cpu_isa()).c_str());
  const bool flops = flop_peak.flops > 0;
  if (flops)
    std::printf(
        "useful FLOPs: %.3g per call; FLOP peak: %.1f GFLOP/s (same-run f32 FMA probe, %d "
        "threads)\n",
        flop_peak.flops, flop_peak.gflops, threads);
  const bool bf16 = std::isfinite(flop_peak.bf16_gflops);
  if (bf16)
    std::printf("bf16 peak: %.1f GFLOP/s (same-run bf16 probe on %s, %d threads)\n",
                flop_peak.bf16_gflops, flop_peak.bf16_unit.c_str(), threads);
  std::printf("%-16s %10s %9s %11s %10s", "Implementation", "Time (ms)", "GB/s", "% of peak",
              "Speedup");
  std::printf(flops ? " %9s %12s" : "\n", "GFLOP/s", "% FLOP peak");
  if (flops) std::printf(bf16 ? " %12s\n" : "\n", "% bf16 peak");
  for (const Row& r : rows) {
    std::string speedup = "n/a";
    if (r.impl == "reference") {
      speedup = "1.0x (ref)";
    } else if (std::isfinite(r.speedup)) {
      speedup = fmt(r.speedup >= 100 ? "%.0fx" : "%.1fx", r.speedup);
    }
    std::printf("%-16s %10.3f %9.2f %10.0f%% %10s", r.impl.c_str(), r.median_ms, r.gbps,
                r.pct_of_peak, speedup.c_str());
    if (flops) std::printf(" %9.2f %11.1f%%", r.gflops, r.pct_of_flop_peak);
    if (flops && bf16) std::printf(" %11.1f%%", r.pct_of_bf16_peak);
    std::printf("\n");
  }
  for (const std::string& n : notes) std::printf("note: %s\n", n.c_str());
  if (compile.measured) {
    std::printf(
        "generic-cpu compile: cold %.0f ms (system compiler, empty cache folder), warm load "
        "%.2f ms (disk cache hit, fresh in-memory state)\n",
        compile.cold_ms, compile.warm_load_ms);
  } else if (!compile.note.empty()) {
    std::printf("generic-cpu compile: not measured (%s)\n", compile.note.c_str());
  }
  if (!tiny.calls.empty()) {
    std::printf("per call on a tiny input (%s), median:", tiny.shape.c_str());
    for (size_t i = 0; i < tiny.calls.size(); ++i) {
      std::printf("%s %s %.1f us", i ? "," : "", tiny.calls[i].impl.c_str(), tiny.calls[i].us);
    }
    std::printf("\n");
  } else if (!tiny.note.empty()) {
    std::printf("per call on a tiny input: not measured (%s)\n", tiny.note.c_str());
  }
}

}  // namespace

int bench_command(const CommandLine& cl) {
  Program program = load_program(cl.file);
  const KernelInfo& kernel = *select_kernels(program, cl, false).front();
  ArgMap args = build_args(kernel, cl);
  // With --device cuda the implementations run on copies on the GPU (and wait for it, so that
  // host timers see the whole call); the reference runs on the CPU tensors.
  const bool on_gpu = cl.device.is_cuda();
  const ArgMap run_args = args_on_device(args, cl.device);
  const ExampleInfo* ex = example_for(kernel);
  const int repeat = cl.repeat > 0 ? cl.repeat : kDefaultRepeat;
  const int threads = cl.options.num_threads > 0 ? cl.options.num_threads : default_num_threads();
  const Backend only = cl.options.backend;
  auto wanted = [&](Backend b) { return only == Backend::auto_select || only == b; };
  std::vector<std::string> notes;

  int64_t input_bytes = 0;
  const int64_t input_elements = tensor_elements(args, &input_bytes);

  // The implementations, in table order: every registered backend that runs the kernel (its
  // label from the registry), the template's direct library call after the template.
  std::vector<Impl> impls;
  if (only != Backend::auto_select) {
    std::string names;
    bool built = false;
    for (const BackendInfo& b : backends()) {
      names += (names.empty() ? "" : ", ") + b.name;
      built |= b.id == only;
    }
    if (!built)
      throw UserError("backend '" + std::string(backend_name(only)) +
                          "' is not available in this build, so it cannot be benched",
                      "the backends are: " + names + " (or auto)");
  }
  std::optional<LibraryCall> library;
  std::string template_label;
  for (const BackendInfo& b : backends()) {
    if (!wanted(b.id)) continue;
    Options o = cl.options;
    o.backend = b.id;
    Specialised s = program.specialise(kernel.name, run_args, o);
    const std::string label = impl_label(b.id, s.device());
    if (std::string why = s.why_not(b.id); !why.empty()) {
      if (only == b.id)
        throw UserError(
            "kernel '" + kernel.name + "' cannot be benched on the " + b.name + " backend: " + why,
            "bench it with --backend auto or cpu; `jagtile explain` shows the decision");
      notes.push_back(label + ": not applicable (" +
                      (b.id == Backend::template_lib ? "generic kernel: " : "") + why + ")");
      continue;
    }
    if (b.id == Backend::interp && only != Backend::interp && input_elements > kInterpMaxElements) {
      notes.push_back("interp: skipped (the inputs hold " + std::to_string(input_elements) +
                      " elements; the interpreter is benched up to " +
                      std::to_string(kInterpMaxElements) + ")");
      continue;
    }
    impls.push_back({label,
                     [&program, &kernel, &run_args, o, on_gpu] {
                       std::vector<Tensor> out = program.call(kernel.name, run_args, o).outputs;
                       if (on_gpu) cuda_synchronize();
                       return out;
                     },
                     b.id == Backend::interp});
    if (b.id == Backend::template_lib && (library = s.library_call(run_args))) {
      // The direct call runs right after the template in every round, so that both find the
      // pool's workers and the caches in the same state.
      template_label = label;
      impls.push_back({"library", [&] {
                         std::vector<Tensor> out{
                             jagged_reduce(library->values, library->offsets, library->spec)};
                         if (on_gpu) cuda_synchronize();
                         return out;
                       }});
    }
  }
  if (ex) {
    impls.push_back({"reference",
                     [&] {
                       std::vector<Tensor> out;
                       for (Expected& e : ex->reference(args)) out.push_back(std::move(e.value));
                       return out;
                     },
                     true});
  }

  // Check every implementation once (this also specialises, compiles and warms the caches):
  // against the example's reference, else against the interpreter when it runs.
  std::vector<Expected> expected;
  std::string oracle;
  auto tolerance = ex ? ex->tolerance : std::function<Tolerance(DType)>(default_tolerance);
  std::vector<std::vector<Tensor>> first(impls.size());
  for (size_t i = 0; i < impls.size(); ++i) first[i] = tensors_on_host(impls[i].run());
  for (size_t i = 0; i < impls.size(); ++i) {
    if (ex && impls[i].name == "reference") {
      expected = ex->reference(args);
      oracle = "reference";
    } else if (!ex && impls[i].name == "interp") {
      for (const Tensor& t : first[i]) expected.push_back(Expected{t, {}, {}});
      oracle = "interp";
    }
  }
  if (oracle.empty()) {
    notes.push_back(
        "results not checked: no reference (not a bundled example) and the "
        "interpreter did not run");
  }
  int64_t output_bytes = 0;
  for (size_t i = 0; i < impls.size(); ++i) {
    if (impls[i].name == "reference") continue;
    if (output_bytes == 0) {
      for (const Tensor& t : first[i]) output_bytes += t.nbytes();
    }
    if (oracle.empty() || impls[i].name == oracle) continue;
    std::string m = mismatch(first[i], expected, tolerance);
    // The library call is the template's own: a difference there is our bug, not the kernel's.
    JAGTILE_CHECK(m.empty() || impls[i].name != "library",
                  << "bench: the direct library call differs from the " << oracle << ": " << m);
    if (!m.empty()) {
      throw UserError("jagtile bench: " + impls[i].name + " does not match the " + oracle +
                          " for kernel '" + kernel.name + "': " + m,
                      "run `jagtile run " + cl.file + " --check` with the same shape options");
    }
  }
  first.clear();
  (cl.json ? std::cerr : std::cout) << "checked against the " << (oracle.empty() ? "-" : oracle)
                                    << ": all " << impls.size() << " implementations agree\n";

  // Interleaved rounds: the peak, then one call of each implementation.
  std::stable_partition(impls.begin(), impls.end(), [](const Impl& i) { return !i.slow; });
  const size_t fast =
      size_t(std::count_if(impls.begin(), impls.end(), [](const Impl& i) { return !i.slow; }));
  std::vector<float> buffer(on_gpu ? 0 : size_t(std::max<int64_t>(input_bytes / 4, 1024)), 1.0f);
  // On a GPU the peak is a streaming read of at least 1 GiB, well past the L2 cache, so that
  // the launch and the wait that the host timer also sees are a small part of it.
  Tensor gpu_buffer;
  if (on_gpu) {
    gpu_buffer = Tensor::empty({std::max<int64_t>(input_bytes, int64_t(1) << 30) / 4}, DType::f32,
                               cl.device);
    notes.push_back("peak: a streaming read of " + fmt("%.0f", double(gpu_buffer.nbytes()) / 1e6) +
                    " MB on " + cl.device.str() + " (" + cuda_device_name(cl.device.index) +
                    "), host-timed like the rows; the FLOP peak is not probed on GPUs");
  }
  auto read_peak = [&] {
    if (!on_gpu) return bench::stream_read(buffer, threads);
    (void)cuda_stream_read(gpu_buffer);
    cuda_synchronize();
  };
  Samples peak;
  FlopPeak flop_peak;
  if (ex && ex->useful_flops) flop_peak.flops = ex->useful_flops(args);
  Samples fma_rate;   // GFLOP/s of each round's best probe (a rate: the median of rates)
  Samples bf16_rate;  // likewise, the bf16 probe's, on bf16 inputs
  const bool bf16_probe =
      flop_peak.flops > 0 && !on_gpu && cl.dtype == DType::bf16 && bf16_probe_unit() != "none";
  // A FLOP probe's rate in a round: GFLOP/s of its best of a few runs (a limit, as the read's).
  auto best_rate = [&](const auto& probe) {
    double rate = 0;
    for (int i = 0; i < kPeakReadsPerRound; ++i) {
      double done = 0;
      const double ms = bench::time_ms([&] { done = probe(); });
      rate = std::max(rate, done / (ms * 1e6));
    }
    return rate;
  };
  read_peak();
  for (int r = 0; r < repeat; ++r) {
    // The peak is a limit: a round's figure is its best of a few reads, so that one preemption
    // on a shared machine does not pass for the machine's bandwidth.
    double best = INFINITY;
    for (int i = 0; i < kPeakReadsPerRound; ++i) {
      best = std::min(best, bench::time_ms(read_peak));
    }
    peak.ms.push_back(best);
    if (flop_peak.flops > 0 && !on_gpu)
      fma_rate.ms.push_back(best_rate([&] { return bench::fma_stream(threads); }));
    if (bf16_probe) bf16_rate.ms.push_back(best_rate([&] { return bench::bf16_stream(threads); }));
    // The fast implementations in an order rotated each round, so that none always follows the
    // same neighbour (whose cache and thread-pool state it would inherit); the slow ones last.
    for (size_t j = 0; j < fast; ++j) {
      Impl& impl = impls[(j + size_t(r)) % fast];
      impl.samples.ms.push_back(bench::time_ms([&] { impl.run(); }));
    }
    for (size_t j = fast; j < impls.size() && r < kSlowRounds; ++j) {
      impls[j].samples.ms.push_back(bench::time_ms([&] { impls[j].run(); }));
    }
  }
  const double peak_bytes =
      on_gpu ? double(gpu_buffer.nbytes() / 16 * 16) : double(buffer.size() * sizeof(float));
  const double peak_gbps = peak_bytes / (peak.median() * 1e6);
  if (flop_peak.flops > 0) flop_peak.gflops = on_gpu ? NAN : fma_rate.median();
  if (bf16_probe) {
    flop_peak.bf16_gflops = bf16_rate.median();
    flop_peak.bf16_unit = std::string(bf16_probe_unit());
  }
  buffer = {};
  gpu_buffer = Tensor();

  const int64_t bytes = input_bytes + output_bytes;
  // With per-item feature counts the operation reads only each item's first counts[b] columns;
  // DESIGN's `bytes` counts every element, so the share of peak is also given on that traffic.
  int64_t valid_bytes = 0;
  if (library && library->spec.feature_counts.defined()) {
    const Tensor counts = library->spec.feature_counts.to(Device::cpu());
    const Tensor offsets = library->offsets.to(Device::cpu());
    const Tensor& values = library->values;
    const int64_t cols = values.dim() == 2 ? values.size(1) : 1;
    int64_t valid = 0;
    for (int64_t b = 0; b + 1 < offsets.numel(); ++b) {
      int64_t rows = int64_t(offsets.item_as_double(b + 1) - offsets.item_as_double(b));
      valid += rows * std::clamp<int64_t>(int64_t(counts.item_as_double(b)), 0, cols);
    }
    valid_bytes = bytes - values.nbytes() + valid * int64_t(dtype_size(values.dtype()));
    notes.push_back("only the columns below " + library->spec.counts_name +
                    "[b] are read: " + fmt("%.2f", double(valid_bytes) / 1e6) +
                    " MB; on that traffic the template reaches " +
                    fmt("%.0f", 100.0 * double(valid_bytes) /
                                    (rows_median(impls, template_label) * 1e6) / peak_gbps) +
                    "% of peak");
  }
  double ref_ms = NAN;
  for (const Impl& impl : impls) {
    if (impl.name == "reference") ref_ms = impl.samples.median();
  }
  std::vector<Row> rows;
  for (const Impl& impl : impls) {
    Row r;
    r.impl = impl.name;
    r.median_ms = impl.samples.median();
    r.min_ms = impl.samples.min();
    r.gbps = double(bytes) / (r.median_ms * 1e6);
    r.pct_of_peak = 100.0 * r.gbps / peak_gbps;
    r.speedup = ref_ms / r.median_ms;
    if (flop_peak.flops > 0) {
      r.gflops = flop_peak.flops / (r.median_ms * 1e6);
      r.pct_of_flop_peak = 100.0 * r.gflops / flop_peak.gflops;
      r.pct_of_bf16_peak = 100.0 * r.gflops / flop_peak.bf16_gflops;
    }
    rows.push_back(r);
  }

  bench::CompileCost compile;
  bench::TinyCost tiny;
  if (on_gpu) {
    compile.note = "the CPU compile is not measured with --device " + cl.device.str();
    tiny.note = "not measured with --device " + cl.device.str();
  } else {
    if (wanted(Backend::cpu)) {
      compile = bench::measure_compile(cl.file, kernel.name, args, cl.options);
    }
    tiny = bench::measure_tiny_calls(program, kernel, cl);
  }
  const std::string shape = shape_text(kernel, cl, args);
  if (cl.json) {
    print_json(kernel.name, shape, bytes, valid_bytes, peak_gbps, flop_peak, threads, rows, compile,
               tiny, notes);
  } else {
    print_table(kernel.name, shape, bytes, peak_gbps, flop_peak, threads, rows, compile, tiny,
                notes);
  }
  return 0;
}

}  // namespace jagtile::cli
