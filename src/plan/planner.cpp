// The planning driver, written to read top to bottom like the lowering driver (ir/pipeline.cpp):
// build, verify, then each pass followed by the verifier again.
#include "plan/planner.h"

#include <iostream>

#include "ir/pipeline.h"
#include "plan/build_nests.h"
#include "plan/nest_printer.h"
#include "plan/nest_verifier.h"
#include "plan/pass_accumulate.h"
#include "plan/pass_bounds_checks.h"
#include "plan/pass_first_block.h"
#include "plan/pass_fuse.h"
#include "plan/pass_fuse_update.h"
#include "plan/pass_hoist.h"
#include "plan/pass_inline_index.h"
#include "plan/pass_masked_elements.h"
#include "plan/pass_memoize.h"
#include "plan/pass_operands_in_place.h"
#include "plan/pass_prefetch.h"
#include "plan/pass_prefetch_operands.h"
#include "plan/pass_reload.h"

namespace jagtile::plan {

Plan plan_kernel(const ir::Kernel& kernel, const host::HostProgram& host, bool checked,
                 std::string* trace, bool matmul_blocks, bool cpu_passes) {
  const bool to_stderr = ir::debug_enabled("ir");
  Plan plan;
  auto record = [&](const char* step) {
    verify(plan);
    if (!trace && !to_stderr) return;
    std::string text = "== plan: " + std::string(step) + " ==\n" + print_plan(plan);
    if (trace) *trace += text;
    if (to_stderr) std::cerr << text;
  };

  plan = build_nests(kernel, host, checked, matmul_blocks);
  record("after build_nests");

  inline_index_arithmetic(plan);
  record("after inline_index_arithmetic");

  fuse_single_consumers(plan);
  record("after fuse_single_consumers");

  accumulate_matmuls_in_place(plan);
  record("after accumulate_matmuls_in_place");

  if (cpu_passes) {
    fuse_last_updates(plan);
    record("after fuse_last_updates");
  }

  reload_loads(plan);
  record("after reload_loads");

  hoist_invariants(plan);
  record("after hoist_invariants");

  if (cpu_passes) {
    memoize_block_loads(plan);
    record("after memoize_block_loads");

    prefetch_next_rows(plan);
    record("after prefetch_next_rows");
  }

  place_bounds_checks(plan);
  record("after place_bounds_checks");

  if (cpu_passes) {
    read_matmul_operands_in_place(plan);
    record("after read_matmul_operands_in_place");

    skip_zero_fills_before_matmuls(plan);
    record("after skip_zero_fills_before_matmuls");

    skip_masked_elements(plan);
    record("after skip_masked_elements");

    prefetch_next_operands(plan);  // reads the operands as read_matmul_operands_in_place left them
    record("after prefetch_next_operands");
  }

  return plan;
}

}  // namespace jagtile::plan
