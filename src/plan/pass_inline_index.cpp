// Planning pass: inline index arithmetic everywhere (see pass_inline_index.h).
#include "plan/pass_inline_index.h"

#include <set>

#include "plan/inline.h"
#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

// Elementwise kinds cheap enough to recompute per element (no memory reads but tile arrays).
bool cheap_origin(const ir::Node& n) {
  switch (n.kind) {
    case ir::NodeKind::binary:
    case ir::NodeKind::where:
    case ir::NodeKind::cast:
    case ir::NodeKind::unsqueeze:
    case ir::NodeKind::permute:
    case ir::NodeKind::full:
    case ir::NodeKind::tile_attr:
    case ir::NodeKind::iota:
      return true;
    case ir::NodeKind::unary:
      return n.op == ir::Op::neg || n.op == ir::Op::abs || n.op == ir::Op::logical_not ||
             n.op == ir::Op::bit_not || n.op == ir::Op::relu;
    default:
      return false;
  }
}

bool is_value_nest(const Stmt& s) {
  return s.kind == StmtKind::nest && s.role == NestRole::value;
}

// An array that exists whatever is inlined: not an elementwise value, or read by several
// units, or read in another list than its producer's.
bool always_array(const Units& units, const std::string& array) {
  int p = units.producer(array);
  if (p < 0 || !is_value_nest(*units.units[size_t(p)].stmt)) return true;
  std::vector<int> readers = units.readers(array, p);
  return readers.size() != 1 || units.units[size_t(readers[0])].list != units.units[size_t(p)].list;
}

DeviceFunc inline_everywhere(const DeviceFunc& func, const std::string& array) {
  DeviceFunc f = func;
  Units units = collect_units(f);
  int p = units.producer(array);
  std::optional<ElementTemplate> t = element_template(*units.units[size_t(p)].stmt);
  if (!t) return f;
  NameGen names(f);
  for (int r : units.readers(array, p)) {
    const Unit& u = units.units[size_t(r)];
    if (u.stmt->kind != StmtKind::nest || !fusing_role(u.stmt->role, true)) continue;
    f = replace_unit(f, u.list, u.index, {inline_reads(u.stmt, array, *t, names)});
  }
  units = collect_units(f);
  if (units.readers(array, units.producer(array)).empty()) f = remove_array(f, array);
  return f;
}

}  // namespace

void inline_index_arithmetic(Plan& plan) {
  for (DeviceFunc& f : plan.funcs) {
    Units units = collect_units(f);
    std::vector<std::string> cheap;  // program order
    std::set<std::string> is_cheap;
    for (const Unit& u : units.units) {
      const Stmt& s = *u.stmt;
      if (!is_value_nest(s) || !s.node || !cheap_origin(*s.node)) continue;
      bool ok = true;
      for (const std::string& a : u.reads)
        if (!is_cheap.count(a) && !always_array(units, a)) ok = false;
      if (!ok) continue;
      cheap.push_back(s.name);
      is_cheap.insert(s.name);
    }
    // Consumers first: an inlined element may read an earlier cheap array, inlined after it.
    for (size_t i = cheap.size(); i-- > 0;) f = inline_everywhere(f, cheap[i]);
  }
}

}  // namespace jagtile::plan
