// Module-level constants of a kernel file: `NAME = <constant>` at the top level, as Helion files
// write their block sizes, head counts and configs (`HSTU_CONFIG = helion.Config(...)` used as
// `@helion.aot_kernel(config=HSTU_CONFIG)`). A constant is a number, string, bool or None
// literal, a tuple, list or dict of constants, arithmetic on constants, an earlier constant, or a
// `helion.Config(...)` call whose arguments are constants. Python reads a global when the kernel
// runs; a file of kernels never reassigns one after loading, so its value at the end of the file
// is the value every kernel sees.
//
// inline_module_constants replaces every read of such a name in a kernel (its body, parameter
// defaults and decorators) by a copy of the constant's expression, unless the kernel binds the
// name itself (a parameter, an assignment or a loop target anywhere in its body: Python makes
// such a name local to the whole function). Later stages then see literals and Config calls
// only. The assignments stay in the module; check_module accepts them (is_module_constant) and
// rejects every other top-level statement as before.
#pragma once

#include "lang/ast.h"

namespace jagtile::lang {

// True when `s` is a top-level assignment of a constant to one name. Names of earlier constants
// count as constants only after inline_module_constants has replaced them.
bool is_module_constant(const ast::Stmt& s);

// Replaces reads of module-level constants in every kernel of `m` (see above). Throws a located
// UserError for a constant that rebinds an imported name.
void inline_module_constants(ast::Module& m);

}  // namespace jagtile::lang
