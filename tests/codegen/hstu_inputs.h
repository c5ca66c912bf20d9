// The bundled HSTU example and random inputs for it, shared by the tests of the passes that shape
// its generated code (prefetches, kept panels).
#pragma once

#include <algorithm>
#include <vector>

#include "jagtile/compiler.h"
#include "testing/datagen.h"
#include "testing/examples.h"

namespace jagtile::testing {

inline const ExampleInfo& hstu_example() {
  return *find_example("jagged_hstu_attention");
}

// Items of the given lengths, `heads` heads of 16 columns, q, k and v drawn from seeds `seed`,
// seed + 1 and seed + 2; max_seq_len the longest item, alpha 0.25.
inline ArgMap hstu_inputs(const std::vector<int64_t>& lengths, int64_t heads, uint64_t seed) {
  int64_t rows = 0;
  for (int64_t n : lengths) rows += n;
  ArgMap args;
  args["q"] = random_values({rows, heads, 16}, DType::f32, seed);
  args["k"] = random_values({rows, heads, 16}, DType::f32, seed + 1);
  args["v"] = random_values({rows, heads, 16}, DType::f32, seed + 2);
  args["seq_offsets"] = lengths_to_offsets(lengths, DType::i64);
  args["max_seq_len"] = *std::max_element(lengths.begin(), lengths.end());
  args["alpha"] = 0.25;
  return args;
}

}  // namespace jagtile::testing
