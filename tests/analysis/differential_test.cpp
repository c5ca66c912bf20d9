// Differential tests of the template path: every template-shaped bundled example, run on
// --backend template, against the interpreter (the oracle) and the example's hand-written
// reference, over a grid of length distributions, value dtypes and offsets dtypes; plus
// hand-made kernels whose plans use the less common fields (init, 1-D values, acc / nnz).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "helpers.h"
#include "testing/examples.h"

namespace jagtile {
namespace {

using namespace dispatch_test;

CallResult run_on(const Program& p, const ArgMap& args, Backend backend, int threads = 0) {
  Options o;
  o.backend = backend;
  o.num_threads = threads;
  return p.call("", args, o);
}

void expect_close(const Tensor& actual, const Tensor& expected, Tolerance tol,
                  const std::string& what) {
  Comparison c = compare_tensors(actual, expected, tol);
  EXPECT_TRUE(c.ok) << what << ": " << c.mismatch;
}

struct GridCase {
  const char* kernel;
  LengthDist dist;
  DType values;
  DType offsets;
  int64_t batch, features, max_len;
};

std::string case_name(const GridCase& g) {
  return std::string(g.kernel) + " " + std::string(length_dist_name(g.dist)) + " " +
         std::string(dtype_name(g.values)) + " offsets " + std::string(dtype_name(g.offsets)) +
         " B=" + std::to_string(g.batch) + " M=" + std::to_string(g.features);
}

TEST(TemplateDifferential, ExamplesOverTheGrid) {
  std::vector<GridCase> grid;
  for (const char* k : {"jagged_sum", "jagged_mean", "jagged_max"}) {
    for (LengthDist d : {LengthDist::uniform, LengthDist::empty, LengthDist::one_huge,
                         LengthDist::tiny, LengthDist::zipf}) {
      grid.push_back({k, d, DType::f32, DType::i64, 24, 19, 40});
      grid.push_back({k, d, DType::bf16, DType::i32, 17, 8, 30});
    }
    grid.push_back({k, LengthDist::uniform, DType::f16, DType::i64, 5, 33, 70});
    grid.push_back({k, LengthDist::uniform, DType::f32, DType::i32, 0, 4, 10});  // B = 0
    grid.push_back({k, LengthDist::uniform, DType::f32, DType::i32, 1, 1, 1});
  }
  for (const GridCase& g : grid) {
    const ExampleInfo* ex = find_example(g.kernel);
    ASSERT_NE(ex, nullptr) << g.kernel;
    Program p = Program::from_source(read_example(g.kernel), ex->file);
    JaggedShape shape;
    shape.batch = g.batch;
    shape.features = g.features;
    shape.max_len = g.max_len;
    shape.dist = g.dist;
    shape.seed = 7;
    ArgMap args = ex->make_inputs(shape, g.values, g.offsets);
    CallResult t = run_on(p, args, Backend::template_lib);
    ASSERT_EQ(t.backend_used, Backend::template_lib) << case_name(g);
    CallResult i = run_on(p, args, Backend::interp);
    ASSERT_EQ(t.outputs.size(), 1u);
    ASSERT_EQ(i.outputs.size(), 1u);
    const Tensor& out = t.outputs[0];
    EXPECT_EQ(out.dtype(), i.outputs[0].dtype()) << case_name(g);
    EXPECT_EQ(out.shape(), i.outputs[0].shape()) << case_name(g);
    Tolerance tol = ex->tolerance(out.dtype());
    expect_close(out, i.outputs[0], tol, case_name(g) + " vs interpreter");
    std::vector<Expected> ref = ex->reference(args);
    ASSERT_EQ(ref.size(), 1u);
    expect_close(out, ref[0].value, tol, case_name(g) + " vs reference");
  }
}

TEST(TemplateDifferential, EmptyItemsGiveTheKernelsValues) {
  // Every item empty: sum -> 0, mean -> the where's c (0), max -> -inf, exactly.
  JaggedShape shape;
  shape.batch = 6;
  shape.features = 5;
  shape.dist = LengthDist::empty;
  struct Want {
    const char* kernel;
    double value;
  };
  for (Want w :
       {Want{"jagged_sum", 0.0}, Want{"jagged_mean", 0.0}, Want{"jagged_max", -INFINITY}}) {
    const ExampleInfo* ex = find_example(w.kernel);
    Program p = Program::from_source(read_example(w.kernel), ex->file);
    Tensor out = run_on(p, ex->make_inputs(shape, DType::f32, DType::i64), Backend::template_lib)
                     .outputs.at(0);
    ASSERT_EQ(out.numel(), 30);
    for (int64_t e = 0; e < out.numel(); ++e)
      ASSERT_EQ(out.item_as_double(e), w.value) << w.kernel << " element " << e;
  }
}

// Hand-made inputs with an empty item in the middle: rows [0, 2), [2, 2), [2, 5).
ArgMap hand_args(int values_rank) {
  ArgMap a = small_args({.values_rank = values_rank});
  int64_t n = values_rank == 2 ? 20 : 5;
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(double((i * 7) % 11) - 4.5);
  a["x_values"] = Tensor::from_doubles(values_rank == 2 ? Shape{5, 4} : Shape{5}, v, DType::f32);
  return a;
}

void expect_template_equals_interp(const std::string& source, const ArgMap& args) {
  Program p = Program::from_source(source, "test.py");
  CallResult t = run_on(p, args, Backend::template_lib);
  CallResult i = run_on(p, args, Backend::interp);
  ASSERT_EQ(t.outputs.size(), 1u);
  expect_close(t.outputs[0], i.outputs[0], Tolerance{1e-6, 1e-6}, "template vs interpreter");
}

TEST(TemplateDifferential, PlansWithInitAndOneDimensionalValues) {
  // A sum from 1.5 and a min from +inf.
  expect_template_equals_interp(
      variant(direct_sum(), {{"hl.zeros([tile_b, tile_m], dtype=torch.float32)",
                              "hl.full([tile_b, tile_m], 1.5, dtype=torch.float32)"}}),
      hand_args(2));
  expect_template_equals_interp(
      variant(direct_sum(), {{"hl.zeros([tile_b, tile_m], dtype=torch.float32)",
                              "hl.full([tile_b, tile_m], float(\"inf\"), dtype=torch.float32)"},
                             {"acc = acc + x_values[rows, tile_m].sum(dim=1)",
                              "acc = torch.minimum(acc, x_values[rows, tile_m].amin(dim=1))"}}),
      hand_args(2));
  std::string one_d =
      header() +
      "def k(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:\n"
      "    num_items = x_offsets.size(0) - 1\n"
      "    out = torch.zeros([num_items], dtype=x_values.dtype)\n"
      "    for tile_b in hl.tile(num_items):\n"
      "        starts = x_offsets[tile_b]\n"
      "        nnz = x_offsets[tile_b.index + 1] - starts\n"
      "        acc = hl.zeros([tile_b], dtype=torch.float32)\n"
      "        for tile_k in hl.jagged_tile(nnz):\n"
      "            acc = acc + x_values[starts[:, None] + tile_k.index[None, :]].sum(dim=1)\n"
      "        out[tile_b] = acc\n"
      "    return out\n";
  expect_template_equals_interp(one_d, hand_args(1));
}

TEST(TemplateDifferential, MeanByCountGivesNanForAnEmptyItem) {
  std::string src = variant(
      direct_sum(), {{"out[tile_b, tile_m] = acc", "out[tile_b, tile_m] = acc / nnz[:, None]"}});
  Program p = Program::from_source(src, "test.py");
  ArgMap args = hand_args(2);
  Tensor t = run_on(p, args, Backend::template_lib).outputs.at(0);
  Tensor i = run_on(p, args, Backend::interp).outputs.at(0);
  for (int64_t m = 0; m < 4; ++m) {
    EXPECT_TRUE(std::isnan(t.item_as_double(4 + m))) << "item 1 (empty), column " << m;
    EXPECT_TRUE(std::isnan(i.item_as_double(4 + m))) << "interpreter agrees, column " << m;
  }
  expect_close(t, i, Tolerance{1e-6, 1e-6}, "mean by count");
}

TEST(TemplateDifferential, MaskedColumnsHoldTheAllocationsFill) {
  // jagged_mean with a full(7.0) output: columns past each item's count keep 7.
  std::string src =
      variant(read_example("jagged_mean"),
              {{"out = torch.zeros([num_items, M], dtype=x_values.dtype, device=x_values.device)",
                "out = torch.full([num_items, M], 7.0, dtype=x_values.dtype)"}});
  ArgMap args = hand_args(2);
  args["x_feature_counts"] = Tensor::from_doubles({3}, {4, 0, 2}, DType::i32);
  Program p = Program::from_source(src, "test.py");
  Tensor t = run_on(p, args, Backend::template_lib).outputs.at(0);
  Tensor i = run_on(p, args, Backend::interp).outputs.at(0);
  EXPECT_EQ(t.item_as_double(4 * 2 + 3), 7.0);  // item 2 has 2 columns
  EXPECT_EQ(t.item_as_double(4 * 1 + 0), 7.0);  // item 1 has none
  expect_close(t, i, Tolerance{1e-6, 1e-6}, "masked columns");
}

TEST(TemplateDifferential, BitwiseIdenticalForAnyThreadCount) {
  const ExampleInfo* ex = find_example("jagged_sum");
  Program p = Program::from_source(read_example("jagged_sum"), ex->file);
  JaggedShape shape;
  shape.batch = 64;
  shape.features = 37;
  shape.max_len = 300;
  shape.dist = LengthDist::one_huge;
  ArgMap args = ex->make_inputs(shape, DType::f32, DType::i64);
  Tensor one = run_on(p, args, Backend::template_lib, 1).outputs.at(0);
  Tensor two = run_on(p, args, Backend::template_lib, 2).outputs.at(0);
  Tensor three = run_on(p, args, Backend::template_lib, 3).outputs.at(0);
  expect_close(two, one, Tolerance{0, 0}, "2 threads vs 1");
  expect_close(three, one, Tolerance{0, 0}, "3 threads vs 1");
}

TEST(TemplateDifferential, DirectLibraryCallMatchesTheCompilerPath) {
  const ExampleInfo* ex = find_example("jagged_mean");
  Program p = Program::from_source(read_example("jagged_mean"), ex->file);
  JaggedShape shape;
  ArgMap args = ex->make_inputs(shape, DType::bf16, DType::i32);
  std::string why;
  std::optional<LibraryCall> call = p.specialise("", args).library_call(args, &why);
  ASSERT_TRUE(call) << why;
  EXPECT_EQ(call->spec.op, ReduceOp::mean);
  EXPECT_TRUE(call->spec.feature_counts.defined());
  Tensor direct = jagged_reduce(call->values, call->offsets, call->spec);
  Tensor via = run_on(p, args, Backend::template_lib).outputs.at(0);
  expect_close(via, direct, Tolerance{0, 0}, "compiler path vs jagged_reduce");
  // An unmatched kernel gives its reason.
  Program soft = Program::from_source(read_example("jagged_softmax"), "jagged_softmax.py");
  ArgMap soft_args = find_example("jagged_softmax")->make_inputs(shape, DType::f32, DType::i64);
  EXPECT_FALSE(soft.specialise("", soft_args).library_call(soft_args, &why));
  EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace jagtile
