// Indices in bounds by construction, so that generated code need not check them
// (plan/pass_bounds_checks.h). Dimension d of a load or store is proven when its index is
//  * the index of an hl.tile / hl.grid loop over [0, S), or
//  * a full slice (`x[rows, :]`: an iota of S),
// where S is the tensor's size in dimension d, sizes compared as index polynomials
// (analysis/dispatch_poly.h: `M` from `x.shape`, `x.size(1)`, an allocation's size operand). At
// every valid position such an index is in [0, S): a tile's last, partial block stops at the
// loop's end. Sizes of computed tensors (views other than flat ones) are never matched. A pure
// function of the IR; the offsets guards add the rows they bound (host::HostProgram).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "ir/ir.h"

namespace jagtile::analysis {

// A load or store -> bit d set for each proven dimension d (ranks are at most 8).
using InBoundsDims = std::unordered_map<const ir::Node*, uint32_t>;

InBoundsDims dims_within_loops(const ir::Kernel& kernel);

}  // namespace jagtile::analysis
