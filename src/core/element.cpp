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

}  // namespace jagtile::core_detail
