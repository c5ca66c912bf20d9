// The planning driver: a split kernel's device nests -> the loop-nest form, then each planning
// pass in order, the verifier after every step, and the form's text after every step when asked
// (`jagtile explain --ir`, JAGTILE_DEBUG=ir). Every code generator prints the result.
#pragma once

#include <string>

#include "host/host_program.h"
#include "plan/nest_ir.h"

namespace jagtile::plan {

// `checked`: bounds checks on every device access (Options::checked). With `trace`, the form
// after each step is appended to it. `matmul_blocks`: each float matmul becomes one
// `matmul_block` statement per batch position, for a code generator with a block matmul (the
// CPU's microkernel, CUDA's warp tiles); otherwise element loops. `cpu_passes`: the passes of
// the generated C++ alone: tile loads memoised across an outer tile loop (in scratch arrays the
// CUDA dialect does not have; pass_memoize.h), and matmul blocks reading their A operand straight
// from a float32 tensor (the CPU's microkernel reads A wherever it is; pass_operands_in_place.h).
Plan plan_kernel(const ir::Kernel& kernel, const host::HostProgram& host, bool checked,
                 std::string* trace = nullptr, bool matmul_blocks = false,
                 bool cpu_passes = false);

}  // namespace jagtile::plan
