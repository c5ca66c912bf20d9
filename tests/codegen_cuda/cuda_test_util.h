// Shared by the generated-CUDA tests: the cache folder (as the CPU backend's tests use, so each
// distinct source compiles once per machine while the folder lives), options for the cuda
// backend, and a scope that turns the host emulation on.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "jagtile/compiler.h"

namespace jagtile::testing {

inline std::string shared_cache_dir() {
  const char* d = std::getenv("JAGTILE_CACHE_DIR");
  if (d && *d) return d;
  return "/tmp/jagtile-test-codegen-cache-" + std::to_string(::getuid());
}

// JAGTILE_CUDA_EMULATION=1 while alive: the cuda backend runs CPU tensors through the emulation.
class EmulationOn {
 public:
  EmulationOn() { ::setenv("JAGTILE_CUDA_EMULATION", "1", 1); }
  ~EmulationOn() { ::unsetenv("JAGTILE_CUDA_EMULATION"); }
};

inline Options cuda_options(bool checked = true) {
  Options o;
  o.backend = Backend::cuda;
  o.checked = checked;
  o.cache_dir = shared_cache_dir();
  return o;
}

inline std::string source_path(const std::string& relative) {
  return std::string(JAGTILE_SOURCE_DIR) + "/" + relative;
}

}  // namespace jagtile::testing
