// Lowering, part 3: expressions. Typing follows torch: broadcasting of shapes (right-aligned),
// dtype promotion by priority (dimensioned values, then 0-d values, then Python scalars), and
// device-side indexing of tensors into normalised loads and stores whose index operands are
// each of rank 0 or of the access's rank.
#include <algorithm>
#include <limits>

#include "ir/lower_impl.h"

namespace jagtile::ir::lower_detail {
namespace {

// Torch's result_type: operands grouped by priority (2: dimensioned, 1: zero-dim, 0: Python
// scalar); a lower group only wins when its category is higher.
DType result_type(const std::vector<const Type*>& types) {
  std::optional<DType> group[3];
  for (const Type* t : types) {
    int prio = t->is_host_scalar() ? 0 : t->shape.empty() ? 1 : 2;
    DType d = t->dtype;
    if (prio == 0)
      d = t->kind == TypeKind::host_float ? DType::f32
          : t->kind == TypeKind::host_int ? DType::i64
                                          : DType::boolean;
    group[prio] = group[prio] ? promote_dtypes(*group[prio], d) : d;
  }
  auto combine = [](std::optional<DType> higher, std::optional<DType> lower) {
    if (!higher) return lower;
    if (!lower) return higher;
    if (dtype_is_float(*higher)) return higher;
    if (*higher == DType::boolean || dtype_is_float(*lower))
      return std::optional<DType>(promote_dtypes(*higher, *lower));
    return higher;
  };
  std::optional<DType> r = combine(group[2], combine(group[1], group[0]));
  return r.value_or(DType::f32);
}

bool has_tile(const Shape& s, int block) {
  for (const Dim& d : s)
    if (d.kind == Dim::Kind::tile && d.block == block) return true;
  return false;
}

}  // namespace

std::string Lowerer::shape_text(const Shape& s) const {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    if (s[i].kind == Dim::Kind::tile && size_t(s[i].block) < kernel_.blocks.size())
      out += kernel_.blocks[size_t(s[i].block)].name;
    else if (s[i].kind == Dim::Kind::full)
      out += "full";
    else
      out += "1";
  }
  return out + "]";
}

std::string Lowerer::type_text(const Type& t) const {
  switch (t.kind) {
    case TypeKind::value:
      return "a " + std::string(dtype_name(t.dtype)) + " value of shape " + shape_text(t.shape);
    case TypeKind::tensor:
      return "a " + std::string(dtype_name(t.dtype)) + " tensor of rank " + std::to_string(t.rank);
    case TypeKind::host_int:
      return "an int";
    case TypeKind::host_float:
      return "a float";
    case TypeKind::host_bool:
      return "a bool";
    case TypeKind::none:
      return "nothing";
  }
  return "?";
}

NodePtr Lowerer::emit(Node n) {
  NodePtr p = make_node(std::move(n));
  JAGTILE_CHECK(!blocks_.empty(), << "emit outside any block");
  blocks_.back()->push_back(p);
  return p;
}

NodePtr Lowerer::as_node(const LVal& v, ast::Pos pos) {
  switch (v.k) {
    case LVal::K::node:
      return v.node;
    case LVal::K::var: {
      vars_read_.insert(v.node.get());
      Node r;
      r.kind = NodeKind::var_read;
      r.type = v.node->type;
      r.operands = {v.node};
      r.loc = loc_of(pos);
      return emit(std::move(r));
    }
    case LVal::K::none:
      fail(pos, "None is not a value here",
           "an optional tensor left out can only be tested with `is None` / `is not None`");
    case LVal::K::dtype:
      fail(pos, "expected a value, got a dtype");
    case LVal::K::device:
      fail(pos, "expected a value, got a device");
    case LVal::K::module:
      fail(pos, "expected a value, got the module '" + v.text + "'");
    case LVal::K::tuple:
      fail(pos, "expected a single value, got a tuple of " + std::to_string(v.elts.size()),
           "index it (shape[1]) or unpack it (a, b = x.shape)");
    case LVal::K::str:
      fail(pos, "expected a value, got a string");
    case LVal::K::tile:
      fail(pos, "a tile is not a value",
           "use " + v.text + ".index for its positions, or " + v.text +
               ".begin / .end / .block_size");
    case LVal::K::dead:
      fail(pos, v.text, "give it a value after the loop, or keep its type unchanged inside");
  }
  fail(pos, "expected a value");
}

NodePtr Lowerer::value(const ast::Expr& e) {
  return as_node(expr(e), e.pos);
}

bool Lowerer::check_sizes_equal_at_run_time(const Dim& a, const Dim& b, ast::Pos pos,
                                            const std::string& what) {
  if (a.kind != Dim::Kind::full || b.kind != Dim::Kind::full) return false;
  // A size the host prologue can compute: a constant, or the size of a parameter tensor (or a
  // tensor the host part defined).
  auto host_computable = [&](const NodePtr& s) {
    if (s->kind == NodeKind::const_int) return true;
    if (s->kind != NodeKind::size_of) return false;
    const NodePtr& t = s->operand(0);
    if (t->kind == NodeKind::param) return true;
    return std::find(kernel_.body.begin(), kernel_.body.end(), t) != kernel_.body.end();
  };
  if (!host_computable(a.size) || !host_computable(b.size)) return false;
  // Emit into the host block, ahead of the loop being lowered, so the check runs before any
  // device code (and on every backend, through the host executor).
  std::vector<Block*> saved = blocks_;
  blocks_ = {&kernel_.body};
  auto copy = [&](const NodePtr& s) {
    return s->kind == NodeKind::const_int ? s : size_node(s->operand(0), s->ival, pos);
  };
  NodePtr eq = binary(Op::eq, copy(a.size), copy(b.size), pos);
  Node n;
  n.kind = NodeKind::assert_;
  n.loc = loc_of(pos);
  n.operands = {eq};
  // Name the sizes as the user wrote them ("q.size(1)"), since both dims print as "full".
  auto size_text = [](const NodePtr& s) {
    if (s->kind == NodeKind::const_int) return std::to_string(s->ival);
    const NodePtr& t = s->operand(0);
    return (t->name.empty() ? std::string("a tensor") : t->name) + ".size(" +
           std::to_string(s->ival) + ")";
  };
  n.name =
      what + ": the sizes " + size_text(a.size) + " and " + size_text(b.size) + " must be equal";
  emit(std::move(n));
  blocks_ = std::move(saved);
  return true;
}

Shape Lowerer::broadcast(const Shape& a, const Shape& b, ast::Pos pos, const char* what) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const Dim* da = i + a.size() >= n ? &a[i + a.size() - n] : nullptr;
    const Dim* db = i + b.size() >= n ? &b[i + b.size() - n] : nullptr;
    if (!da || da->is_broadcast()) {
      out[i] = db ? *db : Dim::broadcast();
    } else if (!db || db->is_broadcast() || same_dim(*da, *db) ||
               check_sizes_equal_at_run_time(*da, *db, pos, std::string("shapes in ") + what)) {
      out[i] = *da;
    } else {
      fail(pos,
           std::string("shape mismatch in ") + what + ": " + shape_text(a) + " and " +
               shape_text(b) + " differ in dimension " + std::to_string(i),
           "line the dims up with None / unsqueeze, e.g. starts[:, None] + tile_k.index[None, :]");
    }
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j)
      if (out[i].kind == Dim::Kind::tile && same_dim(out[i], out[j]))
        fail(pos,
             std::string("tile '") + kernel_.blocks[size_t(out[i].block)].name +
                 "' appears twice in the shape " + shape_text(out) + " of " + what,
             "line the dims up with None / unsqueeze so each tile has one position");
  return out;
}

void Lowerer::require_complete(const Shape& shape, ast::Pos pos, const std::string& what) {
  for (const Dim& d : shape) {
    if (d.kind != Dim::Kind::tile) continue;
    const BlockInfo& b = kernel_.blocks[size_t(d.block)];
    if (b.kind != LoopKind::jagged) continue;
    for (int p : b.parents) {
      if (!has_tile(shape, p)) {
        const std::string& pn = kernel_.blocks[size_t(p)].name;
        fail(pos,
             "jagged tile '" + b.name + "' is used without its parent tile '" + pn + "' in " +
                 what + " (shape " + shape_text(shape) + ")",
             "a jagged tile's positions are only defined per parent lane: index together with "
             "the parent, e.g. x[" +
                 pn + ", " + b.name + "] or starts[:, None] + " + b.name + ".index[None, :]");
      }
    }
  }
}

// True when `attr` is a tile's .end (is_min) or .begin (max) and its loop ends (begins) at
// `bound`, the same value: min(bound, attr) (max) is then attr.
bool Lowerer::tile_attr_within(const NodePtr& attr, const NodePtr& bound, bool is_min) const {
  if (attr->kind != NodeKind::tile_attr || attr->op != (is_min ? Op::end : Op::begin)) return false;
  auto it = tile_loop_bounds_.find(int(attr->ival));
  return it != tile_loop_bounds_.end() && (is_min ? it->second.second : it->second.first) == bound;
}

NodePtr Lowerer::binary(Op op, NodePtr a, NodePtr b, ast::Pos pos) {
  for (const NodePtr* x : {&a, &b})
    if ((*x)->type.is_tensor())
      fail(pos, "arithmetic on a whole tensor is not supported",
           "load it inside a device loop first, e.g. x[tile_b, tile_m]");
  Node n;
  n.kind = NodeKind::binary;
  n.op = op;
  n.loc = loc_of(pos);
  n.operands = {a, b};
  if (a->kind == NodeKind::const_int && b->kind == NodeKind::const_int &&
      (op == Op::add || op == Op::sub || op == Op::mul)) {
    // Folded here so that sizes like `-1` or `B + 1` stay constants during lowering.
    int64_t r = 0;
    bool overflow = op == Op::add   ? __builtin_add_overflow(a->ival, b->ival, &r)
                    : op == Op::sub ? __builtin_sub_overflow(a->ival, b->ival, &r)
                                    : __builtin_mul_overflow(a->ival, b->ival, &r);
    if (!overflow) return const_int(r, loc_of(pos));
  }
  // min(end, tile_q.end) with tile_q from hl.tile(..., end), max(start, tile_k.begin) with tile_k
  // from hl.tile(start, ...) (Python's min / max or torch's): the tile's attribute, as Helion's
  // pretuned HSTU bounds its loops. Kept as the attribute, later passes see the causal range
  // they recognise (pass_memoize.h: the forward's key blocks copied once per head, 1.15-1.2x).
  if (op == Op::minimum || op == Op::maximum) {
    if (tile_attr_within(a, b, op == Op::minimum)) return a;
    if (tile_attr_within(b, a, op == Op::minimum)) return b;
  }
  const Type& ta = a->type;
  const Type& tb = b->type;
  bool logical = op == Op::logical_and || op == Op::logical_or;
  bool bitwise = op == Op::bit_and || op == Op::bit_or || op == Op::bit_xor;
  if (ta.is_host_scalar() && tb.is_host_scalar()) {
    bool any_float = ta.kind == TypeKind::host_float || tb.kind == TypeKind::host_float;
    bool both_bool = ta.kind == TypeKind::host_bool && tb.kind == TypeKind::host_bool;
    if (op_is_comparison(op) || logical) {
      n.type = Type::host_bool();
    } else if (bitwise) {
      if (any_float) fail(pos, "bitwise operators need integers or bools");
      n.type = both_bool ? Type::host_bool() : Type::host_int();
    } else if (op == Op::div || any_float) {
      n.type = Type::host_float();
    } else {
      n.type = Type::host_int();
    }
    n.ival = int64_t(any_float || op == Op::div ? DType::f32 : DType::i64);
    return emit(std::move(n));
  }
  DType compute = result_type({&ta, &tb});
  if (logical) compute = DType::boolean;
  if (bitwise && dtype_is_float(compute))
    fail(pos,
         "bitwise operators (& | ^) need integer or bool operands, not " +
             std::string(dtype_name(compute)),
         "compare first to get a mask, e.g. (a > 0) & (b > 0)");
  if (op == Op::div && !dtype_is_float(compute)) compute = DType::f32;
  DType result = compute;
  if (op_is_comparison(op)) result = DType::boolean;
  Shape sa = ta.is_value() ? ta.shape : Shape{};
  Shape sb = tb.is_value() ? tb.shape : Shape{};
  n.type = Type::value(result, broadcast(sa, sb, pos, "this binary operation"));
  n.ival = int64_t(compute);
  return emit(std::move(n));
}

NodePtr Lowerer::unary(Op op, NodePtr a, ast::Pos pos) {
  if (a->type.is_tensor())
    fail(pos, "math on a whole tensor is not supported", "load it inside a device loop first");
  if (a->type.kind == TypeKind::none) fail(pos, "expected a value");
  if (op == Op::neg && a->kind == NodeKind::const_int &&
      a->ival != std::numeric_limits<int64_t>::min())
    return const_int(-a->ival, loc_of(pos));
  if (op == Op::neg && a->kind == NodeKind::const_float) return const_float(-a->fval, loc_of(pos));
  Node n;
  n.kind = NodeKind::unary;
  n.op = op;
  n.loc = loc_of(pos);
  n.operands = {a};
  const bool transcendental = op_is_transcendental(op);
  if (a->type.is_host_scalar()) {
    if (op == Op::logical_not) {
      n.type = Type::host_bool();
    } else if (transcendental) {
      n.type = Type::host_float();
    } else if (op == Op::bit_not) {
      if (a->type.kind == TypeKind::host_float) fail(pos, "~ needs an integer or a bool");
      n.type = a->type;
    } else {
      n.type = a->type.kind == TypeKind::host_bool ? Type::host_int() : a->type;
    }
    return emit(std::move(n));
  }
  DType d = a->type.dtype;
  if (op == Op::logical_not) d = DType::boolean;
  if (transcendental && !dtype_is_float(d)) d = DType::f32;
  if (op == Op::bit_not && dtype_is_float(d))
    fail(pos, "~ needs a bool mask or an integer value, not " + std::string(dtype_name(d)));
  if (op == Op::neg && d == DType::boolean) fail(pos, "cannot negate a bool mask", "use ~mask");
  n.type = Type::value(d, a->type.shape);
  return emit(std::move(n));
}

NodePtr Lowerer::where(NodePtr c, NodePtr a, NodePtr b, ast::Pos pos) {
  for (const NodePtr* x : {&c, &a, &b})
    if ((*x)->type.is_tensor())
      fail(pos, "torch.where on a whole tensor is not supported",
           "load it inside a device loop first");
  DType cd = c->type.is_value() ? c->type.dtype : c->type.dtype;
  if (cd != DType::boolean)
    fail(pos,
         "the condition of torch.where must be a bool mask, not " + std::string(dtype_name(cd)),
         "compare to get a mask, e.g. torch.where(count > 0, a, b)");
  Node n;
  n.kind = NodeKind::where;
  n.loc = loc_of(pos);
  n.operands = {c, a, b};
  if (c->type.is_host_scalar() && a->type.is_host_scalar() && b->type.is_host_scalar()) {
    n.type = (a->type.kind == TypeKind::host_float || b->type.kind == TypeKind::host_float)
                 ? Type::host_float()
                 : a->type;
    return emit(std::move(n));
  }
  auto shape_of = [](const NodePtr& x) { return x->type.is_value() ? x->type.shape : Shape{}; };
  Shape s = broadcast(shape_of(c), shape_of(a), pos, "torch.where");
  s = broadcast(s, shape_of(b), pos, "torch.where");
  n.type = Type::value(result_type({&a->type, &b->type}), s);
  return emit(std::move(n));
}

NodePtr Lowerer::cast(NodePtr a, DType to, ast::Pos pos) {
  if (a->type.is_tensor())
    fail(pos, "converting a whole tensor with .to() is not supported in kernels",
         "allocate the output with the dtype you need, or convert loaded values");
  Node n;
  n.kind = NodeKind::cast;
  n.loc = loc_of(pos);
  n.operands = {a};
  if (a->type.is_host_scalar()) {
    n.type = dtype_is_float(to) ? Type::host_float()
             : dtype_is_int(to) ? Type::host_int()
                                : Type::host_bool();
  } else {
    if (a->type.dtype == to) return a;
    n.type = Type::value(to, a->type.shape);
  }
  return emit(std::move(n));
}

NodePtr Lowerer::permute(NodePtr a, std::vector<int64_t> perm, ast::Pos pos, const char* what) {
  if (a->type.is_tensor())
    fail(pos, std::string(what) + " works on device values, not on the tensor itself",
         "load a tile first (x[tile_a, :]) and transpose that");
  if (!a->type.is_value())
    fail(pos, std::string(what) + " needs a device value; this is " + type_text(a->type));
  const int64_t r = int64_t(a->type.shape.size());
  if (int64_t(perm.size()) != r)
    fail(pos, std::string(what) + " needs " + std::to_string(r) + " dims for a value of rank " +
                  std::to_string(r) + "; got " + std::to_string(perm.size()));
  std::vector<bool> seen(size_t(r), false);
  for (int64_t& d : perm) {
    if (d < 0) d += r;
    if (d < 0 || d >= r || seen[size_t(d)])
      fail(pos, std::string(what) + ": the dims must name each of the value's " +
                    std::to_string(r) + " dims once");
    seen[size_t(d)] = true;
  }
  bool identity = true;
  for (int64_t d = 0; d < r; ++d) identity &= perm[size_t(d)] == d;
  if (identity) return a;
  Node n;
  n.kind = NodeKind::permute;
  n.loc = loc_of(pos);
  n.operands = {a};
  Shape s;
  for (int64_t d : perm) s.push_back(a->type.shape[size_t(d)]);
  n.ints = std::move(perm);
  n.type = Type::value(a->type.dtype, s);
  return emit(std::move(n));
}

NodePtr Lowerer::unsqueeze(NodePtr a, int64_t dim, ast::Pos pos) {
  if (!a->type.is_value())
    fail(pos, "unsqueeze / None indexing needs a device value; this is " + type_text(a->type));
  int64_t r = int64_t(a->type.shape.size());
  if (dim < 0) dim += r + 1;
  if (dim < 0 || dim > r)
    fail(pos, "unsqueeze position " + std::to_string(dim) +
                  " is out of range for a value of "
                  "rank " +
                  std::to_string(r));
  Node n;
  n.kind = NodeKind::unsqueeze;
  n.loc = loc_of(pos);
  n.operands = {a};
  n.ival = dim;
  Shape s = a->type.shape;
  s.insert(s.begin() + dim, Dim::broadcast());
  n.type = Type::value(a->type.dtype, s);
  return emit(std::move(n));
}

NodePtr Lowerer::reduce(Op op, NodePtr a, std::vector<int64_t> dims, ast::Pos pos) {
  if (!a->type.is_value())
    fail(pos, std::string(op_name(op)) + " needs a device value; this is " + type_text(a->type),
         "load the data inside a device loop first");
  int64_t r = int64_t(a->type.shape.size());
  for (int64_t& d : dims) {
    if (d < 0) d += r;
    if (d < 0 || d >= r)
      fail(pos, "reduction dim is out of range for a value of shape " + shape_text(a->type.shape));
  }
  std::sort(dims.begin(), dims.end());
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  require_complete(a->type.shape, pos, "this reduction");
  DType d = a->type.dtype;
  if (op == Op::sum && !dtype_is_float(d)) d = DType::i64;
  if (op == Op::mean && !dtype_is_float(d))
    fail(pos, "mean needs a floating-point value, not " + std::string(dtype_name(d)),
         "convert first: .to(torch.float32).mean(...)");
  Shape s;
  for (int64_t i = 0; i < r; ++i)
    if (!std::binary_search(dims.begin(), dims.end(), i)) s.push_back(a->type.shape[size_t(i)]);
  Node n;
  n.kind = NodeKind::reduce;
  n.op = op;
  n.loc = loc_of(pos);
  n.operands = {a};
  n.ints = dims;
  n.type = Type::value(d, s);
  return emit(std::move(n));
}

// A running sum along one dim. Unlike a reduction it needs no complete dims: a tile's or jagged
// tile's valid positions are a prefix along it, so positions past the end never reach valid ones.
NodePtr Lowerer::scan(Op op, NodePtr a, int64_t dim, ast::Pos pos) {
  if (!a->type.is_value() || a->type.shape.empty())
    fail(pos,
         std::string(op_name(op)) + " needs a device value with a dim to run along; this is " +
             type_text(a->type),
         "load the data inside a device loop first, e.g. torch.cumsum(mask[rows], dim=1)");
  const int64_t r = int64_t(a->type.shape.size());
  if (dim < 0) dim += r;
  if (dim < 0 || dim >= r)
    fail(pos, "cumsum dim is out of range for a value of shape " + shape_text(a->type.shape));
  if (a->type.shape[size_t(dim)].is_broadcast())
    fail(pos, "cumsum runs along a dim of size 1 (shape " + shape_text(a->type.shape) + ")",
         "pick the dim the values lie along");
  DType d = a->type.dtype;
  if (!dtype_is_float(d)) d = DType::i64;  // torch.cumsum of ints and bools is int64
  Node n;
  n.kind = NodeKind::scan;
  n.op = op;
  n.loc = loc_of(pos);
  n.operands = {a};
  n.ints = {dim};
  n.type = Type::value(d, a->type.shape);
  return emit(std::move(n));
}

NodePtr Lowerer::matmul(NodePtr a, NodePtr b, NodePtr acc, ast::Pos pos) {
  for (const NodePtr* x : {&a, &b})
    if (!(*x)->type.is_value() || (*x)->type.shape.size() < 2)
      fail(pos, "matmul needs two device values of rank >= 2; got " + type_text((*x)->type),
           "load the operand tiles first, e.g. x[rows, tile_d] and w[tile_b, tile_d, tile_n]");
  const Shape& sa = a->type.shape;
  const Shape& sb = b->type.shape;
  if (!same_dim(sa.back(), sb[sb.size() - 2]) &&
      !check_sizes_equal_at_run_time(sa.back(), sb[sb.size() - 2], pos, "matmul contraction dims"))
    fail(pos, "matmul contraction dims differ: " + shape_text(sa) + " @ " + shape_text(sb),
         "the last dim of the left operand must be the second-to-last of the right one");
  require_complete(sa, pos, "the left matmul operand");
  require_complete(sb, pos, "the right matmul operand");
  Shape batch = broadcast(Shape(sa.begin(), sa.end() - 2), Shape(sb.begin(), sb.end() - 2), pos,
                          "the matmul batch dims");
  batch.push_back(sa[sa.size() - 2]);
  batch.push_back(sb.back());
  Shape out = broadcast(batch, Shape{}, pos, "matmul");
  DType d = promote_dtypes(a->type.dtype, b->type.dtype);
  Node n;
  n.kind = NodeKind::matmul;
  n.loc = loc_of(pos);
  n.operands = {a, b};
  if (acc) {
    if (!acc->type.is_value()) fail(pos, "hl.dot's acc= must be a device value");
    broadcast(out, acc->type.shape, pos, "hl.dot's acc");
    d = acc->type.dtype;
    n.operands.push_back(acc);
  }
  n.type = Type::value(d, out);
  return emit(std::move(n));
}

NodePtr Lowerer::size_node(const NodePtr& tensor, int64_t d, ast::Pos pos) {
  if (tensor->kind == NodeKind::alloc) return tensor->operands.at(size_t(d));
  if (tensor->kind == NodeKind::view) {
    const NodePtr& s = tensor->operands.at(size_t(d + 1));
    if (!(s->kind == NodeKind::const_int && s->ival == -1)) return s;
  }
  Node n;
  n.kind = NodeKind::size_of;
  n.type = Type::host_int();
  n.operands = {tensor};
  n.ival = d;
  n.loc = loc_of(pos);
  return emit(std::move(n));
}

NodePtr Lowerer::tile_attr(int block, Op which, ast::Pos pos) {
  Node n;
  n.kind = NodeKind::tile_attr;
  n.op = which;
  n.ival = block;
  n.loc = loc_of(pos);
  bool vector = which == Op::index && kernel_.blocks[size_t(block)].kind != LoopKind::grid;
  n.type = Type::value(DType::i64, vector ? Shape{Dim::tile(block)} : Shape{});
  return emit(std::move(n));
}

NodePtr Lowerer::check_mask(NodePtr mask, const Shape& shape, ast::Pos pos) {
  if (!mask) return nullptr;
  DType d = mask->type.is_value()                    ? mask->type.dtype
            : mask->type.kind == TypeKind::host_bool ? DType::boolean
                                                     : DType::f32;
  if (mask->type.is_tensor() || d != DType::boolean)
    fail(pos, "extra_mask must be a bool mask; this is " + type_text(mask->type),
         "build it from comparisons, e.g. tile_k.index[None, :] < nnz[:, None]");
  if (mask->type.is_value()) {
    Shape s = broadcast(shape, mask->type.shape, pos, "extra_mask");
    bool same = s.size() == shape.size();
    for (size_t i = 0; same && i < s.size(); ++i) same = same_dim(s[i], shape[i]);
    if (!same)
      fail(pos,
           "extra_mask of shape " + shape_text(mask->type.shape) +
               " does not fit the access of shape " + shape_text(shape),
           "the mask may only use the access's dims");
  }
  return mask;
}

}  // namespace jagtile::ir::lower_detail
