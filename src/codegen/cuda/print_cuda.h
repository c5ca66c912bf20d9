// The CUDA code generator: a printer of the same planned loop-nest form as the C++ printer
// (plan/nest_ir.h). Each device nest becomes one __global__ kernel whose blocks claim programs
// (iterations of the outermost loop) from a per-launch worklist; a block runs one program at a
// time. Within it every thread runs the program's scalar code alike, and the loop nests that fill
// tile arrays or store tensors are spread over the threads (one iteration of their outer loop per
// thread); tile arrays live in shared memory, with barriers around every spread loop. Failures
// use the CPU backend's codes (abi.h) through a device error word.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/host_program.h"
#include "plan/nest_ir.h"

namespace jagtile::codegen::cuda {

// The byte layout of a device nest's frame (its kernel's first parameter): the error pointer,
// then every capture in order (tensors as JtTensor, ints and bools as int64, floats as double),
// then the loop's bounds. Every field is 8-byte aligned, so the launcher packs it without the
// compiler; the generated code static_asserts the same size.
struct FrameLayout {
  std::vector<int64_t> capture_offsets;  // by capture position
  int64_t loop_begin_offset = 0;
  int64_t loop_end_offset = 0;
  int64_t size = 0;
};
FrameLayout frame_layout(const host::DeviceNest& nest);

// A tile array whose size the launcher computes from the captures (a full dimension's size).
struct SizedArray {
  std::string array;
  plan::ExprPtr count;  // elements, in captures and constants only
  int64_t bytes = 0;    // per element
};

struct CudaSource {
  std::string code;                   // the CUDA translation unit
  std::vector<std::string> kernels;   // the __global__ entry of each device nest, by index
  std::vector<std::string> emulated;  // its host entry when compiled against cuda_emulation.h
  std::vector<int64_t> shared_bytes;  // static shared memory of each kernel
  // Global tile memory each block of a kernel needs: fixed bytes, plus each sized array's.
  std::vector<int64_t> global_tile_bytes;
  std::vector<std::vector<SizedArray>> sized_arrays;
  std::vector<FrameLayout> frames;  // each kernel's frame
};

// Threads per block the kernels are compiled for at most (__launch_bounds__).
inline constexpr int kMaxThreadsPerBlock = 256;
// Shared memory the tile arrays of one kernel may take (the rest go to global tile memory);
// under the 48 KiB a kernel may declare statically, leaving room for the worklist's words.
inline constexpr int64_t kSharedTileBudget = 40 * 1024;

CudaSource print_cuda(const plan::Plan& plan);

// Why the CUDA printer cannot print this plan, or empty when it can (tile arrays whose size
// depends on values computed in the kernel's loops, tensors of rank above 8).
std::string unsupported_reason(const plan::Plan& plan);

// The fixed top of every generated file (cuda_prelude.cpp).
std::string prelude();
// What follows it in a file with matmul blocks: jt_block_matmul (cuda_matmul.cpp).
std::string matmul_prelude();

}  // namespace jagtile::codegen::cuda
