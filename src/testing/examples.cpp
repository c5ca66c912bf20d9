// The registry of bundled examples: which file each kernel lives in, how to generate its
// inputs from a JaggedShape, which reference computes its expected outputs and how closely a
// backend must agree.
#include "testing/examples.h"

#include <algorithm>
#include <cmath>

#include "jagtile/error.h"
#include "testing/references.h"

namespace jagtile {
namespace {

// Each generated tensor gets its own random stream derived from the shape's seed.
uint64_t stream_seed(const JaggedShape& shape, uint64_t stream) {
  return shape.seed * 0x9e3779b97f4a7c15ull + stream * 0xbf58476d1ce4e5b9ull + 1;
}

// values [N, M] and offsets [B + 1] for the shape; the pair every example starts from.
ArgMap jagged_inputs(const JaggedShape& shape, DType values, DType offsets,
                     std::vector<int64_t>* lengths_out = nullptr) {
  std::vector<int64_t> lengths = generate_lengths(shape);
  int64_t rows = 0;
  for (int64_t len : lengths) rows += len;
  ArgMap args;
  args["x_values"] = random_values({rows, shape.features}, values, stream_seed(shape, 1));
  args["x_offsets"] = lengths_to_offsets(lengths, offsets);
  if (lengths_out) *lengths_out = std::move(lengths);
  return args;
}

const char* kind_name(const ArgValue& v) {
  switch (v.index()) {
    case 0:
      return "a tensor";
    case 1:
      return "an integer";
    case 2:
      return "a float";
    default:
      return "none";
  }
}

Tensor tensor_arg(const ArgMap& args, const std::string& name, const std::string& kernel,
                  bool optional = false) {
  auto it = args.find(name);
  if (it == args.end()) {
    if (optional) return {};
    throw UserError(kernel + ": argument '" + name + "' is missing",
                    "pass it as --arg " + name + "=FILE.npy");
  }
  if (std::holds_alternative<NoneArg>(it->second) && optional) return {};
  if (!std::holds_alternative<Tensor>(it->second)) {
    throw UserError(
        kernel + ": argument '" + name + "' must be a tensor, got " + kind_name(it->second),
        "pass it as --arg " + name + "=FILE.npy");
  }
  return std::get<Tensor>(it->second);
}

double float_arg(const ArgMap& args, const std::string& name, double default_value,
                 const std::string& kernel) {
  auto it = args.find(name);
  if (it == args.end()) return default_value;
  if (auto* i = std::get_if<int64_t>(&it->second)) return double(*i);
  if (auto* d = std::get_if<double>(&it->second)) return *d;
  throw UserError(
      kernel + ": argument '" + name + "' must be a number, got " + kind_name(it->second),
      "pass it as --arg " + name + "=1e-6");
}

int64_t int_arg(const ArgMap& args, const std::string& name, const std::string& kernel) {
  auto it = args.find(name);
  if (it == args.end()) {
    throw UserError(kernel + ": argument '" + name + "' is missing",
                    "pass it as --arg " + name + "=N");
  }
  if (auto* i = std::get_if<int64_t>(&it->second)) return *i;
  throw UserError(
      kernel + ": argument '" + name + "' must be an integer, got " + kind_name(it->second),
      "pass it as --arg " + name + "=N");
}

std::vector<Expected> single(Tensor value) {
  return {Expected{std::move(value), {}, {}}};
}

std::vector<Expected> jagged_output(Tensor value, const Tensor& offsets) {
  std::vector<uint8_t> rows = reference::rows_in_items(offsets, value.size(0));
  return {Expected{std::move(value), std::move(rows), {}}};
}

std::vector<ExampleInfo> build_registry() {
  std::vector<ExampleInfo> all;
  auto add = [&](std::string kernel, std::string summary, std::vector<std::string> params) {
    ExampleInfo& e = all.emplace_back();
    e.file = "examples/" + kernel + ".py";
    e.kernel = std::move(kernel);
    e.summary = std::move(summary);
    e.params = std::move(params);
    e.make_inputs = [](const JaggedShape& s, DType v, DType o) { return jagged_inputs(s, v, o); };
    return &e;
  };

  auto* sum = add("jagged_sum", "per-item column sums [B, M]", {"x_values", "x_offsets"});
  sum->reference = [](const ArgMap& a) {
    Tensor values = tensor_arg(a, "x_values", "jagged_sum");
    Tensor offsets = tensor_arg(a, "x_offsets", "jagged_sum");
    Expected e{reference::jagged_sum(values, offsets), {}, {}};
    e.extra_atol = reference::sum_rounding_allowance(values, offsets);
    return std::vector<Expected>{std::move(e)};
  };
  sum->tolerance = [](DType t) { return scaled_tolerance(t, 1e-5, 1e-4); };

  auto* mean = add("jagged_mean", "per-item column means on each item's own columns [B, M]",
                   {"x_values", "x_offsets", "x_feature_counts"});
  mean->make_inputs = [](const JaggedShape& s, DType v, DType o) {
    ArgMap args = jagged_inputs(s, v, o);
    args["x_feature_counts"] = random_ints({s.batch}, 0, s.features, DType::i32, stream_seed(s, 2));
    return args;
  };
  mean->reference = [](const ArgMap& a) {
    const std::string k = "jagged_mean";
    return single(reference::jagged_mean(tensor_arg(a, "x_values", k),
                                         tensor_arg(a, "x_offsets", k),
                                         tensor_arg(a, "x_feature_counts", k)));
  };
  mean->tolerance = [](DType t) { return scaled_tolerance(t, 1e-5, 1e-4); };

  auto* max = add("jagged_max", "per-item column maxima, -inf for an empty item [B, M]",
                  {"x_values", "x_offsets"});
  max->reference = [](const ArgMap& a) {
    return single(reference::jagged_max(tensor_arg(a, "x_values", "jagged_max"),
                                        tensor_arg(a, "x_offsets", "jagged_max")));
  };
  max->tolerance = [](DType) { return Tolerance{0, 0}; };  // no arithmetic: exact

  auto* softmax = add("jagged_softmax", "softmax over each item's rows, per column [N, M]",
                      {"x_values", "x_offsets"});
  softmax->reference = [](const ArgMap& a) {
    Tensor offsets = tensor_arg(a, "x_offsets", "jagged_softmax");
    return jagged_output(
        reference::jagged_softmax(tensor_arg(a, "x_values", "jagged_softmax"), offsets), offsets);
  };
  softmax->tolerance = [](DType t) { return scaled_tolerance(t, 1e-5, 1e-4); };

  auto* norm = add("jagged_layer_norm", "each item normalised over all its values [N, M]",
                   {"x_values", "x_offsets", "eps"});
  norm->reference = [](const ArgMap& a) {
    const std::string k = "jagged_layer_norm";
    Tensor offsets = tensor_arg(a, "x_offsets", k);
    return jagged_output(reference::jagged_layer_norm(tensor_arg(a, "x_values", k), offsets,
                                                      float_arg(a, "eps", 1e-6, k)),
                         offsets);
  };
  norm->tolerance = [](DType t) { return scaled_tolerance(t, 1e-4, 1e-4); };

  auto* add_dense = add("jagged_dense_add", "dense y [B, L, M] plus the zero-padded jagged tensor",
                        {"x_values", "x_offsets", "y"});
  add_dense->make_inputs = [](const JaggedShape& s, DType v, DType o) {
    std::vector<int64_t> lengths;
    ArgMap args = jagged_inputs(s, v, o, &lengths);
    // L covers the longest item even when a distribution (one-huge) exceeds max_len.
    int64_t l = s.max_len;
    for (int64_t len : lengths) l = std::max(l, len);
    args["y"] = random_values({s.batch, l, s.features}, v, stream_seed(s, 3));
    return args;
  };
  add_dense->reference = [](const ArgMap& a) {
    const std::string k = "jagged_dense_add";
    return single(reference::jagged_dense_add(
        tensor_arg(a, "x_values", k), tensor_arg(a, "x_offsets", k), tensor_arg(a, "y", k)));
  };
  add_dense->tolerance = [](DType t) { return scaled_tolerance(t, 1e-6, 1e-6); };

  auto* bmm = add("jagged_dense_bmm", "each item's rows times its own weight, plus bias [N, K]",
                  {"x_values", "x_offsets", "weight", "bias"});
  bmm->make_inputs = [](const JaggedShape& s, DType v, DType o) {
    ArgMap args = jagged_inputs(s, v, o);
    // K differs from D so that a transposed weight cannot pass.
    int64_t k = s.features / 2 + 1;
    args["weight"] = random_values({s.batch, s.features, k}, v, stream_seed(s, 4));
    args["bias"] = random_values({s.batch, k}, v, stream_seed(s, 5));
    return args;
  };
  bmm->reference = [](const ArgMap& a) {
    const std::string k = "jagged_dense_bmm";
    Tensor offsets = tensor_arg(a, "x_offsets", k);
    return jagged_output(
        reference::jagged_dense_bmm(tensor_arg(a, "x_values", k), offsets,
                                    tensor_arg(a, "weight", k), tensor_arg(a, "bias", k, true)),
        offsets);
  };
  bmm->tolerance = [](DType t) { return scaled_tolerance(t, 1e-4, 1e-4); };
  bmm->useful_flops = [](const ArgMap& a) {
    const std::string k = "jagged_dense_bmm";
    Tensor offsets = tensor_arg(a, "x_offsets", k), weight = tensor_arg(a, "weight", k);
    const double rows = offsets.item_as_double(offsets.numel() - 1) - offsets.item_as_double(0);
    return 2.0 * rows * double(weight.size(1)) * double(weight.size(2));
  };

  auto* hstu = add("jagged_hstu_attention",
                   "causal SiLU attention of each sequence with itself, per head [L, H, D]",
                   {"q", "k", "v", "seq_offsets", "max_seq_len", "alpha"});
  hstu->uses_heads = true;
  hstu->make_inputs = [](const JaggedShape& s, DType v, DType o) {
    std::vector<int64_t> lengths = generate_lengths(s);
    int64_t rows = 0, longest = 0;
    for (int64_t len : lengths) {
      rows += len;
      longest = std::max(longest, len);
    }
    ArgMap args;
    args["q"] = random_values({rows, s.heads, s.head_dim}, v, stream_seed(s, 6));
    args["k"] = random_values({rows, s.heads, s.head_dim}, v, stream_seed(s, 7));
    args["v"] = random_values({rows, s.heads, s.head_dim}, v, stream_seed(s, 8));
    args["seq_offsets"] = lengths_to_offsets(lengths, o);
    // HSTU divides by a bound on the sequence lengths; the generated longest one is the tightest
    // (one-huge exceeds --max-len), and at least 1 so an all-empty batch stays finite.
    args["max_seq_len"] = std::max<int64_t>(longest, 1);
    args["alpha"] = 1.0 / std::sqrt(double(std::max<int64_t>(s.head_dim, 1)));
    return args;
  };
  // Two causal matmuls per sequence and head, each 2 * D * L^2 / 2 (as tritonbench and
  // generative-recommenders count HSTU attention).
  hstu->useful_flops = [](const ArgMap& a) {
    const std::string k = "jagged_hstu_attention";
    Tensor offsets = tensor_arg(a, "seq_offsets", k), q = tensor_arg(a, "q", k);
    double flops = 0;
    for (int64_t b = 0; b + 1 < offsets.numel(); ++b) {
      const double len = offsets.item_as_double(b + 1) - offsets.item_as_double(b);
      flops += 2.0 * double(q.size(1)) * double(q.size(2)) * len * len;
    }
    return flops;
  };
  hstu->reference = [](const ArgMap& a) {
    const std::string k = "jagged_hstu_attention";
    Tensor offsets = tensor_arg(a, "seq_offsets", k);
    auto alpha = a.find("alpha");
    if (alpha == a.end()) {
      throw UserError(k + ": argument 'alpha' is missing", "pass it as --arg alpha=0.25");
    }
    return jagged_output(reference::jagged_hstu_attention(
                             tensor_arg(a, "q", k), tensor_arg(a, "k", k), tensor_arg(a, "v", k),
                             offsets, int_arg(a, "max_seq_len", k), float_arg(a, "alpha", 0, k)),
                         offsets);
  };
  // The kernel and the reference read the same (rounded) inputs, so only the arithmetic differs.
  // float32: an output sums at most max_seq_len terms p*v whose |p| add up to at most max|silu|
  // (the 1/max_seq_len scale), so reassociated float32 sums (blocks of keys, the D-long dot
  // products) drift by about sqrt(n) * 2^-24 of that; measured: about 1e-8, a thousand times
  // below 1e-5. One lost or doubled term (about 0.1 / max_seq_len) or a missed causal mask
  // still exceeds 1e-5 + 1e-4 |x| at the sizes tested.
  // 16-bit: both sides round a float32 value once, and a float32 difference can flip that
  // rounding by one unit in the last place: at most 2^-7 |x| for bfloat16 and 2^-10 |x| for
  // float16, hence rtol 1e-2 and 2e-3. The absolute part stays at 1e-5 instead of the 1e-2 of
  // scaled_tolerance: the outputs are mostly 1e-4 to 1e-2 (the 1/max_seq_len scale), where
  // 1e-2 would pass a kernel that wrote zeros.
  hstu->tolerance = [](DType t) {
    switch (t) {
      case DType::bf16:
        return Tolerance{1e-5, 1e-2};
      case DType::f16:
        return Tolerance{1e-5, 2e-3};
      default:
        return scaled_tolerance(t, 1e-5, 1e-4);
    }
  };
  return all;
}

const std::vector<ExampleInfo>& registry() {
  static const std::vector<ExampleInfo> all = build_registry();
  return all;
}

}  // namespace

const ExampleInfo* find_example(std::string_view kernel_name) {
  for (const ExampleInfo& e : registry()) {
    if (e.kernel == kernel_name) return &e;
  }
  return nullptr;
}

std::vector<const ExampleInfo*> all_examples() {
  std::vector<const ExampleInfo*> out;
  for (const ExampleInfo& e : registry()) out.push_back(&e);
  return out;
}

std::string example_names() {
  std::string out;
  for (const ExampleInfo& e : registry()) out += (out.empty() ? "" : ", ") + e.kernel;
  return out;
}

ArgMap args_copied_to(const ArgMap& args, Device device) {
  if (device.is_cpu()) return args;
  ArgMap moved;
  for (const auto& [name, value] : args) {
    const Tensor* t = std::get_if<Tensor>(&value);
    moved.emplace(name, t ? ArgValue(t->to(device)) : value);
  }
  return moved;
}

std::vector<Tensor> tensors_on_host(const std::vector<Tensor>& tensors) {
  std::vector<Tensor> host;
  for (const Tensor& t : tensors) host.push_back(t.device().is_cpu() ? t : t.to(Device::cpu()));
  return host;
}

}  // namespace jagtile
