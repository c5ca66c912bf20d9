// Element access through double for every DType (slow path for tests, references and small host
// reads), and the round-to-odd step that makes double -> 16-bit float conversion exact RNE.
#include "core/element.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "jagtile/error.h"

namespace jagtile::core_detail {

float double_to_f32_round_to_odd(double value) {
  float f = float(value);
  if (!std::isfinite(f) || double(f) == value) return f;
  uint32_t u;
  std::memcpy(&u, &f, 4);
  // float(value) rounded to nearest; step back toward zero when it rounded away, then set the
  // lowest bit as a sticky "inexact" marker. f32 has 13+ spare bits over f16/bf16, so rounding
  // this once more is correctly rounded.
  if (std::fabs(double(f)) > std::fabs(value)) u -= 1;
  u |= 1u;
  std::memcpy(&f, &u, 4);
  return f;
}

namespace {
// C++ leaves float -> int conversion undefined outside the target range; clamp (NaN -> 0).
template <typename Int>
Int saturating_cast(double value) {
  if (std::isnan(value)) return 0;
  constexpr double lo = double(std::numeric_limits<Int>::min());
  constexpr double hi = double(std::numeric_limits<Int>::max());
  if (value <= lo) return std::numeric_limits<Int>::min();
  if (value >= hi) return std::numeric_limits<Int>::max();
  return Int(value);
}
}  // namespace

double load_as_double(const void* base, DType dtype, int64_t index) {
  switch (dtype) {
    case DType::f32:
      return static_cast<const float*>(base)[index];
    case DType::f64:
      return static_cast<const double*>(base)[index];
    case DType::f16:
      return f16_bits_to_f32(static_cast<const uint16_t*>(base)[index]);
    case DType::bf16:
      return bf16_bits_to_f32(static_cast<const uint16_t*>(base)[index]);
    case DType::i32:
      return static_cast<const int32_t*>(base)[index];
    case DType::i64:
      return double(static_cast<const int64_t*>(base)[index]);
    case DType::boolean:
      return static_cast<const uint8_t*>(base)[index] != 0 ? 1.0 : 0.0;
  }
  JAGTILE_CHECK(false, << "unknown dtype " << int(dtype));
}

int64_t load_as_int64(const void* base, DType dtype, int64_t index) {
  switch (dtype) {
    case DType::i32:
      return static_cast<const int32_t*>(base)[index];
    case DType::i64:
      return static_cast<const int64_t*>(base)[index];
    case DType::boolean:
      return static_cast<const uint8_t*>(base)[index] != 0 ? 1 : 0;
    default:
      break;
  }
  JAGTILE_CHECK(false, << "load_as_int64 on " << dtype_name(dtype));
}

void store_from_double(void* base, DType dtype, int64_t index, double value) {
  switch (dtype) {
    case DType::f32:
      static_cast<float*>(base)[index] = float(value);
      return;
    case DType::f64:
      static_cast<double*>(base)[index] = value;
      return;
    case DType::f16:
      static_cast<uint16_t*>(base)[index] = f32_to_f16_bits(double_to_f32_round_to_odd(value));
      return;
    case DType::bf16:
      static_cast<uint16_t*>(base)[index] = f32_to_bf16_bits(double_to_f32_round_to_odd(value));
      return;
    case DType::i32:
      static_cast<int32_t*>(base)[index] = saturating_cast<int32_t>(value);
      return;
    case DType::i64:
      static_cast<int64_t*>(base)[index] = saturating_cast<int64_t>(value);
      return;
    case DType::boolean:
      static_cast<uint8_t*>(base)[index] = value != 0.0 ? 1 : 0;
      return;
  }
  JAGTILE_CHECK(false, << "unknown dtype " << int(dtype));
}

namespace {

// Storage types of the 16-bit floats, distinct so overloads can tell them apart.
struct F16Bits {
  uint16_t bits;
};
struct BF16Bits {
  uint16_t bits;
};

// The widest exact intermediate for each source: the float itself (f16 / bf16 as float), int64
// for integers.
inline float widen(float v) {
  return v;
}
inline double widen(double v) {
  return v;
}
inline float widen(F16Bits v) {
  return f16_bits_to_f32(v.bits);
}
inline float widen(BF16Bits v) {
  return bf16_bits_to_f32(v.bits);
}
inline int64_t widen(int32_t v) {
  return v;
}
inline int64_t widen(int64_t v) {
  return v;
}
inline int64_t widen(uint8_t v) {
  return v != 0;
}

template <typename Dst>
struct Narrow;
template <>
struct Narrow<float> {
  static float from(float v) { return v; }
  static float from(double v) { return float(v); }
  static float from(int64_t v) { return float(v); }
};
template <>
struct Narrow<double> {
  static double from(float v) { return v; }
  static double from(double v) { return v; }
  static double from(int64_t v) { return double(v); }
};
template <>
struct Narrow<F16Bits> {
  static F16Bits from(float v) { return {f32_to_f16_bits(v)}; }
  static F16Bits from(double v) { return {f32_to_f16_bits(double_to_f32_round_to_odd(v))}; }
  static F16Bits from(int64_t v) {
    return {f32_to_f16_bits(double_to_f32_round_to_odd(double(v)))};
  }
};
template <>
struct Narrow<BF16Bits> {
  static BF16Bits from(float v) { return {f32_to_bf16_bits(v)}; }
  static BF16Bits from(double v) { return {f32_to_bf16_bits(double_to_f32_round_to_odd(v))}; }
  static BF16Bits from(int64_t v) {
    return {f32_to_bf16_bits(double_to_f32_round_to_odd(double(v)))};
  }
};
template <>
struct Narrow<int32_t> {
  static int32_t from(float v) { return saturating_cast<int32_t>(v); }
  static int32_t from(double v) { return saturating_cast<int32_t>(v); }
  static int32_t from(int64_t v) { return int32_t(uint32_t(uint64_t(v))); }
};
template <>
struct Narrow<int64_t> {
  static int64_t from(float v) { return saturating_cast<int64_t>(v); }
  static int64_t from(double v) { return saturating_cast<int64_t>(v); }
  static int64_t from(int64_t v) { return v; }
};
template <>
struct Narrow<uint8_t> {
  static uint8_t from(float v) { return v != 0.0f; }
  static uint8_t from(double v) { return v != 0.0; }
  static uint8_t from(int64_t v) { return v != 0; }
};

template <typename Fn>
void with_storage_type(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32:
      return fn(float{});
    case DType::f64:
      return fn(double{});
    case DType::f16:
      return fn(F16Bits{});
    case DType::bf16:
      return fn(BF16Bits{});
    case DType::i32:
      return fn(int32_t{});
    case DType::i64:
      return fn(int64_t{});
    case DType::boolean:
      return fn(uint8_t{});
  }
  JAGTILE_CHECK(false, << "unknown dtype " << int(dtype));
}

}  // namespace

void convert_elements(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n) {
  with_storage_type(src_dtype, [&](auto src_tag) {
    with_storage_type(dst_dtype, [&](auto dst_tag) {
      using Src = decltype(src_tag);
      using Dst = decltype(dst_tag);
      const Src* in = static_cast<const Src*>(src);
      Dst* out = static_cast<Dst*>(dst);
      for (int64_t i = 0; i < n; ++i) out[i] = Narrow<Dst>::from(widen(in[i]));
    });
  });
}

}  // namespace jagtile::core_detail
