// Soundness of the detector: one-line mutations of a template-shaped kernel, each with the
// decision it must get, and for every mutation that matches, the template's result must equal
// the interpreter's on inputs with an empty item and a NaN (a match that changed the meaning
// would show up here). Mutations that the front end rejects are reported, not silently skipped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "helpers.h"
#include "testing/examples.h"

namespace jagtile {
namespace {

using namespace dispatch_test;

struct Mutation {
  const char* from;
  const char* to;
  bool matches;
};

// Rows [0, 2), [2, 2), [2, 5) of a [5, 4] tensor; a NaN in row 3, column 1 (max/min keep it).
ArgMap inputs() {
  ArgMap a = small_args();
  std::vector<double> v;
  for (int i = 0; i < 20; ++i) v.push_back(i == 13 ? NAN : double((i * 5) % 9) - 3.25);
  a["x_values"] = Tensor::from_doubles({5, 4}, v, DType::f32);
  return a;
}

const std::vector<Mutation>& mutations() {
  static const std::vector<Mutation> list = {
      // Same meaning, other spelling: must match.
      {"starts[:, None] + tile_k.index[None, :]", "tile_k.index[None, :] + starts[:, None]", true},
      {"hl.tile(M)", "hl.tile(0, M)", true},
      {"hl.jagged_tile(nnz)", "hl.jagged_tile(ends - starts)", true},
      {"x_values[rows, tile_m].sum(dim=1)", "x_values[rows, tile_m].to(torch.float32).sum(dim=1)",
       true},
      {"torch.zeros([num_items, M],", "torch.full([num_items, M], 3.0,", true},
      {"torch.zeros([num_items, M],", "torch.empty([num_items, M],", true},
      {"out[tile_b, tile_m] = acc", "out[tile_b, tile_m] = acc / nnz[:, None]", true},
      {"out[tile_b, tile_m] = acc", "out[tile_b, tile_m] = acc.to(torch.float32)", true},
      {"out[tile_b, tile_m] = acc",
       "out[tile_b, tile_m] = torch.where(nnz[:, None] > 0, acc / nnz[:, None], 0.0)", true},
      {"acc = acc + x_values[rows, tile_m].sum(dim=1)",
       "acc = torch.maximum(acc, x_values[rows, tile_m].amax(dim=1))", true},
      {"acc = acc + x_values[rows, tile_m].sum(dim=1)",
       "acc = torch.minimum(x_values[rows, tile_m].amin(dim=1), acc)", true},
      // Different meaning: must not match.
      {"ends = x_offsets[tile_b.index + 1]", "ends = x_offsets[tile_b.index]", false},
      {"starts = x_offsets[tile_b]", "starts = x_offsets[tile_b.index + 1]", false},
      {"starts[:, None] + tile_k.index[None, :]", "starts[:, None] + tile_k.index[None, :] * 2",
       false},
      {"starts[:, None] + tile_k.index[None, :]", "ends[:, None] - 1 - tile_k.index[None, :]",
       false},
      {"hl.tile(num_items)", "hl.tile(1, num_items)", false},
      {"hl.tile(num_items)", "hl.tile(num_items - 1)", false},
      {"hl.tile(M)", "hl.tile(M - 1)", false},
      {"M = x_values.size(1)", "M = x_values.size(0)", false},
      {"acc = acc + x_values", "acc = acc - x_values", false},
      {"x_values[rows, tile_m].sum(dim=1)", "x_values[rows, tile_m].amax(dim=1)", false},
      {"x_values[rows, tile_m].sum(dim=1)", "torch.abs(x_values[rows, tile_m]).sum(dim=1)", false},
      {"x_values[rows, tile_m].sum(dim=1)", "x_values[rows, tile_m].sum(dim=1) * 0.5", false},
      {"out[tile_b, tile_m] = acc", "out[tile_b, tile_m] = acc + 1.0", false},
      {"out[tile_b, tile_m] = acc", "out[tile_b, tile_m] = -acc", false},
      {"out[tile_b, tile_m] = acc", "out[tile_b, tile_m] = acc / (nnz[:, None] + 1)", false},
      {"out[tile_b, tile_m] = acc", "out[tile_b, tile_m] = acc / nnz.to(torch.float16)[:, None]",
       false},
      {"out[tile_b, tile_m] = acc",
       "out[tile_b, tile_m] = torch.where(nnz[:, None] > 1, acc / nnz[:, None], 0.0)", false},
      {"acc = acc + x_values[rows, tile_m].sum(dim=1)", "acc = x_values[rows, tile_m].sum(dim=1)",
       false},
  };
  return list;
}

TEST(Soundness, MutationsGetTheirDecisionAndMatchesKeepTheMeaning) {
  const ArgMap args = inputs();
  int matched = 0;
  for (const Mutation& m : mutations()) {
    SCOPED_TRACE(std::string(m.from) + "  ->  " + m.to);
    std::string src = variant(direct_sum(), {{m.from, m.to}});
    Program p = Program::from_source(src, "mutant.py");
    DispatchDecision d;
    try {
      d = p.explain("", args);
    } catch (const UserError& e) {
      ADD_FAILURE() << "the front end rejects this mutation: " << e.what();
      continue;
    }
    bool is_template = d.dispatch.rfind("template", 0) == 0;
    EXPECT_EQ(is_template, m.matches) << d.dispatch << " " << d.reason;
    if (!is_template) continue;
    ++matched;
    Options t, i;
    t.backend = Backend::template_lib;
    i.backend = Backend::interp;
    Tensor a = p.call("", args, t).outputs.at(0);
    Tensor b = p.call("", args, i).outputs.at(0);
    Comparison c = compare_tensors(a, b, Tolerance{1e-6, 1e-6});
    EXPECT_TRUE(c.ok) << c.mismatch;
  }
  EXPECT_EQ(matched, 11);
}

}  // namespace
}  // namespace jagtile
