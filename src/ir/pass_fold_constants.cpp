// Constant folding of host scalar nodes (see pass_fold_constants.h). Device values are left
// alone: their arithmetic belongs to the backends, in fp32.
#include "ir/pass_fold_constants.h"

#include <cmath>
#include <limits>
#include <optional>

#include "ir/rewrite.h"

namespace jagtile::ir {
namespace {

std::optional<NodePtr> fold_binary(const Node& n) {
  const NodePtr& a = n.operands[0];
  const NodePtr& b = n.operands[1];
  if (!is_const(a) || !is_const(b) || !n.type.is_host_scalar()) return std::nullopt;
  bool ints = a->kind != NodeKind::const_float && b->kind != NodeKind::const_float;
  if (ints && n.type.kind != TypeKind::host_float) {
    int64_t x = a->ival, y = b->ival, r;
    switch (n.op) {
      case Op::add:
        r = x + y;
        break;
      case Op::sub:
        r = x - y;
        break;
      case Op::mul:
        r = x * y;
        break;
      case Op::floordiv:
      case Op::mod: {
        if (y == 0) return std::nullopt;  // left for the run time to report
        int64_t q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
        r = n.op == Op::floordiv ? q : x - q * y;
        break;
      }
      case Op::lt:
        r = x < y;
        break;
      case Op::le:
        r = x <= y;
        break;
      case Op::gt:
        r = x > y;
        break;
      case Op::ge:
        r = x >= y;
        break;
      case Op::eq:
        r = x == y;
        break;
      case Op::ne:
        r = x != y;
        break;
      case Op::maximum:
        r = std::max(x, y);
        break;
      case Op::minimum:
        r = std::min(x, y);
        break;
      case Op::logical_and:
        r = x && y;
        break;
      case Op::logical_or:
        r = x || y;
        break;
      default:
        return std::nullopt;
    }
    if (n.type.kind == TypeKind::host_bool) return const_bool(r != 0, n.loc);
    return const_int(r, n.loc);
  }
  double x = a->kind == NodeKind::const_float ? a->fval : double(a->ival);
  double y = b->kind == NodeKind::const_float ? b->fval : double(b->ival);
  double r;
  switch (n.op) {
    case Op::add:
      r = x + y;
      break;
    case Op::sub:
      r = x - y;
      break;
    case Op::mul:
      r = x * y;
      break;
    case Op::div:
      r = x / y;
      break;
    case Op::lt:
      return const_bool(x < y, n.loc);
    case Op::le:
      return const_bool(x <= y, n.loc);
    case Op::gt:
      return const_bool(x > y, n.loc);
    case Op::ge:
      return const_bool(x >= y, n.loc);
    case Op::eq:
      return const_bool(x == y, n.loc);
    case Op::ne:
      return const_bool(x != y, n.loc);
    default:
      return std::nullopt;
  }
  if (n.type.kind != TypeKind::host_float) return std::nullopt;
  return const_float(r, n.loc);
}

std::optional<NodePtr> fold_unary(const Node& n) {
  const NodePtr& a = n.operands[0];
  if (!is_const(a) || !n.type.is_host_scalar()) return std::nullopt;
  if (n.op == Op::neg) {
    if (a->kind == NodeKind::const_float) return const_float(-a->fval, n.loc);
    if (n.type.kind == TypeKind::host_int && a->ival != std::numeric_limits<int64_t>::min())
      return const_int(-a->ival, n.loc);
  }
  if (n.op == Op::logical_not)
    return const_bool(a->kind == NodeKind::const_float ? a->fval == 0 : a->ival == 0, n.loc);
  return std::nullopt;
}

}  // namespace

Kernel fold_constants(const Kernel& kernel) {
  return rewrite(kernel, [](const NodePtr&, const NodePtr& n) -> NodePtr {
    std::optional<NodePtr> r;
    if (n->kind == NodeKind::binary) r = fold_binary(*n);
    if (n->kind == NodeKind::unary) r = fold_unary(*n);
    return r ? *r : n;
  });
}

}  // namespace jagtile::ir
