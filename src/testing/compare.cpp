// Element-wise tensor comparison within tolerances (see compare.h).
#include "testing/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace jagtile {
namespace {

std::string index_str(const Shape& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size(), 0);
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] > 0) {
      idx[d] = flat % shape[d];
      flat /= shape[d];
    }
  }
  std::ostringstream os;
  os << "[";
  for (size_t d = 0; d < idx.size(); ++d) os << (d ? ", " : "") << idx[d];
  os << "]";
  return os.str();
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

Tolerance scaled_tolerance(DType output, double f32_atol, double f32_rtol) {
  switch (output) {
    case DType::f32:
    case DType::f64:
      return {f32_atol, f32_rtol};
    case DType::bf16:
      return {1e-2, 1e-2};
    case DType::f16:
      return {2e-3, 2e-3};
    default:
      return {0, 0};
  }
}

Tolerance default_tolerance(DType output) {
  return scaled_tolerance(output, 1e-4, 1e-4);
}

Comparison compare_tensors(const Tensor& actual, const Expected& expected, Tolerance tolerance) {
  return compare_tensors(actual, expected.value, tolerance, expected.rows, expected.extra_atol);
}

Comparison compare_tensors(const Tensor& actual, const Tensor& expected, Tolerance tolerance,
                           const std::vector<uint8_t>& rows,
                           const std::vector<double>& extra_atol) {
  Comparison result;
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape()) {
    result.ok = false;
    result.mismatch = "got " + std::string(dtype_name(actual.dtype())) + " " + actual.shape_str() +
                      ", expected " + std::string(dtype_name(expected.dtype())) + " " +
                      expected.shape_str();
    return result;
  }
  std::vector<double> a = host_doubles(actual), e = host_doubles(expected);
  int64_t row_size = actual.dim() > 0 && actual.size(0) > 0 ? actual.numel() / actual.size(0) : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!rows.empty() && row_size > 0 && !rows[i / size_t(row_size)]) continue;
    double x = a[i], y = e[i];
    bool match;
    if (std::isnan(y) || std::isnan(x)) {
      match = std::isnan(x) && std::isnan(y);
    } else if (std::isinf(y) || std::isinf(x)) {
      match = x == y;
    } else {
      double diff = std::fabs(x - y);
      result.max_abs_error = std::max(result.max_abs_error, diff);
      if (y != 0) result.max_rel_error = std::max(result.max_rel_error, diff / std::fabs(y));
      double extra = i < extra_atol.size() ? extra_atol[i] : 0.0;
      match = diff <= tolerance.atol + extra + tolerance.rtol * std::fabs(y);
    }
    if (!match && result.ok) {
      result.ok = false;
      result.mismatch = "at " + index_str(actual.shape(), int64_t(i)) + ": got " + number(x) +
                        ", expected " + number(y) + " (atol " + number(tolerance.atol) + ", rtol " +
                        number(tolerance.rtol) + ")";
    }
  }
  return result;
}

std::vector<double> host_doubles(const Tensor& t) {
  Tensor host = t.device().is_cpu() ? t : t.to(Device::cpu());
  std::vector<double> out(size_t(host.numel()));
  if (dtype_is_float(host.dtype())) {
    Tensor f = host.dtype() == DType::f32 ? host : host.to_dtype(DType::f32);
    const float* p = f.data<float>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = p[i];
  } else {
    Tensor w = host.dtype() == DType::i64 ? host : host.to_dtype(DType::i64);
    const int64_t* p = w.data<int64_t>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = double(p[i]);
  }
  return out;
}

}  // namespace jagtile
