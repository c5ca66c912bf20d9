// The jagged HSTU attention example's reference on inputs small enough to work out by hand (so
// the reference itself is right: SiLU, the 1/max_seq_len scale, causality, sequence boundaries,
// heads), its input recipe and its user errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "jagtile/error.h"
#include "testing/examples.h"
#include "testing/references.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;

double silu(double s) {
  return s / (1.0 + std::exp(-s));
}

Tensor f32(const Shape& shape, const std::vector<double>& v) {
  return Tensor::from_doubles(shape, v, DType::f32);
}
Tensor offsets(const std::vector<double>& v) {
  return Tensor::from_doubles({int64_t(v.size())}, v, DType::i64);
}

TEST(HstuReference, OneRowSequenceIsItsOwnScaledSiluTimesV) {
  // One head, D = 2: q.k = 1*0.5 + 2*1 = 2.5; alpha 0.5 gives s = 1.25.
  Tensor q = f32({1, 1, 2}, {1, 2}), k = f32({1, 1, 2}, {0.5, 1}), v = f32({1, 1, 2}, {2, -4});
  Tensor out = reference::jagged_hstu_attention(q, k, v, offsets({0, 1}), 4, 0.5);
  ASSERT_EQ(out.shape(), (Shape{1, 1, 2}));
  EXPECT_EQ(out.dtype(), DType::f32);
  const double p = silu(1.25) / 4;
  EXPECT_NEAR(out.item_as_double(0), p * 2, 1e-7);
  EXPECT_NEAR(out.item_as_double(1), p * -4, 1e-7);
}

TEST(HstuReference, EachRowSeesItsSequenceUpToItself) {
  // Sequences {0, 1}, {} and {2}; one head, D = 1, so every score is alpha * q_i * k_j.
  Tensor q = f32({3, 1, 1}, {1, 2, 3}), k = f32({3, 1, 1}, {0.5, -1, 2});
  Tensor v = f32({3, 1, 1}, {10, 20, 30});
  const double alpha = 0.25;
  Tensor out = reference::jagged_hstu_attention(q, k, v, offsets({0, 2, 2, 3}), 2, alpha);
  auto p = [&](double qi, double kj) { return silu(alpha * qi * kj) / 2; };
  EXPECT_NEAR(out.item_as_double(0), p(1, 0.5) * 10, 1e-6);
  EXPECT_NEAR(out.item_as_double(1), p(2, 0.5) * 10 + p(2, -1) * 20, 1e-6);
  // Row 2 starts a new sequence: rows 0 and 1 are not in it.
  EXPECT_NEAR(out.item_as_double(2), p(3, 2) * 30, 1e-6);
}

TEST(HstuReference, HeadsDoNotMix) {
  // Two heads of D = 1 on one row: each head uses its own q, k and v.
  Tensor q = f32({1, 2, 1}, {1, 3}), k = f32({1, 2, 1}, {2, -1}), v = f32({1, 2, 1}, {5, 7});
  Tensor out = reference::jagged_hstu_attention(q, k, v, offsets({0, 1}), 1, 1.0);
  EXPECT_NEAR(out.item_as_double(0), silu(2) * 5, 1e-6);
  EXPECT_NEAR(out.item_as_double(1), silu(-3) * 7, 1e-6);
}

TEST(HstuReference, LaterRowsDoNotChangeEarlierOutputs) {
  JaggedShape shape;
  shape.batch = 1;
  shape.max_len = 6;
  shape.sparsity = 0;
  shape.heads = 2;
  shape.head_dim = 3;
  const ExampleInfo* e = find_example("jagged_hstu_attention");
  ASSERT_NE(e, nullptr);
  ArgMap args = e->make_inputs(shape, DType::f32, DType::i32);
  Tensor q = std::get<Tensor>(args.at("q")), k = std::get<Tensor>(args.at("k")),
         v = std::get<Tensor>(args.at("v")), off = std::get<Tensor>(args.at("seq_offsets"));
  const int64_t rows = q.size(0);
  ASSERT_GE(rows, 4);
  Tensor before = reference::jagged_hstu_attention(q, k, v, off, rows, 0.5);
  // Replace the last row's k and v: only the last row's output may change.
  std::vector<double> ks, vs;
  for (int64_t i = 0; i < k.numel(); ++i) {
    const bool last = i >= (rows - 1) * 6;
    ks.push_back(last ? 5.0 : k.item_as_double(i));
    vs.push_back(last ? -3.0 : v.item_as_double(i));
  }
  Tensor after =
      reference::jagged_hstu_attention(q, f32(k.shape(), ks), f32(v.shape(), vs), off, rows, 0.5);
  for (int64_t i = 0; i < (rows - 1) * 6; ++i) {
    EXPECT_EQ(after.item_as_double(i), before.item_as_double(i)) << "element " << i;
  }
  bool last_changed = false;
  for (int64_t i = (rows - 1) * 6; i < rows * 6; ++i) {
    last_changed |= after.item_as_double(i) != before.item_as_double(i);
  }
  EXPECT_TRUE(last_changed);
}

TEST(HstuReference, OutputTakesVsDtypeRoundedToNearestEven) {
  Tensor q = Tensor::from_doubles({1, 1, 1}, {1}, DType::bf16);
  Tensor k = Tensor::from_doubles({1, 1, 1}, {1}, DType::bf16);
  Tensor v = Tensor::from_doubles({1, 1, 1}, {1}, DType::bf16);
  Tensor out = reference::jagged_hstu_attention(q, k, v, offsets({0, 1}), 1, 1.0);
  EXPECT_EQ(out.dtype(), DType::bf16);
  EXPECT_EQ(out.item_as_double(0),
            Tensor::from_doubles({1}, {silu(1)}, DType::bf16).item_as_double(0));
}

TEST(HstuReference, NoSequencesAndEmptySequencesGiveNoRows) {
  Tensor none = Tensor::zeros({0, 2, 4}, DType::f32);
  EXPECT_EQ(reference::jagged_hstu_attention(none, none, none, offsets({0}), 1, 1.0).shape(),
            (Shape{0, 2, 4}));
  EXPECT_EQ(reference::jagged_hstu_attention(none, none, none, offsets({0, 0, 0}), 1, 1.0).shape(),
            (Shape{0, 2, 4}));
}

TEST(HstuReferenceErrors, ShapesAndMaxSeqLenAreChecked) {
  Tensor a = Tensor::zeros({2, 1, 3}, DType::f32), b = Tensor::zeros({2, 1, 4}, DType::f32);
  try {
    reference::jagged_hstu_attention(a, b, a, offsets({0, 2}), 2, 1.0);
    FAIL() << "k of another head size accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("q, k and v must have one shape [L, H, D], got q [2, 1, 3], "
                                    "k [2, 1, 4], v [2, 1, 3]"));
  }
  try {
    reference::jagged_hstu_attention(a, a, a, offsets({0, 2}), 0, 1.0);
    FAIL() << "max_seq_len 0 accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("max_seq_len must be at least 1, got 0"));
  }
  try {
    reference::jagged_hstu_attention(a, a, a, offsets({0, 3}), 3, 1.0);
    FAIL() << "offsets past the rows accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("seq_offsets"));
  }
  try {
    reference::jagged_hstu_attention(f32({2, 3}, {0, 0, 0, 0, 0, 0}), a, a, offsets({0, 2}), 2,
                                     1.0);
    FAIL() << "2-D q accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'q' must be 3-D [L, H, D], got shape [2, 3]"));
  }
}

TEST(HstuRecipe, GeneratesHeadsHeadDimTheLongestLengthAndAlpha) {
  const ExampleInfo* e = find_example("jagged_hstu_attention");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->uses_heads);
  JaggedShape shape;
  shape.batch = 9;
  shape.max_len = 7;
  shape.dist = LengthDist::one_huge;
  shape.heads = 3;
  shape.head_dim = 4;
  ArgMap args = e->make_inputs(shape, DType::bf16, DType::i64);
  Tensor off = std::get<Tensor>(args.at("seq_offsets"));
  ASSERT_EQ(off.shape(), (Shape{10}));
  EXPECT_EQ(off.dtype(), DType::i64);
  int64_t longest = 0;
  for (int64_t b = 0; b < 9; ++b) {
    longest =
        std::max<int64_t>(longest, int64_t(off.item_as_double(b + 1) - off.item_as_double(b)));
  }
  EXPECT_GT(longest, 7) << "one-huge should exceed --max-len";
  const int64_t rows = int64_t(off.item_as_double(9));
  for (const char* name : {"q", "k", "v"}) {
    Tensor t = std::get<Tensor>(args.at(name));
    EXPECT_EQ(t.shape(), (Shape{rows, 3, 4})) << name;
    EXPECT_EQ(t.dtype(), DType::bf16) << name;
  }
  EXPECT_EQ(std::get<int64_t>(args.at("max_seq_len")), longest);
  EXPECT_DOUBLE_EQ(std::get<double>(args.at("alpha")), 0.5);
  EXPECT_EQ(e->reference(args).size(), 1u);

  // All sequences empty: no rows, and a max_seq_len of 1 keeps the scale finite.
  shape.dist = LengthDist::empty;
  ArgMap empty = e->make_inputs(shape, DType::f32, DType::i32);
  EXPECT_EQ(std::get<Tensor>(empty.at("q")).shape(), (Shape{0, 3, 4}));
  EXPECT_EQ(std::get<int64_t>(empty.at("max_seq_len")), 1);
  EXPECT_EQ(e->reference(empty).size(), 1u);
}

TEST(HstuRecipe, MissingOrMistypedScalarsAreNamed) {
  const ExampleInfo* e = find_example("jagged_hstu_attention");
  ASSERT_NE(e, nullptr);
  ArgMap args = e->make_inputs(JaggedShape{}, DType::f32, DType::i32);
  args["max_seq_len"] = 2.5;
  try {
    e->reference(args);
    FAIL() << "float max_seq_len accepted";
  } catch (const UserError& err) {
    EXPECT_THAT(err.what(), HasSubstr("'max_seq_len' must be an integer, got a float"));
  }
  args["max_seq_len"] = int64_t(40);
  args.erase("alpha");
  try {
    e->reference(args);
    FAIL() << "missing alpha accepted";
  } catch (const UserError& err) {
    EXPECT_THAT(err.what(), HasSubstr("jagged_hstu_attention: argument 'alpha' is missing"));
  }
}

}  // namespace
}  // namespace jagtile
