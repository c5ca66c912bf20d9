// Planning pass: index arithmetic (tile indices, iota, broadcasts, cheap elementwise ops of
// those and of tile arrays) is recomputed in every nest that reads it instead of being stored:
// reading it back costs as much as computing it. Its array stays only for readers that need one
// (a matmul, a jagged loop's extents).
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void inline_index_arithmetic(Plan& plan);

}  // namespace jagtile::plan
