// The CUDA jagged_reduce kernels themselves (plan, rows, combine), compiled as host C++ against
// cuda_emulation.h and run on small differential cases against the CPU reference: checks the
// kernels' indexing, alignment shifts, cp.async ring, row-lane butterfly, cut-item partials and
// post/masking on machines without a GPU. (Timing and the real memory model need a GPU.)
#include "cuda_emulation.h"
// The emulation must come first.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "jagtile/reduce.h"
#include "reduce_check.h"
#include "templates/cuda/reduce_device.cuh"

namespace jagtile {
namespace {

namespace cr = cuda_reduce;

template <ReduceOp kOp>
void launch_rows(DType in, const cr::LaunchShape& s, const cr::KernelParams& p) {
  std::function<void()> body;
  switch (in) {
    case DType::f32:
      body = [&] { cr::reduce_rows_kernel<kOp, DType::f32>(p); };
      break;
    case DType::f16:
      body = [&] { cr::reduce_rows_kernel<kOp, DType::f16>(p); };
      break;
    default:
      body = [&] { cr::reduce_rows_kernel<kOp, DType::bf16>(p); };
      break;
  }
  emu::launch(dim3(unsigned(s.num_blocks)), dim3(cr::kWarpsPerBlock * 32),
              size_t(cr::kSmemPerBlock), body);
  if (s.num_workers > 1) {
    // Fewer column groups than columns / 32 when wide: exercises the kernel's column loop.
    emu::launch(dim3(unsigned((s.num_workers + cr::kCombineLanes - 1) / cr::kCombineLanes),
                     unsigned(std::min<int64_t>((s.num_cols + 31) / 32, 3))),
                dim3(32, cr::kCombineLanes), 0, [&] { cr::combine_kernel<kOp>(p); });
  }
}

// What jagged_reduce_cuda does, with host buffers and emulated launches. `resident_warps` stands
// for the device size (so small values force many cut items).
Tensor emulated_reduce(const Input& in, const ReduceSpec& spec, int64_t resident_warps,
                       const void* values = nullptr) {
  const int64_t items = in.offsets.numel() - 1;
  const int64_t cols = in.values.dim() == 2 ? in.values.size(1) : 1;
  Shape out_shape{items};
  if (in.values.dim() == 2) out_shape.push_back(cols);
  Tensor out = Tensor::full(out_shape, 12345.0, spec.out_dtype.value_or(in.values.dtype()));
  if (items == 0 || cols == 0) return out;
  const cr::LaunchShape s = cr::plan_launch(cols, dtype_size(in.values.dtype()), in.values.size(0),
                                            items, resident_warps);
  std::vector<cr::Position> positions(size_t(s.num_workers + 1));
  std::vector<float> workspace(size_t(s.workspace_floats), -777.0f);
  const bool has_counts = spec.feature_counts.defined();
  const cr::KernelParams p = cr::make_kernel_params(
      s, spec, values ? values : in.values.raw_data(),
      cr::OffsetsView{in.offsets.raw_data(), in.offsets.dtype() == DType::i64, items},
      has_counts ? spec.feature_counts.raw_data() : nullptr,
      has_counts && spec.feature_counts.dtype() == DType::i64, out.raw_data(), out.dtype(),
      workspace.data(), positions.data());
  // The plan kernel has no barriers: run its threads one by one.
  emu::block_dim = dim3(1);
  for (int64_t w = 0; w <= s.num_workers; ++w) {
    emu::block_index = dim3(unsigned(w));
    emu::thread_index = dim3(0);
    cr::plan_kernel(p.offsets, s.num_workers, spec.chunk_rows, s.item_overhead, p.positions);
  }
  switch (spec.op) {
    case ReduceOp::max:
      launch_rows<ReduceOp::max>(in.values.dtype(), s, p);
      break;
    case ReduceOp::min:
      launch_rows<ReduceOp::min>(in.values.dtype(), s, p);
      break;
    default:
      launch_rows<ReduceOp::sum>(in.values.dtype(), s, p);
      break;
  }
  return out;
}

TEST(CudaReduceEmulated, DifferentialGrid) {
  const std::vector<std::string> dists{"uniform",   "empty-first", "empty-last",
                                       "all-empty", "one-huge",    "tiny"};
  uint64_t seed = 100;
  for (const std::string& dist : dists) {
    for (int64_t cols : {1, 3, 17, 129, 300}) {
      const DType dtype = std::vector<DType>{DType::f32, DType::bf16, DType::f16}[seed % 3];
      const DType off_dtype = (seed % 2) ? DType::i32 : DType::i64;
      std::vector<int64_t> lengths = lengths_for(dist, 12, seed);
      if (dist == "one-huge") lengths[6] = 700;
      const Input in = make_input(lengths, cols, cols != 1, dtype, off_dtype, seed);
      ++seed;
      for (ReduceOp op : {ReduceOp::sum, ReduceOp::max}) {
        ReduceSpec spec;
        spec.op = op;
        spec.init = 0.125f;  // must enter once, whatever the row lanes and cuts
        spec.chunk_rows = dist == "one-huge" ? 5 : 64;
        const std::string what =
            dist + " M=" + std::to_string(cols) + " " + std::string(dtype_name(dtype)) + " " +
            std::string(dtype_name(off_dtype)) + " " + std::string(reduce_op_name(op));
        expect_close(in, spec, emulated_reduce(in, spec, 16), what);
      }
    }
  }
}

TEST(CudaReduceEmulated, ManyWorkersCutItems) {
  // Chunks of 1..7 rows over 24 workers: nearly every item is cut, most workers combine.
  const Input in = make_input(lengths_for("uniform", 20, 7), 40, true, DType::f32, DType::i64, 7);
  for (int64_t chunk : {1, 7}) {
    for (ReduceOp op : {ReduceOp::sum, ReduceOp::min}) {
      ReduceSpec spec;
      spec.op = op;
      spec.chunk_rows = chunk;
      spec.init = op == ReduceOp::sum ? 0.5f : 0.25f;
      expect_close(in, spec, emulated_reduce(in, spec, 24),
                   "chunk_rows=" + std::to_string(chunk) + " " + std::string(reduce_op_name(op)));
    }
  }
}

TEST(CudaReduceEmulated, InitPostCountsAndOutputDtypes) {
  const Input in =
      make_input(lengths_for("empty-middle", 10, 4), 33, true, DType::bf16, DType::i32, 4);
  std::vector<double> counts;
  for (int b = 0; b < 10; ++b) counts.push_back(double((b * 7) % 34));
  for (DType out_dtype : {DType::f32, DType::f16}) {
    for (ReducePost post : {ReducePost::divide_by_count, ReducePost::divide_or_value}) {
      ReduceSpec spec;
      spec.init = 0.25f;
      spec.post = post;
      spec.post_value = -3.5f;
      spec.masked_value = 9.0f;
      spec.out_dtype = out_dtype;
      spec.feature_counts = Tensor::from_doubles({10}, counts, DType::i64);
      expect_close(
          in, spec, emulated_reduce(in, spec, 8),
          "post " + std::to_string(int(post)) + " out " + std::string(dtype_name(out_dtype)));
    }
  }
}

TEST(CudaReduceEmulated, UnalignedValuesPointer) {
  // Values starting 2 bytes past a 16-byte boundary (as a view into a larger buffer may): every
  // staged byte range then has a non-zero alignment shift, whatever the row.
  const Input in = make_input({5, 0, 9, 31, 2}, 7, true, DType::bf16, DType::i64, 11);
  std::vector<uint16_t> padded(size_t(in.values.numel()) + 16);
  std::memcpy(padded.data() + 1, in.values.raw_data(), size_t(in.values.nbytes()));
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max}) {
    ReduceSpec spec;
    spec.op = op;
    expect_close(in, spec, emulated_reduce(in, spec, 8, padded.data() + 1), "unaligned M=7");
  }
  const Input wide = make_input({40, 3, 0, 17}, 150, true, DType::f16, DType::i32, 12);
  std::vector<uint16_t> wide_padded(size_t(wide.values.numel()) + 16);
  std::memcpy(wide_padded.data() + 3, wide.values.raw_data(), size_t(wide.values.nbytes()));
  expect_close(wide, ReduceSpec{}, emulated_reduce(wide, ReduceSpec{}, 8, wide_padded.data() + 3),
               "unaligned M=150 (column tiles)");
}

TEST(CudaReduceEmulated, OffsetsStartPastRowZero) {
  // offsets[0] = 9 and offsets[B] < N: rows outside [offsets[0], offsets[B]) belong to no item.
  const std::vector<int64_t> lengths{4, 0, 30, 7};
  const Input dense = make_input({9, 4, 0, 30, 7, 5}, 6, true, DType::f32, DType::i32, 13);
  std::vector<double> off{9};
  for (int64_t len : lengths) off.push_back(off.back() + double(len));
  const Input in{dense.values, Tensor::from_doubles({5}, off, DType::i32), lengths};
  for (int64_t chunk : {2, 64}) {
    ReduceSpec spec;
    spec.chunk_rows = chunk;
    expect_close(in, spec, emulated_reduce(in, spec, 16), "offsets from 9");
  }
}

}  // namespace
}  // namespace jagtile
