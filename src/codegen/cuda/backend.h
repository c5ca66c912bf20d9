// The CUDA backend's compile and run steps, as the runtime's cuda backend calls them: print the
// planned form as CUDA (print_cuda.h), compile it with NVRTC for the device's architecture
// through a disk cache of cubins, load it with the driver API (driver.h) and launch each device
// nest; or, for tests on machines without a GPU, compile the same source against the host
// emulation (emulation.h) with the CPU backend's JIT and run it there.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "codegen/cpu/disk_cache.h"
#include "codegen/cpu/jit.h"
#include "codegen/cuda/driver.h"
#include "codegen/cuda/print_cuda.h"
#include "host/host_exec.h"
#include "plan/nest_ir.h"

namespace jagtile::codegen::cuda {

// A cubin for `source` on `arch`: a verified disk entry (key: cubin_key), else compiled by NVRTC
// now and published atomically (a corrupt or foreign entry is rebuilt). InternalError with the
// NVRTC log when the source does not compile.
struct CubinStats {
  bool compiled = false;
  double seconds = 0;
  std::string key;
};
std::string load_or_compile_cubin(const cpu::DiskCache& cache, const std::string& source,
                                  const std::string& name, const std::string& arch,
                                  CubinStats* stats = nullptr);

// A host entry of the emulated build (emulation.h).
using EmulatedNestFn = int (*)(const void* frame, int64_t programs, int blocks, int threads,
                               int64_t tile_bytes);

// A planned kernel ready to launch: on a GPU (module) or in the emulation (emulated).
struct CompiledCuda {
  CudaSource source;
  std::vector<plan::Site> sites;
  std::shared_ptr<const Module> module;
  int device_index = 0;
  int64_t resident_blocks = 1;
  std::shared_ptr<const cpu::LoadedKernel> emulated_code;
  std::vector<EmulatedNestFn> emulated;
};

// For device `device_index` (NVRTC, disk cache in `cache_dir` or the default, driver API).
CompiledCuda compile_cuda(const plan::Plan& plan, int device_index, const std::string& cache_dir,
                          CubinStats* stats);
// The architectures generated CUDA is compiled for without a GPU (tests, the emulation).
inline constexpr const char* kVerifiedArchs[] = {"sm_80", "sm_90a"};
// Those the emulation compiles for: all of them, or the comma-separated subset that
// JAGTILE_CUDA_EMULATION_ARCHS names (the differential fuzzer checks one per kernel, in turn:
// NVRTC was 30% of its time). A name not in kVerifiedArchs is a UserError.
std::vector<std::string> emulation_archs();

// For the host emulation (the CPU backend's JIT and disk cache). Where the build has NVRTC the
// source is also compiled for emulation_archs() (cubins cached in `cache_dir`), so an emulated run
// proves it valid CUDA; an invalid one is an InternalError with NVRTC's log.
CompiledCuda compile_cuda_emulated(const plan::Plan& plan, cpu::Jit& jit,
                                   const std::string& cache_dir, cpu::JitStats* stats);

// Threads per block of a launch, on a GPU and in the emulation (fewer there, so that every
// spread loop of a test still has more iterations than threads).
inline constexpr int kThreadsPerBlock = 128;
inline constexpr int kEmulatedThreadsPerBlock = 8;
inline constexpr int kEmulatedBlocks = 3;

// Runs device nest `nest` of a running host program, and raises the located UserError of a
// recorded failure (as the CPU backend does).
void run_cuda_nest(const CompiledCuda& compiled, const host::HostProgram& program,
                   const host::DeviceNest& nest, const host::HostEnv& env);

}  // namespace jagtile::codegen::cuda
