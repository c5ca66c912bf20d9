// The tile IR's small shared helpers: names of kinds and ops, node construction, structural
// comparison of shapes (full dims compare their host size expressions), type rendering.
#include "ir/ir.h"

#include <sstream>

namespace jagtile::ir {

std::string_view kind_name(NodeKind kind) {
  switch (kind) {
#define JAGTILE_IR_KIND_NAME(name, doc) \
  case NodeKind::name:                  \
    return #name;
    JAGTILE_IR_NODE_KINDS(JAGTILE_IR_KIND_NAME)
#undef JAGTILE_IR_KIND_NAME
  }
  return "?";
}

std::string_view op_name(Op op) {
  switch (op) {
#define JAGTILE_IR_OP_NAME(name) \
  case Op::name:                 \
    return #name;
    JAGTILE_IR_OPS(JAGTILE_IR_OP_NAME)
#undef JAGTILE_IR_OP_NAME
  }
  return "?";
}

bool op_is_comparison(Op op) {
  return op == Op::lt || op == Op::le || op == Op::gt || op == Op::ge || op == Op::eq ||
         op == Op::ne;
}

bool op_is_transcendental(Op op) {
  return op == Op::exp || op == Op::log || op == Op::sqrt || op == Op::rsqrt || op == Op::tanh ||
         op == Op::sigmoid || op == Op::silu || op == Op::gelu || op == Op::sin || op == Op::cos;
}

std::string_view comparison_symbol(Op op) {
  switch (op) {
    case Op::lt:
      return "<";
    case Op::le:
      return "<=";
    case Op::gt:
      return ">";
    case Op::ge:
      return ">=";
    case Op::eq:
      return "==";
    case Op::ne:
      return "!=";
    default:
      return "?";
  }
}

std::string assert_failure_text(const Node& assert_node,
                                const std::function<std::string(const NodePtr&)>& value_text) {
  std::string text = "assertion failed";
  if (!assert_node.name.empty()) text += ": " + assert_node.name;
  const Node& cond = *assert_node.operand(0);
  if (cond.kind != NodeKind::binary || !op_is_comparison(cond.op) || cond.operands.size() != 2)
    return text;
  const std::string lhs = value_text(cond.operand(0)), rhs = value_text(cond.operand(1));
  if (lhs.empty() || rhs.empty()) return text;
  const std::string compared =
      lhs + " " + std::string(comparison_symbol(cond.op)) + " " + rhs + " is false";
  return assert_node.name.empty() ? text + ": " + compared : text + " (" + compared + ")";
}

namespace {

bool is_pure_host_kind(NodeKind k) {
  return k == NodeKind::const_int || k == NodeKind::const_float || k == NodeKind::const_bool ||
         k == NodeKind::param || k == NodeKind::size_of || k == NodeKind::numel ||
         k == NodeKind::binary || k == NodeKind::unary || k == NodeKind::cast;
}

// Structural equality of host scalar expressions (sizes), so that `M = x.size(1)` used twice
// names the same full dim.
bool same_expr(const NodePtr& a, const NodePtr& b) {
  if (a == b) return true;
  if (!a || !b) return false;
  if (a->kind != b->kind || !is_pure_host_kind(a->kind)) return false;
  if (a->op != b->op || a->ival != b->ival || a->fval != b->fval) return false;
  if (a->type.kind != b->type.kind || a->operands.size() != b->operands.size()) return false;
  for (size_t i = 0; i < a->operands.size(); ++i)
    if (!same_expr(a->operands[i], b->operands[i])) return false;
  return true;
}

}  // namespace

bool same_dim(const Dim& a, const Dim& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Dim::Kind::tile:
      return a.block == b.block;
    case Dim::Kind::broadcast:
      return true;
    case Dim::Kind::full:
      return same_expr(a.size, b.size);
  }
  return false;
}

bool same_type(const Type& a, const Type& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case TypeKind::tensor:
      return a.dtype == b.dtype && a.rank == b.rank && a.device == b.device;
    case TypeKind::value:
      if (a.dtype != b.dtype || a.shape.size() != b.shape.size()) return false;
      for (size_t i = 0; i < a.shape.size(); ++i)
        if (!same_dim(a.shape[i], b.shape[i])) return false;
      return true;
    default:
      return true;
  }
}

NodePtr make_node(Node node) {
  return std::make_shared<const Node>(std::move(node));
}

NodePtr const_int(int64_t v, Loc loc) {
  Node n;
  n.kind = NodeKind::const_int;
  n.type = Type::host_int();
  n.ival = v;
  n.loc = loc;
  return make_node(std::move(n));
}

NodePtr const_float(double v, Loc loc) {
  Node n;
  n.kind = NodeKind::const_float;
  n.type = Type::host_float();
  n.fval = v;
  n.loc = loc;
  return make_node(std::move(n));
}

NodePtr const_bool(bool v, Loc loc) {
  Node n;
  n.kind = NodeKind::const_bool;
  n.type = Type::host_bool();
  n.ival = v ? 1 : 0;
  n.loc = loc;
  return make_node(std::move(n));
}

bool is_const(const Node& n) {
  return n.kind == NodeKind::const_int || n.kind == NodeKind::const_float ||
         n.kind == NodeKind::const_bool;
}

bool is_zero_constant(const NodePtr& n) {
  return (n->kind == NodeKind::const_float && n->fval == 0) ||
         (n->kind == NodeKind::const_int && n->ival == 0);
}

bool is_loop(NodeKind kind) {
  return kind == NodeKind::tile_loop || kind == NodeKind::grid_loop ||
         kind == NodeKind::jagged_loop;
}

std::string dim_str(const Dim& dim, const Kernel* kernel) {
  switch (dim.kind) {
    case Dim::Kind::broadcast:
      return "1";
    case Dim::Kind::tile: {
      std::string s;
      if (kernel && dim.block >= 0 && size_t(dim.block) < kernel->blocks.size() &&
          !kernel->blocks[size_t(dim.block)].name.empty())
        s = kernel->blocks[size_t(dim.block)].name;
      else
        s = "block";
      return s + "#" + std::to_string(dim.block);
    }
    case Dim::Kind::full:
      if (dim.size && dim.size->kind == NodeKind::const_int)
        return "full(" + std::to_string(dim.size->ival) + ")";
      return "full";
  }
  return "?";
}

std::string type_str(const Type& type, const Kernel* kernel) {
  switch (type.kind) {
    case TypeKind::none:
      return "none";
    case TypeKind::host_int:
      return "int";
    case TypeKind::host_float:
      return "float";
    case TypeKind::host_bool:
      return "bool";
    case TypeKind::tensor: {
      std::ostringstream os;
      os << "tensor<" << dtype_short_name(type.dtype) << ", rank " << type.rank;
      if (!type.device.is_cpu()) os << ", " << type.device.str();
      os << ">";
      return os.str();
    }
    case TypeKind::value: {
      std::ostringstream os;
      os << dtype_short_name(type.dtype) << "[";
      for (size_t i = 0; i < type.shape.size(); ++i)
        os << (i ? ", " : "") << dim_str(type.shape[i], kernel);
      os << "]";
      return os.str();
    }
  }
  return "?";
}

UserError located_error(const Kernel& kernel, Loc loc, const std::string& message,
                        const std::string& hint) {
  std::string line;
  if (loc.line > 0 && size_t(loc.line) <= kernel.source_lines.size())
    line = kernel.source_lines[size_t(loc.line - 1)];
  return UserError("kernel '" + kernel.name + "': " + message, hint,
                   SourceLoc{kernel.file, loc.line, loc.column}, line);
}

}  // namespace jagtile::ir
