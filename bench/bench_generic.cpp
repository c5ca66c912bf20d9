// Benchmark of the generic CPU backend (issue 4 targets): effective bandwidth of jagged_sum,
// jagged_softmax and jagged_layer_norm against a same-run streaming read of a buffer the size
// of the input, cold compile time per kernel, warm load time from the disk cache, and the
// per-call overhead of a loaded kernel on a tiny input.
//   bench_generic [--batch B --features M --max-len L --sparsity S --repeat N --threads T]
//                 [--wide 1] [--unchecked 1] [--only KERNEL]   (block sizes: items 4, columns M,
//                 rows 64, instead of defaults)
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "codegen/cpu/backend.h"
#include "codegen/cpu/emit_cpp.h"
#include "codegen/cpu/jit.h"
#include "jagtile/thread_pool.h"
#include "runtime/examples.h"
#include "runtime/program_impl.h"

using namespace jagtile;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

template <typename Fn>
double median_seconds(int repeat, Fn fn) {
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = Clock::now();
    fn();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Streaming read of `bytes` bytes on the pool's threads: the machine's practical read limit.
double stream_read_gbps(int64_t bytes, int threads, int repeat) {
  int64_t n = bytes / 4;
  std::vector<float> buf(size_t(n), 1.0f);
  ThreadPool pool(threads);
  std::vector<float> sums(size_t(threads), 0);
  double s = median_seconds(repeat, [&] {
    pool.run(threads, [&](int w) {
      int64_t b = n * w / threads, e = n * (w + 1) / threads;
      float acc[16] = {};
      for (int64_t i = b; i + 16 <= e; i += 16)
        for (int j = 0; j < 16; ++j) acc[j] += buf[size_t(i + j)];
      float t = 0;
      for (float a : acc) t += a;
      sums[size_t(w)] = t;
    });
  });
  return double(bytes) / s / 1e9;
}

std::string read_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  std::string s;
  if (!f) return s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

int64_t tensor_bytes(const ArgMap& args) {
  int64_t b = 0;
  for (const auto& [k, v] : args)
    if (auto* t = std::get_if<Tensor>(&v)) b += t->nbytes();
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  JaggedShape shape;
  shape.batch = 1024;
  shape.features = 256;
  shape.max_len = 512;
  shape.sparsity = 0.5;
  int repeat = 10, threads = 0, wide = 0, unchecked = 0;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--batch")
      shape.batch = std::atoll(argv[i + 1]);
    else if (a == "--features")
      shape.features = std::atoll(argv[i + 1]);
    else if (a == "--max-len")
      shape.max_len = std::atoll(argv[i + 1]);
    else if (a == "--sparsity")
      shape.sparsity = std::atof(argv[i + 1]);
    else if (a == "--repeat")
      repeat = std::atoi(argv[i + 1]);
    else if (a == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (a == "--wide")
      wide = std::atoi(argv[i + 1]);
  }
  int nthreads = threads > 0 ? threads : default_num_threads();
  const char* env_root = std::getenv("JAGTILE_SOURCE_DIR");
  std::string root = env_root && *env_root ? env_root : ".";  // run from the source root
  std::printf("shape: B=%lld M=%lld max_len=%lld sparsity=%.2f threads=%d\n",
              (long long)shape.batch, (long long)shape.features, (long long)shape.max_len,
              shape.sparsity, nthreads);
  std::printf("%-18s %10s %10s %8s %9s %12s %10s\n", "kernel", "median_ms", "GB/s", "peak", "%peak",
              "cold_comp_s", "warm_ms");
  for (const char* name : {"jagged_sum", "jagged_softmax", "jagged_layer_norm"}) {
    if (!only.empty() && only != name) continue;
    const ExampleInfo* info = find_example(name);
    std::string text = read_file(root + "/" + info->file);
    if (wide) {
      // Whole rows per column tile: one block of M columns, 64 rows, 4 items.
      std::string m = std::to_string(shape.features), sizes = "[4";
      int loops = std::string(name) == "jagged_sum"       ? 1
                  : std::string(name) == "jagged_softmax" ? 1
                                                          : 3;
      for (int i = 0; i < loops; ++i) sizes += ", " + m + ", 64";
      if (std::string(name) == "jagged_softmax") sizes += ", 64";
      sizes += "]";
      size_t at = text.find("@helion.kernel()");
      text.replace(at, 16, "@helion.kernel(config=helion.Config(block_sizes=" + sizes + "))");
    }
    Program p = Program::from_source(text, info->file);
    ArgMap args = info->make_inputs(shape, DType::f32, DType::i32);
    Options o;
    o.backend = Backend::cpu;
    o.num_threads = threads;
    o.checked = !unchecked;
    CallResult first = p.call(name, args, o);
    int64_t bytes = tensor_bytes(args);
    for (const Tensor& t : first.outputs) bytes += t.nbytes();
    // Cold compile and warm load, in a private cache folder.
    auto bound = p.impl()->bind(0, args);
    auto spec = p.impl()->specialise(0, bound, o);
    codegen::cpu::EmitOptions eo;
    codegen::cpu::CpuSource src = codegen::cpu::generate_cpu_source(spec->kernel, eo);
    char tmpl[] = "/tmp/jagtile-bench-XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    codegen::cpu::JitStats cold, warm;
    { codegen::cpu::Jit(dir).load(src.code, src.function, &cold); }
    { codegen::cpu::Jit(dir).load(src.code, src.function, &warm); }
    std::string rm = "rm -rf '" + dir + "'";
    if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());

    double s = median_seconds(repeat, [&] { p.call(name, args, o); });
    double gbps = double(bytes) / s / 1e9;
    double peak = stream_read_gbps(tensor_bytes(args), nthreads, repeat);
    std::printf("%-18s %10.3f %10.2f %8.2f %8.1f%% %12.3f %10.3f\n", name, s * 1e3, gbps, peak,
                100 * gbps / peak, cold.seconds, warm.seconds * 1e3);
  }
  // Per-call overhead: a loaded kernel on a tiny input, through the public API.
  {
    const ExampleInfo* info = find_example("jagged_sum");
    Program p = Program::from_file(root + "/" + info->file);
    JaggedShape tiny;
    tiny.batch = 4;
    tiny.features = 4;
    tiny.max_len = 4;
    ArgMap args = info->make_inputs(tiny, DType::f32, DType::i32);
    Options o;
    o.backend = Backend::cpu;
    p.call("jagged_sum", args, o);
    double s = median_seconds(2000, [&] { p.call("jagged_sum", args, o); });
    auto bound = p.impl()->bind(0, args);
    auto spec = p.impl()->specialise(0, bound, o);
    double direct = median_seconds(
        2000, [&] { codegen::cpu::run_generic_cpu(spec, spec->kernel, bound.values, o); });
    std::printf("tiny jagged_sum call: %.2f us through Program::call, %.2f us in the backend\n",
                s * 1e6, direct * 1e6);
  }
  return 0;
}
