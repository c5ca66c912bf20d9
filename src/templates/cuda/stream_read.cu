// A streaming read of a device buffer: the GPU's real read limit, measured next to the kernels
// that benchmarks time (bench_reduce_cuda, `jagtile bench --device cuda`), so that "% of peak"
// is a figure of the same run on the same device rather than a data-sheet number.
#include <cuda_runtime.h>

#include "jagtile/cuda.h"
#include "jagtile/error.h"
#include "templates/cuda/cuda_check.h"

namespace jagtile {

namespace {

// Written only when the XOR of everything read hits an impossible value: the loads stay live.
__device__ uint32_t g_stream_read_sink;

// Reads every 16-byte block once (grid-stride, four loads in flight per thread, cache-streaming
// hints so that the buffer does not displace the L2 for the kernels timed after it).
__global__ void stream_read_kernel(const uint4* data, int64_t blocks) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  uint32_t x = 0;
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i + 3 * stride < blocks; i += 4 * stride) {
    const uint4 a = __ldcs(data + i);
    const uint4 b = __ldcs(data + i + stride);
    const uint4 c = __ldcs(data + i + 2 * stride);
    const uint4 d = __ldcs(data + i + 3 * stride);
    x ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w ^ c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^ d.z ^
         d.w;
  }
  for (; i < blocks; i += stride) {
    const uint4 a = __ldcs(data + i);
    x ^= a.x ^ a.y ^ a.z ^ a.w;
  }
  if (x == 0x9e3779b9u) g_stream_read_sink = x;
}

}  // namespace

int64_t cuda_stream_read(const Tensor& buffer) {
  if (!buffer.device().is_cuda())
    throw UserError(
        "cuda_stream_read: the buffer is on " + buffer.device().str() + ", not on a CUDA device",
        "allocate it with Tensor::empty(..., Device::cuda(i))");
  const int64_t blocks = buffer.nbytes() / 16;
  if (blocks == 0) return 0;
  CudaDeviceGuard guard(buffer.device().index);
  int sms = 0;
  JAGTILE_CUDA_CHECK(
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, buffer.device().index));
  // cudaMalloc'd storage is 256-byte aligned; a view into it may not be 16-byte aligned.
  if (reinterpret_cast<uintptr_t>(buffer.raw_data()) % 16 != 0)
    throw UserError("cuda_stream_read: the buffer's data is not 16-byte aligned",
                    "pass a whole allocation, not a view into one");
  stream_read_kernel<<<unsigned(sms * 8), 512>>>(static_cast<const uint4*>(buffer.raw_data()),
                                                 blocks);
  JAGTILE_CUDA_CHECK(cudaGetLastError());
  return blocks * 16;
}

}  // namespace jagtile
