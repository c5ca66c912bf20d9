// bench_reduce_cuda: the CUDA jagged_reduce template on the standard cases, next to the device's
// real limit (a streaming read of the same bytes, measured in the same run) and a naive kernel
// (one thread per (item, column), rows read straight from global memory). Times are CUDA events
// around each call, after warm-up; we report medians and minimums. Every case is first checked:
// the template's output must match the naive kernel's (the output is poisoned with NaN first).
//
//   bench_reduce_cuda [--repeat N] [--case NAME] [--json] [--dump DIR] [--device I]
//
// --dump DIR writes DIR/<case>/{values,offsets}.npy (bf16 as uint16 bit patterns, see docs/npy.md)
// so that bench/peers/torch_reduce.py times torch on exactly the same data.
// Without a CUDA device it prints "skipped (no CUDA device)" and exits 0.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../reduce_cases.h"
#include "jagtile/cuda.h"
#include "jagtile/error.h"
#include "jagtile/reduce.h"
#include "testing/datagen.h"
#include "testing/timing.h"

// The benchmark's own CUDA runtime calls (events, its comparison kernels): a failure ends the run
// (main reports it and exits 3).
#define BENCH_CUDA_CHECK(call)                                                          \
  do {                                                                                  \
    const cudaError_t bench_cuda_err_ = (call);                                         \
    if (bench_cuda_err_ != cudaSuccess) {                                               \
      throw std::runtime_error(std::string(#call) +                                     \
                               " failed: " + cudaGetErrorName(bench_cuda_err_) + " (" + \
                               cudaGetErrorString(bench_cuda_err_) + ")");              \
    }                                                                                   \
  } while (0)

namespace {

using namespace jagtile;

// The CPU benchmark's cases (bench_reduce) plus the long-item shape of the CUDA issue.
std::vector<ReduceBenchCase> standard_cases() {
  std::vector<ReduceBenchCase> cases = reduce_bench_cases();
  cases.push_back({"long/f32", {1024, 256, 2048, 0.5, LengthDist::uniform, 6}, DType::f32});
  return cases;
}

// ---- comparison kernels -----------------------------------------------------------------------

template <typename T>
__device__ __forceinline__ float to_float(T v) {
  if constexpr (std::is_same_v<T, float>)
    return v;
  else if constexpr (std::is_same_v<T, __half>)
    return __half2float(v);
  else
    return __bfloat162float(v);
}

template <typename T>
__device__ __forceinline__ T from_float(float v) {
  if constexpr (std::is_same_v<T, float>)
    return v;
  else if constexpr (std::is_same_v<T, __half>)
    return __float2half_rn(v);
  else
    return __float2bfloat16_rn(v);
}

// One thread per (item, column): what a first CUDA port of the loop nest looks like.
template <typename T, typename Off>
__global__ void naive_sum_kernel(const T* values, const Off* offsets, int64_t items, int64_t cols,
                                 T* out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= items * cols) return;
  const int64_t b = i / cols;
  const int64_t c = i - b * cols;
  float acc = 0.0f;
  for (int64_t r = offsets[b]; r < offsets[b + 1]; ++r) acc += to_float(values[r * cols + c]);
  out[i] = from_float<T>(acc);
}

__global__ void fill_nan_kernel(uint32_t* words, int64_t n, uint32_t pattern) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) words[i] = pattern;
}

// ---- timing -----------------------------------------------------------------------------------

using Timing = TimingSamples;

// Times `fn` (which only queues work on the default stream) with a pair of events per repeat.
Timing time_events(const std::function<void()>& fn, int warmup, int repeat) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<cudaEvent_t> events(size_t(2 * repeat));
  for (auto& e : events) BENCH_CUDA_CHECK(cudaEventCreate(&e));
  for (int i = 0; i < repeat; ++i) {
    BENCH_CUDA_CHECK(cudaEventRecord(events[size_t(2 * i)]));
    fn();
    BENCH_CUDA_CHECK(cudaEventRecord(events[size_t(2 * i + 1)]));
  }
  BENCH_CUDA_CHECK(cudaEventSynchronize(events.back()));
  Timing t;
  for (int i = 0; i < repeat; ++i) {
    float ms = 0;
    BENCH_CUDA_CHECK(cudaEventElapsedTime(&ms, events[size_t(2 * i)], events[size_t(2 * i + 1)]));
    t.ms.push_back(ms);
  }
  for (auto& e : events) BENCH_CUDA_CHECK(cudaEventDestroy(e));
  return t;
}

template <typename Off>
void launch_naive(const Tensor& values, const Tensor& offsets, Tensor& out) {
  const int64_t items = offsets.numel() - 1;
  const int64_t cols = values.size(1);
  const int64_t n = items * cols;
  const unsigned blocks = unsigned((n + 255) / 256);
  const Off* off = offsets.data<Off>();
  switch (values.dtype()) {
    case DType::f32:
      naive_sum_kernel<<<blocks, 256>>>(values.data<float>(), off, items, cols, out.data<float>());
      break;
    case DType::f16:
      naive_sum_kernel<<<blocks, 256>>>(values.data<__half>(), off, items, cols,
                                        out.data<__half>());
      break;
    default:
      naive_sum_kernel<<<blocks, 256>>>(values.data<__nv_bfloat16>(), off, items, cols,
                                        out.data<__nv_bfloat16>());
  }
  BENCH_CUDA_CHECK(cudaGetLastError());
}

void naive(const Tensor& values, const Tensor& offsets, Tensor& out) {
  if (offsets.dtype() == DType::i64) {
    launch_naive<int64_t>(values, offsets, out);
  } else {
    launch_naive<int32_t>(values, offsets, out);
  }
}

void poison(Tensor& out) {
  const int64_t words = out.nbytes() / 4;
  // 0x7fc07fc0: a quiet NaN as one fp32 or as two 16-bit floats.
  fill_nan_kernel<<<unsigned((words + 255) / 256), 256>>>(static_cast<uint32_t*>(out.raw_data()),
                                                          words, 0x7fc07fc0u);
  BENCH_CUDA_CHECK(cudaGetLastError());
}

// Largest |template - naive| over the tolerance (fp32 reassociation over the item's rows plus one
// rounding of a 16-bit output); > 1 fails. NaN anywhere (an unwritten element) fails.
double check(const Tensor& got_device, const Tensor& want_device, const std::vector<int64_t>& len) {
  const Tensor got = got_device.to(Device::cpu());
  const Tensor want = want_device.to(Device::cpu());
  const int64_t cols = got.numel() / std::max<int64_t>(1, int64_t(len.size()));
  double worst = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double g = got.item_as_double(i);
    const double w = want.item_as_double(i);
    if (std::isnan(g) || std::isnan(w)) return INFINITY;
    double tol = 2e-6 * double(len[size_t(i / cols)] + 1);
    if (got.dtype() == DType::bf16) tol += std::fabs(w) * 0x1p-7;
    if (got.dtype() == DType::f16) tol += std::fabs(w) * 0x1p-10;
    worst = std::max(worst, std::fabs(g - w) / tol);
  }
  return worst;
}

struct Row {
  std::string case_name, impl;
  int threads;
  double median_ms, min_ms, gbps, pct_of_peak, speedup;
};

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

int run(int argc, char** argv) {
  int repeat = 20;
  int device_index = 0;
  bool json = false;
  std::string only, dump_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UserError("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--repeat") {
      repeat = std::max(1, std::stoi(value()));
    } else if (a == "--case") {
      only = value();
    } else if (a == "--json") {
      json = true;
    } else if (a == "--dump") {
      dump_dir = value();
    } else if (a == "--device") {
      device_index = std::stoi(value());
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: bench_reduce_cuda [--repeat N] [--case NAME] [--json] [--dump DIR] "
          "[--device I]\n");
      return 0;
    } else {
      throw UserError("unknown option " + a, "see bench_reduce_cuda --help");
    }
  }
  if (!cuda_available()) {
    // JSON readers still get a valid (empty) array on stdout.
    if (json) std::printf("[]\n");
    std::fprintf(json ? stderr : stdout, "skipped (no CUDA device)\n");
    return 0;
  }
  const Device device = Device::cuda(device_index);
  const std::string device_name = cuda_device_name(device_index);
  BENCH_CUDA_CHECK(cudaSetDevice(device_index));
  int sms = 0;
  BENCH_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device_index));

  std::vector<Row> rows;
  bool all_ok = true;
  for (const ReduceBenchCase& c : standard_cases()) {
    if (!only.empty() && c.name != only) continue;
    if (!json) std::fprintf(stderr, "bench_reduce_cuda: %s: generating data...\n", c.name.c_str());
    const std::vector<int64_t> lengths = generate_lengths(c.shape);
    int64_t total = 0;
    for (int64_t l : lengths) total += l;
    const DType off_dtype = total < (int64_t(1) << 31) ? DType::i32 : DType::i64;
    const Tensor offsets_host = lengths_to_offsets(lengths, off_dtype);
    const Tensor values_host = random_values({total, c.shape.features}, c.dtype, c.shape.seed);
    if (!dump_dir.empty()) {
      std::string dir = dump_dir + "/" + c.name;
      std::replace(dir.begin() + int64_t(dump_dir.size()) + 1, dir.end(), '/', '_');
      std::filesystem::create_directories(dir);
      write_npy(dir + "/values.npy", values_host);
      write_npy(dir + "/offsets.npy", offsets_host);
    }
    const Tensor values = values_host.to(device);
    const Tensor offsets = offsets_host.to(device);
    const int64_t items = int64_t(lengths.size());
    Tensor out = Tensor::empty({items, c.shape.features}, c.dtype, device);
    Tensor out_naive = Tensor::empty({items, c.shape.features}, c.dtype, device);
    const ReduceSpec spec;

    poison(out);
    poison(out_naive);
    jagged_reduce_cuda(values, offsets, spec, out);
    naive(values, offsets, out_naive);
    const double worst = check(out, out_naive, lengths);
    if (!(worst <= 1.0)) {
      all_ok = false;
      std::fprintf(stderr, "bench_reduce_cuda: %s: CHECK FAILED (worst error %.3g of tolerance)\n",
                   c.name.c_str(), worst);
    }

    const int64_t value_bytes = values.nbytes();
    const int64_t bytes = value_bytes + offsets.nbytes() + out.nbytes();
    const int warmup = 3;
    const Timing t_stream = time_events([&] { (void)cuda_stream_read(values); }, warmup, repeat);
    const Timing t_template =
        time_events([&] { jagged_reduce_cuda(values, offsets, spec, out); }, warmup, repeat);
    const Timing t_naive = time_events([&] { naive(values, offsets, out_naive); }, warmup, repeat);
    BENCH_CUDA_CHECK(cudaDeviceSynchronize());

    const double peak_gbps = double(value_bytes / 16 * 16) / (t_stream.median() * 1e6);
    auto add = [&](const char* impl, const Timing& t, int64_t moved) {
      const double gbps = double(moved) / (t.median() * 1e6);
      rows.push_back(Row{c.name, impl, sms, t.median(), t.min(), gbps, 100.0 * gbps / peak_gbps,
                         t_naive.median() / t.median()});
    };
    add("cuda-template", t_template, bytes);
    add("cuda-naive", t_naive, bytes);
    add("cuda-stream-read", t_stream, value_bytes / 16 * 16);
  }

  if (json) {
    std::printf("[\n");
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      std::printf(
          "  {\"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ms\": %.4f, "
          "\"min_ms\": %.4f, \"gbps\": %.2f, \"pct_of_peak\": %.1f, \"speedup_vs_reference\": "
          "%.2f, \"device\": \"%s\"}%s\n",
          r.case_name.c_str(), r.impl.c_str(), r.threads, r.median_ms, r.min_ms, r.gbps,
          r.pct_of_peak, r.speedup, json_escape(device_name).c_str(),
          i + 1 < rows.size() ? "," : "");
    }
    std::printf("]\n");
  } else {
    std::printf(
        "jagged_reduce (CUDA, %s, %d multiprocessors; peak = same-run streaming read; "
        "speedup vs cuda-naive)\n",
        device_name.c_str(), sms);
    std::printf("%-16s %-17s %10s %10s %8s %8s %9s\n", "Case", "Impl", "Median ms", "Min ms",
                "GB/s", "% peak", "Speedup");
    for (const Row& r : rows) {
      std::printf("%-16s %-17s %10.3f %10.3f %8.1f %7.1f%% %8.2fx\n", r.case_name.c_str(),
                  r.impl.c_str(), r.median_ms, r.min_ms, r.gbps, r.pct_of_peak, r.speedup);
    }
  }
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const jagtile::UserError& e) {
    std::fprintf(stderr, "bench_reduce_cuda: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_reduce_cuda: internal error: %s\n", e.what());
    return 3;
  }
}
