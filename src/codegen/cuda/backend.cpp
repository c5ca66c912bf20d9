// The CUDA backend's compile and run steps (see backend.h).
#include "codegen/cuda/backend.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <sstream>

#include "codegen/cpu/backend.h"
#include "codegen/cuda/emulation.h"
#include "codegen/cuda/launch.h"
#include "codegen/cuda/nvrtc.h"
#include "jagtile/error.h"

namespace jagtile::codegen::cuda {

std::string load_or_compile_cubin(const cpu::DiskCache& cache, const std::string& source,
                                  const std::string& name, const std::string& arch,
                                  CubinStats* stats) {
  const auto start = std::chrono::steady_clock::now();
  const std::string key = cubin_key(source, arch, nvrtc_version(), nvrtc_options_text());
  std::string cubin;
  bool compiled = false;
  if (!cache.read(key, &cubin)) {
    NvrtcOutput out = nvrtc_compile(source, name, arch);
    JAGTILE_CHECK(out.ok, << "NVRTC could not compile the generated CUDA of '" << name << "' for "
                          << arch << ":\n"
                          << out.log);
    cubin = std::move(out.binary);
    cache.publish_bytes(key, cubin);
    compiled = true;
  }
  if (stats) {
    stats->compiled = compiled;
    stats->key = key;
    stats->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return cubin;
}

CompiledCuda compile_cuda(const plan::Plan& plan, int device_index, const std::string& cache_dir,
                          CubinStats* stats) {
  CompiledCuda c;
  c.source = print_cuda(plan);
  c.sites = plan.sites;
  c.device_index = device_index;
  if (std::string why = driver_unavailable_reason(device_index); !why.empty())
    throw UserError("kernel '" + plan.kernel->name +
                        "' cannot run on cuda:" + std::to_string(device_index) + ": " + why,
                    "run on a machine with an NVIDIA GPU and driver, or use --backend cpu");
  const std::string arch = device_arch(device_index);
  cpu::DiskCache cache(cache_dir.empty() ? cpu::default_cache_dir() : cache_dir, ".cubin");
  std::string cubin = load_or_compile_cubin(cache, c.source.code, plan.kernel->name, arch, stats);
  c.module = std::make_shared<Module>(device_index, cubin, c.source.kernels);
  // Blocks the device holds at once: a few per multiprocessor (the worklist feeds them).
  c.resident_blocks = int64_t(device_multiprocessors(device_index)) * 8;
  return c;
}

std::vector<std::string> emulation_archs() {
  std::vector<std::string> all(std::begin(kVerifiedArchs), std::end(kVerifiedArchs));
  const char* chosen = std::getenv("JAGTILE_CUDA_EMULATION_ARCHS");
  if (!chosen || !*chosen) return all;
  std::vector<std::string> archs;
  std::stringstream names(chosen);
  for (std::string arch; std::getline(names, arch, ',');) {
    if (std::find(all.begin(), all.end(), arch) == all.end()) {
      std::string known;
      for (const std::string& a : all) known += (known.empty() ? "" : ", ") + a;
      throw UserError("JAGTILE_CUDA_EMULATION_ARCHS names '" + arch +
                          "', which is not an architecture the emulation checks",
                      "name some of " + known + ", separated by commas, or unset it for all");
    }
    archs.push_back(arch);
  }
  return archs;
}

CompiledCuda compile_cuda_emulated(const plan::Plan& plan, cpu::Jit& jit,
                                   const std::string& cache_dir, cpu::JitStats* stats) {
  CompiledCuda c;
  c.source = print_cuda(plan);
  c.sites = plan.sites;
  // What runs on the host must be valid CUDA too: NVRTC compiles it for both targets (cubins
  // cached, so only a new source costs a compile).
  if (nvrtc_available()) {
    cpu::DiskCache cache(cache_dir.empty() ? cpu::default_cache_dir() : cache_dir, ".cubin");
    for (const std::string& arch : emulation_archs())
      load_or_compile_cubin(cache, c.source.code, plan.kernel->name, arch);
  }
  JAGTILE_CHECK(!c.source.emulated.empty(), << "a kernel without device nests is not compiled");
  c.emulated_code = jit.load(emulation_source(c.source.code), c.source.emulated[0], stats);
  for (const std::string& f : c.source.emulated)
    c.emulated.push_back(reinterpret_cast<EmulatedNestFn>(c.emulated_code->symbol(f)));
  return c;
}

void run_cuda_nest(const CompiledCuda& compiled, const host::HostProgram& program,
                   const host::DeviceNest& nest, const host::HostEnv& env) {
  const host::NestBounds bounds = host::nest_bounds(program, nest, env);
  if (bounds.programs <= 0) return;
  const size_t k = size_t(nest.index);
  const FrameLayout& layout = compiled.source.frames.at(k);
  JtError error{};
  const int64_t tile_bytes = tile_bytes_per_block(compiled.source, k, program, nest, env);
  if (!compiled.emulated.empty()) {
    std::vector<unsigned char> frame = pack_frame(layout, program, nest, env, bounds, &error);
    const LaunchGrid grid = launch_grid(bounds.programs, kEmulatedBlocks, kEmulatedThreadsPerBlock);
    const int rc = compiled.emulated.at(k)(frame.data(), bounds.programs, int(grid.blocks),
                                           grid.threads, tile_bytes);
    JAGTILE_CHECK(rc == 0, << "generated CUDA of kernel '" << program.kernel->name
                           << "' (device nest " << k
                           << ") reached a barrier after another thread of its block returned");
  } else {
    JAGTILE_CHECK(compiled.module, << "generated CUDA launched without a module");
    auto* device_error = reinterpret_cast<JtError*>(compiled.module->scratch());
    std::vector<unsigned char> frame = pack_frame(layout, program, nest, env, bounds, device_error);
    const LaunchGrid grid =
        launch_grid(bounds.programs, compiled.resident_blocks, kThreadsPerBlock);
    compiled.module->launch(k, frame, bounds.programs, grid.blocks, grid.threads, tile_bytes,
                            &error, sizeof error);
  }
  if (error.code != JT_OK) cpu::raise_nest_error(*program.kernel, compiled.sites, error);
}

}  // namespace jagtile::codegen::cuda
