// Run-time compilation of generated CUDA with NVRTC (linked when the build found the CUDA
// toolkit): to a cubin for one architecture, or to PTX. Needs no GPU, so the tests compile every
// example's CUDA on any machine with the toolkit.
#pragma once

#include <string>

namespace jagtile::codegen::cuda {

// True when this build links NVRTC.
bool nvrtc_available();
// True when the build was configured with -DJAGTILE_ENABLE_CUDA=OFF (then no NVRTC is expected).
bool cuda_switched_off();
// "13.0": the NVRTC version (part of the cubin cache key); "" without NVRTC.
std::string nvrtc_version();

struct NvrtcOutput {
  bool ok = false;
  std::string log;     // NVRTC's program log (errors and warnings)
  std::string binary;  // the cubin or PTX
  double seconds = 0;
};

// Compiles `source` for `arch` ("sm_80", "sm_90a"): a cubin, or PTX with `ptx`. `name` names
// the program in the log. UserError when this build has no NVRTC.
NvrtcOutput nvrtc_compile(const std::string& source, const std::string& name,
                          const std::string& arch, bool ptx = false);

// The options every compile uses (part of the cache key).
std::string nvrtc_options_text();

}  // namespace jagtile::codegen::cuda
