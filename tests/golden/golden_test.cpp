// Golden tests: the printed IR (after every pass) of each bundled example, for a fixed
// specialisation, compared with tests/golden/data/<case>.ir, and its host program and final
// planned loop nests with <case>.plan. Set JAGTILE_UPDATE_GOLDEN=1 to rewrite the files after
// an intended change, then review the diff. They catch change; tests/plan asserts properties.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "host/host_program.h"
#include "ir/pipeline.h"
#include "ir/printer.h"
#include "lang/check.h"
#include "lang/parser.h"
#include "plan/nest_printer.h"
#include "plan/planner.h"

namespace jagtile::testing {
namespace {

struct Case {
  std::string name;     // golden file stem
  std::string example;  // examples/<example>.py
  std::vector<ir::ParamSpec> params;
};

ir::ParamSpec tensor(const std::string& name, DType dtype, int rank) {
  ir::ParamSpec s;
  s.name = name;
  s.kind = ir::ParamKind::tensor;
  s.dtype = dtype;
  s.rank = rank;
  return s;
}

ir::ParamSpec scalar(const std::string& name, ir::ParamKind kind) {
  ir::ParamSpec s;
  s.name = name;
  s.kind = kind;
  return s;
}

ir::ParamSpec none(const std::string& name) {
  return scalar(name, ir::ParamKind::none);
}

std::vector<Case> cases() {
  auto values = tensor("x_values", DType::f32, 2);
  auto offsets = tensor("x_offsets", DType::i64, 1);
  return {
      {"jagged_sum", "jagged_sum", {values, offsets}},
      {"jagged_sum_bf16_i32",
       "jagged_sum",
       {tensor("x_values", DType::bf16, 2), tensor("x_offsets", DType::i32, 1)}},
      {"jagged_mean", "jagged_mean", {values, offsets, tensor("x_feature_counts", DType::i32, 1)}},
      {"jagged_max", "jagged_max", {values, offsets}},
      {"jagged_softmax", "jagged_softmax", {values, offsets}},
      {"jagged_layer_norm",
       "jagged_layer_norm",
       {values, offsets, scalar("eps", ir::ParamKind::float_scalar)}},
      {"jagged_dense_add", "jagged_dense_add", {values, offsets, tensor("y", DType::f32, 3)}},
      {"jagged_dense_bmm",
       "jagged_dense_bmm",
       {values, offsets, tensor("weight", DType::f32, 3), tensor("bias", DType::f32, 2)}},
      {"jagged_dense_bmm_no_bias",
       "jagged_dense_bmm",
       {values, offsets, tensor("weight", DType::f32, 3), none("bias")}},
      {"jagged_hstu_attention",
       "jagged_hstu_attention",
       {tensor("q", DType::bf16, 3), tensor("k", DType::bf16, 3), tensor("v", DType::bf16, 3),
        tensor("seq_offsets", DType::i64, 1), scalar("max_seq_len", ir::ParamKind::int_scalar),
        scalar("alpha", ir::ParamKind::float_scalar)}},
  };
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Compares (or, with JAGTILE_UPDATE_GOLDEN=1, rewrites) one golden file. The texts are long:
// a mismatch names the first differing line instead of printing both.
void compare_with_golden(const std::string& path, const std::string& actual) {
  const char* update = std::getenv("JAGTILE_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream out(path, std::ios::binary);
    out << actual;
    return;
  }
  std::string expected = read(path);
  ASSERT_FALSE(expected.empty()) << path
                                 << " is missing; run with JAGTILE_UPDATE_GOLDEN=1 to create it";
  if (actual == expected) return;
  std::istringstream a(actual), e(expected);
  std::string la, le;
  int line = 0;
  while (true) {
    ++line;
    bool ga = bool(std::getline(a, la)), ge = bool(std::getline(e, le));
    if (!ga && !ge) break;
    if (la != le || ga != ge) {
      ADD_FAILURE() << path << " changed at line " << line << ":\n  golden: " << le
                    << "\n  now:    " << la
                    << "\nif intended, rerun with JAGTILE_UPDATE_GOLDEN=1 and review the diff";
      return;
    }
  }
}

class Golden : public ::testing::TestWithParam<Case> {};

TEST_P(Golden, PrintedIrAndPlanMatch) {
  const Case& c = GetParam();
  std::string root = JAGTILE_SOURCE_DIR;
  std::string file = "examples/" + c.example + ".py";
  std::string source = read(root + "/" + file);
  ASSERT_FALSE(source.empty()) << "cannot read " << file;
  ast::Module m = lang::parse_module(source, file);
  lang::check_module(m);
  std::vector<const ast::Stmt*> defs = lang::kernel_defs(m);
  ASSERT_EQ(defs.size(), 1u);
  ir::LowerOptions lo;
  lo.block_sizes = lang::decorator_config(m, *defs[0]).block_sizes;
  ir::CompiledIR compiled = ir::compile_ir(m, *defs[0], c.params, lo, /*trace=*/true);
  host::HostProgram split = host::split_host_device(compiled.kernel);
  plan::Plan planned = plan::plan_kernel(compiled.kernel, split, /*checked=*/true);
  compare_with_golden(root + "/tests/golden/data/" + c.name + ".ir", compiled.trace);
  compare_with_golden(root + "/tests/golden/data/" + c.name + ".plan",
                      split.to_string() + plan::print_plan(planned));
}

INSTANTIATE_TEST_SUITE_P(Examples, Golden, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace jagtile::testing
