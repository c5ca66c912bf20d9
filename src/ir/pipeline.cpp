// The lowering driver, written to read top to bottom: lower, verify, then each pass followed by
// the verifier again. Every step's IR can be recorded for `explain --ir` and JAGTILE_DEBUG=ir.
#include "ir/pipeline.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "ir/pass_band_matmuls.h"
#include "ir/pass_batch_loops.h"
#include "ir/pass_dead_code.h"
#include "ir/pass_fold_constants.h"
#include "ir/pass_skip_masked_blocks.h"
#include "ir/pass_unify_sizes.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace jagtile::ir {

bool debug_enabled(const char* what) {
  const char* env = std::getenv("JAGTILE_DEBUG");
  if (!env) return false;
  std::string list = env, w = what;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item == w || item == "all") return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}

CompiledIR compile_ir(const ast::Module& module, const ast::Stmt& fn,
                      const std::vector<ParamSpec>& params, const LowerOptions& options,
                      bool trace) {
  CompiledIR out;
  // Recorded only when asked; the runtime prints the trace (JAGTILE_DEBUG=ir) once per
  // specialisation.
  auto record = [&](const char* step) {
    if (trace) out.trace += "== " + std::string(step) + " ==\n" + print_kernel(out.kernel);
  };

  out.kernel = lower_kernel(module, fn, params, options);
  verify(out.kernel);
  record("after lower");

  out.kernel = fold_constants(out.kernel);
  verify(out.kernel);
  record("after fold_constants");

  out.kernel = unify_asserted_sizes(out.kernel);
  verify(out.kernel);
  record("after unify_asserted_sizes");

  out.kernel = eliminate_dead_code(out.kernel);
  verify(out.kernel);
  record("after eliminate_dead_code");

  out.kernel = skip_masked_blocks(out.kernel);
  verify(out.kernel);
  record("after skip_masked_blocks");

  out.kernel = band_matmuls(out.kernel);
  verify(out.kernel);
  record("after band_matmuls");

  out.kernel = loop_over_batch_dims(out.kernel);
  verify(out.kernel);
  record("after loop_over_batch_dims");

  out.kernel = eliminate_dead_code(out.kernel);  // what the batch loops left unused
  verify(out.kernel);
  record("after eliminate_dead_code");

  return out;
}

}  // namespace jagtile::ir
