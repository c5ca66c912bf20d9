// The dispatch detector's entry point (both layers) and the plan's text, shared by
// `jagtile explain`, JAGTILE_DEBUG=dispatch and the template launcher.
#include "analysis/dispatch.h"

#include <cmath>
#include <sstream>

namespace jagtile::analysis {

ReduceSpec ReducePlan::spec() const {
  ReduceSpec s;
  s.op = op;
  s.init = init;
  s.post = post;
  s.post_value = post_value;
  s.masked_value = masked_value;
  s.out_dtype = out_dtype;
  return s;
}

std::string SizeGuard::str() const {
  return scalar_name + " == " + tensor_name + ".size(" + std::to_string(dim) + ")";
}

DispatchResult detect_dispatch(const ir::Kernel& kernel) {
  PairCheck pairs = check_pairs(jagged_parent_map(kernel));
  if (!pairs.matched()) {
    DispatchResult r;
    r.reason = pairs.reason;
    return r;
  }
  return match_reduce(kernel, *pairs.items_axis);
}

std::string dispatch_summary(const DispatchResult& result) {
  if (!result.matched()) return "generic";
  const ReducePlan& p = *result.plan;
  std::ostringstream os;
  os << "template jagged_reduce(op=" << reduce_op_name(p.op) << ", items_axis=" << p.items_axis
     << ", counts=" << (p.has_counts() ? "yes" : "no") << ")";
  for (size_t i = 0; i < p.guards.size(); ++i) os << (i ? " and " : " when ") << p.guards[i].str();
  return os.str();
}

namespace {

std::string number(float v) {
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string_view post_name(ReducePost p) {
  switch (p) {
    case ReducePost::identity:
      return "acc";
    case ReducePost::divide_by_count:
      return "acc / nnz";
    case ReducePost::divide_or_value:
      return "where(nnz > 0, acc / nnz, c)";
  }
  return "?";
}

}  // namespace

std::string plan_to_string(const ReducePlan& p) {
  std::ostringstream os;
  os << "op: " << reduce_op_name(p.op) << "\n"
     << "items axis: #" << p.items_axis << ", rows axis: #" << p.rows_axis;
  if (p.cols_axis >= 0) os << ", columns axis: #" << p.cols_axis;
  os << "\n"
     << "data: " << p.data_name << (p.flat_form ? " (flat view(-1) form)" : " (direct form)")
     << "\n"
     << "offsets: " << p.offsets_name << "\n"
     << "counts: " << (p.has_counts() ? p.counts_name : "none") << "\n"
     << "init: " << number(p.init) << "\n"
     << "post: " << post_name(p.post);
  if (p.post == ReducePost::divide_or_value) os << " with c = " << number(p.post_value);
  os << "\n"
     << "out: " << p.out_name << " " << dtype_name(p.out_dtype)
     << (p.out_rank == 2 ? " [B, M]" : " [B]") << ", allocated by "
     << (p.out_alloc == ir::Op::fill ? "full" : ir::op_name(p.out_alloc));
  if (p.has_counts()) os << ", masked columns hold " << number(p.masked_value);
  os << "\n";
  for (const SizeGuard& g : p.guards)
    os << "guard: " << g.str()
       << " (checked on every call; the generic path runs where it fails)\n";
  return os.str();
}

}  // namespace jagtile::analysis
