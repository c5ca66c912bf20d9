// CUDA devices for the rest of jagtile: device discovery, names, synchronisation, and the
// DeviceAllocator behind Tensors on Device::cuda(i) (plain cudaMalloc, never managed memory, so
// that every host<->device transfer is an explicit copy the user asked for).
#include <cuda_runtime_api.h>

#include <mutex>
#include <string>

#include "jagtile/cuda.h"
#include "jagtile/tensor.h"
#include "templates/cuda/cuda_check.h"

namespace jagtile {

namespace {

int query_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    // No driver, no device, or a broken install: all mean "no GPU here". Clear the sticky
    // error so later calls do not report it.
    (void)cudaGetLastError();
    return 0;
  }
  return count;
}

void check_device_index(int index, const std::string& what) {
  const int count = cuda_device_count();
  if (index >= 0 && index < count) return;
  if (count == 0) {
    throw UserError(what + ": cuda:" + std::to_string(index) +
                        " does not exist; no CUDA device is visible to this process",
                    "run on a machine with an NVIDIA GPU (check nvidia-smi and "
                    "CUDA_VISIBLE_DEVICES), or keep the tensors on the CPU");
  }
  throw UserError(what + ": cuda:" + std::to_string(index) + " does not exist; this process sees " +
                      std::to_string(count) + " CUDA device" + (count == 1 ? "" : "s"),
                  "use a device index from 0 to " + std::to_string(count - 1));
}

void* cuda_allocate(int64_t bytes, int index) {
  check_device_index(index, "allocating " + std::to_string(bytes) + " bytes");
  if (bytes == 0) return nullptr;
  CudaDeviceGuard guard(index);
  void* ptr = nullptr;
  const cudaError_t err = cudaMalloc(&ptr, size_t(bytes));
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    size_t free_bytes = 0;
    size_t total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    throw UserError("out of memory on cuda:" + std::to_string(index) + ": could not allocate " +
                        std::to_string(bytes) + " bytes (" + std::to_string(free_bytes) + " of " +
                        std::to_string(total_bytes) + " bytes free)",
                    "use smaller tensors or free device tensors that are no longer needed");
  }
  JAGTILE_CUDA_CHECK(err);
  return ptr;
}

void cuda_release(void* ptr, int index) {
  CudaDeviceGuard guard(index);
  const cudaError_t err = cudaFree(ptr);
  // At process exit the runtime may already be gone; the memory goes with it.
  if (err == cudaErrorCudartUnloading) return;
  JAGTILE_CUDA_CHECK(err);
}

void cuda_copy(void* dst, Device dst_device, const void* src, Device src_device, int64_t bytes) {
  if (bytes == 0) return;
  const size_t n = size_t(bytes);
  if (dst_device.is_cuda() && src_device.is_cuda()) {
    check_device_index(dst_device.index, "copying to " + dst_device.str());
    check_device_index(src_device.index, "copying from " + src_device.str());
    if (dst_device.index == src_device.index) {
      CudaDeviceGuard guard(dst_device.index);
      JAGTILE_CUDA_CHECK(cudaMemcpy(dst, src, n, cudaMemcpyDeviceToDevice));
    } else {
      JAGTILE_CUDA_CHECK(cudaMemcpyPeer(dst, dst_device.index, src, src_device.index, n));
    }
  } else if (dst_device.is_cuda()) {
    check_device_index(dst_device.index, "copying to " + dst_device.str());
    CudaDeviceGuard guard(dst_device.index);
    JAGTILE_CUDA_CHECK(cudaMemcpy(dst, src, n, cudaMemcpyHostToDevice));
  } else {
    JAGTILE_CHECK(src_device.is_cuda(), << "CUDA copy between two host buffers");
    check_device_index(src_device.index, "copying from " + src_device.str());
    CudaDeviceGuard guard(src_device.index);
    JAGTILE_CUDA_CHECK(cudaMemcpy(dst, src, n, cudaMemcpyDeviceToHost));
  }
}

}  // namespace

void register_cuda_allocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    DeviceAllocator a;
    a.allocate = cuda_allocate;
    a.release = cuda_release;
    a.copy = cuda_copy;
    register_device_allocator(Device::Kind::cuda, std::move(a));
  });
}

int cuda_device_count() {
  static const int count = query_device_count();
  return count;
}

bool cuda_available() {
  register_cuda_allocator();
  return cuda_device_count() > 0;
}

std::string cuda_device_name(int index) {
  check_device_index(index, "cuda_device_name");
  cudaDeviceProp prop{};
  JAGTILE_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
  return prop.name;
}

void cuda_synchronize() {
  if (cuda_device_count() == 0) return;
  JAGTILE_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace jagtile
