// Offsets guards (DESIGN §1): every rank-1 integer tensor a kernel uses as item boundaries must
// be a valid offsets vector before any device nest runs, on every backend. This analysis finds
// those tensors in the tile IR; the host executor (host/host_exec.h) checks them per call with
// validate_offsets (jagtile/jagged.h), so every backend reports the template path's messages.
//
// A tensor P is guarded when, for one tile or grid loop b, the kernel loads both P[b.index] and
// P[b.index + 1] (compared as index polynomials, analysis/dispatch_poly.h, the same reads the
// dispatch detector matches) and uses the pair as item boundaries:
//   * the extents of an hl.jagged_tile are P[b + 1] - P[b];
//   * an hl.tile(P[b], P[b + 1]) loop;
//   * P[b] (or the index of such an hl.tile) addresses the first dimension of a tensor.
// A pair whose values only feed arithmetic is data, not boundaries, and is not guarded.
//
// The rows bound: each tensor whose first dimension the boundaries address directly
// (x[P[b] + k, ...], or x[tile_k, ...] under hl.tile(P[b], P[b + 1])) or through a flat view
// (x.view(-1)[(P[b] + k) * x.size(1) + m]) is a rows tensor: the last offset must be at most its
// first dimension. When no access has one of those forms (a row stride the analysis cannot tie
// to the tensor statically), the guard has no rows tensor and only the order of the offsets and
// their first value are checked; the loads' own bounds checks still catch rows past the data.
#pragma once

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "analysis/dispatch_poly.h"
#include "ir/ir.h"

namespace jagtile::analysis {

struct OffsetsGuard {
  int offsets_param = -1;  // index into Kernel::params: a rank-1 i32 / i64 tensor
  std::string offsets_name;
  // Host tensors (parameters, allocations, views) whose first dimension the offsets address, in
  // first-use order, without repeats. Empty: the rows bound is not known statically.
  std::vector<const ir::Node*> rows;
  // The loops b whose pair P[b], P[b + 1] bounds an hl.tile or gives an hl.jagged_tile's
  // extents: an iteration of such a loop is one item, P[b + 1] - P[b] rows long.
  std::vector<int> item_blocks;
};

// One guard per offsets parameter, in the order the kernel first loads them. A pure function of
// the IR.
std::vector<OffsetsGuard> find_offsets_guards(const ir::Kernel& kernel);

// The row a loop walks inside item b of offsets parameter `param`, as an index polynomial: P[b] + k
// for an hl.jagged_tile whose (first) extent is P[b + 1] - P[b], the loop's index for an
// hl.tile(P[b], P[b + 1]); nullopt for any other loop. What marks P as item boundaries here, and
// what the fully-written analysis follows rows by (fully_written.h).
std::optional<detail::Poly> item_row(detail::PolyBuilder& poly, int param, int block,
                                     const ir::Node& loop);

// The loads and stores whose first index is a row of an item that a guard bounds: x[P[b] + k, ...]
// inside an hl.jagged_tile over P[b + 1] - P[b] (k its index), or x[k, ...] inside
// hl.tile(P[b], P[b + 1]), with x one of the guard's rows tensors; or an element of such a row
// through a flat view, x.view(-1)[row * S + m] with S the product of x's other sizes and m the
// index of an hl.tile / hl.grid loop over [0, S). A row may also be P[b] + k for k the index of a
// loop from 0 under the mask `k < P[b + 1] - P[b]` (the access's extra_mask). Once the guard has
// passed (P non-decreasing
// from P[0] >= 0, every P[i] <= x.size(0)), such a row is in [0, x.size(0)) at every valid
// position of the loop, so the first dimension needs no bounds check
// (plan/pass_bounds_checks.h). Empty when the kernel stores into a parameter (or a view of one):
// a parameter that shares memory with P could change the offsets after the guard read them.
std::unordered_set<const ir::Node*> rows_within_guards(const ir::Kernel& kernel,
                                                       const std::vector<OffsetsGuard>& guards);

// "x_offsets rows <= x_values.size(0), out.size(0)" per guard, one per line, for explain and
// tests; "x_offsets (order only)" when the rows bound is unknown.
std::string to_string(const std::vector<OffsetsGuard>& guards);

}  // namespace jagtile::analysis
