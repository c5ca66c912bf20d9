// Planning pass: matmuls accumulated in place (see pass_accumulate.h).
#include "plan/pass_accumulate.h"

#include "plan/inline.h"
#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

// Whether e reads `array` at exactly the loop indices `idx`, in order.
bool reads_at(const ExprPtr& e, const std::string& array, const std::vector<std::string>& idx) {
  if (e->kind != ExprKind::array_read || e->name != array || e->args.size() != idx.size())
    return false;
  for (size_t d = 0; d < idx.size(); ++d)
    if (e->args[d]->kind != ExprKind::var || e->args[d]->name != idx[d]) return false;
  return true;
}

// e through the lets, and through a float32-to-float32 conversion.
ExprPtr unwrapped(ExprPtr e, const std::map<std::string, ExprPtr>& lets) {
  e = through_lets(e, lets);
  if (e->kind == ExprKind::convert && e->dtype == DType::f32 && e->from == DType::f32)
    e = through_lets(e->args[0], lets);
  return e;
}

// What the var_assign nest `v` stores into `var` element by element over its loops (at exactly
// its loop indices `idx`), unwrapped through its lets; null when it stores anything else.
ExprPtr stored_element(const Stmt& v, const std::string& var, std::vector<std::string>& idx,
                       std::map<std::string, ExprPtr>& lets) {
  const Stmt* store = innermost(v, &idx, /*past_guards=*/true);
  if (!store || store->kind != StmtKind::array_store || store->name != var ||
      store->update != Update::none || store->indices.size() != idx.size())
    return nullptr;
  for (size_t d = 0; d < idx.size(); ++d)
    if (store->indices[d]->kind != ExprKind::var || store->indices[d]->name != idx[d])
      return nullptr;
  innermost_lets(v, lets);
  return unwrapped(store->value, lets);
}

// Whether the var_assign nest `v` stores var = var + mm, element by element over its loops.
bool adds_product(const Stmt& v, const std::string& var, const std::string& mm) {
  std::vector<std::string> idx;
  std::map<std::string, ExprPtr> lets;
  const ExprPtr value = stored_element(v, var, idx, lets);
  const bool add = value && value->kind == ExprKind::compute && value->node &&
                   value->node->kind == ir::NodeKind::binary && value->node->op == ir::Op::add &&
                   value->ctype == CType::f32 && value->args.size() == 2;
  if (!add) return false;
  const ExprPtr a = through_lets(value->args[0], lets), b = through_lets(value->args[1], lets);
  return (reads_at(a, var, idx) && reads_at(b, mm, idx)) ||
         (reads_at(a, mm, idx) && reads_at(b, var, idx));
}

// Whether the var_assign nest `v` stores var = mm, element by element over its loops (the result
// of `acc = hl.dot(a, b, acc=acc)`).
bool copies_product(const Stmt& v, const std::string& var, const std::string& mm) {
  std::vector<std::string> idx;
  std::map<std::string, ExprPtr> lets;
  const ExprPtr value = stored_element(v, var, idx, lets);
  return value && reads_at(value, mm, idx);
}

// Whether the value nest `p` is a plain copy of array `var`, element by element (hl.dot's acc=
// operand, copied into D).
bool copies_var(const Stmt& p, const std::string& var) {
  std::optional<ElementTemplate> t = element_template(p);
  if (!t) return false;
  std::vector<std::string> idx;
  for (const ExprPtr& e : t->index) {
    if (e->kind != ExprKind::var) return false;
    idx.push_back(e->name);
  }
  std::map<std::string, ExprPtr> lets;
  for (const StmtPtr& l : t->lets) lets[l->name] = l->value;
  return reads_at(unwrapped(t->value, lets), var, idx);
}

// The extents of array `name`'s declaration in the function, as keys; empty when not found.
std::vector<std::string> extents_of(const DeviceFunc& f, const std::string& name, CType* type) {
  std::vector<std::string> keys;
  if (const Stmt* decl = array_decl_of(f, name)) {
    for (const ExprPtr& e : decl->indices) keys.push_back(expr_key(e));
    *type = decl->ctype;
  }
  return keys;
}

// Units i and i + 1 as a matmul nest and the var_assign nest right after it in the same list:
// the matmul's own block (past the nests' size checks, which the matmul nest keeps), or null.
const Stmt* matmul_then_update(const Units& units, size_t i) {
  const Unit& M = units.units[i];
  const Unit& V = units.units[i + 1];
  if (M.stmt->kind != StmtKind::nest || M.stmt->role != NestRole::matmul) return nullptr;
  if (V.list != M.list || V.index != M.index + 1 || V.stmt->kind != StmtKind::nest ||
      V.stmt->role != NestRole::var_assign)
    return nullptr;
  const Stmt* block = innermost(*M.stmt, nullptr, /*past_guards=*/true);
  if (!block || block->kind != StmtKind::matmul_block || block->name != M.stmt->name)
    return nullptr;
  return block;
}

// The function with matmul nest M's block writing `var` with these operands (the loops around it
// kept, the nest named for what it now fills) and the update nest after it gone.
DeviceFunc write_in_place(const DeviceFunc& f, const Unit& M, const Stmt* block,
                          const std::string& var, std::vector<ExprPtr> ops) {
  StmtPtr in_place = matmul_block(var, std::move(ops), MatmulInputs(block->ival), band_of(*block));
  Stmt renamed = *replace_stmt(M.stmt, block, in_place);
  renamed.name = var;
  DeviceFunc out = replace_unit(f, M.list, M.index + 1, {});
  return replace_unit(out, M.list, M.index, {std::make_shared<const Stmt>(std::move(renamed))});
}

// Tries the first matmul nest it can accumulate in place; true when it changed the function.
bool accumulate_one(DeviceFunc& f) {
  Units units = collect_units(f);
  for (size_t i = 0; i + 1 < units.units.size(); ++i) {
    const Stmt* block = matmul_then_update(units, i);
    if (!block || block->indices.size() != 11 || band_of(*block).mode == ir::MatmulBand::unused_c)
      continue;  // (an unused_c product is never added to a variable; it may hold zeros)
    const Unit& M = units.units[i];
    const Unit& V = units.units[i + 1];
    const std::string& mm = M.stmt->name;
    const std::string& var = V.stmt->name;
    std::vector<int> readers = units.readers(mm, int(i));
    if (readers.size() != 1 || readers[0] != int(i) + 1) continue;
    if (M.reads.count(var) || !adds_product(*V.stmt, var, mm)) continue;
    CType mm_type = CType::f64, var_type = CType::f64;
    const std::vector<std::string> mm_ext = extents_of(f, mm, &mm_type);
    if (mm_ext.empty() || mm_ext != extents_of(f, var, &var_type) || var_type != CType::f32 ||
        mm_type != CType::f32)
      continue;
    // C and D: the variable, at the product's origin, with the product's strides (the same
    // extents, so the same row-major strides).
    std::vector<ExprPtr> ops = block->indices;
    const ExprPtr& c = ops[9];
    ExprPtr at_var = array_read(var, CType::f32, c->args);
    ops[9] = at_var;
    ops.push_back(at_var);
    ops.push_back(ops[10]);
    ops.push_back(int_imm(1));
    f = remove_array(write_in_place(f, M, block, var, std::move(ops)), mm);
    return true;
  }
  return false;
}

// `acc = hl.dot(a, b, acc=acc)`: a value nest copying acc into D's array, the matmul nest
// (C = A @ B + D), then a var_assign nest copying C back into acc. The block writes acc with
// acc as D instead (the same sums, the same single addition of D), and both copies and their
// arrays go. True when it changed the function.
bool accumulate_dot_one(DeviceFunc& f) {
  Units units = collect_units(f);
  for (size_t i = 0; i + 1 < units.units.size(); ++i) {
    const Stmt* block = matmul_then_update(units, i);
    if (!block || block->indices.size() != 14 || block->mask ||
        block->indices[11]->kind != ExprKind::array_read)
      continue;
    const Unit& M = units.units[i];
    const Unit& V = units.units[i + 1];
    const std::string& mm = M.stmt->name;
    const std::string& var = V.stmt->name;
    const std::string d = block->indices[11]->name;
    const int p = units.producer(d);
    if (p < 0 || d == var || d == mm) continue;
    const Unit& P = units.units[size_t(p)];
    std::vector<int> d_readers = units.readers(d, p), mm_readers = units.readers(mm, int(i));
    if (P.list != M.list || P.index >= M.index || P.stmt->role != NestRole::value ||
        d_readers != std::vector<int>{int(i)} || mm_readers != std::vector<int>{int(i) + 1} ||
        M.reads.count(var) || !copies_var(*P.stmt, var) || !copies_product(*V.stmt, var, mm) ||
        !reads_unchanged(units, p, int(i)))
      continue;
    CType t_mm = CType::f64, t_var = CType::f64, t_d = CType::f64;
    const std::vector<std::string> ext = extents_of(f, var, &t_var);
    if (ext.empty() || ext != extents_of(f, mm, &t_mm) || ext != extents_of(f, d, &t_d) ||
        t_var != CType::f32 || t_mm != CType::f32 || t_d != CType::f32)
      continue;
    // D's origin in its array is C's (the same extents: the same strides).
    if (expr_key(block->indices[11]) !=
            expr_key(array_read(d, CType::f32, block->indices[9]->args)) ||
        expr_key(block->indices[12]) != expr_key(block->indices[10]))
      continue;
    std::vector<ExprPtr> ops = block->indices;
    ExprPtr at_var = array_read(var, CType::f32, ops[9]->args);
    ops[9] = at_var;
    ops[11] = at_var;
    f = remove_array(write_in_place(f, M, block, var, std::move(ops)), mm);
    f = remove_array(f, d);
    return true;
  }
  return false;
}

}  // namespace

void accumulate_matmuls_in_place(Plan& plan) {
  for (DeviceFunc& f : plan.funcs)
    while (accumulate_one(f) || accumulate_dot_one(f)) {
    }
}

}  // namespace jagtile::plan
