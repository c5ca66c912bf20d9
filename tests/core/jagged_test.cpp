// Tests for the jagged-layout validators (every error with its message) and offsets narrowing.
#include "jagtile/jagged.h"

#include <limits>

#include "test_util.h"

namespace jagtile {
namespace {

using test::user_error_text;
using ::testing::HasSubstr;

Tensor offsets_of(std::vector<int64_t> values, DType dtype = DType::i64) {
  return Tensor::from_vector<int64_t>({int64_t(values.size())}, values, dtype);
}

TEST(ValidateOffsetsTest, AcceptsValidOffsets) {
  for (DType dtype : {DType::i32, DType::i64}) {
    EXPECT_NO_THROW(validate_offsets(offsets_of({0, 2, 2, 5}, dtype), "offsets", 5, "x"));
    EXPECT_NO_THROW(validate_offsets(offsets_of({0, 2, 2, 5}, dtype), "offsets", 9, "x"));
    EXPECT_NO_THROW(validate_offsets(offsets_of({0}, dtype), "offsets", 0, "x"));     // no items
    EXPECT_NO_THROW(validate_offsets(offsets_of({3, 3}, dtype), "offsets", 3, "x"));  // one empty
    EXPECT_NO_THROW(validate_offsets(offsets_of({0, 0, 0}, dtype), "offsets", 0, "x"));
  }
}

TEST(ValidateOffsetsTest, NonDecreasing) {
  std::string text = user_error_text([] {
    validate_offsets(offsets_of({0, 1, 3, 7, 5, 9}), "offsets", 100, "x");
  });
  EXPECT_THAT(text, HasSubstr("offsets 'offsets' must be non-decreasing, but offsets[3] = 7 > "
                              "offsets[4] = 5"));
  EXPECT_THAT(text, HasSubstr("hint: "));
  EXPECT_THAT(text, HasSubstr("np.cumsum"));
}

TEST(ValidateOffsetsTest, EndPastTheData) {
  std::vector<int64_t> v = {0, 10, 20, 30, 40, 50, 60, 70, 120};
  for (DType dtype : {DType::i32, DType::i64}) {
    std::string text =
        user_error_text([&] { validate_offsets(offsets_of(v, dtype), "offsets", 100, "x"); });
    EXPECT_THAT(text, HasSubstr("offsets 'offsets' end past the data: offsets[8] = 120 but 'x' "
                                "has 100 rows"));
  }
  // The first offending position is named, even before the last one.
  EXPECT_THAT(user_error_text([] {
                validate_offsets(offsets_of({0, 6, 7}), "off", 5, "vals");
              }),
              HasSubstr("off[1] = 6 but 'vals' has 5 rows"));
}

TEST(ValidateOffsetsTest, NegativeStart) {
  EXPECT_THAT(user_error_text([] {
                validate_offsets(offsets_of({-1, 2}), "offsets", 5, "x");
              }),
              HasSubstr("offsets 'offsets' must start at 0 or more, but offsets[0] = -1"));
}

TEST(ValidateOffsetsTest, WrongDtypeRankAndEmpty) {
  Tensor f = Tensor::from_doubles({3}, {0, 1, 2}, DType::f32);
  EXPECT_THAT(user_error_text([&] { validate_offsets(f, "offsets", 5, "x"); }),
              HasSubstr("offsets 'offsets' must be int32 or int64, got float32"));
  Tensor b = Tensor::zeros({3}, DType::boolean);
  EXPECT_THAT(user_error_text([&] { validate_offsets(b, "o", 5, "x"); }),
              HasSubstr("must be int32 or int64, got bool"));
  Tensor m = Tensor::zeros({2, 3}, DType::i64);
  EXPECT_THAT(user_error_text([&] { validate_offsets(m, "offsets", 5, "x"); }),
              HasSubstr("offsets 'offsets' must have rank 1, got shape [2, 3]"));
  Tensor s = Tensor::zeros({}, DType::i32);
  EXPECT_THAT(user_error_text([&] { validate_offsets(s, "offsets", 5, "x"); }),
              HasSubstr("must have rank 1, got shape []"));
  Tensor e = Tensor::zeros({0}, DType::i64);
  std::string text = user_error_text([&] { validate_offsets(e, "offsets", 5, "x"); });
  EXPECT_THAT(text, HasSubstr("offsets 'offsets' is empty, but it needs B+1 >= 1 elements"));
  EXPECT_THAT(text, HasSubstr("offsets = [0]"));
  EXPECT_THAT(user_error_text([&] { validate_offsets(Tensor(), "offsets", 5, "x"); }),
              HasSubstr("offsets 'offsets' is undefined"));
}

TEST(ValidateOffsetsTest, ValuesOverloadChecksRankAndDevice) {
  Tensor x = Tensor::zeros({5, 3}, DType::f32);
  EXPECT_NO_THROW(validate_offsets(offsets_of({0, 5}), "offsets", x, "x"));
  EXPECT_THAT(user_error_text([&] {
                validate_offsets(offsets_of({0, 6}), "offsets", x, "x");
              }),
              HasSubstr("offsets[1] = 6 but 'x' has 5 rows"));
  Tensor scalar = Tensor::zeros({}, DType::f32);
  EXPECT_THAT(user_error_text([&] { validate_offsets(offsets_of({0}), "offsets", scalar, "x"); }),
              HasSubstr("jagged values 'x' must have rank 1 or more, got shape []"));

  test::FakeCudaAllocator fake_cuda;
  Tensor on_device = offsets_of({0, 2, 5}).to(Device::cuda(0));
  EXPECT_THAT(user_error_text([&] { validate_offsets(on_device, "offsets", x, "x"); }),
              HasSubstr("offsets 'offsets' are on cuda:0 but 'x' is on cpu"));
  // Device offsets are copied to the host for checking.
  EXPECT_NO_THROW(validate_offsets(on_device, "offsets", 5, "x"));
  Tensor bad_on_device = offsets_of({0, 4, 2}).to(Device::cuda(0));
  EXPECT_THAT(user_error_text([&] { validate_offsets(bad_on_device, "offsets", 5, "x"); }),
              HasSubstr("offsets[1] = 4 > offsets[2] = 2"));
}

TEST(ValidateFeatureCountsTest, AcceptsAndRejects) {
  Tensor ok = offsets_of({0, 8, 3}, DType::i32);
  EXPECT_NO_THROW(validate_feature_counts(ok, "feature_counts", 3, 8));
  EXPECT_NO_THROW(validate_feature_counts(Tensor::zeros({0}, DType::i64), "fc", 0, 8));

  std::string text = user_error_text([] {
    validate_feature_counts(offsets_of({1, 2, 9}), "feature_counts", 3, 8);
  });
  EXPECT_THAT(text, HasSubstr("feature_counts[2] = 9 is outside [0, 8]"));
  EXPECT_THAT(text, HasSubstr("hint: "));
  EXPECT_THAT(user_error_text([] { validate_feature_counts(offsets_of({-1}), "fc", 1, 8); }),
              HasSubstr("fc[0] = -1 is outside [0, 8]"));
  EXPECT_THAT(user_error_text([] {
                validate_feature_counts(offsets_of({1, 2}), "fc", 3, 8);
              }),
              HasSubstr("feature_counts 'fc' must have 3 elements (one per item), got shape [2]"));
  Tensor f = Tensor::zeros({3}, DType::f16);
  EXPECT_THAT(user_error_text([&] { validate_feature_counts(f, "fc", 3, 8); }),
              HasSubstr("feature_counts 'fc' must be int32 or int64, got float16"));
  Tensor m = Tensor::zeros({3, 1}, DType::i32);
  EXPECT_THAT(user_error_text([&] { validate_feature_counts(m, "fc", 3, 8); }),
              HasSubstr("feature_counts 'fc' must have rank 1, got shape [3, 1]"));
}

TEST(NarrowOffsetsTest, FitsAndDoesNotFit) {
  Tensor fits = offsets_of({0, 5, 7, std::numeric_limits<int32_t>::max()});
  EXPECT_TRUE(fits_in_i32(fits));
  Tensor narrowed = narrow_offsets(fits);
  EXPECT_EQ(narrowed.dtype(), DType::i32);
  EXPECT_EQ(narrowed.shape(), fits.shape());
  for (int64_t i = 0; i < fits.numel(); ++i) {
    EXPECT_EQ(narrowed.data<int32_t>()[i], fits.data<int64_t>()[i]);
  }

  Tensor big = offsets_of({0, 5, int64_t(std::numeric_limits<int32_t>::max()) + 1});
  EXPECT_FALSE(fits_in_i32(big));
  Tensor unchanged = narrow_offsets(big);
  EXPECT_EQ(unchanged.dtype(), DType::i64);
  EXPECT_EQ(unchanged.raw_data(), big.raw_data());

  EXPECT_FALSE(fits_in_i32(offsets_of({int64_t(std::numeric_limits<int32_t>::min()) - 1})));
  EXPECT_TRUE(fits_in_i32(offsets_of({std::numeric_limits<int32_t>::min()})));

  Tensor already = offsets_of({0, 1}, DType::i32);
  EXPECT_TRUE(fits_in_i32(already));
  EXPECT_EQ(narrow_offsets(already).raw_data(), already.raw_data());
  EXPECT_EQ(narrow_offsets(Tensor::zeros({0}, DType::i64)).dtype(), DType::i32);

  EXPECT_THAT(user_error_text([] { fits_in_i32(Tensor::zeros({1}, DType::f32)); }),
              HasSubstr("fits_in_i32 needs an integer tensor, got float32"));
}

TEST(NarrowOffsetsTest, DeviceOffsetsStayOnDevice) {
  test::FakeCudaAllocator fake_cuda;
  Tensor dev = offsets_of({0, 3, 9}).to(Device::cuda(0));
  Tensor narrowed = narrow_offsets(dev);
  EXPECT_EQ(narrowed.dtype(), DType::i32);
  EXPECT_EQ(narrowed.device(), Device::cuda(0));
  EXPECT_EQ(narrowed.to(Device::cpu()).data<int32_t>()[2], 9);
}

}  // namespace
}  // namespace jagtile
