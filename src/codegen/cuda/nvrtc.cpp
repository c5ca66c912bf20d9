// NVRTC calls (see nvrtc.h). Without NVRTC in the build every entry says so.
#include "codegen/cuda/nvrtc.h"

#include <chrono>
#include <vector>

#include "jagtile/error.h"

#ifndef JAGTILE_HAVE_NVRTC
#define JAGTILE_HAVE_NVRTC 0
#endif
#if JAGTILE_HAVE_NVRTC
#include <nvrtc.h>
#endif

namespace jagtile::codegen::cuda {

namespace {

// Precise math (no --use_fast_math): results stay within the CPU backend's tolerances. Warning
// 177 ("declared but never referenced") would flag every helper a kernel does not call.
const std::vector<std::string>& base_options() {
  static const std::vector<std::string> options = {"-std=c++17", "-diag-suppress=177"};
  return options;
}

}  // namespace

bool nvrtc_available() {
  return JAGTILE_HAVE_NVRTC != 0;
}

bool cuda_switched_off() {
#ifdef JAGTILE_CUDA_SWITCHED_OFF
  return true;
#else
  return false;
#endif
}

std::string nvrtc_options_text() {
  std::string s;
  for (const std::string& o : base_options()) s += o + " ";
  return s;
}

#if JAGTILE_HAVE_NVRTC

std::string nvrtc_version() {
  int major = 0, minor = 0;
  if (nvrtcVersion(&major, &minor) != NVRTC_SUCCESS) return "unknown";
  return std::to_string(major) + "." + std::to_string(minor);
}

NvrtcOutput nvrtc_compile(const std::string& source, const std::string& name,
                          const std::string& arch, bool ptx) {
  const auto start = std::chrono::steady_clock::now();
  NvrtcOutput out;
  nvrtcProgram prog = nullptr;
  nvrtcResult r =
      nvrtcCreateProgram(&prog, source.c_str(), (name + ".cu").c_str(), 0, nullptr, nullptr);
  JAGTILE_CHECK(r == NVRTC_SUCCESS, << "nvrtcCreateProgram: " << nvrtcGetErrorString(r));
  std::vector<std::string> opts = base_options();
  opts.push_back("--gpu-architecture=" + std::string(ptx ? "compute" : "sm") +
                 arch.substr(arch.find('_')));
  std::vector<const char*> argv;
  for (const std::string& o : opts) argv.push_back(o.c_str());
  r = nvrtcCompileProgram(prog, int(argv.size()), argv.data());
  size_t log_size = 0;
  nvrtcGetProgramLogSize(prog, &log_size);
  out.log.resize(log_size);
  if (log_size) nvrtcGetProgramLog(prog, out.log.data());
  while (!out.log.empty() && (out.log.back() == '\0' || out.log.back() == '\n')) out.log.pop_back();
  out.ok = r == NVRTC_SUCCESS;
  if (out.ok) {
    size_t size = 0;
    if (ptx) {
      nvrtcGetPTXSize(prog, &size);
      out.binary.resize(size);
      nvrtcGetPTX(prog, out.binary.data());
    } else {
      nvrtcGetCUBINSize(prog, &size);
      out.binary.resize(size);
      nvrtcGetCUBIN(prog, out.binary.data());
    }
  } else if (out.log.empty()) {
    out.log = nvrtcGetErrorString(r);
  }
  nvrtcDestroyProgram(&prog);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

#else

std::string nvrtc_version() {
  return {};
}

NvrtcOutput nvrtc_compile(const std::string&, const std::string&, const std::string&, bool) {
  throw UserError("this jagtile was built without NVRTC, so it cannot compile generated CUDA",
                  cuda_switched_off()
                      ? "rebuild with -DJAGTILE_ENABLE_CUDA=ON and the CUDA toolkit installed"
                      : "install the CUDA toolkit (nvcc, NVRTC) and rebuild; CMake finds it in "
                        "/usr/local/cuda");
}

#endif

}  // namespace jagtile::codegen::cuda
