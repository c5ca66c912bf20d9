// Generated jagged inputs for the bundled examples, tests and benchmarks.
// Lengths follow the tritonbench jagged operators: mean max_len*(1-sparsity), spread
// +-0.3*max_len, clipped to [0, max_len]; plus named distributions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "jagtile/tensor.h"

namespace jagtile {

enum class LengthDist : uint8_t {
  uniform,   // mean max_len*(1-sparsity), uniform spread +-0.3*max_len, clipped
  zipf,      // heavy tail: most items short, a few near max_len
  empty,     // every item empty
  one_huge,  // item B/2 holds half of all rows; the rest uniform
  tiny,      // lengths uniform in 0..4
};
std::optional<LengthDist> parse_length_dist(
    std::string_view name);  // uniform|zipf|empty|one-huge|tiny
std::string_view length_dist_name(LengthDist dist);

struct JaggedShape {
  int64_t batch = 48;
  int64_t features = 24;
  int64_t max_len = 40;
  double sparsity = 0.5;
  LengthDist dist = LengthDist::uniform;
  uint64_t seed = 0;
  // Attention-shaped examples ([L, H, D] per row); the others ignore them. Small defaults so a
  // run without them stays a quick check.
  int64_t heads = 2;
  int64_t head_dim = 16;
};

// Deterministic for a given shape (seed included), on every platform.
std::vector<int64_t> generate_lengths(const JaggedShape& shape);
// [B+1] exclusive prefix sum of lengths, in dtype (i32 or i64).
Tensor lengths_to_offsets(const std::vector<int64_t>& lengths, DType dtype);
// Values uniform in [-1, 1) (rounded to dtype), deterministic for the seed.
Tensor random_values(const Shape& shape, DType dtype, uint64_t seed);
// Integers uniform in [lo, hi], as dtype (i32/i64).
Tensor random_ints(const Shape& shape, int64_t lo, int64_t hi, DType dtype, uint64_t seed);

}  // namespace jagtile
