// The execution paths a kernel is checked on, one parameter of a test each: the interpreter, the
// generated CPU code with and without bounds checks, and the generated CUDA run as host code
// (JAGTILE_CUDA_EMULATION) where the build has NVRTC.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/scoped_env.h"
#include "codegen_helpers.h"

namespace jagtile::testing {

enum class Path { interp, cpu, cpu_unchecked, cuda_emulated };

inline std::vector<Path> every_path() {
  return {Path::interp, Path::cpu, Path::cpu_unchecked,
#ifdef JAGTILE_HAVE_NVRTC
          Path::cuda_emulated
#endif
  };
}

inline std::string path_name(Path p) {
  switch (p) {
    case Path::interp:
      return "interp";
    case Path::cpu:
      return "cpu";
    case Path::cpu_unchecked:
      return "cpu_unchecked";
    case Path::cuda_emulated:
      return "cuda_emulated";
  }
  return "?";
}

// The outputs of the only kernel of `source` on `path`, which must be the backend that ran.
inline std::vector<Tensor> run_on(Path path, const std::string& source, const ArgMap& args) {
  use_shared_cache_dir();
  Options o;
  o.backend = path == Path::interp          ? Backend::interp
              : path == Path::cuda_emulated ? Backend::cuda
                                            : Backend::cpu;
  o.checked = path != Path::cpu_unchecked;
  ScopedEnv emulation("JAGTILE_CUDA_EMULATION", path == Path::cuda_emulated ? "1" : nullptr);
  Program p = Program::from_source(source, "kernel.py");
  CallResult r = p.call("", args, o);
  EXPECT_EQ(r.backend_used, o.backend);
  return r.outputs;
}

}  // namespace jagtile::testing
