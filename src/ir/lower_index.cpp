// Lowering, part 4: the expression walk (names, literals, operators) and indexing: host scalar
// reads (`t[-1].item()`), device loads and stores (`x[rows, tile_m]`, hl.load / hl.store), and
// None / ':' indexing of device values. Tensor indices are normalised so that each index
// operand has rank 0 or exactly the access's rank (dims aligned by unsqueeze).
#include "ir/lower_impl.h"

namespace jagtile::ir::lower_detail {

Op binary_op(ast::BinaryOp op) {
  switch (op) {
    case ast::BinaryOp::add:
      return Op::add;
    case ast::BinaryOp::sub:
      return Op::sub;
    case ast::BinaryOp::mul:
      return Op::mul;
    case ast::BinaryOp::div:
      return Op::div;
    case ast::BinaryOp::floordiv:
      return Op::floordiv;
    case ast::BinaryOp::mod:
      return Op::mod;
    case ast::BinaryOp::pow:
      return Op::pow;
    case ast::BinaryOp::bit_and:
      return Op::bit_and;
    case ast::BinaryOp::bit_or:
      return Op::bit_or;
    case ast::BinaryOp::bit_xor:
      return Op::bit_xor;
    default:
      return Op::none;
  }
}

namespace {

Op compare_op(ast::CompareOp op) {
  switch (op) {
    case ast::CompareOp::lt:
      return Op::lt;
    case ast::CompareOp::le:
      return Op::le;
    case ast::CompareOp::gt:
      return Op::gt;
    case ast::CompareOp::ge:
      return Op::ge;
    case ast::CompareOp::eq:
      return Op::eq;
    case ast::CompareOp::ne:
      return Op::ne;
    default:
      return Op::none;
  }
}

bool is_bare_slice(const ast::Expr& e) {
  return e.kind == ast::ExprKind::slice && !e.lower && !e.upper && !e.step;
}

}  // namespace

LVal Lowerer::expr(const ast::Expr& e) {
  switch (e.kind) {
    case ast::ExprKind::name: {
      auto it = env_.find(e.id);
      if (it == env_.end())
        fail(e.pos, "name '" + e.id + "' is not defined here",
             "a name first assigned inside a loop or if is not visible after it");
      if (it->second.k == LVal::K::var) return LVal::of(as_node(it->second, e.pos));
      if (it->second.k == LVal::K::dead) fail(e.pos, it->second.text);
      return it->second;
    }
    case ast::ExprKind::int_lit:
      return LVal::of(const_int(e.int_value, loc_of(e.pos)));
    case ast::ExprKind::float_lit:
      return LVal::of(const_float(e.float_value, loc_of(e.pos)));
    case ast::ExprKind::bool_lit:
      return LVal::of(const_bool(e.bool_value, loc_of(e.pos)));
    case ast::ExprKind::str_lit: {
      LVal v;
      v.k = LVal::K::str;
      v.text = e.str_value;
      return v;
    }
    case ast::ExprKind::none_lit:
      return LVal{};
    case ast::ExprKind::attribute:
      return attribute(e);
    case ast::ExprKind::subscript:
      return subscript(e);
    case ast::ExprKind::call:
      return call(e);
    case ast::ExprKind::binary: {
      if (e.binary_op == ast::BinaryOp::matmul)
        return LVal::of(matmul(value(*e.left), value(*e.right), nullptr, e.pos));
      Op op = binary_op(e.binary_op);
      if (op == Op::none) fail(e.pos, "this operator is not supported in kernels");
      NodePtr a = value(*e.left);
      NodePtr b = value(*e.right);
      return LVal::of(binary(op, a, b, e.pos));
    }
    case ast::ExprKind::unary: {
      if (e.unary_op == ast::UnaryOp::pos) return LVal::of(value(*e.operand));
      NodePtr a = value(*e.operand);
      if (e.unary_op == ast::UnaryOp::neg) return LVal::of(unary(Op::neg, a, e.pos));
      if (e.unary_op == ast::UnaryOp::invert) {
        return LVal::of(
            unary(a->type.dtype == DType::boolean ? Op::logical_not : Op::bit_not, a, e.pos));
      }
      if (!a->type.is_host_scalar())
        fail(e.pos, "`not` works on host scalars only", "use ~mask for a device mask");
      return LVal::of(unary(Op::logical_not, a, e.pos));
    }
    case ast::ExprKind::compare: {
      LVal left = expr(*e.left);
      NodePtr result;
      for (size_t i = 0; i < e.cmp_ops.size(); ++i) {
        LVal right = expr(*e.comparators[i]);
        NodePtr r;
        ast::CompareOp cop = e.cmp_ops[i];
        if (cop == ast::CompareOp::is || cop == ast::CompareOp::is_not) {
          // Fixed at specialisation: only None compares by identity.
          bool ln = left.k == LVal::K::none, rn = right.k == LVal::K::none;
          if (!ln && !rn)
            fail(e.pos, "`is` / `is not` compare with None only", "use == for values");
          bool same = ln && rn;
          r = const_bool(cop == ast::CompareOp::is ? same : !same, loc_of(e.pos));
        } else {
          Op op = compare_op(cop);
          if (op == Op::none) fail(e.pos, "`in` / `not in` are not supported in kernels");
          r = binary(op, as_node(left, e.left->pos), as_node(right, e.comparators[i]->pos), e.pos);
        }
        if (!result) {
          result = r;
        } else if (result->kind == NodeKind::const_bool && r->kind == NodeKind::const_bool) {
          result = const_bool(result->ival && r->ival, loc_of(e.pos));
        } else {
          result =
              binary(result->type.is_host_scalar() && r->type.is_host_scalar() ? Op::logical_and
                                                                               : Op::bit_and,
                     result, r, e.pos);
        }
        left = right;
      }
      return LVal::of(result);
    }
    case ast::ExprKind::boolean: {
      NodePtr acc;
      for (const auto& x : e.elts) {
        NodePtr v = value(*x);
        if (!v->type.is_host_scalar())
          fail(x->pos, "`and` / `or` work on host scalars only",
               "combine device masks with & and |");
        if (!acc) {
          acc = v;
          continue;
        }
        if (acc->kind == NodeKind::const_bool && v->kind == NodeKind::const_bool) {
          bool r = e.bool_op == ast::BoolOp::logical_and ? (acc->ival && v->ival)
                                                         : (acc->ival || v->ival);
          acc = const_bool(r, loc_of(e.pos));
          continue;
        }
        acc = binary(e.bool_op == ast::BoolOp::logical_and ? Op::logical_and : Op::logical_or, acc,
                     v, e.pos);
      }
      return LVal::of(acc);
    }
    case ast::ExprKind::tuple:
    case ast::ExprKind::list: {
      LVal t;
      t.k = LVal::K::tuple;
      for (const auto& x : e.elts) t.elts.push_back(expr(*x));
      return t;
    }
    case ast::ExprKind::slice:
      fail(e.pos, "a slice can only appear inside [...]");
    case ast::ExprKind::dict:  // the checker rejects these first; kept for direct IR users
      fail(e.pos, "a dict display ('{...}') has no meaning inside a kernel");
    case ast::ExprKind::if_expr: {
      LVal c = expr(*e.test);
      NodePtr cn = c.k == LVal::K::none ? const_bool(false) : as_node(c, e.test->pos);
      if (cn->kind == NodeKind::const_bool) return expr(cn->ival ? *e.body : *e.orelse);
      return LVal::of(where(cn, value(*e.body), value(*e.orelse), e.pos));
    }
  }
  fail(e.pos, "unsupported expression");
}

LVal Lowerer::subscript(const ast::Expr& e) {
  LVal base = expr(*e.value);
  std::vector<const ast::Expr*> idx;
  if (e.index->kind == ast::ExprKind::tuple)
    for (const auto& x : e.index->elts) idx.push_back(x.get());
  else
    idx.push_back(e.index.get());

  if (base.k == LVal::K::tuple) {
    if (idx.size() != 1) fail(e.pos, "a tuple takes one index");
    int64_t i = const_int_of(*idx[0], "a tuple index");
    int64_t n = int64_t(base.elts.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n)
      fail(idx[0]->pos,
           "index " + std::to_string(i) + " is out of range for a tuple of " + std::to_string(n));
    return base.elts[size_t(i)];
  }
  NodePtr b = as_node(base, e.value->pos);
  if (b->type.is_tensor()) {
    if (in_device()) return LVal::of(load(b, idx, nullptr, e.pos));
    // Host: a scalar read; every dim indexed by an int.
    if (int(idx.size()) != b->type.rank)
      fail(e.pos,
           "reading a tensor on the host needs one integer index per dimension (" +
               std::to_string(b->type.rank) + "), got " + std::to_string(idx.size()),
           "read single elements on the host (t[-1].item()), or index with tiles inside a "
           "device loop");
    Node n;
    n.kind = NodeKind::scalar_read;
    n.loc = loc_of(e.pos);
    n.operands = {b};
    for (size_t d = 0; d < idx.size(); ++d) {
      NodePtr i = value(*idx[d]);
      if (i->type.kind != TypeKind::host_int)
        fail(idx[d]->pos, "a host index must be an integer; this is " + type_text(i->type));
      if (i->kind == NodeKind::const_int && i->ival < 0) {
        i = binary(Op::add, size_node(b, int64_t(d), idx[d]->pos), i, idx[d]->pos);
      }
      n.operands.push_back(i);
    }
    n.type = dtype_is_float(b->type.dtype) ? Type::host_float()
             : dtype_is_int(b->type.dtype) ? Type::host_int()
                                           : Type::host_bool();
    return LVal::of(emit(std::move(n)));
  }
  if (b->type.is_value()) {
    // Only ':' (keep a dim) and None (insert a broadcast dim).
    NodePtr v = b;
    int64_t pos = 0;
    for (const ast::Expr* x : idx) {
      if (x->kind == ast::ExprKind::none_lit) {
        v = unsqueeze(v, pos, x->pos);
        ++pos;
      } else if (is_bare_slice(*x)) {
        ++pos;
      } else {
        fail(x->pos, "a device value can only be indexed with ':' and None",
             "e.g. starts[:, None]; index tensors (not values) with tiles");
      }
    }
    if (pos > int64_t(v->type.shape.size()))
      fail(e.pos, "too many indices for a value of shape " + shape_text(b->type.shape));
    return LVal::of(v);
  }
  fail(e.pos, "cannot index " + type_text(b->type));
}

Lowerer::Access Lowerer::access(const NodePtr& tensor,
                                const std::vector<const ast::Expr*>& index_exprs, ast::Pos pos) {
  struct Item {
    enum class K { tile, full, none, scalar, adv } k;
    NodePtr node;
    int block = -1;
  };
  std::vector<Item> items;
  int rank = tensor->type.rank;
  int consumed = 0;
  auto size_of = [&](int d, ast::Pos p) { return size_node(tensor, d, p); };
  for (const ast::Expr* x : index_exprs) {
    if (x->kind == ast::ExprKind::none_lit) {
      items.push_back({Item::K::none, nullptr});
      continue;
    }
    if (x->kind == ast::ExprKind::slice) {
      if (!is_bare_slice(*x))
        fail(x->pos, "slices with bounds are not supported in device indexing",
             "use a tile (hl.tile(begin, end)) for a range");
      if (consumed >= rank)
        fail(x->pos, "too many indices for a tensor of rank " + std::to_string(rank));
      items.push_back({Item::K::full, size_of(consumed, x->pos)});
      ++consumed;
      continue;
    }
    LVal v = expr(*x);
    if (consumed >= rank)
      fail(x->pos, "too many indices for a tensor of rank " + std::to_string(rank),
           "index each dimension once");
    if (v.k == LVal::K::tile) {
      items.push_back({Item::K::tile, nullptr, v.block});
      ++consumed;
      continue;
    }
    NodePtr n = as_node(v, x->pos);
    if (n->type.is_tensor())
      fail(x->pos, "a tensor cannot be used directly as an index",
           "load the index values first, e.g. idx = index_tensor[tile_b]");
    DType d = n->type.dtype;
    if (!dtype_is_int(d))
      fail(x->pos, "an index must be an integer; this is " + type_text(n->type),
           d == DType::boolean ? "use extra_mask= for a bool mask"
                               : "convert with .to(torch.int64)");
    if (n->type.kind == TypeKind::host_int && n->kind == NodeKind::const_int && n->ival < 0)
      n = binary(Op::add, size_of(consumed, x->pos), n, x->pos);
    bool scalar = n->type.is_scalar();
    items.push_back({scalar ? Item::K::scalar : Item::K::adv, n});
    ++consumed;
  }
  while (consumed < rank) {
    items.push_back({Item::K::full, size_of(consumed, pos)});
    ++consumed;
  }
  // The advanced (tensor) indices broadcast together and sit at the first one's position.
  Shape adv_shape;
  bool have_adv = false;
  for (const Item& it : items)
    if (it.k == Item::K::adv) {
      adv_shape = have_adv ? broadcast(adv_shape, it.node->type.shape, pos, "the index tensors")
                           : it.node->type.shape;
      have_adv = true;
    }
  Shape shape;
  std::vector<size_t> where(items.size());
  bool adv_placed = false;
  size_t adv_pos = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    where[i] = shape.size();
    switch (it.k) {
      case Item::K::tile:
        shape.push_back(Dim::tile(it.block));
        break;
      case Item::K::full:
        shape.push_back(Dim::full(it.node));
        break;
      case Item::K::none:
        shape.push_back(Dim::broadcast());
        break;
      case Item::K::scalar:
        break;
      case Item::K::adv:
        if (!adv_placed) {
          adv_pos = shape.size();
          shape.insert(shape.end(), adv_shape.begin(), adv_shape.end());
          adv_placed = true;
        }
        break;
    }
  }
  shape = broadcast(shape, Shape{}, pos, "this subscript");  // rejects a tile used twice
  size_t R = shape.size();
  // Places a value whose dims are its last `s` dims at positions [at, at + s) of rank R.
  auto place = [&](NodePtr v, size_t at) {
    size_t s = v->type.shape.size();
    for (size_t k = 0; k < at; ++k) v = unsqueeze(v, 0, pos);
    for (size_t k = at + s; k < R; ++k) v = unsqueeze(v, int64_t(v->type.shape.size()), pos);
    return v;
  };
  Access acc;
  acc.shape = shape;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    switch (it.k) {
      case Item::K::tile:
        acc.indices.push_back(place(tile_attr(it.block, Op::index, pos), where[i]));
        break;
      case Item::K::full: {
        Node io;
        io.kind = NodeKind::iota;
        io.loc = loc_of(pos);
        io.operands = {it.node};
        io.type = Type::value(DType::i64, {Dim::full(it.node)});
        acc.indices.push_back(place(emit(std::move(io)), where[i]));
        break;
      }
      case Item::K::none:
        break;
      case Item::K::scalar:
        acc.indices.push_back(it.node);
        break;
      case Item::K::adv: {
        NodePtr v = it.node;
        while (v->type.shape.size() < adv_shape.size()) v = unsqueeze(v, 0, pos);
        acc.indices.push_back(place(v, adv_pos));
        break;
      }
    }
  }
  return acc;
}

NodePtr Lowerer::load(const NodePtr& tensor, const std::vector<const ast::Expr*>& index_exprs,
                      NodePtr extra_mask, ast::Pos pos) {
  Access a = access(tensor, index_exprs, pos);
  require_complete(a.shape, pos, "this load");
  extra_mask = check_mask(extra_mask, a.shape, pos);
  Node n;
  n.kind = NodeKind::load;
  n.loc = loc_of(pos);
  n.operands.push_back(tensor);
  for (NodePtr& i : a.indices) n.operands.push_back(i);
  if (extra_mask) {
    n.operands.push_back(extra_mask);
    n.ival = 1;
  }
  n.type = Type::value(tensor->type.dtype, a.shape);
  return emit(std::move(n));
}

void Lowerer::store(const NodePtr& tensor, const std::vector<const ast::Expr*>& index_exprs,
                    NodePtr v, NodePtr extra_mask, ast::Pos pos) {
  Access a = access(tensor, index_exprs, pos);
  require_complete(a.shape, pos, "this store");
  if (v->type.is_tensor())
    fail(pos, "cannot store a whole tensor", "load the values first, e.g. y[tile_b, tile_m]");
  if (v->type.is_value()) {
    bool same = v->type.shape.size() <= a.shape.size();
    Shape s = same ? broadcast(a.shape, v->type.shape, pos, "this store") : Shape{};
    same = same && s.size() == a.shape.size();
    for (size_t i = 0; same && i < s.size(); ++i) same = same_dim(s[i], a.shape[i]);
    if (!same)
      fail(pos,
           "cannot store a value of shape " + shape_text(v->type.shape) +
               " into a subscript of shape " + shape_text(a.shape),
           "the value may only use the subscript's dims; reduce or index it to fit");
  } else if (!v->type.is_host_scalar()) {
    fail(pos, "cannot store " + type_text(v->type));
  }
  extra_mask = check_mask(extra_mask, a.shape, pos);
  Node n;
  n.kind = NodeKind::store;
  n.loc = loc_of(pos);
  n.operands.push_back(tensor);
  for (NodePtr& i : a.indices) n.operands.push_back(i);
  n.operands.push_back(v);
  if (extra_mask) {
    n.operands.push_back(extra_mask);
    n.ival = 1;
  }
  n.type.kind = TypeKind::none;
  n.type.dtype = tensor->type.dtype;
  n.type.shape = a.shape;
  emit(std::move(n));
}

}  // namespace jagtile::ir::lower_detail
