// The CPU jagged_reduce driver: checks the inputs, resolves the spec, picks the SIMD kernel set
// for this CPU, partitions the work among workers and finishes the items that workers share.
// See reduce_kernel.h for the work model and why it is bitwise deterministic.
#include <cpuid.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "jagtile/cuda.h"
#include "jagtile/error.h"
#include "jagtile/jagged.h"
#include "jagtile/reduce.h"
#include "jagtile/thread_pool.h"
#include "templates/cpu/reduce_kernel.h"

namespace jagtile {
namespace rd = reduce_detail;

namespace {

// Below this many (row + item) elements per worker, extra workers cost more than they save.
constexpr int64_t kMinElementsPerWorker = 1 << 15;
// An item's cost in the worker partition, in rows: its flush.
constexpr int64_t kItemOverhead = 1;
// Outputs at least this large bypass the caches (non-temporal stores): nobody reads them back
// before they would have been evicted anyway, and it saves reading each line before writing it.
constexpr int64_t kStreamingStoreBytes = 16 << 20;

// F16C from CPUID: clang 14's __builtin_cpu_supports does not know the "f16c" feature name.
bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}

}  // namespace

float* rd::carry_tail_zeroed(WorkerCarry& carry, int64_t n) {
  carry.tail.assign(size_t(n), 0.0f);
  return carry.tail.data();
}

void rd::carry_set_head(WorkerCarry& carry, const float* values, int64_t n) {
  carry.head.assign(values, values + n);
}

const rd::KernelTable& rd::active_kernels() {
  static const rd::KernelTable* table = [] {
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    // JAGTILE_CPU_ISA can only lower the path: forcing an unsupported one would crash.
    if (const char* forced = std::getenv("JAGTILE_CPU_ISA")) {
      std::string f = forced;
      if (f == "portable") avx2 = avx512 = false;
      if (f == "avx2") avx512 = false;
    }
    if (avx512) return &rd::isa_avx512::kernel_table;
    if (avx2) return &rd::isa_avx2::kernel_table;
    return &rd::isa_portable::kernel_table;
  }();
  return *table;
}

namespace {

// Checks every input and returns the offsets the kernels read (i64 narrowed to i32 when they
// fit), all in one pass over the offsets.
Tensor check_inputs(const Tensor& values, const Tensor& offsets, const ReduceSpec& spec) {
  if (!values.defined())
    throw UserError("jagged_reduce: '" + spec.values_name + "' is an undefined tensor");
  if (values.dim() != 1 && values.dim() != 2) {
    throw UserError("jagged_reduce: '" + spec.values_name +
                        "' must have rank 1 [N] or 2 [N, M], got shape " + values.shape_str(),
                    "flatten trailing dimensions into M with values.view({N, -1})");
  }
  if (!dtype_is_float(values.dtype()) || values.dtype() == DType::f64) {
    throw UserError("jagged_reduce: '" + spec.values_name +
                        "' must be float32, float16 or bfloat16, got " +
                        std::string(dtype_name(values.dtype())),
                    values.dtype() == DType::f64
                        ? "the template accumulates in fp32; for float64 write the reduction as a "
                          "kernel (generated code computes float64 in double)"
                        : "convert the values to a float dtype first");
  }
  if (!offsets.defined())
    throw UserError("jagged_reduce: '" + spec.offsets_name + "' is an undefined tensor");
  if (!(offsets.device() == values.device())) {
    throw UserError("jagged_reduce: '" + spec.offsets_name + "' is on " + offsets.device().str() +
                        " but '" + spec.values_name + "' is on " + values.device().str(),
                    "move both tensors to the same device");
  }
  Tensor checked_offsets = values.device().is_cpu()
                               ? validate_and_narrow_offsets(offsets, spec.offsets_name,
                                                             values.size(0), spec.values_name)
                               : offsets;
  if (!values.device().is_cpu()) {
    validate_offsets(offsets, spec.offsets_name, values.size(0), spec.values_name);
  }
  const int64_t num_items = offsets.numel() - 1;
  const int64_t num_cols = values.dim() == 2 ? values.size(1) : 1;
  if (spec.feature_counts.defined()) {
    if (!(spec.feature_counts.device() == values.device())) {
      throw UserError("jagged_reduce: '" + spec.counts_name + "' is on " +
                          spec.feature_counts.device().str() + " but '" + spec.values_name +
                          "' is on " + values.device().str(),
                      "move both tensors to the same device");
    }
    validate_feature_counts(spec.feature_counts, spec.counts_name, num_items, num_cols);
  }
  if (spec.out_dtype && (!dtype_is_float(*spec.out_dtype) || *spec.out_dtype == DType::f64)) {
    throw UserError("jagged_reduce: out_dtype must be float32, float16 or bfloat16, got " +
                    std::string(dtype_name(*spec.out_dtype)));
  }
  if (spec.chunk_rows < 1) {
    throw UserError("jagged_reduce: chunk_rows must be at least 1, got " +
                    std::to_string(spec.chunk_rows));
  }
  if (spec.num_threads < 0) {
    throw UserError("jagged_reduce: num_threads must be 0 (default) or positive, got " +
                    std::to_string(spec.num_threads));
  }
  return checked_offsets;
}

Shape output_shape(const Tensor& values, const Tensor& offsets) {
  Shape shape{offsets.numel() - 1};
  if (values.dim() == 2) shape.push_back(values.size(1));
  return shape;
}

void check_output(const Tensor& out, const Shape& shape, DType dtype, Device device) {
  if (!out.defined()) throw UserError("jagged_reduce_into: 'out' is an undefined tensor");
  if (out.shape() != shape) {
    throw UserError("jagged_reduce_into: 'out' has shape " + out.shape_str() +
                    " but the result has shape " + shape_to_string(shape));
  }
  if (out.dtype() != dtype) {
    throw UserError("jagged_reduce_into: 'out' has dtype " + std::string(dtype_name(out.dtype())) +
                    " but the spec's output dtype is " + std::string(dtype_name(dtype)));
  }
  if (!(out.device() == device)) {
    throw UserError("jagged_reduce_into: 'out' is on " + out.device().str() +
                    " but 'values' is on " + device.str());
  }
}

// offsets: already checked (and narrowed) by check_inputs.
void run_cpu(const Tensor& values, const Tensor& narrowed, const ReduceSpec& spec, Tensor& out) {
  rd::ReduceArgs a;
  a.values = values.raw_data();
  a.in_dtype = values.dtype();
  a.num_cols = values.dim() == 2 ? values.size(1) : 1;
  a.offsets = narrowed.raw_data();
  a.offsets_i64 = narrowed.dtype() == DType::i64;
  a.num_items = narrowed.numel() - 1;
  if (spec.feature_counts.defined()) {
    a.counts = spec.feature_counts.raw_data();
    a.counts_i64 = spec.feature_counts.dtype() == DType::i64;
  }
  a.combine = spec.op == ReduceOp::mean ? ReduceOp::sum : spec.op;
  a.post = spec.effective_post();
  a.init = spec.effective_init();
  a.post_value = spec.post_value;
  a.masked_value = spec.masked_value;
  a.out = out.raw_data();
  a.out_dtype = out.dtype();
  a.chunk_rows = spec.chunk_rows;
  a.streaming_stores = out.nbytes() >= kStreamingStoreBytes;
  if (a.num_items == 0) return;

  ThreadPool& pool = spec.pool ? *spec.pool : ThreadPool::global();
  const int64_t elements = (a.offset(a.num_items) - a.offset(0) + a.num_items) * a.num_cols;
  int64_t workers = spec.num_threads > 0 ? spec.num_threads : pool.size();
  workers = std::clamp<int64_t>(elements / kMinElementsPerWorker, 1, workers);

  // Worker runs of equal cost on the chunk grid (templates/common/partition.h), an item costing
  // its rows plus one (its flush). Distinct boundaries only: two workers' targets can snap to the
  // same chunk, and an empty range in the middle of an item would break the "next worker
  // continues it" chain phase 2 follows.
  std::vector<rd::Position> bounds;
  for (const rd::Position& p :
       partition::worker_starts(a.offsets_view(), workers, a.chunk_rows, kItemOverhead)) {
    if (bounds.empty() || !(p == bounds.back())) bounds.push_back(p);
  }
  const rd::KernelTable& kernels = rd::active_kernels();
  std::vector<rd::WorkerCarry> carry(bounds.size() - 1);
  if (carry.empty()) return;
  pool.run(int(carry.size()), [&](int w) {
    kernels.run_worker(a, bounds[size_t(w)], bounds[size_t(w) + 1], carry[size_t(w)]);
  });

  // Phase 2: an item started by worker w and continued by later workers is folded, chunk by
  // chunk in order, by the worker that owns its last chunk (the last one whose tail it is).
  bool any_shared = false;
  for (const auto& c : carry) any_shared = any_shared || c.head_item >= 0;
  if (!any_shared) return;
  pool.run(int(carry.size()), [&](int w) {
    const int64_t item = carry[size_t(w)].tail_item;
    if (item < 0) return;
    const bool last_owner = size_t(w) + 1 == carry.size() || carry[size_t(w) + 1].tail_item != item;
    if (!last_owner) return;
    int64_t first = w;
    while (first > 0 && carry[size_t(first) - 1].head_item != item) --first;
    JAGTILE_CHECK(first > 0, << "shared item " << item << " has no starting worker");
    std::vector<float> acc = carry[size_t(first) - 1].head;
    const int64_t cols = int64_t(acc.size());
    for (int64_t v = first; v <= w; ++v) {
      const rd::WorkerCarry& c = carry[size_t(v)];
      JAGTILE_CHECK(c.tail_item == item, << "worker " << v << " does not continue item " << item);
      for (int64_t k = 0; k < c.tail_chunks; ++k) {
        kernels.fold(a, acc.data(), c.tail.data() + k * cols, cols);
      }
    }
    kernels.flush(a, item, acc.data());
  });
}

}  // namespace

namespace {
volatile float g_stream_read_sink;  // keeps the probe's reads from being optimised away
}

void stream_read(ThreadPool& pool, int workers, const void* data, int64_t bytes) {
  const int64_t n = bytes / int64_t(sizeof(float));
  std::vector<float> partial(static_cast<size_t>(workers), 0.0f);
  pool.run(workers, [&](int w) {
    const int64_t lo = n * w / workers, hi = n * (w + 1) / workers;
    partial[size_t(w)] =
        rd::active_kernels().read_stream(static_cast<const float*>(data) + lo, hi - lo);
  });
  float sum = 0;
  for (float x : partial) sum += x;
  g_stream_read_sink = sum;
}

double fma_stream(ThreadPool& pool, int workers, int64_t steps) {
  std::vector<double> flops(static_cast<size_t>(workers), 0.0);
  std::vector<float> sink(static_cast<size_t>(workers), 0.0f);
  pool.run(workers, [&](int w) {
    flops[size_t(w)] = rd::active_kernels().fma_stream(steps, &sink[size_t(w)]);
  });
  float sum = 0;
  for (float x : sink) sum += x;
  g_stream_read_sink = sum;
  double total = 0;
  for (double f : flops) total += f;
  return total;
}

std::string_view reduce_cpu_isa() {
  return rd::active_kernels().isa;
}

namespace {
// Runs on checked inputs; `checked_offsets` is what check_inputs returned.
void reduce_checked(const Tensor& values, const Tensor& offsets, const Tensor& checked_offsets,
                    const ReduceSpec& spec, Tensor& out) {
  if (values.device().is_cuda()) {
#ifdef JAGTILE_HAVE_CUDA
    jagged_reduce_cuda(values, offsets, spec, out);
    return;
#else
    throw UserError("jagged_reduce: '" + spec.values_name + "' is on " + values.device().str() +
                        " but this build of jagtile has no CUDA support",
                    "rebuild with nvcc available, or move the tensors to the CPU");
#endif
  }
  run_cpu(values, checked_offsets, spec, out);
}
}  // namespace

void jagged_reduce_into(const Tensor& values, const Tensor& offsets, const ReduceSpec& spec,
                        Tensor& out) {
  const Tensor checked = check_inputs(values, offsets, spec);
  check_output(out, output_shape(values, offsets), spec.out_dtype.value_or(values.dtype()),
               values.device());
  reduce_checked(values, offsets, checked, spec, out);
}

Tensor jagged_reduce(const Tensor& values, const Tensor& offsets, const ReduceSpec& spec) {
  const Tensor checked = check_inputs(values, offsets, spec);
  Tensor out = Tensor::empty(output_shape(values, offsets), spec.out_dtype.value_or(values.dtype()),
                             values.device());
  reduce_checked(values, offsets, checked, spec, out);
  return out;
}

}  // namespace jagtile
