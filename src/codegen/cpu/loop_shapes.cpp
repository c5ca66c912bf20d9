// Shapes of planned loops the C++ printer prints its own way (loop_shapes.h).
#include "codegen/cpu/loop_shapes.h"

#include "plan/nest_util.h"

namespace jagtile::codegen::cpu {

using plan::CType;
using plan::ExprKind;
using plan::Stmt;
using plan::Update;

const Stmt* final_store(const Stmt& loop) {
  if (loop.loop != plan::LoopKind::simd || !loop.reductions.empty() || loop.body.empty())
    return nullptr;
  for (size_t k = 0; k + 1 < loop.body.size(); ++k)
    if (loop.body[k]->kind != plan::StmtKind::let && loop.body[k]->kind != plan::StmtKind::comment)
      return nullptr;
  const Stmt& store = *loop.body.back();
  return store.kind == plan::StmtKind::tensor_store ? &store : nullptr;
}

std::map<std::string, plan::ExprPtr> lets_of(const Stmt& loop) {
  std::map<std::string, plan::ExprPtr> lets;
  for (const plan::StmtPtr& st : loop.body)
    if (st->kind == plan::StmtKind::let) lets[st->name] = st->value;
  return lets;
}

bool consecutive_along(const Stmt& loop, const Stmt& store) {
  if (store.indices.empty()) return false;
  const std::map<std::string, plan::ExprPtr> lets = lets_of(loop);
  for (size_t d = 0; d + 1 < store.indices.size(); ++d)
    if (varies(store.indices[d], loop.name, lets)) return false;
  return unit_step(store.indices.back(), loop.name, lets);
}

bool varies(const plan::ExprPtr& e, const std::string& index,
            const std::map<std::string, plan::ExprPtr>& lets) {
  if (e->kind == ExprKind::var) {
    if (e->name == index) return true;
    auto it = lets.find(e->name);
    return it != lets.end() && varies(it->second, index, lets);
  }
  for (const plan::ExprPtr& a : e->args)
    if (varies(a, index, lets)) return true;
  return false;
}

bool unit_step(const plan::ExprPtr& e, const std::string& index,
               const std::map<std::string, plan::ExprPtr>& lets) {
  if (e->kind == ExprKind::var) {
    if (e->name == index) return true;
    auto it = lets.find(e->name);
    return it != lets.end() && unit_step(it->second, index, lets);
  }
  if (e->kind == ExprKind::convert && e->from == DType::i64 && e->dtype == DType::i64)
    return unit_step(e->args[0], index, lets);
  // An int64 add of the kernel's own (rows = starts + tile.index) is the same sum.
  const bool kernel_add = e->kind == ExprKind::compute && e->node &&
                          e->node->kind == ir::NodeKind::binary && e->node->op == ir::Op::add &&
                          DType(e->node->ival) == DType::i64;
  if ((e->kind == ExprKind::binop && e->op == ir::Op::add) || kernel_add)
    return (unit_step(e->args[0], index, lets) && !varies(e->args[1], index, lets)) ||
           (!varies(e->args[0], index, lets) && unit_step(e->args[1], index, lets));
  return false;
}

const Stmt* running_sum(const Stmt& loop) {
  const std::vector<plan::StmtPtr>& body = loop.body;
  if (loop.loop != plan::LoopKind::serial || !loop.reductions.empty() || body.size() < 2)
    return nullptr;
  for (size_t k = 0; k + 2 < body.size(); ++k)
    if (body[k]->kind != plan::StmtKind::let && body[k]->kind != plan::StmtKind::comment)
      return nullptr;
  const Stmt& add = *body[body.size() - 2];
  const Stmt& out = *body.back();
  if (add.update != Update::add || out.kind != plan::StmtKind::array_store ||
      out.update != Update::none || out.value->ctype != CType::i64)
    return nullptr;
  const plan::ExprPtr& carry = out.value;
  const std::map<std::string, plan::ExprPtr> lets = lets_of(loop);
  bool same = false;
  if (add.kind == plan::StmtKind::assign) {
    same = carry->kind == ExprKind::var && carry->name == add.name;
  } else if (add.kind == plan::StmtKind::array_store) {
    same = carry->kind == ExprKind::array_read && carry->name == add.name &&
           carry->args.size() == add.indices.size();
    for (size_t d = 0; same && d < add.indices.size(); ++d)
      same = plan::expr_key(carry->args[d]) == plan::expr_key(add.indices[d]) &&
             !varies(add.indices[d], loop.name, lets);
  }
  for (const plan::ExprPtr& i : out.indices)
    same = same && !plan::any_expr(i, [&](const plan::Expr& x) {
             return x.kind == ExprKind::var && lets.count(x.name);
           });
  return same ? &add : nullptr;
}

bool reads_along(const plan::ExprPtr& e, const std::string& array, const std::string& index,
                 const std::map<std::string, plan::ExprPtr>& lets) {
  if (e->kind == ExprKind::var) {
    auto it = lets.find(e->name);
    return it != lets.end() && reads_along(it->second, array, index, lets);
  }
  if (e->kind == ExprKind::array_read && e->name == array && !e->args.empty()) {
    const plan::ExprPtr& last = e->args.back();
    bool along = last->kind == ExprKind::var && last->name == index;
    for (size_t d = 0; d + 1 < e->args.size(); ++d)
      along = along && !varies(e->args[d], index, lets);
    if (along) return true;
  }
  for (const plan::ExprPtr& a : e->args)
    if (reads_along(a, array, index, lets)) return true;
  return false;
}

const plan::Expr* through_lets_and_casts(const plan::Expr* e,
                                         const std::map<std::string, plan::ExprPtr>& lets) {
  while (e->kind == ExprKind::var || (e->kind == ExprKind::convert && e->from == e->dtype)) {
    if (e->kind == ExprKind::convert) {
      e = e->args[0].get();
      continue;
    }
    auto it = lets.find(e->name);
    if (it == lets.end()) return nullptr;
    e = it->second.get();
  }
  return e;
}

bool zero_one_cast(const plan::Expr& e) {
  const bool cast = e.kind == ExprKind::convert ||
                    (e.kind == ExprKind::compute && e.node && e.node->kind == ir::NodeKind::cast);
  auto int_or_bool = [](DType t) { return t == DType::boolean || dtype_is_int(t); };
  return cast && e.args.size() == 1 && int_or_bool(e.dtype) && int_or_bool(e.args[0]->dtype);
}

}  // namespace jagtile::codegen::cpu
