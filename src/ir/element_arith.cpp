// Element arithmetic of the tile IR (see element_arith.h). Integer results follow Python / torch
// semantics: floor division and modulo take the sign of the divisor.
#include "ir/element_arith.h"

#include <cmath>
#include <limits>

#include "core/element.h"

namespace jagtile::ir {

double round_compute(DType dtype, double x) {
  if (dtype == DType::f64) return x;
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

double apply_binary(Op op, DType compute, double a, double b) {
  bool fl = dtype_is_float(compute);
  if (fl && compute != DType::f64) {
    a = double(float(a));
    b = double(float(b));
  }
  switch (op) {
    case Op::add:
      return a + b;
    case Op::sub:
      return a - b;
    case Op::mul:
      return a * b;
    case Op::div:
      return a / b;
    case Op::floordiv:
      if (fl) return std::floor(a / b);
      if (b == 0) return 0;
      return std::floor(a / b);
    case Op::mod: {
      if (!fl && b == 0) return 0;
      double r = std::fmod(a, b);
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    }
    case Op::pow:
      return std::pow(a, b);
    case Op::lt:
      return a < b;
    case Op::le:
      return a <= b;
    case Op::gt:
      return a > b;
    case Op::ge:
      return a >= b;
    case Op::eq:
      return a == b;
    case Op::ne:
      return a != b;
    case Op::logical_and:
      return (a != 0) && (b != 0);
    case Op::logical_or:
      return (a != 0) || (b != 0);
    case Op::bit_and:
      return double(to_i64(a) & to_i64(b));
    case Op::bit_or:
      return double(to_i64(a) | to_i64(b));
    case Op::bit_xor:
      return double(to_i64(a) ^ to_i64(b));
    case Op::maximum:
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
      return a > b ? a : b;
    case Op::minimum:
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
      return a < b ? a : b;
    default:
      JAGTILE_CHECK(false, << "not a binary op: " << ir::op_name(op));
  }
  return 0;
}

double apply_unary(Op op, double a) {
  switch (op) {
    case Op::neg:
      return -a;
    case Op::logical_not:
      return a == 0 ? 1.0 : 0.0;
    case Op::bit_not:
      return double(~to_i64(a));
    case Op::exp:
      return std::exp(a);
    case Op::log:
      return std::log(a);
    case Op::sqrt:
      return std::sqrt(a);
    case Op::rsqrt:
      return 1.0 / std::sqrt(a);
    case Op::abs:
      return std::fabs(a);
    case Op::tanh:
      return std::tanh(a);
    case Op::sigmoid:
      return 1.0 / (1.0 + std::exp(-a));
    case Op::silu:
      return a / (1.0 + std::exp(-a));
    case Op::relu:
      return a > 0 ? a : 0.0;
    case Op::gelu:  // the exact (erf) form, F.gelu's default
      return 0.5 * a * (1.0 + std::erf(a * 0.70710678118654752440));
    case Op::floor:
      return std::floor(a);
    case Op::ceil:
      return std::ceil(a);
    case Op::sin:
      return std::sin(a);
    case Op::cos:
      return std::cos(a);
    default:
      JAGTILE_CHECK(false, << "not a unary op: " << ir::op_name(op));
  }
  return 0;
}

double apply_cast(DType to, double x, DType from) {
  if (to == DType::f64) return x;
  // A 16-bit float is held as float32 until stored; from a double it is held rounded to odd, so
  // that the store's rounding to 16 bits is the single correct rounding of the double.
  if ((to == DType::bf16 || to == DType::f16) && from == DType::f64)
    return double(core_detail::double_to_f32_round_to_odd(x));
  if (dtype_is_float(to)) return double(float(x));
  if (to == DType::boolean) return x != 0 ? 1.0 : 0.0;
  int64_t i = to_i64(std::trunc(x));
  if (to == DType::i32) i = int64_t(int32_t(uint32_t(uint64_t(i))));  // wraps like torch
  return double(i);
}

DType operand_dtype(const Node& n) {
  switch (n.type.kind) {
    case TypeKind::host_int:
      return DType::i64;
    case TypeKind::host_float:
      return DType::f32;
    case TypeKind::host_bool:
      return DType::boolean;
    default:
      return n.type.dtype;
  }
}

}  // namespace jagtile::ir
