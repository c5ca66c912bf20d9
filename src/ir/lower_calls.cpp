// Lowering, part 5: attributes, function calls and methods: tile attributes, tensor sizes,
// allocation (host) and creation (device), math functions, reductions, casts, matmul, and
// hl.load / hl.store. `hl.` and `torch.` spellings of the same function are accepted.
#include <cmath>
#include <limits>

#include "ir/lower_impl.h"
#include "lang/known.h"

namespace jagtile::ir::lower_detail {
namespace {

// The canonical spelling of a module member's full path ("helion.language.tile" -> "hl.tile",
// "torch.nn.functional.silu" -> "F.silu"); other paths unchanged.
std::string normalise(const std::string& path) {
  std::string c = lang::canonical_member(path);
  return c.empty() ? path : c;
}

// The full dotted path of a module member an expression names ("helion.language.tile" for
// hl.tile), `name` itself for an unbound name (a builtin), "" for anything else.
std::string module_path(const ast::Expr& e, const std::map<std::string, LVal>& env) {
  if (e.kind == ast::ExprKind::name) {
    auto it = env.find(e.id);
    if (it == env.end()) return e.id;
    return it->second.k == LVal::K::module ? it->second.text : "";
  }
  if (e.kind == ast::ExprKind::attribute) {
    std::string base = module_path(*e.value, env);
    return base.empty() ? "" : base + "." + e.id;
  }
  return "";
}

// Elementwise math reachable as torch.X, hl.X, F.X or x.X().
Op unary_math(const std::string& name) {
  static const std::pair<const char*, Op> table[] = {
      {"exp", Op::exp},   {"log", Op::log},   {"sqrt", Op::sqrt},       {"rsqrt", Op::rsqrt},
      {"abs", Op::abs},   {"tanh", Op::tanh}, {"sigmoid", Op::sigmoid}, {"silu", Op::silu},
      {"relu", Op::relu}, {"gelu", Op::gelu}, {"floor", Op::floor},     {"ceil", Op::ceil},
      {"sin", Op::sin},   {"cos", Op::cos},   {"neg", Op::neg}};
  for (const auto& [n, op] : table)
    if (name == n) return op;
  return Op::none;
}

std::string last_part(const std::string& path) {
  size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

}  // namespace

const ast::Expr* Lowerer::kwarg(const ast::Expr& call, const std::string& name) const {
  for (const auto& k : call.keywords)
    if (k.name == name) return k.value.get();
  return nullptr;
}

const ast::Expr* Lowerer::arg(const ast::Expr& call, size_t i, const std::string& kw) const {
  if (i < call.args.size()) return call.args[i].get();
  return kw.empty() ? nullptr : kwarg(call, kw);
}

int64_t Lowerer::const_int_of(const ast::Expr& e, const char* what) {
  if (e.kind == ast::ExprKind::int_lit) return e.int_value;
  if (e.kind == ast::ExprKind::unary && e.unary_op == ast::UnaryOp::neg &&
      e.operand->kind == ast::ExprKind::int_lit)
    return -e.operand->int_value;
  LVal v = expr(e);
  if (v.k == LVal::K::node && v.node->kind == NodeKind::const_int) return v.node->ival;
  fail(e.pos, std::string(what) + " must be an integer constant");
}

std::string Lowerer::callee_name(const ast::Expr& func) const {
  // A builtin (int, float, min, max, ...) is its own name; a module member is canonical.
  return normalise(module_path(func, env_));
}

std::optional<DType> Lowerer::dtype_kwarg(const ast::Expr& call, DType fallback) {
  const ast::Expr* d = kwarg(call, "dtype");
  if (!d) return fallback;
  LVal v = expr(*d);
  if (v.k != LVal::K::dtype) fail(d->pos, "dtype= must be a dtype such as torch.float32");
  return v.dtype;
}

LVal Lowerer::attribute(const ast::Expr& e) {
  LVal base = expr(*e.value);
  const std::string& a = e.id;
  if (base.k == LVal::K::module) {
    std::string path = base.text + "." + a;  // full path: canonical only once complete
    std::string canonical = normalise(path);
    static const std::pair<const char*, DType> dtypes[] = {
        {"float32", DType::f32},  {"float", DType::f32},     {"float16", DType::f16},
        {"half", DType::f16},     {"bfloat16", DType::bf16}, {"int32", DType::i32},
        {"int", DType::i32},      {"int64", DType::i64},     {"long", DType::i64},
        {"bool", DType::boolean}, {"float64", DType::f64},   {"double", DType::f64}};
    if (canonical == "torch." + a || canonical == "hl." + a) {
      for (const auto& [n, d] : dtypes)
        if (a == n) return LVal::of_dtype(d);
    }
    return LVal::of_module(path);
  }
  if (base.k == LVal::K::tile) {
    static const std::pair<const char*, Op> attrs[] = {{"index", Op::index},
                                                       {"begin", Op::begin},
                                                       {"end", Op::end},
                                                       {"block_size", Op::block_size},
                                                       {"id", Op::id}};
    for (const auto& [n, op] : attrs)
      if (a == n) return LVal::of(tile_attr(base.block, op, e.pos));
    fail(e.pos, "a tile has no attribute '" + a + "'",
         "tiles have .index, .begin, .end, .block_size and .id");
  }
  NodePtr n = as_node(base, e.value->pos);
  if (a == "dtype" && (n->type.is_tensor() || n->type.is_value()))
    return LVal::of_dtype(n->type.dtype);
  if (n->type.is_tensor()) {
    if (a == "shape") {
      LVal t;
      t.k = LVal::K::tuple;
      for (int d = 0; d < n->type.rank; ++d) {
        t.elts.push_back(LVal::of(size_node(n, d, e.pos)));
      }
      return t;
    }
    if (a == "device") {
      LVal d;
      d.k = LVal::K::device;
      d.device = n->type.device;
      return d;
    }
    if (a == "ndim") return LVal::of(const_int(n->type.rank, loc_of(e.pos)));
    if (a == "T" || a == "mT")
      fail(e.pos, "." + a + " works on device values, not on the tensor itself",
           "load a tile first (x[tile_a, :]) and transpose that");
    fail(e.pos, "unknown tensor attribute '" + a + "'",
         "tensors have .shape, .dtype, .device and .ndim");
  }
  if ((a == "T" || a == "mT") && n->type.is_value()) {
    // .T reverses every dim (torch's meaning for any rank); .mT swaps the last two.
    const int64_t r = int64_t(n->type.shape.size());
    std::vector<int64_t> perm;
    for (int64_t d = 0; d < r; ++d) perm.push_back(a == "T" ? r - 1 - d : d);
    if (a == "mT") {
      if (r < 2) fail(e.pos, ".mT needs a value of rank 2 or more");
      std::swap(perm[size_t(r - 2)], perm[size_t(r - 1)]);
    }
    return LVal::of(permute(n, perm, e.pos, a == "T" ? ".T" : ".mT"));
  }
  fail(e.pos, "unknown attribute '" + a + "' of " + type_text(n->type));
}

std::vector<NodePtr> Lowerer::host_sizes(const ast::Expr& call, size_t first_arg) {
  std::vector<const ast::Expr*> parts;
  if (call.args.size() == first_arg + 1 && (call.args[first_arg]->kind == ast::ExprKind::list ||
                                            call.args[first_arg]->kind == ast::ExprKind::tuple)) {
    for (const auto& x : call.args[first_arg]->elts) parts.push_back(x.get());
  } else {
    for (size_t i = first_arg; i < call.args.size(); ++i) parts.push_back(call.args[i].get());
  }
  std::vector<NodePtr> sizes;
  for (const ast::Expr* p : parts) {
    LVal v = expr(*p);
    if (v.k == LVal::K::tuple) {  // x.shape passed whole
      for (const LVal& el : v.elts) sizes.push_back(as_node(el, p->pos));
      continue;
    }
    NodePtr n = as_node(v, p->pos);
    if (n->type.kind != TypeKind::host_int)
      fail(p->pos, "a tensor size must be a host integer; this is " + type_text(n->type),
           "sizes come from x.size(d), x.shape, ints and arithmetic on them");
    sizes.push_back(n);
  }
  return sizes;
}

Shape Lowerer::device_shape(const ast::Expr& shape_expr) {
  std::vector<const ast::Expr*> parts;
  if (shape_expr.kind == ast::ExprKind::list || shape_expr.kind == ast::ExprKind::tuple)
    for (const auto& x : shape_expr.elts) parts.push_back(x.get());
  else
    parts.push_back(&shape_expr);
  Shape s;
  for (const ast::Expr* p : parts) {
    LVal v = expr(*p);
    if (v.k == LVal::K::tile) {
      s.push_back(Dim::tile(v.block));
      continue;
    }
    NodePtr n = as_node(v, p->pos);
    if (n->type.kind != TypeKind::host_int)
      fail(p->pos, "a device shape lists tiles or host integers; this is " + type_text(n->type),
           "e.g. hl.zeros([tile_b, tile_m], dtype=torch.float32)");
    s.push_back(n->kind == NodeKind::const_int && n->ival == 1 ? Dim::broadcast() : Dim::full(n));
  }
  return broadcast(s, Shape{}, shape_expr.pos, "this shape");
}

LVal Lowerer::creation(const std::string& fn, const ast::Expr& call) {
  std::string base = last_part(fn);
  bool like = base.size() > 5 && base.substr(base.size() - 5) == "_like";
  if (like) base = base.substr(0, base.size() - 5);
  if (in_device() && !like) {
    // Device creation: hl.zeros / hl.full (torch.* accepted inside loops too).
    const ast::Expr* shape = arg(call, 0, "shape");
    if (!shape) fail(call.pos, fn + " needs a shape");
    Shape s = device_shape(*shape);
    NodePtr fill;
    if (base == "full") {
      const ast::Expr* v = arg(call, 1, "value");
      if (!v) fail(call.pos, fn + " needs a fill value");
      fill = value(*v);
      if (!fill->type.is_scalar())
        fail(v->pos, "the fill value must be a scalar; this is " + type_text(fill->type));
    } else if (base == "ones") {
      fill = const_float(1.0);
    } else if (base == "zeros" || base == "empty") {
      fill = const_float(0.0);
    } else {
      fail(call.pos, fn + " is not available inside a device loop",
           "create device values with hl.zeros or hl.full");
    }
    Node n;
    n.kind = NodeKind::full;
    n.loc = loc_of(call.pos);
    n.operands = {fill};
    n.type = Type::value(*dtype_kwarg(call, DType::f32), s);
    return LVal::of(emit(std::move(n)));
  }
  if (in_device()) {
    // torch.zeros_like(v) / ones_like / full_like / empty_like of a device value: a value of
    // v's shape (and dtype, unless dtype= says otherwise). Of a tensor: an allocation, which
    // belongs on the host.
    const ast::Expr* src = arg(call, 0, "input");
    if (!src) fail(call.pos, fn + " needs a value");
    NodePtr v = value(*src);
    if (v->type.is_tensor())
      fail(call.pos, "tensors must be allocated on the host, before the device loops",
           "move the allocation above the first hl.tile loop, or pass a tile value (x[tile])");
    if (!v->type.is_value())
      fail(src->pos, fn + " needs a device value here; this is " + type_text(v->type));
    NodePtr fill = const_float(base == "ones" ? 1.0 : 0.0);
    if (base == "full") {
      const ast::Expr* f = arg(call, 1, "fill_value");
      if (!f) fail(call.pos, fn + " needs a fill value");
      fill = value(*f);
      if (!fill->type.is_scalar())
        fail(f->pos, "the fill value must be a scalar; this is " + type_text(fill->type));
    }
    Node n;
    n.kind = NodeKind::full;
    n.loc = loc_of(call.pos);
    n.operands = {fill};
    n.type = Type::value(*dtype_kwarg(call, v->type.dtype), v->type.shape);
    return LVal::of(emit(std::move(n)));
  }
  Node n;
  n.kind = NodeKind::alloc;
  n.loc = loc_of(call.pos);
  DType dtype = DType::f32;
  Device device;
  std::vector<NodePtr> sizes;
  size_t value_arg = 1;
  if (like) {
    const ast::Expr* src = arg(call, 0, "input");
    if (!src) fail(call.pos, fn + " needs a tensor");
    NodePtr t = value(*src);
    if (!t->type.is_tensor()) fail(src->pos, fn + " needs a tensor; this is " + type_text(t->type));
    for (int d = 0; d < t->type.rank; ++d) {
      sizes.push_back(size_node(t, d, call.pos));
    }
    dtype = t->type.dtype;
    device = t->type.device;
  } else {
    if (base == "full") {
      // torch.full(shape, value): shape is one list/tuple argument.
      if (call.args.empty()) fail(call.pos, fn + " needs a shape");
      ast::Expr const* shape = call.args[0].get();
      LVal sv = expr(*shape);
      std::vector<LVal> parts = sv.k == LVal::K::tuple ? sv.elts : std::vector<LVal>{sv};
      for (const LVal& p : parts) {
        NodePtr n2 = as_node(p, shape->pos);
        if (n2->type.kind != TypeKind::host_int)
          fail(shape->pos, "a tensor size must be a host integer");
        sizes.push_back(n2);
      }
    } else {
      sizes = host_sizes(call, 0);
    }
  }
  dtype = *dtype_kwarg(call, dtype);
  if (const ast::Expr* d = kwarg(call, "device")) {
    LVal dv = expr(*d);
    if (dv.k == LVal::K::device) device = dv.device;
  }
  if (base == "zeros") {
    n.op = Op::zeros;
  } else if (base == "empty") {
    n.op = Op::empty;
  } else if (base == "ones") {
    n.op = Op::fill;
    sizes.push_back(const_float(1.0));
  } else if (base == "full") {
    n.op = Op::fill;
    const ast::Expr* v = arg(call, value_arg, "fill_value");
    if (!v) fail(call.pos, fn + " needs a fill value");
    NodePtr f = value(*v);
    if (!f->type.is_host_scalar()) fail(v->pos, "the fill value must be a host scalar");
    sizes.push_back(f);
  } else {
    fail(call.pos, "unknown allocation function " + fn);
  }
  n.operands = sizes;
  int rank = int(sizes.size()) - (n.op == Op::fill ? 1 : 0);
  n.type = Type::tensor(dtype, rank, device);
  return LVal::of(emit(std::move(n)));
}

// hl.specialize(n): Helion makes a size a compile-time constant. jagtile specialises per call
// shape already, so the value is the argument itself; it must be a host integer (or a tuple of
// them, like x.shape).
LVal Lowerer::specialize(const ast::Expr& a) {
  LVal v = expr(a);
  auto host_int = [](const LVal& x) {
    return x.k == LVal::K::node && x.node->type.kind == TypeKind::host_int;
  };
  bool ok = host_int(v);
  if (v.k == LVal::K::tuple) {
    ok = true;
    for (const LVal& el : v.elts) ok = ok && host_int(el);
  }
  if (ok) return v;
  std::string what = v.k == LVal::K::node    ? type_text(v.node->type)
                     : v.k == LVal::K::tile  ? "a tile"
                     : v.k == LVal::K::tuple ? "a tuple holding something other than integers"
                     : v.k == LVal::K::dtype ? "a dtype"
                                             : "not an integer";
  fail(a.pos, "hl.specialize needs a host integer such as a tensor size; this is " + what,
       "specialise a size read on the host, like D = hl.specialize(q.size(2))");
}

// Python's min(a, b, ...) / max(a, b, ...) of scalars (loop bounds such as
// min(end, tile_q.end) in Helion kernels). Integers take minimum / maximum, which binary()
// simplifies and bound analyses read; floats keep Python's own rule, `b if b < a else a` from left
// to right, so a NaN is kept only where it comes first (torch.minimum propagates it from either
// side). Python compares whole tensors, an error for more than one element: tiles need
// torch.minimum.
LVal Lowerer::python_min_max(bool is_min, const ast::Expr& e) {
  const std::string fn = is_min ? "min" : "max";
  if (e.args.size() < 2 || !e.keywords.empty())
    fail(e.pos, fn + "() takes two or more scalars here", "write " + fn + "(a, b)");
  NodePtr result;
  for (const auto& a : e.args) {
    NodePtr v = value(*a);
    if (!v->type.is_scalar())
      fail(a->pos,
           fn + "() needs scalars; this is " + type_text(v->type) + " (Python's " + fn +
               " compares whole tensors)",
           std::string("use torch.") + (is_min ? "minimum" : "maximum") + "(a, b) for tiles");
    if (!result) {
      result = v;
    } else if (dtype_is_float(result->type.dtype) || dtype_is_float(v->type.dtype)) {
      NodePtr takes_v = binary(is_min ? Op::lt : Op::gt, v, result, e.pos);
      result = where(takes_v, v, result, e.pos);
    } else {  // binary() reads min(end, tile_q.end) of tile_q's own end as tile_q.end
      result = binary(is_min ? Op::minimum : Op::maximum, result, v, e.pos);
    }
  }
  return LVal::of(result);
}

LVal Lowerer::call(const ast::Expr& e) {
  std::string fn = callee_name(*e.func);
  if (fn.empty()) {
    if (e.func->kind != ast::ExprKind::attribute) fail(e.pos, "this cannot be called");
    LVal self = expr(*e.func->value);
    return method(self, e.func->id, e);
  }
  auto need = [&](size_t i, const std::string& kw = {}) -> const ast::Expr& {
    const ast::Expr* a = arg(e, i, kw);
    if (!a) fail(e.pos, fn + " is missing argument " + std::to_string(i + 1));
    return *a;
  };
  std::string base = last_part(fn);
  if (fn == "float" || fn == "int" || fn == "bool") {
    const ast::Expr& a = need(0);
    if (a.kind == ast::ExprKind::str_lit && fn == "float") {
      std::string s = a.str_value;
      double v;
      if (s == "inf" || s == "+inf" || s == "infinity")
        v = std::numeric_limits<double>::infinity();
      else if (s == "-inf" || s == "-infinity")
        v = -std::numeric_limits<double>::infinity();
      else if (s == "nan")
        v = std::numeric_limits<double>::quiet_NaN();
      else
        fail(a.pos, "float() of a string accepts \"inf\", \"-inf\" and \"nan\"");
      return LVal::of(const_float(v, loc_of(e.pos)));
    }
    NodePtr v = value(a);
    DType to = fn == "float" ? DType::f32 : fn == "int" ? DType::i64 : DType::boolean;
    if (v->type.is_value() && !v->type.shape.empty())
      fail(a.pos, fn + "() needs a scalar; this has shape " + shape_text(v->type.shape));
    if (is_const(v)) {
      double x = v->kind == NodeKind::const_float ? v->fval : double(v->ival);
      if (fn == "float") return LVal::of(const_float(x, loc_of(e.pos)));
      if (fn == "int") return LVal::of(const_int(int64_t(x), loc_of(e.pos)));
      return LVal::of(const_bool(x != 0, loc_of(e.pos)));
    }
    return LVal::of(cast(v, to, e.pos));
  }
  if (fn == "min" || fn == "max") return python_min_max(fn == "min", e);
  if (fn == "abs") return LVal::of(unary(Op::abs, value(need(0)), e.pos));
  if (fn == "len") {
    LVal v = expr(need(0));
    if (v.k != LVal::K::tuple) fail(e.pos, "len() needs a tuple such as x.shape");
    return LVal::of(const_int(int64_t(v.elts.size()), loc_of(e.pos)));
  }
  if (fn == "hl.tile" || fn == "hl.grid" || fn == "hl.jagged_tile")
    fail(e.pos, fn + " can only be used as the iterator of a for loop",
         "for tile in " + fn + "(...):");
  if (fn == "hl.specialize") return specialize(need(0));
  if (fn == "hl.cdiv" || fn == "helion.cdiv" || fn == "triton.cdiv") {
    NodePtr a = value(need(0)), b = value(need(1));
    NodePtr num = binary(Op::sub, binary(Op::add, a, b, e.pos), const_int(1), e.pos);
    return LVal::of(binary(Op::floordiv, num, b, e.pos));
  }
  if (fn == "hl.load") {
    NodePtr t = value(need(0, "tensor"));
    if (!t->type.is_tensor()) fail(e.args[0]->pos, "hl.load needs a tensor");
    const ast::Expr& idx = need(1, "index");
    std::vector<const ast::Expr*> parts;
    if (idx.kind == ast::ExprKind::list || idx.kind == ast::ExprKind::tuple)
      for (const auto& x : idx.elts) parts.push_back(x.get());
    else
      parts.push_back(&idx);
    NodePtr mask;
    if (const ast::Expr* m = arg(e, 2, "extra_mask")) mask = value(*m);
    if (!in_device()) fail(e.pos, "hl.load can only be used inside a device loop");
    return LVal::of(load(t, parts, mask, e.pos));
  }
  if (fn == "hl.store") {
    NodePtr t = value(need(0, "tensor"));
    if (!t->type.is_tensor()) fail(e.args[0]->pos, "hl.store needs a tensor");
    const ast::Expr& idx = need(1, "index");
    std::vector<const ast::Expr*> parts;
    if (idx.kind == ast::ExprKind::list || idx.kind == ast::ExprKind::tuple)
      for (const auto& x : idx.elts) parts.push_back(x.get());
    else
      parts.push_back(&idx);
    NodePtr v = value(need(2, "value"));
    NodePtr mask;
    if (const ast::Expr* m = arg(e, 3, "extra_mask")) mask = value(*m);
    if (!in_device()) fail(e.pos, "hl.store can only be used inside a device loop");
    store(t, parts, v, mask, e.pos);
    return LVal{};
  }
  if (base == "zeros" || base == "full" || base == "empty" || base == "ones" ||
      base == "zeros_like" || base == "empty_like" || base == "full_like" || base == "ones_like")
    return creation(fn, e);
  if (fn == "torch.where" || fn == "hl.where")
    return LVal::of(where(value(need(0)), value(need(1)), value(need(2)), e.pos));
  if (fn == "F.gelu")
    if (const ast::Expr* a = kwarg(e, "approximate");
        a && !(a->kind == ast::ExprKind::str_lit && a->str_value == "none"))
      fail(a->pos, "F.gelu(approximate=...) supports only 'none' (the exact erf form)",
           "drop the approximate argument");
  if (fn == "torch.clamp") {
    // clamp(x, min, max) = minimum(maximum(x, min), max); either bound may be None or absent.
    NodePtr x = value(need(0));
    const ast::Expr* lo = arg(e, 1, "min");
    const ast::Expr* hi = arg(e, 2, "max");
    auto given = [](const ast::Expr* b) { return b && b->kind != ast::ExprKind::none_lit; };
    if (!given(lo) && !given(hi))
      fail(e.pos, "torch.clamp needs a min or a max", "write torch.clamp(x, lo, hi)");
    if (given(lo)) x = binary(Op::maximum, x, value(*lo), e.pos);
    if (given(hi)) x = binary(Op::minimum, x, value(*hi), e.pos);
    return LVal::of(x);
  }
  if (base == "maximum" || base == "minimum")
    return LVal::of(binary(base == "maximum" ? Op::maximum : Op::minimum, value(need(0)),
                           value(need(1)), e.pos));
  if (fn == "torch.matmul" || fn == "torch.bmm" || fn == "hl.dot") {
    NodePtr a = value(need(0)), b = value(need(1));
    NodePtr acc;
    if (fn == "hl.dot")
      if (const ast::Expr* c = arg(e, 2, "acc")) acc = value(*c);
    return LVal::of(matmul(a, b, acc, e.pos));
  }
  if (fn == "torch.promote_types") {
    LVal a = expr(need(0)), b = expr(need(1));
    if (a.k != LVal::K::dtype || b.k != LVal::K::dtype)
      fail(e.pos, "torch.promote_types takes two dtypes");
    return LVal::of_dtype(promote_dtypes(a.dtype, b.dtype));
  }
  if (Op op = unary_math(base);
      op != Op::none && (fn.rfind("torch.", 0) == 0 || fn.rfind("hl.", 0) == 0 ||
                         fn.rfind("F.", 0) == 0 || fn.rfind("math.", 0) == 0))
    return LVal::of(unary(op, value(need(0)), e.pos));
  if (base == "sum" || base == "amax" || base == "amin" || base == "mean" || base == "unsqueeze" ||
      base == "cumsum") {
    // torch.sum(x, dim=...) is x.sum(dim=...).
    if (e.args.empty()) fail(e.pos, fn + " needs a value");
    LVal self = expr(*e.args[0]);
    ast::Expr shifted;
    shifted.kind = ast::ExprKind::call;
    shifted.pos = e.pos;
    // Rebuild the argument list without the first one (the AST owns unique_ptrs, so the
    // method reads them through this view).
    for (size_t i = 1; i < e.args.size(); ++i) {
      auto copy = std::make_unique<ast::Expr>();
      copy->kind = ast::ExprKind::int_lit;
      if (e.args[i]->kind != ast::ExprKind::int_lit)
        fail(e.args[i]->pos, "pass the dim as dim=<int> here");
      copy->int_value = e.args[i]->int_value;
      copy->pos = e.args[i]->pos;
      shifted.args.push_back(std::move(copy));
    }
    for (const auto& k : e.keywords) {
      if (k.value->kind != ast::ExprKind::int_lit && k.value->kind != ast::ExprKind::bool_lit)
        fail(k.pos, "pass dim / keepdim as constants here");
      ast::Keyword kw;
      kw.name = k.name;
      kw.pos = k.pos;
      kw.value = std::make_unique<ast::Expr>();
      kw.value->kind = k.value->kind;
      kw.value->int_value = k.value->int_value;
      kw.value->bool_value = k.value->bool_value;
      kw.value->pos = k.value->pos;
      shifted.keywords.push_back(std::move(kw));
    }
    return method(self, base, shifted);
  }
  fail(e.func->pos, "unknown function '" + fn + "'",
       "see docs/language.md for the functions kernels may call");
}

LVal Lowerer::method(const LVal& self_lv, const std::string& name, const ast::Expr& e) {
  if (self_lv.k == LVal::K::tile)
    fail(e.pos, "tiles have no methods; use " + self_lv.text + ".index, .begin, .end");
  NodePtr self = as_node(self_lv, e.func ? e.func->pos : e.pos);
  const Type& t = self->type;
  auto emit_size_of = [&](int64_t d) {
    if (d < 0) d += t.rank;
    if (d < 0 || d >= t.rank)
      fail(e.pos, "dimension " + std::to_string(d) + " is out of range for a tensor of rank " +
                      std::to_string(t.rank));
    return size_node(self, d, e.pos);
  };
  if (t.is_tensor()) {
    if (name == "size") {
      if (const ast::Expr* d = arg(e, 0, "dim"))
        return LVal::of(emit_size_of(const_int_of(*d, "the dimension")));
      LVal tup;
      tup.k = LVal::K::tuple;
      for (int d = 0; d < t.rank; ++d) tup.elts.push_back(LVal::of(emit_size_of(d)));
      return tup;
    }
    if (name == "numel") {
      Node n;
      n.kind = NodeKind::numel;
      n.type = Type::host_int();
      n.operands = {self};
      n.loc = loc_of(e.pos);
      return LVal::of(emit(std::move(n)));
    }
    if (name == "dim") return LVal::of(const_int(t.rank, loc_of(e.pos)));
    if (name == "view" || name == "reshape") {
      // A view is host work (new sizes over the same memory); device code indexes tensors.
      if (in_device())
        fail(e.pos, "'." + name + "()' of a whole tensor inside a device loop",
             "views are host operations: take it before the first hl.tile loop "
             "(x_flat = x.view(-1)) and use that name inside the loop");
      std::vector<NodePtr> sizes = host_sizes(e, 0);
      int inferred = 0;
      for (const NodePtr& s : sizes)
        if (s->kind == NodeKind::const_int && s->ival == -1) ++inferred;
      if (inferred > 1) fail(e.pos, "only one dimension of a view can be -1");
      Node n;
      n.kind = NodeKind::view;
      n.operands = {self};
      n.operands.insert(n.operands.end(), sizes.begin(), sizes.end());
      n.type = Type::tensor(t.dtype, int(sizes.size()), t.device);
      n.loc = loc_of(e.pos);
      return LVal::of(emit(std::move(n)));
    }
    fail(e.pos, "tensors have no method '" + name + "' in kernels",
         "host tensors support size(), numel(), view() and reshape(); index them inside a "
         "device loop for anything else");
  }
  if (t.is_host_scalar() || t.is_value()) {
    if (name == "item") {
      if (t.is_value() && !t.shape.empty())
        fail(e.pos, ".item() needs a single value; this has shape " + shape_text(t.shape));
      return LVal::of(self);
    }
    if (name == "to" || name == "type") {
      const ast::Expr* d = arg(e, 0, "dtype");
      if (!d) fail(e.pos, ".to() needs a dtype");
      LVal dv = expr(*d);
      if (dv.k == LVal::K::device) return LVal::of(self);
      if (dv.k != LVal::K::dtype) fail(d->pos, ".to() needs a dtype such as torch.float32");
      return LVal::of(cast(self, dv.dtype, e.pos));
    }
    if (name == "float") return LVal::of(cast(self, DType::f32, e.pos));
    if (name == "long") return LVal::of(cast(self, DType::i64, e.pos));
    if (name == "int") return LVal::of(cast(self, DType::i32, e.pos));
    if (Op op = unary_math(name); op != Op::none) return LVal::of(unary(op, self, e.pos));
  }
  if (t.is_value()) {
    if (name == "sum" || name == "amax" || name == "amin" || name == "mean") {
      Op op = name == "sum"    ? Op::sum
              : name == "amax" ? Op::amax
              : name == "amin" ? Op::amin
                               : Op::mean;
      std::vector<int64_t> dims;
      const ast::Expr* d = arg(e, 0, "dim");
      if (d && d->kind != ast::ExprKind::none_lit) {
        if (d->kind == ast::ExprKind::list || d->kind == ast::ExprKind::tuple) {
          for (const auto& x : d->elts) dims.push_back(const_int_of(*x, "dim"));
        } else {
          dims.push_back(const_int_of(*d, "dim"));
        }
      } else {
        for (size_t i = 0; i < t.shape.size(); ++i) dims.push_back(int64_t(i));
      }
      bool keepdim = false;
      if (const ast::Expr* k = arg(e, 1, "keepdim")) {
        LVal kv = expr(*k);
        NodePtr kn = as_node(kv, k->pos);
        if (kn->kind != NodeKind::const_bool) fail(k->pos, "keepdim must be True or False");
        keepdim = kn->ival != 0;
      }
      NodePtr r = reduce(op, self, dims, e.pos);
      if (keepdim) {
        std::vector<int64_t> sorted = r->ints;
        for (int64_t dd : sorted) r = unsqueeze(r, dd, e.pos);
      }
      return LVal::of(r);
    }
    if (name == "cumsum") {
      const ast::Expr* d = arg(e, 0, "dim");
      if (!d || d->kind == ast::ExprKind::none_lit)
        fail(e.pos, "cumsum needs the dim to run along", "write x.cumsum(dim=1)");
      return LVal::of(scan(Op::cumsum, self, const_int_of(*d, "dim"), e.pos));
    }
    if (name == "transpose") {
      const ast::Expr* d0 = arg(e, 0, "dim0");
      const ast::Expr* d1 = arg(e, 1, "dim1");
      if (!d0 || !d1) fail(e.pos, ".transpose() needs two dims", "write x.transpose(0, 1)");
      const int64_t r = int64_t(self->type.shape.size());
      std::vector<int64_t> perm;
      for (int64_t d = 0; d < r; ++d) perm.push_back(d);
      int64_t a = const_int_of(*d0, "the dim"), b = const_int_of(*d1, "the dim");
      if (a < 0) a += r;
      if (b < 0) b += r;
      if (a < 0 || a >= r || b < 0 || b >= r)
        fail(e.pos, ".transpose(" + std::to_string(a) + ", " + std::to_string(b) +
                        ") is out of range for a value of rank " + std::to_string(r));
      std::swap(perm[size_t(a)], perm[size_t(b)]);
      return LVal::of(permute(self, perm, e.pos, ".transpose"));
    }
    if (name == "permute") {
      std::vector<int64_t> perm;
      if (e.args.size() == 1 &&
          (e.args[0]->kind == ast::ExprKind::list || e.args[0]->kind == ast::ExprKind::tuple)) {
        for (const auto& d : e.args[0]->elts) perm.push_back(const_int_of(*d, "a dim"));
      } else {
        for (const auto& d : e.args) perm.push_back(const_int_of(*d, "a dim"));
      }
      return LVal::of(permute(self, perm, e.pos, ".permute"));
    }
    if (name == "unsqueeze") {
      const ast::Expr* d = arg(e, 0, "dim");
      if (!d) fail(e.pos, ".unsqueeze() needs a dim");
      return LVal::of(unsqueeze(self, const_int_of(*d, "the dim"), e.pos));
    }
    if (name == "max" || name == "min")
      fail(e.pos, "." + name + "() is not supported",
           "use ." + std::string(name == "max" ? "amax" : "amin") + "(dim=...)");
  }
  fail(e.pos, "unknown method '" + name + "' of " + type_text(t));
}

}  // namespace jagtile::ir::lower_detail
