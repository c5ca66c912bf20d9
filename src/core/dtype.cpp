// Element types: names, sizes, parsing, and the IEEE binary16 <-> binary32 conversions that every
// backend shares (bit manipulation, so the results do not depend on the host's F16C support).
#include "jagtile/dtype.h"

#include "jagtile/error.h"

namespace jagtile {

int64_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::f16:
      return 2;
    case DType::bf16:
      return 2;
    case DType::i32:
      return 4;
    case DType::i64:
    case DType::f64:
      return 8;
    case DType::boolean:
      return 1;
  }
  JAGTILE_CHECK(false, << "unknown dtype " << int(dtype));
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "float32";
    case DType::f16:
      return "float16";
    case DType::bf16:
      return "bfloat16";
    case DType::i32:
      return "int32";
    case DType::i64:
      return "int64";
    case DType::boolean:
      return "bool";
    case DType::f64:
      return "float64";
  }
  JAGTILE_CHECK(false, << "unknown dtype " << int(dtype));
}

std::string_view dtype_short_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::f16:
      return "f16";
    case DType::bf16:
      return "bf16";
    case DType::i32:
      return "i32";
    case DType::i64:
      return "i64";
    case DType::boolean:
      return "bool";
    case DType::f64:
      return "f64";
  }
  JAGTILE_CHECK(false, << "unknown dtype " << int(dtype));
}

std::optional<DType> parse_dtype(std::string_view name) {
  // Users paste names from torch and numpy code, so their module prefixes are accepted too.
  for (std::string_view prefix : {"torch.", "np.", "numpy.", "jnp."}) {
    if (name.substr(0, prefix.size()) == prefix) {
      name.remove_prefix(prefix.size());
      break;
    }
  }
  struct Alias {
    std::string_view name;
    DType dtype;
  };
  static constexpr Alias aliases[] = {
      {"float32", DType::f32},     {"f32", DType::f32},      {"float", DType::f32},
      {"fp32", DType::f32},        {"float16", DType::f16},  {"f16", DType::f16},
      {"half", DType::f16},        {"fp16", DType::f16},     {"bfloat16", DType::bf16},
      {"bf16", DType::bf16},       {"int32", DType::i32},    {"i32", DType::i32},
      {"int", DType::i32},         {"int64", DType::i64},    {"i64", DType::i64},
      {"long", DType::i64},        {"bool", DType::boolean}, {"bool_", DType::boolean},
      {"boolean", DType::boolean}, {"float64", DType::f64},  {"f64", DType::f64},
      {"double", DType::f64},      {"fp64", DType::f64},
  };
  for (const Alias& alias : aliases) {
    if (alias.name == name) return alias.dtype;
  }
  return std::nullopt;
}

bool dtype_is_float(DType dtype) {
  return dtype == DType::f32 || dtype == DType::f16 || dtype == DType::bf16 || dtype == DType::f64;
}

bool dtype_is_int(DType dtype) {
  return dtype == DType::i32 || dtype == DType::i64;
}

namespace {
uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
}  // namespace

float f16_bits_to_f32(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f) {
    // Infinity keeps a zero mantissa; a NaN keeps its payload and comes out quiet, as the
    // hardware converters do.
    uint32_t quiet = mantissa ? 0x00400000u : 0u;
    return bits_float(sign | 0x7f800000u | quiet | (mantissa << 13));
  }
  if (exponent == 0) {
    if (mantissa == 0) return bits_float(sign);
    // Subnormal: shift the leading one up to the implicit-bit position, lowering the exponent.
    int shift = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3ffu;
    uint32_t f32_exponent = uint32_t(127 - 15 + 1 - shift);
    return bits_float(sign | (f32_exponent << 23) | (mantissa << 13));
  }
  return bits_float(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

uint16_t f32_to_f16_bits(float f) {
  uint32_t u = float_bits(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  uint32_t magnitude = u & 0x7fffffffu;
  if (magnitude > 0x7f800000u) {
    return uint16_t(sign | 0x7c00u | 0x0200u | ((magnitude >> 13) & 0x3ffu));
  }
  // 65520 is halfway between the largest f16 (65504, odd mantissa) and 2^16: ties go up, to inf.
  if (magnitude >= 0x477ff000u) return uint16_t(sign | 0x7c00u);
  if (magnitude >= 0x38800000u) {
    // Normal result: rebias the exponent and round away the 13 low mantissa bits (RNE). A carry
    // out of the mantissa correctly bumps the exponent.
    uint32_t rebased = magnitude - ((127u - 15u) << 23);
    uint32_t lsb = (rebased >> 13) & 1u;
    return uint16_t(sign | ((rebased + 0xfffu + lsb) >> 13));
  }
  // Below 2^-25 everything rounds to zero (2^-25 itself is a tie and goes to the even zero).
  if (magnitude < 0x33000000u) return sign;
  // Subnormal result: value = significand * 2^(e-150) = k * 2^-24, so k = significand >> (126-e).
  uint32_t exponent = magnitude >> 23;
  uint32_t significand = (magnitude & 0x7fffffu) | 0x800000u;
  uint32_t shift = 126u - exponent;  // 14..24
  uint32_t k = significand >> shift;
  uint32_t remainder = significand & ((1u << shift) - 1u);
  uint32_t half = 1u << (shift - 1u);
  if (remainder > half || (remainder == half && (k & 1u))) ++k;  // may carry into min normal
  return uint16_t(sign | k);
}

}  // namespace jagtile
