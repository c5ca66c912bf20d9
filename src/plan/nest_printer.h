// Readable text of the loop-nest form, for `jagtile explain --ir`, JAGTILE_DEBUG=ir and the
// planning passes' tests: pseudo-code with one statement per line, captures as `$name`, tile
// arrays by name, loads and stores with their failure sites. Stable (no addresses).
#pragma once

#include <string>

#include "plan/nest_ir.h"

namespace jagtile::plan {

std::string print_expr(const Plan& plan, const DeviceFunc& func, const ExprPtr& e);
std::string print_func(const Plan& plan, const DeviceFunc& func);
std::string print_plan(const Plan& plan);

}  // namespace jagtile::plan
