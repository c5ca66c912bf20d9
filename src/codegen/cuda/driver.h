// The CUDA driver API, opened at run time (dlopen of libcuda.so.1), so that a jagtile built with
// CUDA still runs on machines without a driver: only a call that needs the GPU fails, with a
// UserError saying why. Just the calls the generated-CUDA launcher makes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace jagtile::codegen::cuda {

// Empty when the driver loads and has a device `index`, else why not (a sentence).
std::string driver_unavailable_reason(int device_index);

// The architecture NVRTC compiles for on device `index` ("sm_90a" on Hopper, "sm_80", ...).
std::string device_arch(int device_index);
// Multiprocessors of device `index`.
int device_multiprocessors(int device_index);

// A loaded module and its kernels (unloaded when the last user lets go).
class Module {
 public:
  Module(int device_index, const std::string& cubin, const std::vector<std::string>& kernels);
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Launches kernel `k` with its two parameters (frame bytes, worklist with `tile_bytes` of
  // global tile memory per block) on `blocks` blocks of `threads` threads, waits for it, and
  // copies the JtError word back into `error`.
  void launch(size_t k, const std::vector<unsigned char>& frame, int64_t programs, int64_t blocks,
              int threads, int64_t tile_bytes, void* error, size_t error_bytes) const;
  // A device buffer for the launch's error word and worklist counter (zeroed per launch).
  unsigned long long scratch() const { return scratch_; }

 private:
  int device_ = 0;
  void* module_ = nullptr;
  std::vector<void*> functions_;
  unsigned long long scratch_ = 0;
};

}  // namespace jagtile::codegen::cuda
