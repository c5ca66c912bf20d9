// The generic CPU backend as the runtime sees it: run a specialised kernel through generated,
// compiled C++ (emit_cpp.h + jit.h), and the source text for `jagtile explain --code`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "codegen/cpu/emit_cpp.h"
#include "codegen/cpu/jit.h"
#include "ir/ir.h"
#include "jagtile/compiler.h"

namespace jagtile::codegen::cpu {

// A kernel compiled by the generic CPU backend: the loaded code and its failure sites.
struct CompiledCpu {
  std::shared_ptr<const LoadedKernel> code;
  std::vector<Site> sites;
};

// Generates, compiles (or finds on disk) and loads `kernel`'s code. `stats` says how.
CompiledCpu compile_cpu(const ir::Kernel& kernel, bool checked, Jit& jit, JitStats* stats);

// Runs compiled code on `args` (one per parameter, declaration order). Raises UserError for a
// bounds violation (naming the kernel, source line, tensor, index and extent), a failed
// assert or bad sizes; the process survives.
std::vector<Tensor> run_compiled_cpu(const CompiledCpu& compiled, const ir::Kernel& kernel,
                                     const std::vector<ArgValue>& args, int num_threads);

// The generated C++ for `kernel` under `options` (checked or not).
std::string generate_cpu_source(const ir::Kernel& kernel, const Options& options);

// Empty when the generic CPU backend can run this kernel, else why not.
std::string cpu_unsupported_reason(const ir::Kernel& kernel);

}  // namespace jagtile::codegen::cpu
