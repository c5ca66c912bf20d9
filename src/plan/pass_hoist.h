// Planning pass: locals of an innermost loop that do not depend on its index are computed once
// in front of it (and reads of tile arrays at positions independent of it become such locals),
// so the vectoriser sees plain invariants. Loads stay in the loop: they may only run at valid
// positions, and the loop may run zero times.
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void hoist_invariants(Plan& plan);

}  // namespace jagtile::plan
