// The kernel language's vocabulary as data, plus the edit distance behind "did you mean".
#include "lang/known.h"

#include <algorithm>

namespace jagtile::lang {

namespace {

const std::vector<std::string> kFunctions = {
    "hl.tile",       "hl.grid",          "hl.jagged_tile",   "hl.load",      "hl.store",
    "hl.zeros",      "hl.full",          "hl.dot",           "torch.zeros",  "torch.empty",
    "torch.full",    "torch.zeros_like", "torch.empty_like", "torch.exp",    "torch.log",
    "torch.sqrt",    "torch.rsqrt",      "torch.abs",        "torch.tanh",   "torch.sigmoid",
    "torch.maximum", "torch.minimum",    "torch.where",      "torch.matmul", "torch.promote_types",
    "F.silu"};

const std::vector<std::string> kConstants = {"torch.float32", "torch.float16", "torch.bfloat16",
                                             "torch.int32",   "torch.int64",   "torch.bool",
                                             "math.inf",      "math.pi"};

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

const std::vector<std::string>& known_modules() {
  static const std::vector<std::string> v = {"hl", "helion", "torch", "F", "math", "jagtile"};
  return v;
}

std::string canonical_member(std::string_view q) {
  // Longest spellings first: each maps a module path to its short alias.
  static const std::pair<std::string_view, std::string_view> kAliases[] = {
      {"torch.nn.functional.", "F."},
      {"helion.language.", "hl."},
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
  static const std::vector<std::string> v = {"float", "int"};
  return v;
}

const std::vector<std::string>& tensor_methods() {
  static const std::vector<std::string> v = {"size", "numel", "item", "view", "reshape",  "sum",
                                             "amax", "amin",  "mean", "to",   "unsqueeze"};
  return v;
}

const std::vector<std::string>& tensor_attributes() {
  static const std::vector<std::string> v = {"shape", "dtype", "device"};
  return v;
}

const std::vector<std::string>& tile_attributes() {
  static const std::vector<std::string> v = {"index", "begin", "end", "block_size", "id"};
  return v;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest_match(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = 3;
  for (const auto& c : candidates) {
    // Compare only the last component of qualified candidates with a plain name.
    std::string_view tail = c;
    if (name.find('.') == std::string_view::npos && tail.rfind('.') != std::string_view::npos) {
      tail = tail.substr(tail.rfind('.') + 1);
    }
    // The distance is at least the length difference: skip hopeless candidates cheaply, which
    // also keeps a huge misspelt name from costing name-length x candidate-length work.
    size_t gap = name.size() > tail.size() ? name.size() - tail.size() : tail.size() - name.size();
    if (gap >= best_d) continue;
    size_t d = edit_distance(name, tail);
    if (d < best_d && d < name.size()) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace jagtile::lang
