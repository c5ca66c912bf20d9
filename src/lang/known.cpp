// The kernel language's vocabulary as data, plus its "did you mean" rule.
#include "lang/known.h"

#include <algorithm>

namespace jagtile::lang {

namespace {

const std::vector<std::string> kFunctions = {"hl.tile",
                                             "hl.grid",
                                             "hl.jagged_tile",
                                             "hl.load",
                                             "hl.store",
                                             "hl.zeros",
                                             "hl.full",
                                             "hl.dot",
                                             "torch.zeros",
                                             "torch.empty",
                                             "torch.full",
                                             "torch.zeros_like",
                                             "torch.empty_like",
                                             "torch.exp",
                                             "torch.log",
                                             "torch.sqrt",
                                             "torch.rsqrt",
                                             "torch.abs",
                                             "torch.tanh",
                                             "torch.sigmoid",
                                             "torch.maximum",
                                             "torch.minimum",
                                             "torch.where",
                                             "torch.matmul",
                                             "torch.promote_types",
                                             "torch.cumsum",
                                             "F.silu",
                                             "hl.specialize",
                                             "hl.cdiv",
                                             "torch.full_like",
                                             "torch.ones",
                                             "torch.ones_like",
                                             "torch.bmm",
                                             "torch.relu",
                                             "torch.clamp",
                                             "F.relu",
                                             "F.sigmoid",
                                             "F.gelu"};

const std::vector<std::string> kConstants = {
    "torch.float32", "torch.float64", "torch.double", "torch.float16", "torch.bfloat16",
    "torch.int32",   "torch.int64",   "torch.bool",   "math.inf",      "math.pi"};

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& default_modules() {
  static const std::vector<std::pair<std::string, std::string>> v = {
      {"hl", "helion.language"},    {"helion", "helion"}, {"torch", "torch"},
      {"F", "torch.nn.functional"}, {"math", "math"},     {"jagtile", "jagtile"}};
  return v;
}

bool is_language_module(std::string_view path) {
  static const std::vector<std::string> v = {
      "torch", "torch.nn", "torch.nn.functional", "helion", "helion.language", "jagtile",
      "jagtile.language", "math",
      // The Python package's Helion drop-in: a Helion file runs by changing only its imports.
      "jagtile.helion", "jagtile.helion.language"};
  return contains(v, path);
}

std::string import_line_for(std::string_view canonical) {
  std::string_view module = canonical.substr(0, canonical.find('.'));
  if (module == "hl") return "import helion.language as hl";
  if (module == "F") return "import torch.nn.functional as F";
  return "import " + std::string(module);
}

std::string canonical_member(std::string_view q) {
  // Longest spellings first: each maps a module path to its short alias.
  static const std::pair<std::string_view, std::string_view> kAliases[] = {
      {"torch.nn.functional.", "F."},
      {"helion.language.", "hl."},
      {"jagtile.helion.language.", "hl."},
      {"jagtile.helion.", "hl."},
      {"jagtile.language.", "hl."},
      {"helion.", "hl."},
      {"jagtile.", "hl."},
      {"hl.", "hl."},
      {"torch.", "torch."},
      {"F.", "F."},
      {"math.", "math."}};
  for (const auto& [from, to] : kAliases) {
    if (starts_with(q, from)) return std::string(to) + std::string(q.substr(from.size()));
  }
  return "";
}

bool is_known_function(std::string_view c) {
  return contains(kFunctions, c);
}
bool is_known_constant(std::string_view c) {
  return contains(kConstants, c);
}

bool is_loop_function(std::string_view c) {
  return c == "hl.tile" || c == "hl.grid" || c == "hl.jagged_tile";
}

bool is_device_only_function(std::string_view c) {
  return c == "hl.load" || c == "hl.store" || c == "hl.zeros" || c == "hl.full" || c == "hl.dot";
}

std::vector<std::string> module_members(std::string_view module) {
  std::vector<std::string> out;
  std::string prefix = std::string(module) + ".";
  for (const auto* list : {&kFunctions, &kConstants}) {
    for (const auto& f : *list) {
      if (starts_with(f, prefix)) out.push_back(f);
    }
  }
  return out;
}

const std::vector<std::string>& builtin_functions() {
  static const std::vector<std::string> v = {"float", "int", "min", "max"};
  return v;
}

const std::vector<std::string>& tensor_methods() {
  static const std::vector<std::string> v = {
      "size", "numel", "item", "view",      "reshape",   "sum",     "amax",
      "amin", "mean",  "to",   "unsqueeze", "transpose", "permute", "cumsum"};
  return v;
}

const std::vector<std::string>& tensor_attributes() {
  static const std::vector<std::string> v = {"shape", "dtype", "device", "T", "mT"};
  return v;
}

const std::vector<std::string>& tile_attributes() {
  static const std::vector<std::string> v = {"index", "begin", "end", "block_size", "id"};
  return v;
}

namespace {

using Sig = Signature;
constexpr int kAny = -1;

const std::vector<std::pair<std::string, Signature>>& function_signatures() {
  static const std::vector<std::pair<std::string, Signature>> v = {
      {"hl.tile", Sig{1, 2, {"block_size"}, "hl.tile(end) or hl.tile(begin, end)"}},
      {"hl.grid", Sig{1, 3, {"step"}, "hl.grid(end) or hl.grid(begin, end)"}},
      {"hl.jagged_tile", Sig{1, 1, {"block_size"}, "hl.jagged_tile(extents)"}},
      {"hl.load", Sig{2, 2, {"extra_mask", "eviction_policy"}, "hl.load(tensor, [index, ...])"}},
      {"hl.store", Sig{3, 3, {"extra_mask"}, "hl.store(tensor, [index, ...], value)"}},
      {"hl.zeros", Sig{1, 1, {"dtype", "device"}, "hl.zeros([tile_a, tile_b], dtype=...)"}},
      {"hl.full", Sig{2, 2, {"dtype", "device"}, "hl.full([tile_a, tile_b], value, dtype=...)"}},
      {"hl.dot", Sig{2, 3, {"acc", "out_dtype"}, "hl.dot(a, b, acc=acc)"}},
      {"torch.zeros", Sig{1, kAny, {"dtype", "device"}, "torch.zeros([n, m], dtype=, device=)"}},
      {"torch.empty", Sig{1, kAny, {"dtype", "device"}, "torch.empty([n, m], dtype=, device=)"}},
      {"torch.full", Sig{2, 2, {"dtype", "device"}, "torch.full([n, m], value, dtype=)"}},
      {"torch.zeros_like", Sig{1, 1, {"dtype", "device"}, "torch.zeros_like(x)"}},
      {"torch.empty_like", Sig{1, 1, {"dtype", "device"}, "torch.empty_like(x)"}},
      {"torch.exp", Sig{1, 1, {}, "torch.exp(x)"}},
      {"torch.log", Sig{1, 1, {}, "torch.log(x)"}},
      {"torch.sqrt", Sig{1, 1, {}, "torch.sqrt(x)"}},
      {"torch.rsqrt", Sig{1, 1, {}, "torch.rsqrt(x)"}},
      {"torch.abs", Sig{1, 1, {}, "torch.abs(x)"}},
      {"torch.tanh", Sig{1, 1, {}, "torch.tanh(x)"}},
      {"torch.sigmoid", Sig{1, 1, {}, "torch.sigmoid(x)"}},
      {"torch.maximum", Sig{2, 2, {}, "torch.maximum(a, b)"}},
      {"torch.minimum", Sig{2, 2, {}, "torch.minimum(a, b)"}},
      {"torch.where", Sig{3, 3, {}, "torch.where(condition, a, b)"}},
      {"torch.matmul", Sig{2, 2, {}, "torch.matmul(a, b)"}},
      {"torch.promote_types", Sig{2, 2, {}, "torch.promote_types(a.dtype, b.dtype)"}},
      {"torch.cumsum", Sig{1, 2, {"dim"}, "torch.cumsum(x, dim=1)"}},
      {"F.silu", Sig{1, 1, {}, "F.silu(x)"}},
      {"F.relu", Sig{1, 1, {}, "F.relu(x)"}},
      {"F.sigmoid", Sig{1, 1, {}, "F.sigmoid(x)"}},
      {"F.gelu", Sig{1, 1, {"approximate"}, "F.gelu(x)"}},
      {"torch.relu", Sig{1, 1, {}, "torch.relu(x)"}},
      {"torch.clamp", Sig{1, 3, {"min", "max"}, "torch.clamp(x, min, max)"}},
      {"torch.bmm", Sig{2, 2, {}, "torch.bmm(a, b)"}},
      {"torch.full_like", Sig{2, 2, {"dtype", "device"}, "torch.full_like(x, value)"}},
      {"torch.ones", Sig{1, kAny, {"dtype", "device"}, "torch.ones([n, m], dtype=, device=)"}},
      {"torch.ones_like", Sig{1, 1, {"dtype", "device"}, "torch.ones_like(x)"}},
      {"hl.cdiv", Sig{2, 2, {}, "hl.cdiv(a, b)"}},
      {"hl.specialize", Sig{1, 1, {}, "hl.specialize(x.size(d))"}},
      {"float", Sig{1, 1, {}, "float(\"inf\") or float(x)"}},
      {"int", Sig{1, 1, {}, "int(x)"}},
      {"min", Sig{2, kAny, {}, "min(a, b) of scalars (torch.minimum for tiles)"}},
      {"max", Sig{2, kAny, {}, "max(a, b) of scalars (torch.maximum for tiles)"}},
  };
  return v;
}

const std::vector<std::pair<std::string, Signature>>& method_signatures() {
  static const std::vector<std::pair<std::string, Signature>> v = {
      {"size", Sig{0, 1, {"dim"}, "x.size() or x.size(dim)"}},
      {"numel", Sig{0, 0, {}, "x.numel()"}},
      {"item", Sig{0, 0, {}, "x.item()"}},
      {"view", Sig{1, kAny, {}, "x.view(-1) or x.view([n, m])"}},
      {"reshape", Sig{1, kAny, {}, "x.reshape([n, m])"}},
      {"sum", Sig{0, 1, {"dim", "keepdim"}, "x.sum(dim=1) or x.sum()"}},
      {"amax", Sig{0, 1, {"dim", "keepdim"}, "x.amax(dim=1) or x.amax()"}},
      {"amin", Sig{0, 1, {"dim", "keepdim"}, "x.amin(dim=1) or x.amin()"}},
      {"mean", Sig{0, 1, {"dim", "keepdim"}, "x.mean(dim=1) or x.mean()"}},
      {"cumsum", Sig{0, 1, {"dim"}, "x.cumsum(dim=1)"}},
      {"to", Sig{0, 1, {"dtype"}, "x.to(torch.float32)"}},
      {"unsqueeze", Sig{0, 1, {"dim"}, "x.unsqueeze(1)"}},
      {"transpose", Sig{2, 2, {"dim0", "dim1"}, "x.transpose(0, 1)"}},
      {"permute", Sig{1, kAny, {}, "x.permute(1, 0, 2)"}},
  };
  return v;
}

const Signature* lookup(const std::vector<std::pair<std::string, Signature>>& table,
                        std::string_view name) {
  for (const auto& [n, sig] : table) {
    if (n == name) return &sig;
  }
  return nullptr;
}

}  // namespace

const Signature* function_signature(std::string_view canonical) {
  return lookup(function_signatures(), canonical);
}

const Signature* method_signature(std::string_view name) {
  return lookup(method_signatures(), name);
}

std::string closest_match(std::string_view name, const std::vector<std::string>& candidates) {
  NameMatch rule;
  rule.last_component = true;
  rule.shorter_than_word = true;
  return closest_name(name, candidates, rule);
}

}  // namespace jagtile::lang
