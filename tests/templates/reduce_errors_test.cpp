// Every bad input to jagged_reduce is rejected before any kernel runs, with a message that names
// the tensor, the first bad position and the values there.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "jagtile/error.h"
#include "jagtile/jagged.h"
#include "reduce_test_util.h"

namespace jagtile {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string reduce_error(const Tensor& values, const Tensor& offsets, const ReduceSpec& spec = {}) {
  try {
    jagged_reduce(values, offsets, spec);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

Tensor values_f32(int64_t rows, int64_t cols) {
  return random_values({rows, cols}, DType::f32, 1);
}
Tensor offsets_i64(std::vector<int64_t> v) {
  return Tensor::from_vector<int64_t>({int64_t(v.size())}, v, DType::i64);
}

TEST(ReduceErrors, DecreasingOffsetsNameThePosition) {
  EXPECT_THAT(reduce_error(values_f32(10, 4), offsets_i64({0, 3, 7, 5, 9})),
              AllOf(HasSubstr("'offsets' must be non-decreasing"),
                    HasSubstr("offsets[2] = 7 > offsets[3] = 5"), HasSubstr("hint:")));
}

TEST(ReduceErrors, NegativeFirstOffset) {
  EXPECT_THAT(reduce_error(values_f32(10, 4), offsets_i64({-1, 3})),
              HasSubstr("must start at 0 or more, but offsets[0] = -1"));
}

TEST(ReduceErrors, OffsetsPastTheData) {
  EXPECT_THAT(reduce_error(values_f32(10, 4), offsets_i64({0, 4, 12})),
              AllOf(HasSubstr("offsets[2] = 12"), HasSubstr("'values' has 10 rows")));
}

TEST(ReduceErrors, EmptyOffsets) {
  EXPECT_THAT(reduce_error(values_f32(10, 4), offsets_i64({})),
              AllOf(HasSubstr("is empty"), HasSubstr("offsets = [0]")));
}

TEST(ReduceErrors, OffsetsOfWrongDtypeOrRank) {
  EXPECT_THAT(reduce_error(values_f32(10, 4), Tensor::zeros({3}, DType::f32)),
              HasSubstr("must be int32 or int64, got float32"));
  EXPECT_THAT(reduce_error(values_f32(10, 4), Tensor::zeros({2, 3}, DType::i32)),
              HasSubstr("must have rank 1, got shape [2, 3]"));
}

TEST(ReduceErrors, ValuesOfWrongRankOrDtype) {
  EXPECT_THAT(reduce_error(random_values({2, 3, 4}, DType::f32, 1), offsets_i64({0, 2})),
              HasSubstr("'values' must have rank 1 [N] or 2 [N, M], got shape [2, 3, 4]"));
  EXPECT_THAT(reduce_error(Tensor::zeros({4, 2}, DType::i32), offsets_i64({0, 2})),
              HasSubstr("'values' must be float32, float16 or bfloat16, got int32"));
  // float64 is a jagtile dtype, but the template's fp32 accumulation would lose its precision.
  EXPECT_THAT(reduce_error(Tensor::zeros({4, 2}, DType::f64), offsets_i64({0, 2})),
              HasSubstr("'values' must be float32, float16 or bfloat16, got float64"));
  EXPECT_THAT(reduce_error(Tensor::zeros({4, 2}, DType::f64), offsets_i64({0, 2})),
              HasSubstr("the template accumulates in fp32"));
  EXPECT_THAT(reduce_error(Tensor(), offsets_i64({0})),
              HasSubstr("'values' is an undefined tensor"));
}

TEST(ReduceErrors, FeatureCountsOutOfRangeOrWrongLength) {
  ReduceSpec spec;
  spec.feature_counts = Tensor::from_vector<int64_t>({2}, {4, 9}, DType::i32);
  EXPECT_THAT(reduce_error(values_f32(10, 8), offsets_i64({0, 4, 10}), spec),
              HasSubstr("feature_counts[1] = 9 is outside [0, 8]"));
  spec.feature_counts = Tensor::from_vector<int64_t>({3}, {1, 2, 3}, DType::i32);
  EXPECT_THAT(reduce_error(values_f32(10, 8), offsets_i64({0, 4, 10}), spec),
              HasSubstr("must have 2 elements (one per item), got shape [3]"));
  spec.feature_counts = Tensor::from_vector<int64_t>({2}, {-1, 2}, DType::i64);
  EXPECT_THAT(reduce_error(values_f32(10, 8), offsets_i64({0, 4, 10}), spec),
              HasSubstr("feature_counts[0] = -1 is outside [0, 8]"));
}

TEST(ReduceErrors, BadSpecFields) {
  ReduceSpec spec;
  spec.out_dtype = DType::i32;
  EXPECT_THAT(reduce_error(values_f32(4, 2), offsets_i64({0, 4}), spec),
              HasSubstr("out_dtype must be float32, float16 or bfloat16, got int32"));
  spec.out_dtype = DType::f64;
  EXPECT_THAT(reduce_error(values_f32(4, 2), offsets_i64({0, 4}), spec),
              HasSubstr("out_dtype must be float32, float16 or bfloat16, got float64"));
  spec = {};
  spec.chunk_rows = 0;
  EXPECT_THAT(reduce_error(values_f32(4, 2), offsets_i64({0, 4}), spec),
              HasSubstr("chunk_rows must be at least 1, got 0"));
  spec = {};
  spec.num_threads = -2;
  EXPECT_THAT(reduce_error(values_f32(4, 2), offsets_i64({0, 4}), spec),
              HasSubstr("num_threads must be 0 (default) or positive, got -2"));
}

TEST(ReduceErrors, CallerOutputOfWrongShapeOrDtype) {
  Tensor values = values_f32(6, 4);
  Tensor offsets = offsets_i64({0, 2, 6});
  Tensor wrong_shape = Tensor::zeros({3, 4}, DType::f32);
  try {
    jagged_reduce_into(values, offsets, {}, wrong_shape);
    ADD_FAILURE() << "no error";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'out' has shape [3, 4] but the result has shape [2, 4]"));
  }
  Tensor wrong_dtype = Tensor::zeros({2, 4}, DType::bf16);
  try {
    jagged_reduce_into(values, offsets, {}, wrong_dtype);
    ADD_FAILURE() << "no error";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("'out' has dtype bfloat16 but the spec's output dtype is float32"));
  }
}

TEST(ReduceErrors, NothingIsWrittenWhenInputsAreRejected) {
  Tensor values = values_f32(6, 4);
  Tensor out = Tensor::full({2, 4}, 5.0, DType::f32);
  EXPECT_THROW(jagged_reduce_into(values, offsets_i64({0, 7, 6}), {}, out), UserError);
  for (int64_t i = 0; i < out.numel(); ++i) EXPECT_EQ(out.item_as_double(i), 5.0);
}

}  // namespace
}  // namespace jagtile

namespace jagtile {
namespace {

TEST(ReduceErrors, MessagesUseTheCallersTensorNames) {
  ReduceSpec spec;
  spec.values_name = "x";
  spec.offsets_name = "x_offsets";
  EXPECT_THAT(reduce_error(values_f32(10, 4), offsets_i64({0, 5, 3}), spec),
              AllOf(HasSubstr("'x_offsets' must be non-decreasing"),
                    HasSubstr("x_offsets[1] = 5 > x_offsets[2] = 3")));
  EXPECT_THAT(reduce_error(values_f32(10, 4), offsets_i64({0, 11}), spec),
              HasSubstr("'x' has 10 rows"));
}

// The one-pass check narrows i64 offsets to i32 exactly when the last (largest) offset fits,
// and never hides an error. num_rows is only a bound here, so no huge tensor is needed.
TEST(ReduceErrors, FusedCheckNarrowsOnlyWhenEveryOffsetFits) {
  const int64_t big_rows = int64_t(1) << 33;
  Tensor fits = offsets_i64({0, 5, 2147483647});
  Tensor narrowed = validate_and_narrow_offsets(fits, "offsets", big_rows, "values");
  EXPECT_EQ(narrowed.dtype(), DType::i32);
  EXPECT_EQ(narrowed.item_as_double(2), 2147483647.0);
  Tensor too_big = offsets_i64({0, 5, 2147483648});
  EXPECT_EQ(validate_and_narrow_offsets(too_big, "offsets", big_rows, "values").dtype(),
            DType::i64);
  EXPECT_THROW(validate_and_narrow_offsets(offsets_i64({0, 5, 4}), "offsets", big_rows, "values"),
               UserError);
  EXPECT_THROW(validate_and_narrow_offsets(offsets_i64({-3, 5}), "offsets", big_rows, "values"),
               UserError);
  Tensor i32 = Tensor::from_vector<int64_t>({2}, {0, 3}, DType::i32);
  EXPECT_EQ(validate_and_narrow_offsets(i32, "offsets", 3, "values").dtype(), DType::i32);
}

}  // namespace
}  // namespace jagtile
