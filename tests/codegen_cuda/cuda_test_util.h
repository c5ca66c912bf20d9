// Shared by the generated-CUDA tests: the cache folder (as the CPU backend's tests use, so each
// distinct source compiles once per machine while the folder lives), options for the cuda
// backend, and a scope that turns the host emulation on.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "jagtile/compiler.h"
#include "testing/compare.h"
#include "testing/example_grid.h"
#include "testing/examples.h"

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

// The generated-CUDA tests' grid (small: the emulation runs each block's threads in turn): the
// CPU tests' distributions, dtypes and offsets types at a few sizes each.
inline std::vector<GridPoint> cuda_example_grid() {
  return {
      grid_point(13, 19, 23, LengthDist::uniform, 1, DType::f32, DType::i32),
      grid_point(11, 40, 70, LengthDist::zipf, 2, DType::f32, DType::i32),
      grid_point(5, 5, 10, LengthDist::empty, 3, DType::f32, DType::i32),
      grid_point(7, 33, 60, LengthDist::one_huge, 4, DType::f32, DType::i32),
      grid_point(0, 7, 8, LengthDist::uniform, 6, DType::f32, DType::i32),
      grid_point(9, 33, 31, LengthDist::uniform, 7, DType::bf16, DType::i64),
      grid_point(12, 1, 5, LengthDist::tiny, 9, DType::bf16, DType::i64),
      grid_point(6, 9, 12, LengthDist::zipf, 10, DType::f64, DType::i32),
  };
}

// Runs a bundled example over a grid through `run` (the arguments -> the outputs, on the host)
// and expects the interpreter's outputs within the example's tolerances, on the rows the
// example writes.
inline void expect_example_matches_interpreter(
    const ExampleInfo& info, const std::vector<GridPoint>& grid,
    const std::function<std::vector<Tensor>(const Program&, const ArgMap&)>& run) {
  Program p = Program::from_file(source_path(info.file));
  Options interp;
  interp.backend = Backend::interp;
  for (const GridPoint& g : grid) {
    SCOPED_TRACE(describe(g));
    ArgMap args = info.make_inputs(g.shape, g.values, g.offsets);
    const std::vector<Tensor> got = run(p, args);
    std::vector<Tensor> want = p.call(info.kernel, args, interp).outputs;
    ASSERT_EQ(got.size(), want.size());
    std::vector<Expected> ref = info.reference(args);
    for (size_t i = 0; i < want.size(); ++i) {
      // Rows outside every item are unspecified (`empty` outputs): compare the written rows.
      std::vector<uint8_t> rows = i < ref.size() ? ref[i].rows : std::vector<uint8_t>{};
      Comparison c = compare_tensors(got[i], want[i], info.tolerance(want[i].dtype()), rows);
      EXPECT_TRUE(c.ok) << "output " << i << " vs interpreter: " << c.mismatch;
    }
  }
}

}  // namespace jagtile::testing
