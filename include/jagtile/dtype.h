// Element types and the 16-bit float conversions every backend shares.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace jagtile {

// f64 comes last so the numbers of the others, which cache keys hold, stay as they were.
enum class DType : uint8_t { f32, f16, bf16, i32, i64, boolean, f64 };

// Bytes per element.
int64_t dtype_size(DType dtype);
// "float32", "float16", "bfloat16", "int32", "int64", "bool", "float64".
std::string_view dtype_name(DType dtype);
// Short names used by the CLI and file names: "f32", "f16", "bf16", "i32", "i64", "bool", "f64".
std::string_view dtype_short_name(DType dtype);
// Accepts both long and short names ("float32", "f32", "torch.float32", "bool"); nullopt if
// unknown.
std::optional<DType> parse_dtype(std::string_view name);
bool dtype_is_float(DType dtype);
bool dtype_is_int(DType dtype);

// IEEE binary16 and bfloat16 <-> float32. Narrowing rounds to nearest, ties to even; NaN stays
// NaN (quiet) and infinities stay infinities; overflow in f16 rounds to infinity.
inline float bf16_bits_to_f32(uint16_t bits) {
  uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t f32_to_bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x0040u);  // quiet NaN
  uint32_t rounding_bias = 0x7fffu + ((u >> 16) & 1u);
  return uint16_t((u + rounding_bias) >> 16);
}

float f16_bits_to_f32(uint16_t bits);
uint16_t f32_to_f16_bits(float f);

}  // namespace jagtile
