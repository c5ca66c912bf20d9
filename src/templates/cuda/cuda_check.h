// CUDA runtime helpers shared by the CUDA backend: a failed call becomes InternalError carrying
// the call, the CUDA error name and its description; a guard that selects a device for a scope.
#pragma once

#include <cuda_runtime_api.h>

#include "jagtile/error.h"

#define JAGTILE_CUDA_CHECK(call)                                                         \
  do {                                                                                   \
    cudaError_t jagtile_cuda_err_ = (call);                                              \
    JAGTILE_CHECK(jagtile_cuda_err_ == cudaSuccess,                                      \
                  << #call << " failed: " << cudaGetErrorName(jagtile_cuda_err_) << " (" \
                  << cudaGetErrorString(jagtile_cuda_err_) << ")");                      \
  } while (0)

namespace jagtile {

// Makes `index` the current device for the guard's lifetime (the CUDA runtime's current device
// is per host thread, so restoring it keeps callers' own CUDA code undisturbed).
class CudaDeviceGuard {
 public:
  explicit CudaDeviceGuard(int index) {
    JAGTILE_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != index) JAGTILE_CUDA_CHECK(cudaSetDevice(index));
  }
  ~CudaDeviceGuard() {
    int current = previous_;
    if (cudaGetDevice(&current) == cudaSuccess && current != previous_) {
      (void)cudaSetDevice(previous_);
    }
  }
  CudaDeviceGuard(const CudaDeviceGuard&) = delete;
  CudaDeviceGuard& operator=(const CudaDeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace jagtile
