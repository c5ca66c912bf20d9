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

// Whether the var_assign nest `v` stores var = var + mm, element by element over its loops.
bool adds_product(const Stmt& v, const std::string& var, const std::string& mm) {
  std::vector<std::string> idx;
  const Stmt* store = innermost(v, &idx, /*past_guards=*/true);
  if (!store || store->kind != StmtKind::array_store || store->name != var ||
      store->update != Update::none || store->indices.size() != idx.size())
    return false;
  for (size_t d = 0; d < idx.size(); ++d)
    if (store->indices[d]->kind != ExprKind::var || store->indices[d]->name != idx[d]) return false;
  std::map<std::string, ExprPtr> lets;
  innermost_lets(v, lets);
  ExprPtr value = through_lets(store->value, lets);
  if (value->kind == ExprKind::convert && value->dtype == DType::f32 && value->from == DType::f32)
    value = through_lets(value->args[0], lets);
  const bool add = value->kind == ExprKind::compute && value->node &&
                   value->node->kind == ir::NodeKind::binary && value->node->op == ir::Op::add &&
                   value->ctype == CType::f32 && value->args.size() == 2;
  if (!add) return false;
  const ExprPtr a = through_lets(value->args[0], lets), b = through_lets(value->args[1], lets);
  return (reads_at(a, var, idx) && reads_at(b, mm, idx)) ||
         (reads_at(a, mm, idx) && reads_at(b, var, idx));
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

// Tries the first matmul nest it can accumulate in place; true when it changed the function.
bool accumulate_one(DeviceFunc& f) {
  Units units = collect_units(f);
  for (size_t i = 0; i + 1 < units.units.size(); ++i) {
    const Unit& M = units.units[i];
    const Unit& V = units.units[i + 1];
    if (M.stmt->kind != StmtKind::nest || M.stmt->role != NestRole::matmul) continue;
    if (V.list != M.list || V.index != M.index + 1 || V.stmt->kind != StmtKind::nest ||
        V.stmt->role != NestRole::var_assign)
      continue;
    const std::string& mm = M.stmt->name;
    const std::string& var = V.stmt->name;
    // Past the nests' size checks: the matmul nest keeps its own, the same as the adding nest's.
    const Stmt* block = innermost(*M.stmt, nullptr, /*past_guards=*/true);
    if (!block || block->kind != StmtKind::matmul_block || block->name != mm ||
        block->indices.size() != 11 || band_of(*block).mode == ir::MatmulBand::unused_c)
      continue;  // (an unused_c product is never added to a variable; it may hold zeros)
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
    StmtPtr in_place =
        matmul_block(var, std::move(ops), MatmulInputs(block->ival), band_of(*block));
    // The matmul nest with its block replaced (the loops around it kept), named for what it
    // now fills.
    Stmt renamed = *replace_stmt(M.stmt, block, in_place);
    renamed.name = var;
    const int list = M.list, index = M.index;
    f = replace_unit(f, list, index + 1, {});
    f = replace_unit(f, list, index, {std::make_shared<const Stmt>(std::move(renamed))});
    f = remove_array(f, mm);
    return true;
  }
  return false;
}

}  // namespace

void accumulate_matmuls_in_place(Plan& plan) {
  for (DeviceFunc& f : plan.funcs)
    while (accumulate_one(f)) {
    }
}

}  // namespace jagtile::plan
