// Benchmark of the generic CPU backend through the public API: effective bandwidth of
// jagged_sum, jagged_softmax and jagged_layer_norm against the same-run streaming read (the
// template library's probe, as `jagtile bench` uses), cold compile and warm load of each
// kernel, and the per-call cost on a tiny input (Program::call and a held Specialised::run).
//   bench_generic [--batch B --features M --max-len L --sparsity S --repeat N --threads T]
//                 [--wide 1] (block sizes: items 4, whole rows of M columns, 64 rows)
//                 [--unchecked 1] [--only KERNEL]
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "jagtile/compiler.h"
#include "jagtile/reduce.h"
#include "jagtile/thread_pool.h"
#include "testing/examples.h"
#include "testing/timing.h"

using namespace jagtile;

namespace {

int64_t tensor_bytes(const ArgMap& args) {
  int64_t b = 0;
  for (const auto& [k, v] : args)
    if (auto* t = std::get_if<Tensor>(&v)) b += t->nbytes();
  return b;
}

// Block sizes that give each column tile whole rows (the --wide variant): items 4, M columns,
// 64 rows, for every loop the kernel has (tile_b, then per pass a column and a row loop).
std::vector<int64_t> wide_block_sizes(const std::string& kernel, int64_t columns) {
  int passes = kernel == "jagged_layer_norm" ? 3 : 1;
  std::vector<int64_t> sizes = {4};
  for (int i = 0; i < passes; ++i) {
    sizes.push_back(columns);
    sizes.push_back(64);
  }
  if (kernel == "jagged_softmax") sizes.push_back(64);
  return sizes;
}

// Cold compile into an empty folder, then the warm load of that entry by a fresh Program.
void compile_costs(const std::string& file, const std::string& kernel, const ArgMap& args,
                   Options o, double* cold_ms, double* warm_ms) {
  std::string dir = (std::filesystem::temp_directory_path() / "jagtile-bench-XXXXXX").string();
  if (!::mkdtemp(dir.data())) return;
  o.cache_dir = dir;
  *cold_ms = Program::from_file(file).specialise(kernel, args, o).prepare().ms;
  *warm_ms = Program::from_file(file).specialise(kernel, args, o).prepare().ms;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
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
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--batch")
      shape.batch = std::atoll(v.c_str());
    else if (a == "--features")
      shape.features = std::atoll(v.c_str());
    else if (a == "--max-len")
      shape.max_len = std::atoll(v.c_str());
    else if (a == "--sparsity")
      shape.sparsity = std::atof(v.c_str());
    else if (a == "--repeat")
      repeat = std::atoi(v.c_str());
    else if (a == "--threads")
      threads = std::atoi(v.c_str());
    else if (a == "--wide")
      wide = std::atoi(v.c_str());
    else if (a == "--unchecked")
      unchecked = std::atoi(v.c_str());
    else if (a == "--only")
      only = v;
    else {
      std::fprintf(stderr, "bench_generic: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const int workers = threads > 0 ? threads : default_num_threads();
  const char* env_root = std::getenv("JAGTILE_SOURCE_DIR");
  const std::string root = env_root && *env_root ? env_root : ".";  // run from the source root
  std::printf("shape: B=%lld M=%lld max_len=%lld sparsity=%.2f threads=%d\n",
              (long long)shape.batch, (long long)shape.features, (long long)shape.max_len,
              shape.sparsity, workers);
  std::printf("%-18s %10s %10s %8s %9s %12s %10s\n", "kernel", "median_ms", "GB/s", "peak", "%peak",
              "cold_ms", "warm_ms");
  for (const char* name : {"jagged_sum", "jagged_softmax", "jagged_layer_norm"}) {
    if (!only.empty() && only != name) continue;
    const ExampleInfo* info = find_example(name);
    const std::string file = root + "/" + info->file;
    Program p = Program::from_file(file);
    ArgMap args = info->make_inputs(shape, DType::f32, DType::i32);
    Options o;
    o.backend = Backend::cpu;
    o.num_threads = threads;
    o.checked = !unchecked;
    if (wide) o.config.block_sizes = wide_block_sizes(name, shape.features);
    CallResult first = p.call(name, args, o);
    int64_t bytes = tensor_bytes(args);
    for (const Tensor& t : first.outputs) bytes += t.nbytes();
    double cold_ms = 0, warm_ms = 0;
    compile_costs(file, name, args, o, &cold_ms, &warm_ms);

    // Interleaved rounds: the peak (a streaming read of a buffer the size of the inputs, on the
    // pool the kernels run on), then the kernel.
    std::vector<float> buffer(size_t(std::max<int64_t>(tensor_bytes(args) / 4, 1024)), 1.0f);
    const int64_t buffer_bytes = int64_t(buffer.size() * sizeof(float));
    TimingSamples peak, kernel;
    for (int r = 0; r < repeat; ++r) {
      peak.ms.push_back(time_ms(
          [&] { stream_read(ThreadPool::global(), workers, buffer.data(), buffer_bytes); }));
      kernel.ms.push_back(time_ms([&] { p.call(name, args, o); }));
    }
    const double gbps = double(bytes) / (kernel.median() * 1e6);
    const double peak_gbps = double(buffer_bytes) / (peak.median() * 1e6);
    std::printf("%-18s %10.3f %10.2f %8.2f %8.1f%% %12.1f %10.3f\n", name, kernel.median(), gbps,
                peak_gbps, 100 * gbps / peak_gbps, cold_ms, warm_ms);
  }
  // Per-call cost on a tiny input: through Program::call (bind, cache lookup, backend choice)
  // and through a held Specialised (bind and run only).
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
    Specialised s = p.specialise("jagged_sum", args, o);
    s.run(args);
    TimingSamples call, held;
    for (int i = 0; i < 2000; ++i) {
      call.ms.push_back(time_ms([&] { p.call("jagged_sum", args, o); }));
      held.ms.push_back(time_ms([&] { s.run(args); }));
    }
    std::printf("tiny jagged_sum call: %.2f us through Program::call, %.2f us on a Specialised\n",
                call.median() * 1e3, held.median() * 1e3);
  }
  return 0;
}
