// CUDA devices: whether one is present, its name, and a host-side wait for queued GPU work.
// Safe to call in every build: without CUDA support, cuda_available() is false and the rest
// raise UserError (cuda_synchronize does nothing).
#pragma once

#include <string>

#include "jagtile/error.h"

namespace jagtile {

#ifdef JAGTILE_HAVE_CUDA

// True when this build has CUDA and at least one device answers. A missing driver or any CUDA
// error counts as "no device". The first call registers the CUDA allocator, so that
// Tensor::empty(..., Device::cuda(i)) and Tensor::to(Device::cuda(i)) work afterwards.
bool cuda_available();
// Devices visible to this process (0 when none, or when CUDA cannot start).
int cuda_device_count();
// The device's product name ("NVIDIA H100 80GB HBM3"). UserError when index is out of range.
std::string cuda_device_name(int index = 0);
// Waits until every queued kernel and copy on the current device has finished; a failure of
// earlier asynchronous work surfaces here as InternalError.
void cuda_synchronize();
// Registers the DeviceAllocator for Device::Kind::cuda (cudaMalloc / cudaFree / cudaMemcpy).
// Idempotent; cuda_available() calls it.
void register_cuda_allocator();

#else

inline bool cuda_available() {
  return false;
}
inline int cuda_device_count() {
  return 0;
}
inline std::string cuda_device_name(int index = 0) {
  throw UserError(
      "cuda_device_name(" + std::to_string(index) + "): this build of jagtile has no CUDA support",
      "rebuild with the CUDA toolkit installed (JAGTILE_ENABLE_CUDA=ON)");
}
inline void cuda_synchronize() {}
inline void register_cuda_allocator() {}

#endif

}  // namespace jagtile
