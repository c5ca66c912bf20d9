// Planning pass: last updates fused into their one reader (see pass_fuse_update.h).
#include "plan/pass_fuse_update.h"

#include "plan/inline.h"
#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

// The element the update nest stores (its lets, value and indices), as element_template gives a
// value nest's: every index its own loop's, no update operator.
std::optional<ElementTemplate> update_element(const Stmt& nest, const LoopChain& chain) {
  const Stmt* store = chain.inner;
  if (!store || store->kind != StmtKind::array_store || store->name != nest.name ||
      store->update != Update::none || store->indices.size() != chain.index.size())
    return std::nullopt;
  for (size_t d = 0; d < chain.index.size(); ++d)
    if (store->indices[d]->kind != ExprKind::var || store->indices[d]->name != chain.index[d])
      return std::nullopt;
  Stmt as_value = nest;
  as_value.role = NestRole::value;
  return element_template(as_value);
}

// Whether every read of `array` in `reader` is at the reader's own loop indices, in order.
bool reads_at_own_indices(const Stmt& reader, const LoopChain& chain, const std::string& array) {
  bool ok = true;
  visit(std::make_shared<const Stmt>(reader), [&](const Stmt& s) {
    for (const ExprPtr& e : own_exprs(s))
      visit(e, [&](const Expr& x) {
        if (x.kind != ExprKind::array_read || x.name != array) return;
        if (x.args.size() != chain.index.size()) {
          ok = false;
          return;
        }
        for (size_t d = 0; d < x.args.size(); ++d)
          ok &= x.args[d]->kind == ExprKind::var && x.args[d]->name == chain.index[d];
      });
  });
  return ok;
}

// Whether two chains loop over the same extents (the second's indices renamed to the first's).
bool same_extents(const LoopChain& a, const LoopChain& b) {
  if (a.index.size() != b.index.size()) return false;
  std::map<std::string, ExprPtr> renamed;
  for (size_t d = 0; d < b.index.size(); ++d) renamed[b.index[d]] = var(a.index[d], CType::i64);
  for (size_t d = 0; d < a.index.size(); ++d)
    if (expr_key(inline_lets(a.extent[d], a.lets)) !=
        expr_key(substitute(inline_lets(b.extent[d], b.lets), renamed)))
      return false;
  return true;
}

bool fuse_one(DeviceFunc& f) {
  Units units = collect_units(f);
  for (size_t v = 0; v < units.units.size(); ++v) {
    const Unit& V = units.units[v];
    if (V.stmt->kind != StmtKind::nest || V.stmt->role != NestRole::var_assign) continue;
    const std::string& acc = V.stmt->name;
    // Its readers after it: exactly one, in the same list, which does not write the array.
    std::vector<int> later;
    for (int r : units.readers(acc, int(v)))
      if (r > int(v)) later.push_back(r);
    if (later.size() != 1) continue;
    const Unit& R = units.units[size_t(later[0])];
    if (R.list != V.list || R.stmt->kind != StmtKind::nest || !fusing_role(R.stmt->role, false) ||
        R.stmt->role == NestRole::var_assign || R.writes.count(acc) || R.pinned.count(acc) ||
        !reads_unchanged(units, int(v), later[0]))
      continue;
    // The array dies with the reader: declared in this list, so no enclosing loop's next
    // iteration reads it, and no later unit of any list does (the readers above).
    bool declared_here = false;
    for (const Unit& u : units.units)
      declared_here |= u.list == V.list && u.index < V.index &&
                       u.stmt->kind == StmtKind::array_decl && u.stmt->name == acc;
    if (!declared_here) continue;
    const LoopChain update = loop_chain(*V.stmt), reader = loop_chain(*R.stmt);
    if (!update.inner || !reader.inner || !same_extents(update, reader) ||
        !reads_at_own_indices(*R.stmt, reader, acc))
      continue;
    std::optional<ElementTemplate> t = update_element(*V.stmt, update);
    if (!t) continue;
    NameGen names(f);
    const int list = V.list, v_index = V.index, r_index = R.index;
    StmtPtr fused = inline_reads(R.stmt, acc, *t, names);
    f = replace_unit(f, list, r_index, {fused});
    f = replace_unit(f, list, v_index, {});
    return true;
  }
  return false;
}

}  // namespace

void fuse_last_updates(Plan& plan) {
  for (DeviceFunc& f : plan.funcs)
    while (fuse_one(f)) {
    }
}

}  // namespace jagtile::plan
