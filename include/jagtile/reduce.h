// jagged_reduce: per-item reduction over the jagged axis, the library template behind every
// reduction-shaped kernel (and callable directly, without the compiler).
//
//   out[b, j] = post(init (+) values[offsets[b]] [j] (+) ... (+) values[offsets[b+1]-1] [j])
//
// where (+) is sum, max or min, accumulated in fp32 whatever the input dtype, and post is
// identity, `acc / nnz`, or `where(nnz > 0, acc / nnz, c)` with nnz = offsets[b+1] - offsets[b].
// With feature_counts, columns j >= feature_counts[b] are not computed: they hold
// masked_value (what a kernel's output allocation holds where its masked stores write nothing).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "jagtile/tensor.h"

namespace jagtile {

class ThreadPool;  // jagtile/thread_pool.h

enum class ReduceOp : uint8_t { sum, mean, max, min };

enum class ReducePost : uint8_t {
  identity,         // out = acc
  divide_by_count,  // out = acc / nnz   (0/0 gives NaN, exactly as the kernel would)
  divide_or_value,  // out = nnz > 0 ? acc / nnz : post_value
};

struct ReduceSpec {
  ReduceOp op = ReduceOp::sum;
  // Accumulator start value; nullopt means the op's identity (0 for sum and mean, -inf for max,
  // +inf for min).
  std::optional<float> init;
  // nullopt: the op's natural post (divide_by_count for mean, identity otherwise).
  std::optional<ReducePost> post;
  float post_value = 0.0f;  // the `c` of divide_or_value
  // Optional per-item count of valid columns, [B], i32 or i64.
  Tensor feature_counts;
  float masked_value = 0.0f;  // written to columns >= feature_counts[b]
  // Output dtype; nullopt means the input dtype.
  std::optional<DType> out_dtype;

  // Rows per work chunk. A property of the spec, never of the thread count, so that the order of
  // floating-point combination (and so every result bit) is the same for any thread count.
  int64_t chunk_rows = 64;
  // Worker count; 0 means the thread pool's size (JAGTILE_NUM_THREADS or the hardware).
  int num_threads = 0;
  // Pool to run on; nullptr means the process-wide default pool.
  ThreadPool* pool = nullptr;
  // Names used in error messages (a compiled kernel passes its own parameter names).
  std::string values_name = "values";
  std::string offsets_name = "offsets";
  std::string counts_name = "feature_counts";

  // Inline so that every backend (CPU, CUDA) resolves the defaults the same way without
  // linking each other.
  ReducePost effective_post() const {
    if (post) return *post;
    return op == ReduceOp::mean ? ReducePost::divide_by_count : ReducePost::identity;
  }
  float effective_init() const {
    if (init) return *init;
    if (op == ReduceOp::max) return -std::numeric_limits<float>::infinity();
    if (op == ReduceOp::min) return std::numeric_limits<float>::infinity();
    return 0.0f;
  }
};

// "sum", "mean", "max" or "min". Inline so that modules that do not link the template library
// (the dispatch detector) name ops the same way.
inline std::string_view reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::mean:
      return "mean";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
  }
  return "?";
}

// values: [N] or [N, M], f32/f16/bf16, on the CPU or (when built with CUDA) a CUDA device.
// offsets: [B+1], i32 or i64, same device as values. Returns out: [B] or [B, M].
// Raises UserError for invalid inputs (see jagged.h) before touching any data.
Tensor jagged_reduce(const Tensor& values, const Tensor& offsets, const ReduceSpec& spec = {});

// Same, writing into a caller-provided output ([B] or [B, M], dtype out_dtype or the input's).
void jagged_reduce_into(const Tensor& values, const Tensor& offsets, const ReduceSpec& spec,
                        Tensor& out);

// The plainly written reference: one loop per item, per column, in row order. CPU only.
Tensor jagged_reduce_reference(const Tensor& values, const Tensor& offsets,
                               const ReduceSpec& spec = {});

// The template library's streaming-read probe: reads `bytes` bytes at `data` (CPU memory) once
// with the SIMD path jagged_reduce runs on, split evenly over `workers` logical workers of `pool`.
// Its time is the machine's practical read limit for that many workers, which benchmarks measure
// in the same run as what they time.
void stream_read(ThreadPool& pool, int workers, const void* data, int64_t bytes);

// The FLOP-peak probe next to it: `steps` steps of independent float32 multiply-add chains in
// registers on each of `workers` workers, with the SIMD path the template (and the generated
// code's matmul microkernel) runs on. Returns the floating-point operations done; FLOPs over its
// time is the machine's practical f32 FMA limit for that many workers.
double fma_stream(ThreadPool& pool, int workers, int64_t steps);

// The bf16 FLOP-peak probe: `steps` steps (about as long as fma_stream's) of independent bf16
// multiply-add chains on each of `workers` workers, on the fastest bf16 unit of this CPU (see
// bf16_probe_unit). Returns the floating-point operations done (a product and its addition count
// two), 0 where the CPU has no bf16 unit.
double bf16_stream(ThreadPool& pool, int workers, int64_t steps);

// The unit bf16_stream runs on: "amx" (AMX-BF16 tiles, which generated code's bf16 matmuls use
// where the CPU has them), "avx512bf16" (vdpbf16ps pairs) or "none".
std::string_view bf16_probe_unit();

// Which SIMD path the CPU template runs on this machine: "avx512", "avx2" or "portable".
// JAGTILE_CPU_ISA=avx2|portable forces a lower path (for testing every path on one machine).
std::string_view reduce_cpu_isa();

}  // namespace jagtile
