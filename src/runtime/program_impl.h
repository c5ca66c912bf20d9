// Internal to the runtime: what a Program holds (the parsed file, its kernels, their decorator
// configs) and the specialisation step shared by call(), explain() and the backends: bind the
// arguments by parameter name, then lower (cached per kernel, argument kinds/dtypes/ranks/
// devices and options; never sizes).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "jagtile/compiler.h"
#include "lang/ast.h"
#include "lang/check.h"

namespace jagtile {

// One lowered specialisation, immutable and shared.
struct Specialisation {
  ir::Kernel kernel;
  std::string ir_trace;  // the IR after each lowering step
};

// Arguments bound to a kernel's parameters, in declaration order.
struct BoundArgs {
  std::vector<ArgValue> values;      // defaults filled in
  std::vector<ir::ParamSpec> specs;  // what the specialisation depends on
};

struct Program::Impl {
  std::string file;
  std::unique_ptr<ast::Module> module;
  std::vector<const ast::Stmt*> defs;  // parallel to kernels
  std::vector<KernelInfo> kernels;
  std::vector<lang::KernelConfig> configs;

  mutable std::mutex cache_mutex;
  mutable std::map<std::string, std::shared_ptr<const Specialisation>> cache;

  size_t kernel_index(const std::string& name) const;  // UserError when unknown / ambiguous
  BoundArgs bind(size_t kernel, const ArgMap& args) const;
  // Lowers (or finds in the cache) the specialisation for these bound arguments.
  std::shared_ptr<const Specialisation> specialise(size_t kernel, const BoundArgs& bound,
                                                   const Options& options) const;
};

}  // namespace jagtile
