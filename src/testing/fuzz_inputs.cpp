// Inputs of generated kernels (InputRecipe -> arguments) and the comparison tolerances of their
// outputs (see kernel_gen.h and docs/fuzzing.md).
#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

#include "jagtile/error.h"
#include "testing/kernel_gen.h"

namespace jagtile::fuzz {

std::string InputRecipe::str() const {
  std::ostringstream os;
  os << "batch=" << batch << " features=" << features << " max_len=" << max_len
     << " dist=" << length_dist_name(dist) << " values=" << dtype_short_name(values)
     << " offsets=" << dtype_short_name(offsets) << " seed=" << seed << " lead=" << lead
     << " tail=" << tail << " weight_cols=" << weight_cols << " alpha=" << alpha;
  return os.str();
}

namespace {

DType recipe_dtype(const std::string& s) {
  std::optional<DType> d = jagtile::parse_dtype(s);
  if (!d || *d == DType::boolean) throw UserError("input recipe: unknown dtype '" + s + "'");
  return *d;
}

int64_t parse_int(const std::string& key, const std::string& v) {
  try {
    size_t used = 0;
    int64_t n = std::stoll(v, &used);
    if (used == v.size()) return n;
  } catch (const std::exception&) {
  }
  throw UserError("input recipe: " + key + "=" + v + " is not an integer");
}

}  // namespace

InputRecipe InputRecipe::parse(std::string_view line) {
  InputRecipe r;
  std::istringstream in{std::string(line)};
  std::string word;
  while (in >> word) {
    size_t eq = word.find('=');
    if (eq == std::string::npos)
      throw UserError("input recipe: expected KEY=VALUE, got '" + word + "'");
    std::string key = word.substr(0, eq), v = word.substr(eq + 1);
    if (key == "batch")
      r.batch = parse_int(key, v);
    else if (key == "features")
      r.features = parse_int(key, v);
    else if (key == "max_len")
      r.max_len = parse_int(key, v);
    else if (key == "seed")
      r.seed = uint64_t(parse_int(key, v));
    else if (key == "lead")
      r.lead = parse_int(key, v);
    else if (key == "tail")
      r.tail = parse_int(key, v);
    else if (key == "weight_cols")
      r.weight_cols = parse_int(key, v);
    else if (key == "alpha")
      r.alpha = std::stod(v);
    else if (key == "values")
      r.values = recipe_dtype(v);
    else if (key == "offsets")
      r.offsets = recipe_dtype(v);
    else if (key == "dist") {
      auto d = parse_length_dist(v);
      if (!d) throw UserError("input recipe: unknown length distribution '" + v + "'");
      r.dist = *d;
    } else {
      throw UserError("input recipe: unknown key '" + key + "'");
    }
  }
  if (r.batch < 0 || r.features < 0 || r.max_len < 0 || r.lead < 0 || r.tail < 0 ||
      r.weight_cols < 0)
    throw UserError("input recipe: sizes must be non-negative: " + std::string(line));
  return r;
}

ArgMap make_args(const InputRecipe& r) {
  JaggedShape shape;
  shape.batch = r.batch;
  shape.features = r.features;
  shape.max_len = r.max_len;
  shape.dist = r.dist;
  shape.seed = r.seed;
  std::vector<int64_t> lengths = generate_lengths(shape);
  std::vector<int64_t> offs(lengths.size() + 1, r.lead);
  for (size_t b = 0; b < lengths.size(); ++b) offs[b + 1] = offs[b] + lengths[b];
  int64_t rows = offs.back() + r.tail;
  std::vector<double> offs_d(offs.begin(), offs.end());
  ArgMap args;
  args["x"] = random_values({rows, r.features}, r.values, r.seed + 1);
  args["offsets"] = Tensor::from_doubles({int64_t(offs.size())}, offs_d, r.offsets);
  args["counts"] = random_ints({r.batch}, 0, r.features, r.offsets, r.seed + 2);
  args["y"] = random_values({r.batch, r.features}, r.values, r.seed + 3);
  args["w"] = random_values({r.batch, r.features, r.weight_cols}, r.values, r.seed + 4);
  args["alpha"] = r.alpha;
  return args;
}

int64_t longest_item(const ArgMap& args) {
  auto it = args.find("offsets");
  if (it == args.end() || !std::holds_alternative<Tensor>(it->second)) return 0;
  const Tensor& o = std::get<Tensor>(it->second);
  int64_t longest = 0;
  for (int64_t b = 0; b + 1 < o.numel(); ++b)
    longest = std::max(longest, int64_t(o.item_as_double(b + 1) - o.item_as_double(b)));
  return longest;
}

ElementTolerance tolerance_for(const OutputTolerance& out, DType dtype, int64_t longest) {
  if (dtype == DType::i32 || dtype == DType::i64 || dtype == DType::boolean) return {0, 0};
  if (out.exact) return {0, 0};
  // Reassociating a float32 sum of L terms moves it by about L ulps of its magnitude bound in
  // the worst case; a math function's last ulp and the sums' rounding add a relative 1e-4 of
  // the bound. A 16-bit output then rounds once: 1 ulp of its own (2^-8 for bf16, 2^-11 for
  // f16), twice for safety.
  double L = double(std::max<int64_t>(longest, 1));
  double magnitude = out.bound * std::pow(L, out.degree);
  ElementTolerance t;
  t.atol = magnitude * (1e-4 + 6e-8 * L);
  t.rtol = dtype == DType::bf16 ? 1.0 / 128 : dtype == DType::f16 ? 1.0 / 1024 : 1e-5;
  return t;
}

}  // namespace jagtile::fuzz
