// The differential grid the generated-code backends are tested on against the interpreter: one
// point is a shape with a length distribution, a values dtype and an offsets dtype. Each test
// lists its own points (the emulated CUDA runs fewer and smaller ones); this gives them one
// constructor and one description for failure traces.
#pragma once

#include <string>

#include "jagtile/dtype.h"
#include "testing/datagen.h"

namespace jagtile::testing {

struct GridPoint {
  JaggedShape shape;
  DType values;
  DType offsets;
};

inline GridPoint grid_point(int64_t batch, int64_t features, int64_t max_len, LengthDist dist,
                            uint64_t seed, DType values, DType offsets) {
  JaggedShape s;
  s.batch = batch;
  s.features = features;
  s.max_len = max_len;
  s.dist = dist;
  s.seed = seed;
  return {s, values, offsets};
}

inline std::string describe(const GridPoint& g) {
  return "B=" + std::to_string(g.shape.batch) + " M=" + std::to_string(g.shape.features) +
         " L=" + std::to_string(g.shape.max_len) +
         " dist=" + std::string(length_dist_name(g.shape.dist)) + " " +
         std::string(dtype_name(g.values)) + "/" + std::string(dtype_name(g.offsets));
}

}  // namespace jagtile::testing
