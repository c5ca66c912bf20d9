// Planning pass: bounds-check placement (with Options::checked). Each nest that loads or stores
// gets a check-only copy in front of it: its index arithmetic and one OR-reduced failure flag,
// no values, no writes (so it vectorises). Only loads whose values feed an index or a mask (a
// gather) load there, guarded by their own check. When the flag is set, a diagnosing copy (the
// nest with a check before every access) finds the first bad access and fails with its site;
// otherwise the nest itself runs without checks. Endpoint checks: when every index the check
// copy's innermost loop checks is a non-decreasing int64 function of that loop's position
// (tile indices, iota, widening casts, sums of such terms and invariants) and nothing masks or
// skips positions (a mask the loop does not change is allowed), the loop visits only its first
// and last position: both in bounds bound every
// position between, so checking costs O(rows), not O(elements). A running count of a mask
// (torch.cumsum of a bool along its last dim) is non-decreasing there, and a compacting store's
// kept indices, consecutive, are checked at the first and last kept one the same way. Scalar
// loads outside nests are checked where they stand. Dims proven in bounds are not checked
// (host::HostProgram::in_bounds_dims): an index that is a loop's over [0, the dim's size) or a
// full slice (analysis/static_bounds.h), and a row of an item that the offsets guards bound
// (x[P[b] + k] in a jagged loop over P[b + 1] - P[b]), in bounds once the host has validated P,
// before any nest runs.
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void place_bounds_checks(Plan& plan);

}  // namespace jagtile::plan
