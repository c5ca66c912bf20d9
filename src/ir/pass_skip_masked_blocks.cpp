// Skipping tile-loop iterations whose accumulated terms an index mask zeroes (see
// pass_skip_masked_blocks.h). The analysis works on one candidate loop at a time, innermost
// first: it proves that every effect of the body is `v = v + t` with t zero under a condition it
// can compute before the body runs, then wraps the body in an `if_` on the negation of that
// condition. The guard's nodes are new nodes placed at the top of the body; the body's own nodes
// are kept as they are, so nothing that refers to them changes.
#include "ir/pass_skip_masked_blocks.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_set>
#include <utility>

namespace jagtile::ir {
namespace {

// Inclusive bounds of an integer index expression over the valid positions of its tile dims.
struct Range {
  NodePtr lo, hi;
};

bool is_int_scalar(const Type& t) {
  if (t.kind == TypeKind::host_int) return true;
  return t.is_value() && t.shape.empty() && dtype_is_int(t.dtype);
}

class GuardBuilder {
 public:
  GuardBuilder(const Kernel& kernel, const Block& body, int block, const std::vector<int>& outer,
               Loc loc)
      : kernel_(kernel), block_(block), outer_(outer), loc_(loc) {
    walk(body, [&](const NodePtr& n) { inside_.insert(n.get()); });
  }

  // The body wrapped in its guard, or nullopt when the body does not qualify.
  std::optional<Block> guarded(const Block& body) {
    std::vector<NodePtr> skip_conditions;
    for (const NodePtr& n : body) {
      if (n->kind != NodeKind::var_assign || inside_.count(n->operands[0].get())) continue;
      NodePtr cond = accumulated_zero_condition(*n);
      if (!cond) return std::nullopt;
      skip_conditions.push_back(cond);
    }
    if (skip_conditions.empty() || !effects_allowed(body, /*top_level=*/true)) return std::nullopt;
    NodePtr skip = skip_conditions[0];
    for (size_t i = 1; i < skip_conditions.size(); ++i)
      skip = binary(Op::logical_and, skip, skip_conditions[i]);
    Node guard;
    guard.kind = NodeKind::if_;
    guard.loc = loc_;
    guard.operands = {logical_not(skip)};
    guard.regions = {body, Block{}};
    Block out = prelude_;
    out.push_back(make_node(std::move(guard)));
    return out;
  }

 private:
  // No effect other than assignments: to variables declared in the body, or, once per variable
  // and at the top level, the accumulations guarded() has accepted.
  bool effects_allowed(const Block& b, bool top_level) {
    for (const NodePtr& n : b) {
      switch (n->kind) {
        case NodeKind::store:
        case NodeKind::assert_:
        case NodeKind::return_:
        case NodeKind::scalar_read:
        case NodeKind::alloc:
          return false;
        case NodeKind::var_assign: {
          const Node* var = n->operands[0].get();
          if (inside_.count(var)) break;
          if (!top_level || !assigned_.insert(var).second) return false;
          break;
        }
        default:
          break;
      }
      for (const Block& r : n->regions)
        if (!effects_allowed(r, false)) return false;
    }
    return true;
  }

  // For `v = v + t`, `v = t + v` or `v = matmul(a, b, v)`: a condition under which the added
  // term is zero at every valid position.
  NodePtr accumulated_zero_condition(const Node& assign) {
    const NodePtr& var = assign.operands[0];
    const NodePtr& value = assign.operands[1];
    auto reads_var = [&](const NodePtr& n) {
      return n->kind == NodeKind::var_read && n->operands[0] == var;
    };
    if (value->kind == NodeKind::binary && value->op == Op::add) {
      if (reads_var(value->operands[0])) return zero_condition(value->operands[1]);
      if (reads_var(value->operands[1])) return zero_condition(value->operands[0]);
      return nullptr;
    }
    if (value->kind == NodeKind::matmul && value->operands.size() == 3 &&
        reads_var(value->operands[2])) {
      NodePtr c = zero_condition(value->operands[0]);
      return c ? c : zero_condition(value->operands[1]);
    }
    return nullptr;
  }

  // A condition under which t is zero at every valid position, or nullptr.
  NodePtr zero_condition(const NodePtr& t) {
    switch (t->kind) {
      case NodeKind::where:
        return is_zero_constant(t->operands[2]) ? all_false(t->operands[0]) : nullptr;
      case NodeKind::cast:
      case NodeKind::unsqueeze:
      case NodeKind::permute:
        return zero_condition(t->operands[0]);
      case NodeKind::reduce:
        return t->op == Op::sum ? zero_condition(t->operands[0]) : nullptr;
      case NodeKind::matmul:
        if (t->operands.size() != 2) return nullptr;
        [[fallthrough]];
      case NodeKind::binary: {
        if (t->kind == NodeKind::binary && t->op != Op::mul) return nullptr;
        NodePtr c = zero_condition(t->operands[0]);
        return c ? c : zero_condition(t->operands[1]);
      }
      default:
        return nullptr;
    }
  }

  // A condition under which the mask m is false at every valid position, or nullptr.
  NodePtr all_false(const NodePtr& m) {
    if (m->kind == NodeKind::unsqueeze || m->kind == NodeKind::permute)
      return all_false(m->operands[0]);
    if (m->kind != NodeKind::binary) return nullptr;
    const NodePtr& a = m->operands[0];
    const NodePtr& b = m->operands[1];
    switch (m->op) {
      case Op::logical_and:
      case Op::bit_and: {  // false everywhere when either side is
        NodePtr x = all_false(a), y = all_false(b);
        if (x && y) return binary(Op::logical_or, x, y);
        return x ? x : y;
      }
      case Op::logical_or:
      case Op::bit_or: {  // false everywhere only when both sides are
        NodePtr x = all_false(a), y = all_false(b);
        return x && y ? binary(Op::logical_and, x, y) : nullptr;
      }
      case Op::lt:
      case Op::le:
      case Op::gt:
      case Op::ge:
      case Op::eq:
        break;
      default:
        return nullptr;
    }
    std::optional<Range> ra = range(a), rb = range(b);
    if (!ra || !rb) return nullptr;
    switch (m->op) {
      case Op::ge:  // a >= b nowhere: max a < min b
        return binary(Op::lt, ra->hi, rb->lo);
      case Op::gt:
        return binary(Op::le, ra->hi, rb->lo);
      case Op::le:
        return binary(Op::gt, ra->lo, rb->hi);
      case Op::lt:
        return binary(Op::ge, ra->lo, rb->hi);
      default:  // eq: the ranges do not meet
        return binary(Op::logical_or, binary(Op::lt, ra->hi, rb->lo),
                      binary(Op::gt, ra->lo, rb->hi));
    }
  }

  std::optional<Range> range(const NodePtr& e) {
    switch (e->kind) {
      case NodeKind::tile_attr:
        if (e->op == Op::index) return tile_index_range(int(e->ival));
        break;
      case NodeKind::unsqueeze:
        return range(e->operands[0]);
      case NodeKind::binary: {
        if (e->op != Op::add && e->op != Op::sub) break;
        if (!dtype_is_int(e->type.dtype) && e->type.kind != TypeKind::host_int) break;
        std::optional<Range> x = range(e->operands[0]), y = range(e->operands[1]);
        if (!x || !y) return std::nullopt;
        if (e->op == Op::add)
          return Range{binary(Op::add, x->lo, y->lo), binary(Op::add, x->hi, y->hi)};
        return Range{binary(Op::sub, x->lo, y->hi), binary(Op::sub, x->hi, y->lo)};
      }
      default:
        break;
    }
    // Any other integer scalar computed before the loop is its own range.
    if (!inside_.count(e.get()) && is_int_scalar(e->type)) return Range{e, e};
    return std::nullopt;
  }

  // A tile index of this loop or of an enclosing tile / grid loop.
  std::optional<Range> tile_index_range(int block) {
    const bool visible = block == block_ || std::count(outer_.begin(), outer_.end(), block);
    if (!visible) return std::nullopt;
    switch (kernel_.blocks.at(size_t(block)).kind) {
      case LoopKind::grid: {
        NodePtr i = tile_attr(Op::index, block);
        return Range{i, i};
      }
      case LoopKind::tile:
        return Range{tile_attr(Op::begin, block),
                     binary(Op::sub, tile_attr(Op::end, block), const_int(1, loc_))};
      case LoopKind::jagged:  // its extent differs per parent lane
        return std::nullopt;
    }
    return std::nullopt;
  }

  // ---- new nodes, appended to the prelude in order ----
  NodePtr emit(Node n) {
    n.loc = loc_;
    NodePtr p = make_node(std::move(n));
    prelude_.push_back(p);
    return p;
  }

  // One node per (attribute, block): masks often read the same index twice.
  NodePtr tile_attr(Op which, int block) {
    NodePtr& made = tile_attrs_[{which, block}];
    if (made) return made;
    Node n;
    n.kind = NodeKind::tile_attr;
    n.op = which;
    n.ival = block;
    n.type = Type::value(DType::i64, {});
    return made = emit(std::move(n));
  }

  NodePtr binary(Op op, NodePtr a, NodePtr b) {
    const bool logical = op == Op::logical_and || op == Op::logical_or;
    Node n;
    n.kind = NodeKind::binary;
    n.op = op;
    n.operands = {std::move(a), std::move(b)};
    const bool host = n.operands[0]->type.is_host_scalar() && n.operands[1]->type.is_host_scalar();
    const bool boolean = logical || op_is_comparison(op);
    if (host) {
      n.type = boolean ? Type::host_bool() : Type::host_int();
      n.ival = int64_t(DType::i64);
    } else {
      n.type = Type::value(boolean ? DType::boolean : DType::i64, {});
      n.ival = int64_t(logical ? DType::boolean : DType::i64);
    }
    return emit(std::move(n));
  }

  NodePtr logical_not(NodePtr a) {
    Node n;
    n.kind = NodeKind::unary;
    n.op = Op::logical_not;
    n.type = a->type.is_host_scalar() ? Type::host_bool() : Type::value(DType::boolean, {});
    n.operands = {std::move(a)};
    return emit(std::move(n));
  }

  const Kernel& kernel_;
  const int block_;
  const std::vector<int>& outer_;
  const Loc loc_;
  std::unordered_set<const Node*> inside_;
  std::unordered_set<const Node*> assigned_;
  std::map<std::pair<Op, int>, NodePtr> tile_attrs_;
  Block prelude_;
};

Block rebuild(const Kernel& kernel, const Block& block, std::vector<int>& outer) {
  Block out;
  out.reserve(block.size());
  for (const NodePtr& n : block) {
    if (n->regions.empty()) {
      out.push_back(n);
      continue;
    }
    const bool loop = is_loop(n->kind);
    if (loop) outer.push_back(int(n->ival));
    Node copy = *n;
    bool changed = false;
    for (Block& r : copy.regions) {
      Block nb = rebuild(kernel, r, outer);
      changed |= nb != r;
      r = std::move(nb);
    }
    if (loop) outer.pop_back();
    if (n->kind == NodeKind::tile_loop) {
      GuardBuilder guard(kernel, copy.regions[0], int(n->ival), outer, n->loc);
      if (std::optional<Block> body = guard.guarded(copy.regions[0])) {
        copy.regions[0] = std::move(*body);
        changed = true;
      }
    }
    out.push_back(changed ? make_node(std::move(copy)) : n);
  }
  return out;
}

}  // namespace

Kernel skip_masked_blocks(const Kernel& kernel) {
  Kernel out = kernel;
  std::vector<int> outer;
  out.body = rebuild(kernel, kernel.body, outer);
  return out;
}

}  // namespace jagtile::ir
