// Host scalar arithmetic (see host_arith.h).
#include "ir/host_arith.h"

#include <cmath>
#include <limits>

namespace jagtile::ir {

namespace {
// Comparisons and logical ops, the same for ints and floats.
template <typename T>
std::optional<bool> host_predicate(Op op, T x, T y) {
  switch (op) {
    case Op::lt:
      return x < y;
    case Op::le:
      return x <= y;
    case Op::gt:
      return x > y;
    case Op::ge:
      return x >= y;
    case Op::eq:
      return x == y;
    case Op::ne:
      return x != y;
    case Op::logical_and:
      return x != 0 && y != 0;
    case Op::logical_or:
      return x != 0 || y != 0;
    default:
      return std::nullopt;
  }
}
}  // namespace

std::optional<int64_t> host_int_binary(Op op, int64_t x, int64_t y) {
  if (std::optional<bool> p = host_predicate(op, x, y)) return int64_t(*p);
  int64_t r = 0;
  switch (op) {
    case Op::add:
      if (__builtin_add_overflow(x, y, &r)) return std::nullopt;
      return r;
    case Op::sub:
      if (__builtin_sub_overflow(x, y, &r)) return std::nullopt;
      return r;
    case Op::mul:
      if (__builtin_mul_overflow(x, y, &r)) return std::nullopt;
      return r;
    case Op::floordiv:
    case Op::mod: {
      if (y == 0 || (x == std::numeric_limits<int64_t>::min() && y == -1)) return std::nullopt;
      int64_t q = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
      return op == Op::floordiv ? q : x - q * y;
    }
    case Op::maximum:
      return x > y ? x : y;
    case Op::minimum:
      return x < y ? x : y;
    case Op::bit_and:
      return x & y;
    case Op::bit_or:
      return x | y;
    case Op::bit_xor:
      return x ^ y;
    case Op::pow: {
      if (y < 0) return x == 1 ? 1 : 0;
      r = 1;
      for (int64_t i = 0; i < y; ++i)
        if (__builtin_mul_overflow(r, x, &r)) return std::nullopt;
      return r;
    }
    default:
      return std::nullopt;
  }
}

std::optional<double> host_float_binary(Op op, double x, double y) {
  if (std::optional<bool> p = host_predicate(op, x, y)) return double(*p);
  switch (op) {
    case Op::add:
      return x + y;
    case Op::sub:
      return x - y;
    case Op::mul:
      return x * y;
    case Op::div:
      return x / y;
    case Op::pow:
      return std::pow(x, y);
    case Op::floordiv:
      return std::floor(x / y);
    case Op::mod:
      return x - std::floor(x / y) * y;
    case Op::maximum:
      return std::isnan(x) || x > y ? x : y;
    case Op::minimum:
      return std::isnan(x) || x < y ? x : y;
    default:
      return std::nullopt;
  }
}

}  // namespace jagtile::ir
