// Inlining a value nest into the statements that read its tile array: the mechanism behind the
// fusion passes. A value nest computes one element from its loop indices (lets, then the stored
// value); each read of its array at indices J becomes those lets and that value with the loop
// indices replaced by J, bound to fresh locals just before the reading statement, once per
// distinct J in a statement list.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plan/nest_ir.h"
#include "plan/nest_util.h"

namespace jagtile::plan {

struct ElementTemplate {
  std::vector<ExprPtr> index;  // per array dim: the loop index stored at (or 0 for a broadcast)
  std::vector<StmtPtr> lets;   // the element's locals, in order
  ExprPtr value;
};

// The element of a value nest (nullopt when the nest is not a plain value nest).
std::optional<ElementTemplate> element_template(const Stmt& nest);

// `stmt` with every unpinned read of `array` replaced by the element (lets inserted before the
// statement that reads it, in the innermost list that holds it).
StmtPtr inline_reads(const StmtPtr& stmt, const std::string& array, const ElementTemplate& t,
                     NameGen& names);

// The roles of nests that take an inlined element: elementwise values, reductions, stores,
// variable updates (and, for index arithmetic, a variable's first value).
bool fusing_role(NestRole role, bool index_arithmetic);

// The function without the nest that fills `array` and its array_decl.
DeviceFunc remove_array(const DeviceFunc& func, const std::string& array);

}  // namespace jagtile::plan
