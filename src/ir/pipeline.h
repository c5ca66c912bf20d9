// The lowering driver: AST kernel + argument specs -> verified, simplified tile IR, with the
// IR text after every step when asked (Options::debug_ir, JAGTILE_DEBUG=ir, explain --ir).
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"
#include "ir/lower.h"
#include "lang/ast.h"

namespace jagtile::ir {

struct CompiledIR {
  Kernel kernel;
  std::string trace;  // "== after lower ==\n<ir>..." for every step, when requested
};

CompiledIR compile_ir(const ast::Module& module, const ast::Stmt& fn,
                      const std::vector<ParamSpec>& params, const LowerOptions& options,
                      bool trace);

// True when JAGTILE_DEBUG lists `what` ("ir", "code", "dispatch", "launch").
bool debug_enabled(const char* what);

}  // namespace jagtile::ir
