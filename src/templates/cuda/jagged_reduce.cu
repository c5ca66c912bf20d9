// Host side of the CUDA jagged_reduce template: checks devices, shapes the launch (worklist.h),
// picks the kernel instantiation for (op, input dtype), and queues plan -> rows -> combine on the
// device's default stream with stream-ordered temporary buffers. No host synchronisation.
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <string>

#include "jagtile/cuda.h"
#include "templates/cuda/cuda_check.h"
#include "templates/cuda/reduce_device.cuh"

namespace jagtile {

namespace cr = cuda_reduce;

namespace {

// Linking this file (anything that can reach the template does) makes CUDA tensors usable
// without an explicit cuda_available() call first. Registration touches no device.
[[maybe_unused]] const bool allocator_registered = (register_cuda_allocator(), true);

using RowsKernel = void (*)(cr::KernelParams);

template <ReduceOp kOp>
RowsKernel rows_kernel_for(DType in) {
  switch (in) {
    case DType::f32:
      return cr::reduce_rows_kernel<kOp, DType::f32>;
    case DType::f16:
      return cr::reduce_rows_kernel<kOp, DType::f16>;
    case DType::bf16:
      return cr::reduce_rows_kernel<kOp, DType::bf16>;
    default:
      break;
  }
  JAGTILE_CHECK(false, << "no CUDA reduce kernel for input dtype " << dtype_name(in));
  return nullptr;
}

// mean is a sum with a divide in post.
ReduceOp kernel_op(ReduceOp op) {
  return op == ReduceOp::mean ? ReduceOp::sum : op;
}

RowsKernel rows_kernel_for(ReduceOp op, DType in) {
  switch (kernel_op(op)) {
    case ReduceOp::max:
      return rows_kernel_for<ReduceOp::max>(in);
    case ReduceOp::min:
      return rows_kernel_for<ReduceOp::min>(in);
    default:
      return rows_kernel_for<ReduceOp::sum>(in);
  }
}

RowsKernel combine_kernel_for(ReduceOp op) {
  switch (kernel_op(op)) {
    case ReduceOp::max:
      return cr::combine_kernel<ReduceOp::max>;
    case ReduceOp::min:
      return cr::combine_kernel<ReduceOp::min>;
    default:
      return cr::combine_kernel<ReduceOp::sum>;
  }
}

// Multiprocessors and resident blocks of a rows kernel, per device. Occupancy does not change,
// so it is asked once per (device, kernel) and remembered.
int64_t resident_warps(int device, RowsKernel kernel) {
  static std::mutex mutex;
  struct Entry {
    int device;
    RowsKernel kernel;
    int64_t warps;
  };
  static std::array<Entry, 64> cache{};
  static size_t used = 0;
  std::lock_guard<std::mutex> lock(mutex);
  for (size_t i = 0; i < used; ++i) {
    if (cache[i].device == device && cache[i].kernel == kernel) return cache[i].warps;
  }
  int major = 0;
  int minor = 0;
  JAGTILE_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  JAGTILE_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  cr::check_compute_capability(device, cuda_device_name(device), major, minor);
  JAGTILE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          int(cr::kSmemPerBlock)));
  int sms = 0;
  JAGTILE_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  int blocks = 0;
  JAGTILE_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
      &blocks, kernel, cr::kWarpsPerBlock * 32, size_t(cr::kSmemPerBlock)));
  JAGTILE_CHECK(blocks >= 1, << "the CUDA reduce kernel does not fit on device " << device << " ("
                             << cr::kSmemPerBlock << " bytes of shared memory per block)");
  const int64_t warps = int64_t(sms) * blocks * cr::kWarpsPerBlock;
  if (used < cache.size()) cache[used++] = Entry{device, kernel, warps};
  return warps;
}

void check_device(const Tensor& t, const char* name, Device expected) {
  if (t.device() == expected) return;
  throw UserError(std::string("jagged_reduce (CUDA): '") + name + "' is on " + t.device().str() +
                      " but 'values' is on " + expected.str(),
                  "move every tensor of the call to the same device with .to(...)");
}

// A device buffer from the stream-ordered pool, given back in stream order (plain cudaMalloc
// where the device has no memory pools).
class StreamBuffer {
 public:
  explicit StreamBuffer(size_t bytes) {
    if (!bytes) return;
    const cudaError_t err = cudaMallocAsync(&ptr_, bytes, cudaStream_t(0));
    if (err == cudaErrorNotSupported) {
      (void)cudaGetLastError();
      pooled_ = false;
      JAGTILE_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
    } else {
      JAGTILE_CUDA_CHECK(err);
    }
  }
  ~StreamBuffer() {
    if (!ptr_) return;
    if (pooled_) {
      (void)cudaFreeAsync(ptr_, cudaStream_t(0));
    } else {
      (void)cudaFree(ptr_);  // waits for the kernels that use it
    }
  }
  StreamBuffer(const StreamBuffer&) = delete;
  StreamBuffer& operator=(const StreamBuffer&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
  bool pooled_ = true;
};

}  // namespace

void jagged_reduce_cuda(const Tensor& values, const Tensor& offsets, const ReduceSpec& spec,
                        Tensor& out) {
  const Device device = values.device();
  if (!device.is_cuda()) {
    throw UserError(
        "jagged_reduce (CUDA): 'values' is on " + device.str() + ", not on a CUDA device",
        "call jagtile::jagged_reduce, which runs CPU tensors on the CPU");
  }
  check_device(offsets, "offsets", device);
  check_device(out, "out", device);
  if (spec.feature_counts.defined()) check_device(spec.feature_counts, "feature_counts", device);
  JAGTILE_CHECK(values.dim() == 1 || values.dim() == 2, << "values rank " << values.dim());
  JAGTILE_CHECK(offsets.dim() == 1 && offsets.numel() >= 1, << "offsets " << offsets.shape_str());
  JAGTILE_CHECK(spec.chunk_rows >= 1, << "chunk_rows " << spec.chunk_rows);

  const int64_t num_items = offsets.numel() - 1;
  const int64_t num_cols = values.dim() == 2 ? values.size(1) : 1;
  const int64_t num_rows = values.size(0);
  if (num_items == 0 || num_cols == 0) return;  // nothing to write
  JAGTILE_CHECK(out.numel() == num_items * num_cols, << "out " << out.shape_str());

  CudaDeviceGuard guard(device.index);
  const RowsKernel rows = rows_kernel_for(spec.op, values.dtype());
  const cr::LaunchShape shape = cr::plan_launch(num_cols, dtype_size(values.dtype()), num_rows,
                                                num_items, resident_warps(device.index, rows));

  StreamBuffer positions(size_t(shape.num_workers + 1) * sizeof(cr::Position));
  StreamBuffer workspace(size_t(shape.workspace_floats) * sizeof(float));

  const bool has_counts = spec.feature_counts.defined();
  const cr::KernelParams p = cr::make_kernel_params(
      shape, spec, values.raw_data(),
      cr::OffsetsView{offsets.raw_data(), offsets.dtype() == DType::i64, num_items},
      has_counts ? spec.feature_counts.raw_data() : nullptr,
      has_counts && spec.feature_counts.dtype() == DType::i64, out.raw_data(), out.dtype(),
      workspace.as<float>(), positions.as<cr::Position>());

  constexpr int kPlanThreads = 256;
  const int64_t plan_blocks = (shape.num_workers + 1 + kPlanThreads - 1) / kPlanThreads;
  cr::plan_kernel<<<unsigned(plan_blocks), kPlanThreads>>>(
      p.offsets, shape.num_workers, spec.chunk_rows, shape.item_overhead, p.positions);
  JAGTILE_CUDA_CHECK(cudaGetLastError());
  rows<<<unsigned(shape.num_blocks), cr::kWarpsPerBlock * 32, size_t(cr::kSmemPerBlock)>>>(p);
  JAGTILE_CUDA_CHECK(cudaGetLastError());
  if (shape.num_workers > 1) {
    // gridDim.y is limited to 65535; wider rows loop over column groups inside the kernel.
    const dim3 grid(unsigned((shape.num_workers + cr::kCombineLanes - 1) / cr::kCombineLanes),
                    unsigned(std::min<int64_t>((num_cols + 31) / 32, 65535)));
    combine_kernel_for(spec.op)<<<grid, dim3(32, cr::kCombineLanes)>>>(p);
    JAGTILE_CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace jagtile
