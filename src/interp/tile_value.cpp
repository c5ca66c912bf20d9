// Element arithmetic and broadcasting for the interpreter (see tile_value.h). Integer results
// follow Python / torch semantics: floor division and modulo take the sign of the divisor.
#include "interp/tile_value.h"

#include <cmath>
#include <limits>

namespace jagtile::interp {

int64_t numel_of(const std::vector<int64_t>& ext) {
  int64_t n = 1;
  for (int64_t e : ext) n *= e;
  return n;
}

std::vector<int64_t> broadcast_map(const std::vector<int64_t>& result_ext,
                                   const std::vector<int64_t>& ext) {
  size_t R = result_ext.size();
  JAGTILE_CHECK(ext.size() <= R, << "broadcast of rank " << ext.size() << " into rank " << R);
  std::vector<int64_t> stride(R, 0);
  int64_t s = 1;
  for (size_t j = ext.size(); j-- > 0;) {
    size_t i = j + (R - ext.size());
    JAGTILE_CHECK(ext[j] == result_ext[i] || ext[j] == 1,
                  << "extent " << ext[j] << " does not broadcast to " << result_ext[i]);
    stride[i] = ext[j] == 1 ? 0 : s;
    s *= ext[j];
  }
  int64_t n = numel_of(result_ext);
  std::vector<int64_t> out(size_t(n > 0 ? n : 0));
  std::vector<int64_t> idx(R, 0);
  int64_t off = 0;
  for (int64_t p = 0; p < n; ++p) {
    out[size_t(p)] = off;
    for (size_t d = R; d-- > 0;) {
      ++idx[d];
      off += stride[d];
      if (idx[d] < result_ext[d]) break;
      off -= stride[d] * idx[d];
      idx[d] = 0;
    }
  }
  return out;
}

double round_compute(DType dtype, double x) {
  if (dtype_is_float(dtype)) return double(float(x));
  if (dtype == DType::boolean) return x != 0 ? 1.0 : 0.0;
  return x;
}

namespace {

int64_t to_i64(double x) {
  if (std::isnan(x)) return 0;
  if (x >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (x <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return int64_t(x);
}

}  // namespace

double apply_binary(ir::Op op, DType compute, double a, double b) {
  bool fl = dtype_is_float(compute);
  if (fl) {
    a = double(float(a));
    b = double(float(b));
  }
  switch (op) {
    case ir::Op::add:
      return a + b;
    case ir::Op::sub:
      return a - b;
    case ir::Op::mul:
      return a * b;
    case ir::Op::div:
      return a / b;
    case ir::Op::floordiv:
      if (fl) return std::floor(a / b);
      if (b == 0) return 0;
      return std::floor(a / b);
    case ir::Op::mod: {
      if (!fl && b == 0) return 0;
      double r = std::fmod(a, b);
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    }
    case ir::Op::pow:
      return std::pow(a, b);
    case ir::Op::lt:
      return a < b;
    case ir::Op::le:
      return a <= b;
    case ir::Op::gt:
      return a > b;
    case ir::Op::ge:
      return a >= b;
    case ir::Op::eq:
      return a == b;
    case ir::Op::ne:
      return a != b;
    case ir::Op::logical_and:
      return (a != 0) && (b != 0);
    case ir::Op::logical_or:
      return (a != 0) || (b != 0);
    case ir::Op::bit_and:
      return double(to_i64(a) & to_i64(b));
    case ir::Op::bit_or:
      return double(to_i64(a) | to_i64(b));
    case ir::Op::bit_xor:
      return double(to_i64(a) ^ to_i64(b));
    case ir::Op::maximum:
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
      return a > b ? a : b;
    case ir::Op::minimum:
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
      return a < b ? a : b;
    default:
      JAGTILE_CHECK(false, << "not a binary op: " << ir::op_name(op));
  }
  return 0;
}

double apply_unary(ir::Op op, double a) {
  switch (op) {
    case ir::Op::neg:
      return -a;
    case ir::Op::logical_not:
      return a == 0 ? 1.0 : 0.0;
    case ir::Op::bit_not:
      return double(~to_i64(a));
    case ir::Op::exp:
      return std::exp(a);
    case ir::Op::log:
      return std::log(a);
    case ir::Op::sqrt:
      return std::sqrt(a);
    case ir::Op::rsqrt:
      return 1.0 / std::sqrt(a);
    case ir::Op::abs:
      return std::fabs(a);
    case ir::Op::tanh:
      return std::tanh(a);
    case ir::Op::sigmoid:
      return 1.0 / (1.0 + std::exp(-a));
    case ir::Op::silu:
      return a / (1.0 + std::exp(-a));
    case ir::Op::relu:
      return a > 0 ? a : 0.0;
    case ir::Op::floor:
      return std::floor(a);
    case ir::Op::ceil:
      return std::ceil(a);
    case ir::Op::sin:
      return std::sin(a);
    case ir::Op::cos:
      return std::cos(a);
    default:
      JAGTILE_CHECK(false, << "not a unary op: " << ir::op_name(op));
  }
  return 0;
}

double apply_cast(DType to, double x) {
  if (dtype_is_float(to)) return double(float(x));
  if (to == DType::boolean) return x != 0 ? 1.0 : 0.0;
  int64_t i = to_i64(std::trunc(x));
  if (to == DType::i32) i = int64_t(int32_t(uint32_t(uint64_t(i))));  // wraps like torch
  return double(i);
}

}  // namespace jagtile::interp
