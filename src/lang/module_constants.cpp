// Module-level constants inlined into the kernels that read them (module_constants.h).
#include "lang/module_constants.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "lang/imports.h"

namespace jagtile::lang {

namespace {

using ast::Expr;
using ast::ExprKind;
using ast::ExprPtr;
using ast::Stmt;
using ast::StmtKind;

// `helion.Config(...)`, `Config(...)`: the only calls a constant may hold (the decorator reader
// interprets them; see decorator.cpp).
bool is_config_call(const Expr& e) {
  const Expr* f = e.func.get();
  return f && (f->kind == ExprKind::name || f->kind == ExprKind::attribute) && f->id == "Config";
}

bool is_constant_expr(const Expr& e) {
  auto all = [](const std::vector<ExprPtr>& v) {
    for (const ExprPtr& p : v)
      if (!p || !is_constant_expr(*p)) return false;
    return true;
  };
  switch (e.kind) {
    case ExprKind::int_lit:
    case ExprKind::float_lit:
    case ExprKind::str_lit:
    case ExprKind::bool_lit:
    case ExprKind::none_lit:
      return true;
    case ExprKind::unary:
      return e.operand && is_constant_expr(*e.operand);
    case ExprKind::binary:
      return e.left && e.right && is_constant_expr(*e.left) && is_constant_expr(*e.right);
    case ExprKind::tuple:
    case ExprKind::list:
      return all(e.elts);
    case ExprKind::dict:
      for (const ExprPtr& k : e.keys)
        if (!k || k->kind != ExprKind::str_lit) return false;
      return all(e.elts);
    case ExprKind::call: {
      if (!is_config_call(e) || !e.args.empty()) return false;
      for (const ast::Keyword& k : e.keywords)
        if (!k.value || !is_constant_expr(*k.value)) return false;
      return true;
    }
    default:
      return false;
  }
}

bool is_number(const Expr& e) {
  return e.kind == ExprKind::int_lit || e.kind == ExprKind::float_lit;
}
double number(const Expr& e) {
  return e.kind == ExprKind::int_lit ? double(e.int_value) : e.float_value;
}

// Python's value of int `a op b`, when it fits an int64 (else false: left unfolded).
bool int_result(ast::BinaryOp op, int64_t a, int64_t b, int64_t* out) {
  switch (op) {
    case ast::BinaryOp::add:
      return !__builtin_add_overflow(a, b, out);
    case ast::BinaryOp::sub:
      return !__builtin_sub_overflow(a, b, out);
    case ast::BinaryOp::mul:
      return !__builtin_mul_overflow(a, b, out);
    case ast::BinaryOp::floordiv:
    case ast::BinaryOp::mod: {
      if (b == 0 || (a == INT64_MIN && b == -1)) return false;
      int64_t q = a / b, r = a % b;
      if (r != 0 && ((r < 0) != (b < 0))) --q, r += b;  // floor, as Python
      *out = op == ast::BinaryOp::floordiv ? q : r;
      return true;
    }
    case ast::BinaryOp::pow: {  // by squaring: 1 ** 10**12 must not take 10**12 steps
      if (b < 0) return false;
      int64_t result = 1, base = a;
      for (int64_t e = b; e > 0; e >>= 1) {
        if ((e & 1) && __builtin_mul_overflow(result, base, &result)) return false;
        if (e > 1 && __builtin_mul_overflow(base, base, &base)) return false;
      }
      *out = result;
      return true;
    }
    default:
      return false;
  }
}

// Folds arithmetic on number literals in place (`OFFSET = -SCALE * 2` becomes -5.0), so that
// constants read where only literals are accepted (parameter defaults, block sizes) work.
// What Python would reject or that does not fit (a division by zero, an int overflow) stays an
// expression for lowering to report.
void fold(ExprPtr& slot) {
  if (!slot) return;
  Expr& e = *slot;
  for (ExprPtr* p : {&e.operand, &e.left, &e.right}) fold(*p);
  for (ExprPtr& p : e.elts) fold(p);
  for (ast::Keyword& k : e.keywords) fold(k.value);
  auto literal = [&](bool is_int, int64_t i, double f) {
    auto lit = std::make_unique<Expr>();
    lit->kind = is_int ? ExprKind::int_lit : ExprKind::float_lit;
    lit->pos = e.pos;
    lit->int_value = i;
    lit->float_value = f;
    slot = std::move(lit);
  };
  if (e.kind == ExprKind::unary && is_number(*e.operand) &&
      (e.unary_op == ast::UnaryOp::neg || e.unary_op == ast::UnaryOp::pos)) {
    const Expr& x = *e.operand;
    const bool neg = e.unary_op == ast::UnaryOp::neg;
    if (x.kind == ExprKind::int_lit && !(neg && x.int_value == INT64_MIN))
      literal(true, neg ? -x.int_value : x.int_value, 0);
    else if (x.kind == ExprKind::float_lit)
      literal(false, 0, neg ? -x.float_value : x.float_value);
    return;
  }
  if (e.kind != ExprKind::binary || !is_number(*e.left) || !is_number(*e.right)) return;
  // `literal` replaces (destroys) e: each path below calls it last.
  const Expr &a = *e.left, &b = *e.right;
  if (a.kind == ExprKind::int_lit && b.kind == ExprKind::int_lit) {
    const int64_t x = a.int_value, y = b.int_value;
    int64_t i = 0;
    if (e.binary_op == ast::BinaryOp::div) {
      if (y != 0) literal(false, 0, double(x) / double(y));
    } else if (int_result(e.binary_op, x, y, &i)) {
      literal(true, i, 0);
    }
    return;
  }
  const double x = number(a), y = number(b);
  switch (e.binary_op) {
    case ast::BinaryOp::add:
      return literal(false, 0, x + y);
    case ast::BinaryOp::sub:
      return literal(false, 0, x - y);
    case ast::BinaryOp::mul:
      return literal(false, 0, x * y);
    case ast::BinaryOp::div:
      if (y != 0) literal(false, 0, x / y);
      return;
    default:
      return;  // //, %, ** of floats: rare in constants, left to lowering
  }
}

// The one name a top-level statement binds to a value, or null.
const Expr* bound_name(const Stmt& s) {
  if (s.kind == StmtKind::assign && s.targets.size() == 1 && s.targets[0]->kind == ExprKind::name)
    return s.targets[0].get();
  if (s.kind == StmtKind::ann_assign && s.value && s.target && s.target->kind == ExprKind::name)
    return s.target.get();
  return nullptr;
}

using Constants = std::map<std::string, const Expr*>;

// Replaces reads of `constants` in the tree at `slot`, except names in `locals`. The copy's
// root takes the reading site's position (an error about the value points at the use); its
// inside keeps the definition's (an error inside a Config points at the config).
void substitute(ExprPtr& slot, const Constants& constants, const std::set<std::string>& locals) {
  if (!slot) return;
  Expr& e = *slot;
  if (e.kind == ExprKind::name) {
    auto it = constants.find(e.id);
    if (it != constants.end() && !locals.count(e.id)) {
      ExprPtr copy = ast::clone(*it->second);
      copy->pos = e.pos;
      slot = std::move(copy);
    }
    return;
  }
  auto each = [&](std::vector<ExprPtr>& v) {
    for (ExprPtr& p : v) substitute(p, constants, locals);
  };
  for (ExprPtr* p : {&e.value, &e.index, &e.func, &e.left, &e.right, &e.operand, &e.lower, &e.upper,
                     &e.step, &e.test, &e.body, &e.orelse})
    substitute(*p, constants, locals);
  each(e.args);
  each(e.comparators);
  each(e.elts);
  each(e.keys);
  for (ast::Keyword& k : e.keywords) substitute(k.value, constants, locals);
}

// Names a kernel binds: its parameters and every name it assigns or loops over, anywhere in its
// body (Python makes them local to the whole function).
void collect_targets(const Expr& t, std::set<std::string>& out) {
  if (t.kind == ExprKind::name) out.insert(t.id);
  if (t.kind == ExprKind::tuple || t.kind == ExprKind::list)
    for (const ExprPtr& p : t.elts)
      if (p) collect_targets(*p, out);
}

void collect_locals(const ast::StmtList& body, std::set<std::string>& out) {
  for (const auto& s : body) {
    for (const ExprPtr& t : s->targets)
      if (t) collect_targets(*t, out);
    if (s->target) collect_targets(*s->target, out);
    for (const std::string& n : s->import_names) out.insert(n);
    collect_locals(s->body, out);
    collect_locals(s->orelse, out);
  }
}

void substitute_stmts(ast::StmtList& body, const Constants& constants,
                      const std::set<std::string>& locals) {
  for (auto& s : body) {
    for (ExprPtr& t : s->targets) substitute(t, constants, locals);
    for (ExprPtr* p : {&s->target, &s->value, &s->iter, &s->test, &s->msg})
      substitute(*p, constants, locals);
    substitute_stmts(s->body, constants, locals);
    substitute_stmts(s->orelse, constants, locals);
  }
}

}  // namespace

bool is_module_constant(const Stmt& s) {
  return bound_name(s) && s.value && is_constant_expr(*s.value);
}

void inline_module_constants(ast::Module& m) {
  const std::map<std::string, ImportedName> imports = imported_names(m);
  Constants constants;
  const std::set<std::string> none;
  for (auto& s : m.body) {
    const Expr* name = bound_name(*s);
    if (!name || !s->value) continue;
    // A constant's value may read the constants defined above it (as Python evaluates it).
    substitute(s->value, constants, none);
    if (!is_constant_expr(*s->value)) continue;  // check_module reports it
    fold(s->value);
    auto imported = imports.find(name->id);
    if (imported != imports.end() && imported->second.pos.line > 0)
      throw ast::error_at(m, name->pos,
                          "module-level constant '" + name->id +
                              "' rebinds the name imported on line " +
                              std::to_string(imported->second.pos.line),
                          "rename the constant");
    constants[name->id] = s->value.get();
  }
  if (constants.empty()) return;
  for (auto& s : m.body) {
    if (s->kind != StmtKind::function_def) continue;
    std::set<std::string> locals;
    for (const ast::Param& p : s->params) locals.insert(p.name);
    collect_locals(s->body, locals);
    for (ExprPtr& d : s->decorators) substitute(d, constants, none);
    for (ast::Param& p : s->params) substitute(p.default_value, constants, none);
    substitute_stmts(s->body, constants, locals);
  }
}

}  // namespace jagtile::lang
