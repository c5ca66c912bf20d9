// Tests for dtype names/parsing and the f16 / bf16 <-> f32 conversions (exhaustive round trips,
// ties to even, NaN, infinities, overflow and subnormals).
#include "jagtile/dtype.h"

#include <cmath>
#include <limits>

#include "jagtile/tensor.h"
#include "test_util.h"

namespace jagtile {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(DTypeTest, SizesAndNames) {
  struct Row {
    DType dtype;
    int64_t size;
    const char* name;
    const char* short_name;
  };
  const Row rows[] = {{DType::f32, 4, "float32", "f32"},    {DType::f16, 2, "float16", "f16"},
                      {DType::bf16, 2, "bfloat16", "bf16"}, {DType::i32, 4, "int32", "i32"},
                      {DType::i64, 8, "int64", "i64"},      {DType::boolean, 1, "bool", "bool"}};
  for (const Row& r : rows) {
    EXPECT_EQ(dtype_size(r.dtype), r.size);
    EXPECT_EQ(dtype_name(r.dtype), r.name);
    EXPECT_EQ(dtype_short_name(r.dtype), r.short_name);
    EXPECT_EQ(parse_dtype(r.name), r.dtype);
    EXPECT_EQ(parse_dtype(r.short_name), r.dtype);
    EXPECT_EQ(parse_dtype(std::string("torch.") + r.name), r.dtype);
  }
}

TEST(DTypeTest, ParseAliases) {
  EXPECT_EQ(parse_dtype("float"), DType::f32);
  EXPECT_EQ(parse_dtype("half"), DType::f16);
  EXPECT_EQ(parse_dtype("torch.half"), DType::f16);
  EXPECT_EQ(parse_dtype("torch.bfloat16"), DType::bf16);
  EXPECT_EQ(parse_dtype("long"), DType::i64);
  EXPECT_EQ(parse_dtype("torch.bool"), DType::boolean);
  EXPECT_EQ(parse_dtype("np.float32"), DType::f32);
  EXPECT_EQ(parse_dtype("float64"), DType::f64);
  EXPECT_EQ(parse_dtype("torch.double"), DType::f64);
  EXPECT_EQ(parse_dtype("complex64"), std::nullopt);
  EXPECT_EQ(parse_dtype(""), std::nullopt);
  EXPECT_EQ(parse_dtype("Float32"), std::nullopt);
  EXPECT_EQ(parse_dtype("torch."), std::nullopt);
}

TEST(DTypeTest, Classification) {
  EXPECT_TRUE(dtype_is_float(DType::f32));
  EXPECT_TRUE(dtype_is_float(DType::f16));
  EXPECT_TRUE(dtype_is_float(DType::bf16));
  EXPECT_FALSE(dtype_is_float(DType::i32));
  EXPECT_FALSE(dtype_is_float(DType::boolean));
  EXPECT_TRUE(dtype_is_int(DType::i32));
  EXPECT_TRUE(dtype_is_int(DType::i64));
  EXPECT_FALSE(dtype_is_int(DType::boolean));
  EXPECT_FALSE(dtype_is_int(DType::f16));
}

// The value an f16 bit pattern denotes, computed independently with ldexp.
double f16_reference_value(uint16_t b) {
  int sign = (b & 0x8000) ? -1 : 1;
  int exponent = (b >> 10) & 0x1f;
  int mantissa = b & 0x3ff;
  if (exponent == 31) return sign * std::numeric_limits<double>::infinity();
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

TEST(F16Test, EveryBitPatternDecodesAndRoundTrips) {
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    float f = f16_bits_to_f32(uint16_t(b));
    bool is_nan = ((b >> 10) & 0x1f) == 0x1f && (b & 0x3ff) != 0;
    if (is_nan) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << b;
      EXPECT_EQ(std::signbit(f), (b & 0x8000) != 0) << std::hex << b;
      // NaN comes back quiet with the same sign and payload.
      EXPECT_EQ(f32_to_f16_bits(f), uint16_t(b | 0x0200)) << std::hex << b;
      continue;
    }
    ASSERT_EQ(double(f), f16_reference_value(uint16_t(b))) << std::hex << b;
    ASSERT_EQ(std::signbit(f), (b & 0x8000) != 0) << std::hex << b;
    ASSERT_EQ(f32_to_f16_bits(f), b) << std::hex << b;
  }
}

TEST(F16Test, TiesRoundToEven) {
  // 1 + 2^-11 is halfway between 1 (even mantissa) and 1 + 2^-10 (odd): goes down.
  EXPECT_EQ(f32_to_f16_bits(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  // 1 + 3*2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even): goes up.
  EXPECT_EQ(f32_to_f16_bits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  // Just above a tie rounds up, just below rounds down.
  EXPECT_EQ(f32_to_f16_bits(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
  EXPECT_EQ(f32_to_f16_bits(1.0f + std::ldexp(1.0f, -11) - std::ldexp(1.0f, -20)), 0x3c00);
  EXPECT_EQ(f32_to_f16_bits(-(1.0f + std::ldexp(1.0f, -11))), 0xbc00);
  // Mantissa carry into the exponent: 2 - 2^-11 is halfway between 0x3bff (odd) and 2.0.
  EXPECT_EQ(f32_to_f16_bits(2.0f - std::ldexp(1.0f, -11)), 0x4000);
}

TEST(F16Test, OverflowAndInfinity) {
  EXPECT_EQ(f32_to_f16_bits(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16_bits(65519.99f), 0x7bff);
  EXPECT_EQ(f32_to_f16_bits(65520.0f), 0x7c00);  // tie with an odd mantissa: up to infinity
  EXPECT_EQ(f32_to_f16_bits(1e10f), 0x7c00);
  EXPECT_EQ(f32_to_f16_bits(-1e10f), 0xfc00);
  EXPECT_EQ(f32_to_f16_bits(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(f32_to_f16_bits(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(f32_to_f16_bits(std::numeric_limits<float>::max()), 0x7c00);
}

TEST(F16Test, NaNStaysQuietNaN) {
  EXPECT_EQ(f32_to_f16_bits(std::numeric_limits<float>::quiet_NaN()), 0x7e00);
  // A signalling NaN whose payload lives only in the low bits must not become infinity.
  EXPECT_EQ(f32_to_f16_bits(float_of(0x7f800001u)), 0x7e00);
  EXPECT_EQ(f32_to_f16_bits(float_of(0xffa00000u)), 0xfe00 | 0x0100);
  EXPECT_TRUE(std::isnan(f16_bits_to_f32(0x7c01)));
  EXPECT_EQ(bits_of(f16_bits_to_f32(0x7c01)) & 0x00400000u, 0x00400000u);  // quieted
}

TEST(F16Test, SubnormalsAndZero) {
  const float min_subnormal = std::ldexp(1.0f, -24);
  EXPECT_EQ(f32_to_f16_bits(0.0f), 0x0000);
  EXPECT_EQ(f32_to_f16_bits(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16_bits(min_subnormal), 0x0001);
  EXPECT_EQ(f32_to_f16_bits(-min_subnormal), 0x8001);
  EXPECT_EQ(f32_to_f16_bits(min_subnormal / 2), 0x0000);               // tie: to even zero
  EXPECT_EQ(f32_to_f16_bits(min_subnormal / 2 * 1.0000001f), 0x0001);  // above the tie
  EXPECT_EQ(f32_to_f16_bits(min_subnormal / 4), 0x0000);
  EXPECT_EQ(f32_to_f16_bits(3 * min_subnormal / 2), 0x0002);    // tie: to even 2
  EXPECT_EQ(f32_to_f16_bits(5 * min_subnormal / 2), 0x0002);    // tie: to even 2
  EXPECT_EQ(f32_to_f16_bits(1023 * min_subnormal), 0x03ff);     // largest subnormal
  EXPECT_EQ(f32_to_f16_bits(1023.5f * min_subnormal), 0x0400);  // tie: to min normal
  EXPECT_EQ(f32_to_f16_bits(std::ldexp(1.0f, -14)), 0x0400);    // min normal
  EXPECT_EQ(f32_to_f16_bits(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(f16_bits_to_f32(0x0001), min_subnormal);
  EXPECT_EQ(f16_bits_to_f32(0x03ff), 1023 * min_subnormal);
}

#ifdef __FLT16_MAX__
// The compiler's own _Float16 conversion is an independent round-to-nearest-even oracle.
TEST(F16Test, MatchesCompilerConversionOnSampledFloats) {
  for (uint64_t u = 0; u <= 0xffffffffull; u += 4093) {
    float f = float_of(uint32_t(u));
    if (std::isnan(f)) continue;
    _Float16 h = static_cast<_Float16>(f);
    uint16_t expected;
    std::memcpy(&expected, &h, 2);
    ASSERT_EQ(f32_to_f16_bits(f), expected) << std::hex << u;
  }
  // Densely around the subnormal range and the overflow threshold, where the branches meet.
  for (uint32_t start : {0x33000000u, 0x38000000u, 0x477f0000u}) {
    for (uint32_t u = start; u < start + 0x200000u; u += 7) {
      for (uint32_t sign : {0u, 0x80000000u}) {
        float f = float_of(u | sign);
        _Float16 h = static_cast<_Float16>(f);
        uint16_t expected;
        std::memcpy(&expected, &h, 2);
        ASSERT_EQ(f32_to_f16_bits(f), expected) << std::hex << (u | sign);
      }
    }
  }
}
#endif

TEST(BF16Test, EveryBitPatternRoundTrips) {
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    float f = bf16_bits_to_f32(uint16_t(b));
    EXPECT_EQ(bits_of(f), b << 16);
    if (std::isnan(f)) {
      EXPECT_EQ(f32_to_bf16_bits(f), uint16_t(b | 0x0040)) << std::hex << b;
    } else {
      ASSERT_EQ(f32_to_bf16_bits(f), b) << std::hex << b;
    }
  }
}

TEST(BF16Test, RoundingNaNAndInfinity) {
  EXPECT_EQ(f32_to_bf16_bits(1.0f + std::ldexp(1.0f, -8)), 0x3f80);      // tie down to even
  EXPECT_EQ(f32_to_bf16_bits(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);  // tie up to even
  EXPECT_EQ(f32_to_bf16_bits(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3f81);
  EXPECT_EQ(f32_to_bf16_bits(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(f32_to_bf16_bits(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to inf
  EXPECT_EQ(f32_to_bf16_bits(float_of(0x7f800001u)), 0x7fc0);              // sNaN -> quiet NaN
}

TEST(DoubleRoundingTest, TensorStoresRoundDoublesDirectly) {
  // 1 + 2^-11 + 2^-40 is just above an f16 tie; rounding through float first would lose the
  // 2^-40 and tie down to 1.0. Correct rounding gives 1 + 2^-10.
  double v = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  Tensor t = Tensor::from_doubles({2}, {v, -v}, DType::f16);
  EXPECT_EQ(t.data<uint16_t>()[0], 0x3c01);
  EXPECT_EQ(t.data<uint16_t>()[1], 0xbc01);
  double w = 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40);
  Tensor b = Tensor::from_doubles({1}, {w}, DType::bf16);
  EXPECT_EQ(b.data<uint16_t>()[0], 0x3f81);
  // Exact ties still go to even.
  Tensor e = Tensor::from_doubles({1}, {1.0 + std::ldexp(1.0, -11)}, DType::f16);
  EXPECT_EQ(e.data<uint16_t>()[0], 0x3c00);
  // Doubles beyond float range overflow to infinity, tiny ones to zero.
  Tensor o = Tensor::from_doubles({2}, {1e300, 1e-300}, DType::f16);
  EXPECT_EQ(o.data<uint16_t>()[0], 0x7c00);
  EXPECT_EQ(o.data<uint16_t>()[1], 0x0000);
}

}  // namespace
}  // namespace jagtile
