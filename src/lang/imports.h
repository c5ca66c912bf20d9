// What the top-level imports of a kernel file bind, and which bound names a kernel may use: the
// kernel language's modules (torch, torch.nn.functional, helion, helion.language, math, jagtile)
// under any alias. Shared by the checker and by lowering, so both resolve names alike.
#pragma once

#include <map>
#include <string>

#include "jagtile/error.h"
#include "lang/ast.h"

namespace jagtile::lang {

// One name a file's imports (or the language itself) bind.
struct ImportedName {
  std::string target;       // the dotted path it stands for: "torch.nn.functional", "numpy"
  bool understood = false;  // a module of the kernel language: kernels may use the name
  ast::Pos pos;             // the import statement; line 0 for a name known without importing
};

// The module names visible in every kernel of `m`: those known without importing (hl, F, torch,
// helion, math, jagtile), then each top-level import in file order, a later binding replacing an
// earlier one as in Python. `from m import *` binds nothing.
std::map<std::string, ImportedName> imported_names(const ast::Module& m);

// The located error for a kernel's use (at `use`) of `name`, an import kernels cannot use.
// `member` is the attribute read from it ("exp" in np.exp), or "".
UserError foreign_import_error(const ast::Module& m, ast::Pos use, const std::string& name,
                               const ImportedName& imported, const std::string& member);

}  // namespace jagtile::lang
