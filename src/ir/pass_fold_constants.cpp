// Constant folding of host scalar nodes (see pass_fold_constants.h). Device values are left
// alone: their arithmetic belongs to the backends, in fp32.
#include "ir/pass_fold_constants.h"

#include <cmath>
#include <limits>
#include <optional>

#include "ir/host_arith.h"
#include "ir/rewrite.h"

namespace jagtile::ir {
namespace {

std::optional<NodePtr> fold_binary(const Node& n) {
  const NodePtr& a = n.operands[0];
  const NodePtr& b = n.operands[1];
  if (!is_const(a) || !n.type.is_host_scalar() || !is_const(b)) return std::nullopt;
  const bool ints = a->kind != NodeKind::const_float && b->kind != NodeKind::const_float;
  if (ints && n.type.kind != TypeKind::host_float) {
    // Division by zero and overflow stay unfolded: the run time reports them with their line.
    std::optional<int64_t> r = host_int_binary(n.op, a->ival, b->ival);
    if (!r) return std::nullopt;
    if (n.type.kind == TypeKind::host_bool) return const_bool(*r != 0, n.loc);
    return const_int(*r, n.loc);
  }
  const double x = a->kind == NodeKind::const_float ? a->fval : double(a->ival);
  const double y = b->kind == NodeKind::const_float ? b->fval : double(b->ival);
  std::optional<double> r = host_float_binary(n.op, x, y);
  if (!r) return std::nullopt;
  if (n.type.kind == TypeKind::host_bool) return const_bool(*r != 0, n.loc);
  if (n.type.kind != TypeKind::host_float) return std::nullopt;
  return const_float(*r, n.loc);
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
