// Planning pass: load reloading (see pass_reload.h).
#include "plan/pass_reload.h"

#include "plan/inline.h"
#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

// A load's nest that is cheap to repeat: one load, index arithmetic, no extra mask, no state
// (variables) read.
bool reloadable(const Stmt& nest, const Unit& u, const Units& units) {
  if (nest.role != NestRole::value || !nest.node || nest.node->kind != ir::NodeKind::load ||
      nest.node->ival != 0)
    return false;
  int loads = 0;
  bool expensive = false;
  visit(std::make_shared<const Stmt>(nest), [&](const Stmt& s) {
    for (const ExprPtr& e : own_exprs(s))
      visit(e, [&](const Expr& x) {
        if (x.kind == ExprKind::load) ++loads;
        if (x.kind == ExprKind::compute && x.node->kind == ir::NodeKind::unary &&
            !(x.node->op == ir::Op::neg || x.node->op == ir::Op::abs))
          expensive = true;
      });
  });
  // Arrays it reads must be values (never rewritten), not variables.
  for (const std::string& a : u.reads)
    if (units.producer(a) < 0) expensive = true;
  return loads == 1 && !expensive;
}

bool try_reload(DeviceFunc& f, const std::string& array) {
  Units units = collect_units(f);
  int p = units.producer(array);
  if (p < 0) return false;
  const Unit& P = units.units[size_t(p)];
  if (!reloadable(*P.stmt, P, units)) return false;
  std::vector<int> readers = units.readers(array, p);
  if (readers.size() < 2) return false;
  int last = readers[0];
  for (int r : readers) {
    const Unit& R = units.units[size_t(r)];
    if (R.list != P.list || R.order < P.order || R.pinned.count(array)) return false;
    if (R.stmt->kind != StmtKind::nest || !fusing_role(R.stmt->role, false)) return false;
    if (R.order > units.units[size_t(last)].order) last = r;
  }
  if (!reads_unchanged(units, p, last)) return false;
  std::optional<ElementTemplate> t = element_template(*P.stmt);
  if (!t) return false;
  NameGen names(f);
  for (int r : readers) {
    const Unit& R = units.units[size_t(r)];
    f = replace_unit(f, R.list, R.index, {inline_reads(R.stmt, array, *t, names)});
  }
  f = remove_array(f, array);
  return true;
}

}  // namespace

void reload_loads(Plan& plan) {
  for (DeviceFunc& f : plan.funcs) {
    std::vector<std::string> loads;
    for (const Unit& u : collect_units(f).units)
      if (u.stmt->kind == StmtKind::nest && u.stmt->role == NestRole::value && u.stmt->node &&
          u.stmt->node->kind == ir::NodeKind::load)
        loads.push_back(u.stmt->name);
    for (size_t i = loads.size(); i-- > 0;) try_reload(f, loads[i]);
  }
}

}  // namespace jagtile::plan
