// The dispatch detector (DESIGN §3): decides, for one specialised kernel, whether it is a
// per-item reduction over the jagged axis that the jagged_reduce template reproduces exactly,
// and if so, with which ReducePlan. Two pure layers, each unit-tested on its own:
//   1. check_pairs: over the jagged parent map only (a single items axis or not);
//   2. match_reduce: over the IR body (reads, loops, accumulator, post-op, store, output).
// Anything that does not match says why, so `jagtile explain` can print the reason.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/jagged_parents.h"
#include "ir/ir.h"
#include "jagtile/reduce.h"

namespace jagtile::analysis {

// ---- layer 1: pair check ------------------------------------------------------------------
struct PairCheck {
  std::optional<int> items_axis;  // the one parent block every jagged tile shares
  std::string reason;             // why not, when items_axis is empty
  bool matched() const { return items_axis.has_value(); }
};

// Matches when there is at least one jagged tile and every jagged tile has exactly one parent,
// the same block for all of them.
PairCheck check_pairs(const JaggedParentMap& parents);

// ---- layer 2: body match ------------------------------------------------------------------
// An equality the body match could only assume, which each call checks before the template
// runs: scalar argument `scalar` equals dim `dim` of tensor argument `tensor`. Helion's
// jagged_mean indexes its values with the host scalar `max_M` where the template's form has
// `x_data.size(1)`; the two kernels are the same exactly when the values agree, so the
// specialisation routes to the template under the guard and a call where it fails runs on the
// generic path instead.
struct SizeGuard {
  int scalar_param = -1;
  std::string scalar_name;
  int tensor_param = -1;
  std::string tensor_name;
  int dim = 0;
  std::string str() const;  // "max_M == x_data.size(1)"
};

// Everything the template needs to run the kernel with its exact semantics. Parameters are
// named (and indexed into Kernel::params) so the launcher binds them by name, never by rank.
struct ReducePlan {
  ReduceOp op = ReduceOp::sum;  // mean: a sum whose post divides by the item's row count
  int items_axis = -1;          // block id of the `tile` loop over items
  int rows_axis = -1;           // block id of the `jagged_tile` loop over an item's rows
  int cols_axis = -1;           // block id of the column loop; -1 for 1-D values [N]
  bool flat_form = false;       // values read through `x.view(-1)` at `rows * M + cols`

  int data_param = -1;  // values [N] or [N, M]
  std::string data_name;
  int offsets_param = -1;  // [B + 1]
  std::string offsets_name;
  int counts_param = -1;  // per-item column counts [B] (the column loop is a jagged_tile); -1: none
  std::string counts_name;

  float init = 0.0f;  // the accumulator's start value
  ReducePost post = ReducePost::identity;
  float post_value = 0.0f;  // the `c` of where(nnz > 0, acc / nnz, c)

  std::string out_name;  // the returned allocation's name ("out")
  DType out_dtype = DType::f32;
  int out_rank = 2;                  // 1 for [B], 2 for [B, M]
  ir::Op out_alloc = ir::Op::zeros;  // zeros | empty | fill
  float masked_value = 0.0f;         // what the allocation holds where the kernel stores nothing

  // The output's allocation node (in the specialisation's IR): the template writes every
  // element of it. The kernel's host asserts and `.item()` reads run on the host executor, as
  // for every backend.
  const ir::Node* out_node = nullptr;

  // Equalities each call must satisfy for the template to run (usually none).
  std::vector<SizeGuard> guards;

  bool has_counts() const { return counts_param >= 0; }
  // The template spec for this plan; the caller sets feature_counts from the counts argument.
  ReduceSpec spec() const;
};

struct DispatchResult {
  std::optional<ReducePlan> plan;
  std::string reason;  // why the kernel is not template-shaped, when plan is empty
  bool matched() const { return plan.has_value(); }
};

// Layer 2 alone, for a kernel whose items axis is known (from check_pairs).
DispatchResult match_reduce(const ir::Kernel& kernel, int items_axis);

// Both layers: the decision for one specialisation.
DispatchResult detect_dispatch(const ir::Kernel& kernel);

// "template jagged_reduce(op=sum, items_axis=0, counts=no)" or "generic".
std::string dispatch_summary(const DispatchResult& result);
// The plan, one field per line ("op: sum\ndata: x_values (flat view)\n...").
std::string plan_to_string(const ReducePlan& plan);

}  // namespace jagtile::analysis
