// The jagged_reduce benchmark cases (the foundation issue's list), shared by bench_reduce (CPU)
// and bench_reduce_cuda so both always time the same shapes and data.
#pragma once

#include <string>
#include <vector>

#include "testing/datagen.h"

namespace jagtile {

struct ReduceBenchCase {
  std::string name;
  JaggedShape shape;
  DType dtype;
};

// `divisor` shrinks the batch (or, for zipf, the longest item) so a quick run keeps each shape's
// character: rows per item, columns and length distribution.
inline std::vector<ReduceBenchCase> reduce_bench_cases(int64_t divisor = 1) {
  const int64_t d = divisor;
  return {
      {"uniform/f32", {1024 / d, 256, 512, 0.5, LengthDist::uniform, 1}, DType::f32},
      {"uniform/bf16", {1024 / d, 256, 512, 0.5, LengthDist::uniform, 1}, DType::bf16},
      {"small-rows/f32", {16384 / d, 64, 64, 0.5, LengthDist::uniform, 2}, DType::f32},
      {"zipf/f32", {64, 1024, 4096 / d, 0.5, LengthDist::zipf, 3}, DType::f32},
      {"tiny-items/f32", {1000000 / d, 16, 4, 0.5, LengthDist::tiny, 4}, DType::f32},
      {"one-huge/f32", {1024 / d, 256, 512, 0.5, LengthDist::one_huge, 5}, DType::f32},
  };
}

}  // namespace jagtile
