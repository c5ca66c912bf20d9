// The generic CPU backend as the runtime sees it: run a specialised kernel through generated,
// compiled C++ (emit_cpp.h + jit.h), and the source text for `jagtile explain --code`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "codegen/cpu/jit.h"
#include "ir/ir.h"
#include "jagtile/compiler.h"

namespace jagtile::codegen::cpu {

// Runs `kernel` on `args` (one per parameter, declaration order). `owner` keeps the kernel
// alive and identifies it: compiled kernels are cached per (owner, checked) so a repeated call
// neither regenerates nor rehashes the source. Raises UserError for a bounds violation (naming
// the kernel, source line, tensor, index and extent), a failed assert or bad sizes; the process
// survives. `stats`, when given, says how the compiled code was obtained.
std::vector<Tensor> run_generic_cpu(const std::shared_ptr<const void>& owner,
                                    const ir::Kernel& kernel, const std::vector<ArgValue>& args,
                                    const Options& options, JitStats* stats = nullptr);

// The generated C++ for `kernel` under `options` (checked or not).
std::string generate_cpu_source(const ir::Kernel& kernel, const Options& options);

// Empty when the generic CPU backend can run this kernel, else why not.
std::string cpu_unsupported_reason(const ir::Kernel& kernel);

}  // namespace jagtile::codegen::cpu
