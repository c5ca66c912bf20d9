// Jagged layout: values [N, M...] plus offsets [B+1]; item b owns rows
// values[offsets[b] .. offsets[b+1]). Optional feature_counts [B]: columns valid per item.
// Every check here runs before any kernel and raises UserError naming the tensor, the first bad
// position and the values there.
#pragma once

#include <string_view>

#include "jagtile/tensor.h"

namespace jagtile {

// offsets: rank 1, i32 or i64, at least one element, offsets[0] >= 0, non-decreasing,
// offsets[B] <= num_rows (the first dimension of the values tensor called values_name).
void validate_offsets(const Tensor& offsets, std::string_view name, int64_t num_rows,
                      std::string_view values_name);
// The same, taking the values tensor itself: also checks that it has rank >= 1 and lives on the
// same device as the offsets (num_rows is its first dimension).
void validate_offsets(const Tensor& offsets, std::string_view name, const Tensor& values,
                      std::string_view values_name);

// feature_counts: rank 1, integer, num_items elements, each in [0, max_columns].
void validate_feature_counts(const Tensor& counts, std::string_view name, int64_t num_items,
                             int64_t max_columns);

// True when every element of an integer tensor fits in int32.
bool fits_in_i32(const Tensor& integers);

// validate_offsets and narrow_offsets in one pass over the offsets (CPU offsets; device offsets
// are validated on a host copy and returned unchanged). What the templates call per run.
Tensor validate_and_narrow_offsets(const Tensor& offsets, std::string_view name, int64_t num_rows,
                                   std::string_view values_name);

// i64 offsets whose values all fit in int32 are narrowed to a new i32 tensor (one pass);
// anything else is returned unchanged. The kernels then index with 32-bit offsets.
Tensor narrow_offsets(const Tensor& offsets);

}  // namespace jagtile
