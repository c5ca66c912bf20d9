// Validation of the jagged layout (offsets, feature_counts) before any kernel runs, and the
// narrowing of 64-bit offsets to 32 bits when every value fits.
#include "jagtile/jagged.h"

#include <limits>

#include "jagtile/error.h"

namespace jagtile {
namespace {

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// Integer tensors are validated on the host; a device tensor is copied over first.
Tensor host_copy(const Tensor& t) {
  return t.device().is_cpu() ? t : t.to(Device::cpu());
}

void require_integer_vector(const Tensor& t, std::string_view kind, std::string_view name) {
  if (!t.defined()) {
    throw UserError(std::string(kind) + " " + quoted(name) + " is undefined",
                    "pass a rank-1 int32 or int64 tensor");
  }
  if (!dtype_is_int(t.dtype())) {
    throw UserError(std::string(kind) + " " + quoted(name) + " must be int32 or int64, got " +
                        std::string(dtype_name(t.dtype())),
                    "convert it first, e.g. .to_dtype(DType::i64) (torch: .long(), numpy: "
                    ".astype(np.int64))");
  }
  if (t.dim() != 1) {
    throw UserError(
        std::string(kind) + " " + quoted(name) + " must have rank 1, got shape " + t.shape_str(),
        "pass a flat vector; .view({-1}) flattens it");
  }
}

template <typename Int>
void check_offsets_values(const Int* v, int64_t count, std::string_view name, int64_t num_rows,
                          std::string_view values_name) {
  const std::string n(name);
  auto at = [&](int64_t i) { return n + "[" + std::to_string(i) + "] = " + std::to_string(v[i]); };
  if (v[0] < 0) {
    throw UserError("offsets " + quoted(name) + " must start at 0 or more, but " + at(0),
                    "offsets are row indices into " + quoted(values_name) +
                        "; item b owns rows offsets[b] .. offsets[b+1]");
  }
  for (int64_t i = 0; i < count; ++i) {
    if (i > 0 && v[i - 1] > v[i]) {
      throw UserError(
          "offsets " + quoted(name) + " must be non-decreasing, but " + at(i - 1) + " > " + at(i),
          "offsets are running totals of the item lengths: offsets[0] = 0 and "
          "offsets[b+1] = offsets[b] + length of item b (np.cumsum of the lengths "
          "with a leading 0)");
    }
    if (int64_t(v[i]) > num_rows) {
      throw UserError("offsets " + quoted(name) + " end past the data: " + at(i) + " but " +
                          quoted(values_name) + " has " + std::to_string(num_rows) + " rows",
                      "every offset must be at most the first dimension of " + quoted(values_name) +
                          "; check that the offsets belong to it");
    }
  }
}

}  // namespace

void validate_offsets(const Tensor& offsets, std::string_view name, int64_t num_rows,
                      std::string_view values_name) {
  JAGTILE_CHECK(num_rows >= 0, << "negative row count " << num_rows);
  require_integer_vector(offsets, "offsets", name);
  if (offsets.numel() == 0) {
    throw UserError("offsets " + quoted(name) +
                        " is empty, but it needs B+1 >= 1 elements for B items (got shape " +
                        offsets.shape_str() + ")",
                    "for a batch with no items pass offsets = [0]");
  }
  Tensor host = host_copy(offsets);
  if (host.dtype() == DType::i32) {
    check_offsets_values(host.data<int32_t>(), host.numel(), name, num_rows, values_name);
  } else {
    check_offsets_values(host.data<int64_t>(), host.numel(), name, num_rows, values_name);
  }
}

void validate_offsets(const Tensor& offsets, std::string_view name, const Tensor& values,
                      std::string_view values_name) {
  if (!values.defined() || values.dim() < 1) {
    throw UserError("jagged values " + quoted(values_name) + " must have rank 1 or more, got " +
                        (values.defined() ? "shape " + values.shape_str() : "an undefined tensor"),
                    "jagged values are [N, ...]: all items' rows stacked along the first "
                    "dimension");
  }
  if (offsets.defined() && offsets.device() != values.device()) {
    throw UserError("offsets " + quoted(name) + " are on " + offsets.device().str() + " but " +
                        quoted(values_name) + " is on " + values.device().str(),
                    "move both to the same device with .to(...)");
  }
  validate_offsets(offsets, name, values.size(0), values_name);
}

void validate_feature_counts(const Tensor& counts, std::string_view name, int64_t num_items,
                             int64_t max_columns) {
  require_integer_vector(counts, "feature_counts", name);
  if (counts.numel() != num_items) {
    throw UserError("feature_counts " + quoted(name) + " must have " + std::to_string(num_items) +
                        " elements (one per item), got shape " + counts.shape_str(),
                    "feature_counts has one entry per item, B = offsets length - 1");
  }
  Tensor host = host_copy(counts);
  const std::string n(name);
  for (int64_t i = 0; i < num_items; ++i) {
    int64_t c = host.dtype() == DType::i32 ? host.data<int32_t>()[i] : host.data<int64_t>()[i];
    if (c < 0 || c > max_columns) {
      throw UserError("feature_counts " + quoted(name) + ": " + n + "[" + std::to_string(i) +
                          "] = " + std::to_string(c) + " is outside [0, " +
                          std::to_string(max_columns) + "]",
                      "each count is the number of valid columns of that item, at most the " +
                          std::to_string(max_columns) + " columns of the values");
    }
  }
}

bool fits_in_i32(const Tensor& integers) {
  if (!integers.defined() ||
      (!dtype_is_int(integers.dtype()) && integers.dtype() != DType::boolean)) {
    throw UserError(
        "fits_in_i32 needs an integer tensor, got " +
            std::string(integers.defined() ? dtype_name(integers.dtype()) : "an undefined tensor"),
        "pass an int32 or int64 tensor");
  }
  if (integers.dtype() != DType::i64) return true;
  Tensor host = host_copy(integers);
  const int64_t* v = host.data<int64_t>();
  for (int64_t i = 0, n = host.numel(); i < n; ++i) {
    if (v[i] < std::numeric_limits<int32_t>::min() || v[i] > std::numeric_limits<int32_t>::max())
      return false;
  }
  return true;
}

Tensor narrow_offsets(const Tensor& offsets) {
  if (!offsets.defined() || offsets.dtype() != DType::i64) return offsets;
  Tensor host = host_copy(offsets);
  Tensor narrowed = Tensor::empty(host.shape(), DType::i32);
  const int64_t* src = host.data<int64_t>();
  int32_t* dst = narrowed.data<int32_t>();
  // Check and convert in one pass; give up at the first value that does not fit.
  for (int64_t i = 0, n = host.numel(); i < n; ++i) {
    if (src[i] < std::numeric_limits<int32_t>::min() ||
        src[i] > std::numeric_limits<int32_t>::max())
      return offsets;
    dst[i] = int32_t(src[i]);
  }
  return offsets.device().is_cpu() ? narrowed : narrowed.to(offsets.device());
}

Tensor validate_and_narrow_offsets(const Tensor& offsets, std::string_view name, int64_t num_rows,
                                   std::string_view values_name) {
  if (!offsets.defined() || offsets.dtype() != DType::i64 || !offsets.device().is_cpu() ||
      offsets.numel() == 0) {
    validate_offsets(offsets, name, num_rows, values_name);
    return offsets;
  }
  require_integer_vector(offsets, "offsets", name);
  // Valid offsets are non-decreasing from >= 0, so they fit in int32 exactly when the last one
  // does: convert while checking, keep the copy only if it fits. Any violation re-runs the
  // plain check, which reports the first bad position.
  const int64_t n = offsets.numel();
  const int64_t* src = offsets.data<int64_t>();
  Tensor narrowed = Tensor::empty(offsets.shape(), DType::i32);
  int32_t* dst = narrowed.data<int32_t>();
  bool ok = src[0] >= 0;
  int64_t prev = src[0];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = src[i];
    ok &= (v >= prev) & (v <= num_rows);
    prev = v;
    dst[i] = int32_t(v);
  }
  if (!ok) {
    check_offsets_values(src, n, name, num_rows, values_name);
    JAGTILE_CHECK(false, << "offsets failed the fused check but passed the plain one");
  }
  return src[n - 1] <= std::numeric_limits<int32_t>::max() ? narrowed : offsets;
}

}  // namespace jagtile
