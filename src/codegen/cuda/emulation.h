// The host emulation of generated CUDA: the same source, compiled as host C++ with the CPU
// backend's JIT after a header that defines the CUDA names it uses (blocks run in turn, a
// block's threads are host threads, __syncthreads is a barrier over them). Tests run every
// example through it and compare with the interpreter; it is slow and never a production path.
#pragma once

#include <string>

namespace jagtile::codegen::cuda {

// A generated CUDA file (print_cuda.h) prefixed with the emulation header: host C++ exporting,
// per device nest, `int <kernel>_emulated(const void* frame, int64_t programs, int blocks,
// int threads, int64_t tile_bytes)`, which returns 2 when the block's threads diverged at a
// barrier, else 0.
std::string emulation_source(const std::string& cuda_source);

}  // namespace jagtile::codegen::cuda
