// Checks that need no argument types (DESIGN.md §5 `explain` without arguments): structure,
// names, known functions/methods/attributes, loop placement. Plus small queries over a parsed
// module that later stages share (the kernel list, the decorator config).
#pragma once

#include <cstdint>
#include <vector>

#include "lang/ast.h"

namespace jagtile::lang {

// Throws the first problem found as a located UserError with a hint.
void check_module(const ast::Module& m);

// The kernel definitions of a module (its top-level function defs), in source order.
std::vector<const ast::Stmt*> kernel_defs(const ast::Module& m);

// Configuration written in a kernel's decorator:
//   @helion.kernel(config=helion.Config(block_sizes=[32, 64]))  or
//   @jagtile.kernel(block_sizes=[32, 64])
struct KernelConfig {
  std::vector<int64_t> block_sizes;  // empty: none given
};

// Reads the config from `def`'s decorators. A malformed block_sizes (not a list of positive int
// literals) is a UserError located at the offending element.
KernelConfig decorator_config(const ast::Module& m, const ast::Stmt& def);

// Same, for callers without the module at hand: errors carry the position but no file/line text.
KernelConfig decorator_config(const ast::Stmt& def);

}  // namespace jagtile::lang
