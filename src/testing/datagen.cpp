// Deterministic input generation for examples, tests and benchmarks. The generator is our own
// splitmix64 so the same seed gives the same data on every platform and standard library.
#include "testing/datagen.h"

#include <algorithm>
#include <cmath>

#include "jagtile/error.h"

namespace jagtile {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  int64_t uniform_int(int64_t lo, int64_t hi) {                  // [lo, hi]
    return lo + int64_t(next() % uint64_t(hi - lo + 1));
  }

 private:
  uint64_t state_;
};

int64_t uniform_length(Rng& rng, const JaggedShape& shape) {
  double mean = double(shape.max_len) * (1.0 - shape.sparsity);
  double spread = 0.3 * double(shape.max_len);
  double len = mean + (2.0 * rng.uniform() - 1.0) * spread;
  return std::clamp<int64_t>(int64_t(std::llround(len)), 0, shape.max_len);
}

// Pareto-distributed lengths (alpha 1.1): most items short, a few close to max_len.
int64_t zipf_length(Rng& rng, const JaggedShape& shape) {
  double x_min = std::max(1.0, double(shape.max_len) / 64.0);
  double len = x_min * std::pow(1.0 - rng.uniform(), -1.0 / 1.1) - 1.0;
  return std::clamp<int64_t>(int64_t(len), 0, shape.max_len);
}

}  // namespace

std::optional<LengthDist> parse_length_dist(std::string_view name) {
  if (name == "uniform") return LengthDist::uniform;
  if (name == "zipf") return LengthDist::zipf;
  if (name == "empty") return LengthDist::empty;
  if (name == "one-huge" || name == "one_huge") return LengthDist::one_huge;
  if (name == "tiny") return LengthDist::tiny;
  return std::nullopt;
}

std::string_view length_dist_name(LengthDist dist) {
  switch (dist) {
    case LengthDist::uniform:
      return "uniform";
    case LengthDist::zipf:
      return "zipf";
    case LengthDist::empty:
      return "empty";
    case LengthDist::one_huge:
      return "one-huge";
    case LengthDist::tiny:
      return "tiny";
  }
  return "?";
}

std::vector<int64_t> generate_lengths(const JaggedShape& shape) {
  if (shape.batch < 0 || shape.max_len < 0) {
    throw UserError("batch and max_len must be non-negative, got batch=" +
                    std::to_string(shape.batch) + ", max_len=" + std::to_string(shape.max_len));
  }
  if (!(shape.sparsity >= 0.0 && shape.sparsity <= 1.0)) {
    throw UserError("sparsity must be in [0, 1], got " + std::to_string(shape.sparsity));
  }
  Rng rng(shape.seed);
  std::vector<int64_t> lengths(size_t(shape.batch), 0);
  for (auto& len : lengths) {
    switch (shape.dist) {
      case LengthDist::uniform:
      case LengthDist::one_huge:
        len = uniform_length(rng, shape);
        break;
      case LengthDist::zipf:
        len = zipf_length(rng, shape);
        break;
      case LengthDist::empty:
        len = 0;
        break;
      case LengthDist::tiny:
        len = rng.uniform_int(0, 4);
        break;
    }
  }
  if (shape.dist == LengthDist::one_huge && shape.batch > 0) {
    // The huge item takes as many rows as all the others together: half of the total.
    int64_t others = 0;
    for (int64_t len : lengths) others += len;
    size_t huge = size_t(shape.batch / 2);
    others -= lengths[huge];
    lengths[huge] = std::max<int64_t>(others, shape.max_len);
  }
  return lengths;
}

Tensor lengths_to_offsets(const std::vector<int64_t>& lengths, DType dtype) {
  JAGTILE_CHECK(dtype == DType::i32 || dtype == DType::i64, << "offsets dtype must be integer");
  Tensor offsets = Tensor::empty({int64_t(lengths.size()) + 1}, dtype);
  int64_t total = 0;
  for (size_t b = 0; b <= lengths.size(); ++b) {
    if (dtype == DType::i32) {
      JAGTILE_CHECK(total <= INT32_MAX, << "offsets overflow int32; use int64 offsets");
      offsets.data<int32_t>()[b] = int32_t(total);
    } else {
      offsets.data<int64_t>()[b] = total;
    }
    if (b < lengths.size()) total += lengths[b];
  }
  return offsets;
}

Tensor random_values(const Shape& shape, DType dtype, uint64_t seed) {
  Tensor t = Tensor::empty(shape, dtype);
  Rng rng(seed ^ 0x5eedull);
  int64_t n = t.numel();
  auto next_value = [&] { return float(2.0 * rng.uniform() - 1.0); };
  switch (dtype) {
    case DType::f32:
      for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = next_value();
      break;
    case DType::f64:  // the full double, so float64 data is not float32 data widened
      for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = 2.0 * rng.uniform() - 1.0;
      break;
    case DType::bf16:
      for (int64_t i = 0; i < n; ++i) t.data<uint16_t>()[i] = f32_to_bf16_bits(next_value());
      break;
    case DType::f16:
      for (int64_t i = 0; i < n; ++i) t.data<uint16_t>()[i] = f32_to_f16_bits(next_value());
      break;
    default:
      throw UserError("random_values needs a float dtype, got " + std::string(dtype_name(dtype)));
  }
  return t;
}

Tensor random_ints(const Shape& shape, int64_t lo, int64_t hi, DType dtype, uint64_t seed) {
  JAGTILE_CHECK(lo <= hi, << "random_ints: empty range");
  Tensor t = Tensor::empty(shape, dtype);
  Rng rng(seed ^ 0x1a7ull);
  for (int64_t i = 0; i < t.numel(); ++i) t.set_from_double(i, double(rng.uniform_int(lo, hi)));
  return t;
}

}  // namespace jagtile
