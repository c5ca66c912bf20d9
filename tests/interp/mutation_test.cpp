// Lowering and the interpreter never fail with anything but a UserError on user input: every
// bundled example is mutated deterministically (lines dropped, duplicated or swapped, names and
// numbers replaced); each mutant that parses and checks is specialised and run on small inputs.
// An InternalError (a verifier failure included) or a crash is a bug.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "../ir/helpers.h"
#include "interp/interp.h"

namespace jagtile::testing {
namespace {

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

struct Example {
  const char* name;
  std::vector<ir::ParamSpec> specs;
  // The shape of its rank-3 tensors: dense [B, L, M] by default; attention's [L, H, D] rows
  // must cover the offsets' 6 rows for mutants to get past the offsets check.
  Shape rank3 = {3, 6, 3};
};

TEST(Mutation, LoweringAndInterpreterRaiseOnlyUserErrors) {
  auto values = tensor_spec("x_values", DType::f32, 2);
  auto offsets = tensor_spec("x_offsets", DType::i64, 1);
  std::vector<Example> examples = {
      {"jagged_sum", {values, offsets}},
      {"jagged_mean", {values, offsets, tensor_spec("x_feature_counts", DType::i32, 1)}},
      {"jagged_max", {values, offsets}},
      {"jagged_softmax", {values, offsets}},
      {"jagged_layer_norm", {values, offsets, scalar_spec("eps", ir::ParamKind::float_scalar)}},
      {"jagged_dense_add", {values, offsets, tensor_spec("y", DType::f32, 3)}},
      {"jagged_dense_bmm",
       {values, offsets, tensor_spec("weight", DType::f32, 3), tensor_spec("bias", DType::f32, 2)}},
      {"jagged_hstu_attention",
       {tensor_spec("q", DType::f32, 3), tensor_spec("k", DType::f32, 3),
        tensor_spec("v", DType::f32, 3), tensor_spec("seq_offsets", DType::i64, 1),
        scalar_spec("max_seq_len", ir::ParamKind::int_scalar),
        scalar_spec("alpha", ir::ParamKind::float_scalar)},
       {6, 2, 3}},
  };
  std::mt19937 rng(12345);
  int lowered = 0, rejected = 0;
  for (const Example& ex : examples) {
    std::ifstream in(std::string(JAGTILE_SOURCE_DIR) + "/examples/" + ex.name + ".py");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> lines = split_lines(ss.str());
    ASSERT_FALSE(lines.empty());
    std::vector<std::string> words;
    std::regex word_re("[A-Za-z_][A-Za-z_0-9]*|[0-9]+");
    for (const auto& l : lines)
      for (auto it = std::sregex_iterator(l.begin(), l.end(), word_re);
           it != std::sregex_iterator(); ++it)
        words.push_back(it->str());
    for (int trial = 0; trial < 150; ++trial) {
      std::vector<std::string> m = lines;
      size_t i = rng() % m.size(), j = rng() % m.size();
      switch (rng() % 4) {
        case 0:
          m.erase(m.begin() + long(i));
          break;
        case 1:
          m.insert(m.begin() + long(i), m[j]);
          break;
        case 2:
          std::swap(m[i], m[j]);
          break;
        default: {
          std::string& l = m[i];
          std::vector<std::pair<size_t, size_t>> spans;
          for (auto it = std::sregex_iterator(l.begin(), l.end(), word_re);
               it != std::sregex_iterator(); ++it)
            spans.push_back({size_t(it->position()), size_t(it->length())});
          if (spans.empty()) break;
          auto [pos, len] = spans[rng() % spans.size()];
          l.replace(pos, len, words[rng() % words.size()]);
        }
      }
      std::string src = join(m);
      ast::Module mod;
      std::vector<const ast::Stmt*> defs;
      try {
        mod = lang::parse_module(src, "mutant.py");
        lang::check_module(mod);
        defs = lang::kernel_defs(mod);
      } catch (const UserError&) {
        continue;  // the front end's business
      }
      if (defs.size() != 1 || defs[0]->params.size() != ex.specs.size()) continue;
      std::vector<ir::ParamSpec> specs = ex.specs;
      for (size_t p = 0; p < specs.size(); ++p) specs[p].name = defs[0]->params[p].name;
      try {
        ir::LowerOptions lo;
        ir::CompiledIR c = ir::compile_ir(mod, *defs[0], specs, lo, false);
        ++lowered;
        std::vector<ArgValue> args;
        for (const ir::ParamSpec& p : specs) {
          if (p.kind == ir::ParamKind::float_scalar) {
            args.push_back(1e-6);
          } else if (p.kind == ir::ParamKind::int_scalar) {
            args.push_back(int64_t(6));
          } else if (p.dtype == DType::i64) {
            args.push_back(Tensor::from_doubles({4}, {0, 2, 2, 6}, DType::i64));
          } else if (p.dtype == DType::i32) {
            args.push_back(Tensor::from_doubles({3}, {1, 0, 3}, DType::i32));
          } else {
            Shape shape = p.rank == 2 ? Shape{6, 3} : ex.rank3;
            std::vector<double> v(size_t(shape_numel(shape)));
            for (size_t q = 0; q < v.size(); ++q) v[q] = double(q % 7) - 3;
            args.push_back(Tensor::from_doubles(shape, v, DType::f32));
          }
        }
        interp::run_kernel(c.kernel, args);
      } catch (const UserError&) {
        ++rejected;
      } catch (const InternalError& e) {
        ADD_FAILURE() << ex.name << " mutant " << trial << ": " << e.what() << "\n" << src;
      }
    }
  }
  EXPECT_GT(lowered + rejected, 100);
}

}  // namespace
}  // namespace jagtile::testing
