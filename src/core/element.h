// Internal: reading and writing single elements of any DType through double, shared by the
// tensor conversions and the jagged validators. Narrowing to 16-bit floats rounds to nearest even
// directly from double (no double rounding through float).
#pragma once

#include <cstdint>

#include "jagtile/dtype.h"

namespace jagtile::core_detail {

double load_as_double(const void* base, DType dtype, int64_t index);
void store_from_double(void* base, DType dtype, int64_t index, double value);

// Integer elements (i32, i64, bool) read exactly as int64.
int64_t load_as_int64(const void* base, DType dtype, int64_t index);

// Converts n contiguous elements between dtypes (the bulk path of Tensor::to_dtype): floats go
// through f32 (exact for every source float), integers through int64 (exact), float -> int
// truncates toward zero and saturates (NaN -> 0), int -> int wraps like numpy's astype.
void convert_elements(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n);

// A float that, rounded again to a narrower format with round-to-nearest-even, gives the same
// result as rounding `value` directly (round-to-odd keeps a sticky bit).
float double_to_f32_round_to_odd(double value);

}  // namespace jagtile::core_detail
