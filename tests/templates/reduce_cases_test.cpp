// jagged_reduce on the shapes that break naive implementations: empty items anywhere, B = 0,
// partial tail chunks, items spanning many chunks, many tiny items, awkward column counts,
// 16-bit outputs, feature counts, every op and post.
#include <gtest/gtest.h>

#include <limits>

#include "jagtile/thread_pool.h"
#include "reduce_test_util.h"

namespace jagtile {
namespace {

using testing::compare_with_reference;
using testing::make_input;

void expect_matches_reference(const std::vector<int64_t>& lengths, int64_t num_cols,
                              ReduceSpec spec, DType dtype = DType::f32, bool one_dim = false) {
  auto in = make_input(lengths, num_cols, dtype, DType::i32, 7, one_dim);
  Tensor actual = jagged_reduce(in.values, in.offsets, spec);
  Tensor expected = jagged_reduce_reference(in.values, in.offsets, spec);
  EXPECT_EQ(compare_with_reference(actual, expected, lengths, spec.op, "case"), 0);
}

const ReduceOp kOps[] = {ReduceOp::sum, ReduceOp::mean, ReduceOp::max, ReduceOp::min};

TEST(ReduceCases, EmptyItemsFirstMiddleLastAndAll) {
  for (ReduceOp op : kOps) {
    ReduceSpec spec;
    spec.op = op;
    expect_matches_reference({0, 5, 3}, 16, spec);
    expect_matches_reference({4, 0, 0, 9}, 16, spec);
    expect_matches_reference({4, 2, 0}, 16, spec);
    expect_matches_reference({0, 0, 0, 0}, 16, spec);
  }
}

TEST(ReduceCases, EmptyItemsGetTheOpsEmptyValue) {
  auto in = make_input({0, 3, 0}, 4, DType::f32);
  ReduceSpec max_spec;
  max_spec.op = ReduceOp::max;
  Tensor out = jagged_reduce(in.values, in.offsets, max_spec);
  EXPECT_EQ(out.item_as_double(0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(out.item_as_double(8), -std::numeric_limits<double>::infinity());
  ReduceSpec mean_spec;
  mean_spec.op = ReduceOp::mean;  // acc / nnz with nnz = 0: 0/0, as the kernel computes it
  EXPECT_TRUE(std::isnan(jagged_reduce(in.values, in.offsets, mean_spec).item_as_double(0)));
  mean_spec.post = ReducePost::divide_or_value;
  mean_spec.post_value = -7.0f;
  EXPECT_EQ(jagged_reduce(in.values, in.offsets, mean_spec).item_as_double(0), -7.0);
}

TEST(ReduceCases, ZeroItems) {
  auto in = make_input({}, 8, DType::f32);
  Tensor out = jagged_reduce(in.values, in.offsets);
  EXPECT_EQ(out.shape(), (Shape{0, 8}));
}

TEST(ReduceCases, ZeroColumns) {
  auto in = make_input({2, 0, 3}, 0, DType::f32);
  EXPECT_EQ(jagged_reduce(in.values, in.offsets).shape(), (Shape{3, 0}));
}

TEST(ReduceCases, PartialTailChunksAndItemsSpanningManyChunks) {
  ReduceSpec spec;
  spec.chunk_rows = 8;
  for (ReduceOp op : kOps) {
    spec.op = op;
    expect_matches_reference({1, 7, 8, 9, 15, 16, 17, 100, 333}, 32, spec);
  }
}

TEST(ReduceCases, ManyTinyItems) {
  JaggedShape shape{.batch = 120000, .features = 16, .dist = LengthDist::tiny, .seed = 3};
  ReduceSpec spec;
  expect_matches_reference(generate_lengths(shape), 16, spec);
}

TEST(ReduceCases, ColumnCountsThatAreNotVectorMultiples) {
  for (int64_t m : {1, 3, 17, 129, 1000}) {
    for (ReduceOp op : kOps) {
      ReduceSpec spec;
      spec.op = op;
      expect_matches_reference({3, 0, 70, 1}, m, spec);
    }
  }
}

TEST(ReduceCases, OneDimensionalValues) {
  for (ReduceOp op : kOps) {
    ReduceSpec spec;
    spec.op = op;
    expect_matches_reference({0, 1, 15, 16, 17, 200}, 1, spec, DType::f32, /*one_dim=*/true);
  }
}

TEST(ReduceCases, SingleItemAndOneHugeAmongManySmall) {
  expect_matches_reference({5000}, 24, ReduceSpec{});
  JaggedShape shape{.batch = 300, .features = 24, .max_len = 20, .dist = LengthDist::one_huge};
  for (ReduceOp op : kOps) {
    ReduceSpec spec;
    spec.op = op;
    expect_matches_reference(generate_lengths(shape), 24, spec);
  }
}

// A 16-bit output must be exactly the round-to-nearest-even of the fp32 result the template
// computes: the one rounding happens at the flush.
TEST(ReduceCases, SixteenBitOutputsAreRoundedOnceToNearestEven) {
  for (DType in_dtype : {DType::f32, DType::bf16, DType::f16}) {
    for (DType out_dtype : {DType::bf16, DType::f16}) {
      auto in = make_input({3, 0, 40, 129, 1}, 37, in_dtype);
      ReduceSpec spec;
      spec.op = ReduceOp::mean;
      spec.out_dtype = DType::f32;
      Tensor wide = jagged_reduce(in.values, in.offsets, spec);
      spec.out_dtype = out_dtype;
      Tensor narrow = jagged_reduce(in.values, in.offsets, spec);
      ASSERT_EQ(narrow.dtype(), out_dtype);
      for (int64_t i = 0; i < wide.numel(); ++i) {
        float f = wide.data<float>()[i];
        uint16_t want = out_dtype == DType::bf16 ? f32_to_bf16_bits(f) : f32_to_f16_bits(f);
        uint16_t got = narrow.data<uint16_t>()[i];
        if (std::isnan(f)) {
          EXPECT_TRUE(std::isnan(narrow.item_as_double(i)));
        } else {
          ASSERT_EQ(got, want) << "element " << i << " value " << f;
        }
      }
    }
  }
}

TEST(ReduceCases, SixteenBitInputsMatchReference) {
  for (DType dtype : {DType::bf16, DType::f16}) {
    for (ReduceOp op : kOps) {
      ReduceSpec spec;
      spec.op = op;
      expect_matches_reference({2, 0, 65, 130}, 48, spec, dtype);
    }
  }
}

TEST(ReduceCases, OutputDtypeDefaultsToInput) {
  auto in = make_input({2, 3}, 4, DType::bf16);
  EXPECT_EQ(jagged_reduce(in.values, in.offsets).dtype(), DType::bf16);
}

TEST(ReduceCases, InitAndPostValues) {
  ReduceSpec spec;
  spec.init = 2.5f;  // sum starting from 2.5
  expect_matches_reference({0, 3, 90}, 20, spec);
  spec.op = ReduceOp::max;
  spec.init = 0.0f;  // relu-like max
  expect_matches_reference({0, 3, 90}, 20, spec);
  ReduceSpec mean_or;
  mean_or.op = ReduceOp::sum;
  mean_or.post = ReducePost::divide_or_value;
  mean_or.post_value = 42.0f;
  expect_matches_reference({0, 3, 0, 90}, 20, mean_or);
}

TEST(ReduceCases, FeatureCountsZeroAndFull) {
  const std::vector<int64_t> lengths{4, 0, 70, 3};
  auto in = make_input(lengths, 19, DType::f32);
  for (ReduceOp op : kOps) {
    ReduceSpec spec;
    spec.op = op;
    spec.feature_counts = Tensor::from_vector<int64_t>({4}, {0, 19, 5, 19}, DType::i64);
    spec.masked_value = -1.0f;
    Tensor actual = jagged_reduce(in.values, in.offsets, spec);
    Tensor expected = jagged_reduce_reference(in.values, in.offsets, spec);
    EXPECT_EQ(compare_with_reference(actual, expected, lengths, op, "counts"), 0);
    EXPECT_EQ(actual.item_as_double(0), -1.0);           // item 0 has no valid column
    EXPECT_EQ(actual.item_as_double(2 * 19 + 5), -1.0);  // item 2: column 5 is past its count
  }
}

TEST(ReduceCases, IntoCallerOutput) {
  auto in = make_input({3, 5}, 16, DType::f32);
  Tensor out = Tensor::zeros({2, 16}, DType::f32);
  jagged_reduce_into(in.values, in.offsets, ReduceSpec{}, out);
  EXPECT_EQ(compare_with_reference(out, jagged_reduce_reference(in.values, in.offsets), in.lengths,
                                   ReduceOp::sum, "into"),
            0);
}

TEST(ReduceCases, OffsetsNeedNotStartAtZero) {
  // offsets [5, 9, 12] over 20 rows: rows 0..4 and 12..19 belong to no item.
  Tensor values = random_values({20, 16}, DType::f32, 9);
  Tensor offsets = Tensor::from_vector<int64_t>({3}, {5, 9, 12}, DType::i32);
  Tensor actual = jagged_reduce(values, offsets);
  EXPECT_EQ(compare_with_reference(actual, jagged_reduce_reference(values, offsets), {4, 3},
                                   ReduceOp::sum, "offset start"),
            0);
}

TEST(ReduceCases, ReportsAnIsa) {
  std::string_view isa = reduce_cpu_isa();
  EXPECT_TRUE(isa == "avx512" || isa == "avx2" || isa == "portable") << isa;
}

}  // namespace
}  // namespace jagtile
