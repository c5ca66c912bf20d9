// The host side of a generated CUDA kernel launch that needs no GPU to test: packing a nest's
// frame (its captured host values) into the bytes of the kernel's first parameter, the grid of a
// launch, and the key of a compiled module in the disk cache.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codegen/cpu/abi.h"
#include "codegen/cuda/print_cuda.h"
#include "host/host_exec.h"

namespace jagtile::codegen::cuda {

// The frame of device nest `nest` for one launch, laid out as `layout`: `error` (a device
// address on a GPU, a host one in the emulation), each capture's value from the host executor's
// slots (tensors by their data pointer and sizes, bools and ints as int64, floats as double),
// then the loop's bounds.
std::vector<unsigned char> pack_frame(const FrameLayout& layout, const host::HostProgram& program,
                                      const host::DeviceNest& nest, const host::HostEnv& env,
                                      const host::NestBounds& bounds, JtError* error);

// Bytes of global tile memory one block of kernel `kernel` needs for this launch: its fixed
// arrays over the shared-memory budget, and its arrays sized by the captures (each rounded up to
// 16 bytes, in the order the kernel places them).
int64_t tile_bytes_per_block(const CudaSource& source, size_t kernel,
                             const host::HostProgram& program, const host::DeviceNest& nest,
                             const host::HostEnv& env);

// How many blocks of how many threads a launch of `programs` programs uses: one block per
// program up to what the device holds at once (`resident_blocks`); the worklist hands the rest
// out as blocks finish. Never more blocks than programs; at least one when there is work.
struct LaunchGrid {
  int64_t blocks = 0;
  int threads = 0;
};
LaunchGrid launch_grid(int64_t programs, int64_t resident_blocks, int threads);

// The disk cache key of a compiled module: a hash of the source, the architecture, the NVRTC
// version and the compile options (16 hex digits, as the CPU JIT's keys).
std::string cubin_key(const std::string& source, const std::string& arch,
                      const std::string& nvrtc_version, const std::string& options);

}  // namespace jagtile::codegen::cuda
