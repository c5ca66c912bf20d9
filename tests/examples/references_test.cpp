// The bundled examples' references on tiny hand-computed inputs (so the references themselves
// are right), their input recipes, their user errors, and the output comparison.
#include "testing/references.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "jagtile/error.h"
#include "testing/examples.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;

const double kInf = std::numeric_limits<double>::infinity();

Tensor f32(const Shape& shape, const std::vector<double>& v) {
  return Tensor::from_doubles(shape, v, DType::f32);
}
Tensor i32(const std::vector<double>& v) {
  return Tensor::from_doubles({int64_t(v.size())}, v, DType::i32);
}

void expect_values(const Tensor& t, const Shape& shape, const std::vector<double>& want,
                   double tol = 1e-6) {
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(t.numel(), int64_t(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isinf(want[i])) {
      EXPECT_EQ(t.item_as_double(int64_t(i)), want[i]) << "at " << i;
    } else {
      EXPECT_NEAR(t.item_as_double(int64_t(i)), want[i], tol) << "at " << i;
    }
  }
}

// Three items over three rows of two columns: rows {0, 1}, none, {2}.
struct Tiny {
  Tensor values = f32({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor offsets = i32({0, 2, 2, 3});
};

TEST(References, SumAddsEachItemsRowsAndGivesZeroForEmptyItems) {
  Tiny t;
  expect_values(reference::jagged_sum(t.values, t.offsets), {3, 2}, {4, 6, 0, 0, 5, 6});
}

TEST(References, SumAcceptsI64OffsetsAndNoItems) {
  Tensor off64 = Tensor::from_doubles({4}, {0, 2, 2, 3}, DType::i64);
  expect_values(reference::jagged_sum(Tiny().values, off64), {3, 2}, {4, 6, 0, 0, 5, 6});
  Tensor none = reference::jagged_sum(f32({0, 5}, {}), i32({0}));
  EXPECT_EQ(none.shape(), (Shape{0, 5}));
}

TEST(References, SumRoundsBf16OutputsToNearestEven) {
  // 1 + 2^-8 is halfway between two bf16 values: ties go to the even one (1.0);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: the even one is 1 + 2^-6.
  Tensor v = Tensor::from_doubles({4, 1}, {1, 1.0 / 256, 1, 3.0 / 256}, DType::bf16);
  Tensor out = reference::jagged_sum(v, i32({0, 2, 4}));
  EXPECT_EQ(out.dtype(), DType::bf16);
  EXPECT_EQ(out.item_as_double(0), 1.0);
  EXPECT_EQ(out.item_as_double(1), 1.015625);
}

TEST(References, MeanUsesOnlyEachItemsColumns) {
  Tiny t;
  // Item 0 keeps one column, item 1 is empty, item 2 keeps both.
  expect_values(reference::jagged_mean(t.values, t.offsets, i32({1, 2, 2})), {3, 2},
                {2, 0, 0, 0, 5, 6});
  expect_values(reference::jagged_mean(t.values, t.offsets, i32({2, 0, 0})), {3, 2},
                {2, 3, 0, 0, 0, 0});
}

TEST(References, MaxGivesMinusInfinityForEmptyItems) {
  Tiny t;
  expect_values(reference::jagged_max(t.values, t.offsets), {3, 2}, {3, 4, -kInf, -kInf, 5, 6});
  Tensor neg = f32({2, 1}, {-5, -7});
  expect_values(reference::jagged_max(neg, i32({0, 2})), {1, 1}, {-5});
}

TEST(References, SoftmaxNormalisesEachItemsColumns) {
  Tiny t;
  // Columns of item 0 are (1, 3) and (2, 4): both softmax to (1, e^2) / (1 + e^2).
  double lo = 1 / (1 + std::exp(2.0)), hi = std::exp(2.0) / (1 + std::exp(2.0));
  expect_values(reference::jagged_softmax(t.values, t.offsets), {3, 2}, {lo, lo, hi, hi, 1, 1});
}

TEST(References, LayerNormNormalisesOverAllOfAnItemsValues) {
  Tiny t;
  // Item 0 holds 1, 2, 3, 4: mean 2.5, biased variance 1.25. Item 2 holds 5, 6: mean 5.5,
  // variance 0.25.
  double s0 = 1 / std::sqrt(1.25 + 1e-6), s2 = 1 / std::sqrt(0.25 + 1e-6);
  expect_values(reference::jagged_layer_norm(t.values, t.offsets, 1e-6), {3, 2},
                {-1.5 * s0, -0.5 * s0, 0.5 * s0, 1.5 * s0, -0.5 * s2, 0.5 * s2}, 1e-6);
}

TEST(References, DenseAddPadsItemsWithZeros) {
  Tiny t;
  Tensor y = Tensor::full({3, 2, 2}, 10, DType::f32);
  expect_values(reference::jagged_dense_add(t.values, t.offsets, y), {3, 2, 2},
                {11, 12, 13, 14, 10, 10, 10, 10, 15, 16, 10, 10});
}

TEST(References, DenseAddPromotesToFloat32) {
  Tiny t;
  Tensor y = Tensor::full({3, 2, 2}, 0.5, DType::bf16);
  EXPECT_EQ(reference::jagged_dense_add(t.values, t.offsets, y).dtype(), DType::f32);
}

TEST(References, BmmMultipliesEachItemByItsWeightAndAddsItsBias) {
  Tiny t;
  Tensor w = f32({3, 2, 1}, {1, 2, 9, 9, 0.5, -1});
  Tensor bias = f32({3, 1}, {1, 2, 3});
  // Row 0: 1*1 + 2*2 = 5, row 1: 3 + 8 = 11, row 2 (item 2): 2.5 - 6 = -3.5.
  expect_values(reference::jagged_dense_bmm(t.values, t.offsets, w, Tensor()), {3, 1},
                {5, 11, -3.5});
  expect_values(reference::jagged_dense_bmm(t.values, t.offsets, w, bias), {3, 1}, {6, 12, -0.5});
}

TEST(References, SumAllowanceGrowsWithTheItem) {
  // Item 0: column 0 holds 3 and 4 (sqrt of the squares: 5); item 1 is empty; item 2: one row.
  Tensor v = f32({3, 1}, {3, 4, -2});
  std::vector<double> a = reference::sum_rounding_allowance(v, i32({0, 2, 2, 3}));
  const double unit = 16.0 / (1 << 24);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_DOUBLE_EQ(a[0], unit * std::sqrt(2.0) * 5);
  EXPECT_EQ(a[1], 0);
  EXPECT_DOUBLE_EQ(a[2], unit * 2);
}

TEST(References, RowsInItemsMarksRowsOutsideEveryItem) {
  // Items cover rows 1 .. 3; row 0 (before offsets[0]) and rows 3, 4 (after offsets[B]) not.
  std::vector<uint8_t> rows = reference::rows_in_items(i32({1, 2, 2, 3}), 5);
  EXPECT_EQ(rows, (std::vector<uint8_t>{0, 1, 1, 0, 0}));
}

TEST(ReferenceErrors, BadOffsetsAreRejectedWithTheTensorName) {
  Tiny t;
  try {
    reference::jagged_sum(t.values, i32({0, 2, 1, 3}));
    FAIL() << "decreasing offsets accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("x_offsets"));
  }
}

TEST(ReferenceErrors, WrongRankSaysTheExpectedLayout) {
  try {
    reference::jagged_sum(f32({6}, {1, 2, 3, 4, 5, 6}), i32({0, 6}));
    FAIL() << "1-D values accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("jagged_sum: 'x_values' must be 2-D [N, M], got shape [6]"));
  }
}

TEST(ReferenceErrors, DenseAddRejectsAnItemLongerThanY) {
  Tiny t;
  Tensor y = Tensor::zeros({3, 1, 2}, DType::f32);
  try {
    reference::jagged_dense_add(t.values, t.offsets, y);
    FAIL() << "item longer than L accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("item 0 has 2 rows but 'y' holds only L=1"));
  }
}

TEST(ReferenceErrors, BmmRejectsMismatchedWeightAndBias) {
  Tiny t;
  try {
    reference::jagged_dense_bmm(t.values, t.offsets, Tensor::zeros({3, 3, 1}, DType::f32),
                                Tensor());
    FAIL() << "weight with the wrong D accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'weight' must be [B, D, K] = [3, 2, K], got [3, 3, 1]"));
  }
  try {
    reference::jagged_dense_bmm(t.values, t.offsets, Tensor::zeros({3, 2, 4}, DType::f32),
                                Tensor::zeros({3, 3}, DType::f32));
    FAIL() << "bias with the wrong K accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'bias' must be [B, K] = [3, 4], got [3, 3]"));
  }
}

TEST(ReferenceErrors, MissingArgumentIsNamed) {
  const ExampleInfo* sum = find_example("jagged_sum");
  ASSERT_NE(sum, nullptr);
  ArgMap args;
  args["x_values"] = Tiny().values;
  try {
    sum->reference(args);
    FAIL() << "missing offsets accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("jagged_sum: argument 'x_offsets' is missing"));
  }
  args["x_offsets"] = int64_t(3);
  try {
    sum->reference(args);
    FAIL() << "integer offsets accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'x_offsets' must be a tensor, got an integer"));
  }
}

TEST(Registry, ListsTheEightExamplesWithTheirFiles) {
  std::vector<std::string> names;
  for (const ExampleInfo* e : all_examples()) {
    names.push_back(e->kernel);
    EXPECT_EQ(e->file, "examples/" + e->kernel + ".py");
    EXPECT_TRUE(e->make_inputs && e->reference && e->tolerance) << e->kernel;
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"jagged_sum", "jagged_mean", "jagged_max", "jagged_softmax",
                                      "jagged_layer_norm", "jagged_dense_add", "jagged_dense_bmm",
                                      "jagged_hstu_attention"}));
  EXPECT_EQ(find_example("jagged_nope"), nullptr);
}

TEST(Registry, RecipesGenerateConsistentInputs) {
  JaggedShape shape;
  shape.batch = 7;
  shape.features = 5;
  shape.max_len = 9;
  shape.dist = LengthDist::one_huge;
  for (const ExampleInfo* e : all_examples()) {
    // Its [L, H, D] inputs have their own test (hstu_reference_test.cpp).
    if (e->uses_heads) continue;
    ArgMap args = e->make_inputs(shape, DType::bf16, DType::i64);
    Tensor values = std::get<Tensor>(args.at("x_values"));
    Tensor offsets = std::get<Tensor>(args.at("x_offsets"));
    EXPECT_EQ(values.dtype(), DType::bf16) << e->kernel;
    EXPECT_EQ(offsets.dtype(), DType::i64) << e->kernel;
    ASSERT_EQ(offsets.shape(), (Shape{8})) << e->kernel;
    EXPECT_EQ(values.shape(), (Shape{int64_t(offsets.item_as_double(7)), 5})) << e->kernel;
    for (const auto& [name, _] : args) {
      EXPECT_NE(std::find(e->params.begin(), e->params.end(), name), e->params.end())
          << e->kernel << " generates '" << name << "', not a parameter";
    }
    // The references accept what the recipes generate.
    EXPECT_EQ(e->reference(args).size(), 1u) << e->kernel;
    // Deterministic for a seed.
    ArgMap again = e->make_inputs(shape, DType::bf16, DType::i64);
    Tensor v2 = std::get<Tensor>(again.at("x_values"));
    for (int64_t i = 0; i < values.numel(); ++i) {
      ASSERT_EQ(values.item_as_double(i), v2.item_as_double(i)) << e->kernel;
    }
  }
}

TEST(Registry, MeanCountsStayWithinTheColumns) {
  JaggedShape shape;
  shape.batch = 200;
  shape.features = 6;
  ArgMap args = find_example("jagged_mean")->make_inputs(shape, DType::f32, DType::i32);
  Tensor counts = std::get<Tensor>(args.at("x_feature_counts"));
  ASSERT_EQ(counts.shape(), (Shape{200}));
  bool saw_zero = false, saw_full = false;
  for (int64_t i = 0; i < 200; ++i) {
    double c = counts.item_as_double(i);
    EXPECT_GE(c, 0);
    EXPECT_LE(c, 6);
    saw_zero |= c == 0;
    saw_full |= c == 6;
  }
  EXPECT_TRUE(saw_zero && saw_full) << "counts should cover both ends of [0, M]";
}

TEST(Registry, DenseAddAndBmmShapes) {
  JaggedShape shape;
  shape.batch = 5;
  shape.features = 8;
  shape.max_len = 4;
  shape.dist = LengthDist::one_huge;
  ArgMap add = find_example("jagged_dense_add")->make_inputs(shape, DType::f32, DType::i32);
  Tensor off = std::get<Tensor>(add.at("x_offsets"));
  int64_t longest = 0;
  for (int64_t b = 0; b < 5; ++b) {
    longest =
        std::max<int64_t>(longest, int64_t(off.item_as_double(b + 1) - off.item_as_double(b)));
  }
  Tensor y = std::get<Tensor>(add.at("y"));
  EXPECT_EQ(y.shape(), (Shape{5, std::max<int64_t>(4, longest), 8}));
  ArgMap bmm = find_example("jagged_dense_bmm")->make_inputs(shape, DType::f32, DType::i32);
  EXPECT_EQ(std::get<Tensor>(bmm.at("weight")).shape(), (Shape{5, 8, 5}));
  EXPECT_EQ(std::get<Tensor>(bmm.at("bias")).shape(), (Shape{5, 5}));
}

TEST(Compare, ReportsErrorsAndTheFirstMismatch) {
  Tensor a = f32({2, 2}, {1, 2, 3, 4});
  Tensor b = f32({2, 2}, {1, 2.001, 3, 5});
  Comparison same = compare_tensors(a, a, {0, 0});
  EXPECT_TRUE(same.ok);
  EXPECT_EQ(same.max_abs_error, 0);
  Comparison c = compare_tensors(a, b, {0.01, 0});
  EXPECT_FALSE(c.ok);
  EXPECT_NEAR(c.max_abs_error, 1, 1e-6);
  EXPECT_THAT(c.mismatch, HasSubstr("at [1, 1]: got 4, expected 5"));
  EXPECT_TRUE(compare_tensors(a, b, {0, 0.25}).ok);  // 1 <= 0.25 * 5
}

TEST(Compare, InfinitiesAndNaNsMustMatchExactly) {
  Tensor x = f32({3}, {-kInf, std::nan(""), 1});
  EXPECT_TRUE(compare_tensors(x, x, {0, 0}).ok);
  EXPECT_FALSE(compare_tensors(f32({3}, {0, std::nan(""), 1}), x, {1e9, 1e9}).ok);
  EXPECT_FALSE(compare_tensors(f32({3}, {-kInf, 0, 1}), x, {1e9, 1e9}).ok);
}

TEST(Compare, ShapeOrDtypeDifferenceIsAMismatch) {
  Tensor a = f32({2, 2}, {1, 2, 3, 4});
  EXPECT_THAT(compare_tensors(a, f32({4}, {1, 2, 3, 4}), {1, 1}).mismatch,
              HasSubstr("got float32 [2, 2], expected float32 [4]"));
  EXPECT_FALSE(compare_tensors(a, a.to_dtype(DType::bf16), {1, 1}).ok);
}

TEST(Compare, ExtraAbsoluteToleranceIsPerElement) {
  Tensor a = f32({2}, {1.5, 2.5});
  Tensor b = f32({2}, {1, 2});
  EXPECT_FALSE(compare_tensors(a, b, {0, 0}, {}, {0.5, 0.4}).ok);
  EXPECT_TRUE(compare_tensors(a, b, {0, 0}, {}, {0.5, 0.5}).ok);
  Expected e{b, {}, {0.5, 0.5}};
  EXPECT_TRUE(compare_tensors(a, e, {0, 0}).ok);
}

TEST(Compare, RowsOutsideEveryItemAreSkipped) {
  Tensor a = f32({3, 1}, {1, 99, 3});
  Tensor b = f32({3, 1}, {1, 0, 3});
  EXPECT_FALSE(compare_tensors(a, b, {0, 0}).ok);
  EXPECT_TRUE(compare_tensors(a, b, {0, 0}, {1, 0, 1}).ok);
}

}  // namespace
}  // namespace jagtile
