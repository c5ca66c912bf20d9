// Checks that need no argument types (DESIGN.md §5 `explain` without arguments): structure,
// names, known functions/methods/attributes, loop placement. Plus small queries over a parsed
// module that later stages share (the kernel list); the decorator config is in lang/decorator.h.
#pragma once

#include <cstdint>
#include <vector>

#include "lang/ast.h"
#include "lang/decorator.h"

namespace jagtile::lang {

// Throws the first problem found as a located UserError with a hint.
void check_module(const ast::Module& m);

// The kernel definitions of a module (its top-level function defs), in source order.
std::vector<const ast::Stmt*> kernel_defs(const ast::Module& m);

}  // namespace jagtile::lang
