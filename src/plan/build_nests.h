// Lowering to the loop-nest form: each device nest of a split kernel becomes a device function
// whose every device value is a tile array filled by its own loop nest, with no fusion, no
// hoisting and no bounds checks (the planning passes add those). Loop nests visit only valid
// positions: a tile dimension runs to its limit, a jagged dimension to its parent lane's extent.
#pragma once

#include "host/host_program.h"
#include "ir/ir.h"
#include "plan/nest_ir.h"

namespace jagtile::plan {

// `matmul_blocks`: see plan_kernel.
Plan build_nests(const ir::Kernel& kernel, const host::HostProgram& host, bool checked,
                 bool matmul_blocks = false);

}  // namespace jagtile::plan
