// Planning pass: single-consumer fusion (see pass_fuse.h). Producers are visited consumers
// first, so a chain a -> b -> c ends in c's nest.
#include "plan/pass_fuse.h"

#include "plan/inline.h"
#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

// Fuses the nest filling `array` into its one reader when it may; true when it did.
bool try_fuse(DeviceFunc& f, const std::string& array) {
  Units units = collect_units(f);
  int p = units.producer(array);
  if (p < 0) return false;
  const Unit& P = units.units[size_t(p)];
  if (P.stmt->role != NestRole::value) return false;
  std::vector<int> readers = units.readers(array, p);
  if (readers.size() != 1) return false;
  const Unit& R = units.units[size_t(readers[0])];
  if (R.list != P.list || R.order < P.order) return false;
  if (R.stmt->kind != StmtKind::nest || !fusing_role(R.stmt->role, false)) return false;
  if (R.pinned.count(array)) return false;
  if (!reads_unchanged(units, p, readers[0])) return false;
  std::optional<ElementTemplate> t = element_template(*P.stmt);
  if (!t) return false;
  NameGen names(f);
  f = replace_unit(f, R.list, R.index, {inline_reads(R.stmt, array, *t, names)});
  f = remove_array(f, array);
  return true;
}

}  // namespace

void fuse_single_consumers(Plan& plan) {
  for (DeviceFunc& f : plan.funcs) {
    std::vector<std::string> values;  // program order
    for (const Unit& u : collect_units(f).units)
      if (u.stmt->kind == StmtKind::nest && u.stmt->role == NestRole::value)
        values.push_back(u.stmt->name);
    for (size_t i = values.size(); i-- > 0;) try_fuse(f, values[i]);
  }
}

}  // namespace jagtile::plan
