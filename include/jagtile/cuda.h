// CUDA devices: whether one is present, its name, a host-side wait for queued GPU work, and the
// CUDA jagged_reduce template's direct entry point. Safe to call in every build: without CUDA
// support, cuda_available() is false and the rest raise UserError (cuda_synchronize does nothing).
#pragma once

#include <string>

#include "jagtile/error.h"
#include "jagtile/reduce.h"
#include "jagtile/tensor.h"

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
// The CUDA jagged_reduce template itself, into `out` (same device, shape [B] or [B, M], dtype
// spec.out_dtype or the input's). Queues the work on the device's legacy default stream and
// returns without waiting (a later copy to the host, or cuda_synchronize(), waits). It checks
// that the tensors share one CUDA device (UserError), but not the values of the offsets and
// feature counts, which jagged_reduce_into checks with a copy to the host: it is for callers
// that validated the inputs once and then repeat or time the call (benchmarks). Invalid offsets
// are undefined behaviour here.
void jagged_reduce_cuda(const Tensor& values, const Tensor& offsets, const ReduceSpec& spec,
                        Tensor& out);
// Queues a streaming read of every whole 16-byte block of a CUDA tensor's bytes on the device's
// legacy default stream and returns the bytes it reads (a later cuda_synchronize() waits): the
// device's read limit, for benchmarks to measure next to what they time. The tensor must be a
// whole allocation (16-byte aligned data); UserError otherwise or when it is not on a GPU.
int64_t cuda_stream_read(const Tensor& buffer);

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
inline void jagged_reduce_cuda(const Tensor&, const Tensor&, const ReduceSpec&, Tensor&) {
  throw UserError("jagged_reduce_cuda: this build of jagtile has no CUDA support",
                  "rebuild with the CUDA toolkit installed (JAGTILE_ENABLE_CUDA=ON)");
}

inline int64_t cuda_stream_read(const Tensor&) {
  throw UserError("cuda_stream_read: this build of jagtile has no CUDA support",
                  "rebuild with the CUDA toolkit installed (JAGTILE_ENABLE_CUDA=ON)");
}

#endif

}  // namespace jagtile
