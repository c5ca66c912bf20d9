// Layer 1 of the dispatch detector: the pair check over the jagged parent map alone (the idea of
// the upstream pair-based detector). Pure: no IR walk, so every case is a one-line unit test.
#include <sstream>

#include "analysis/dispatch.h"

namespace jagtile::analysis {
namespace {

std::string block_list(const std::vector<int>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", #" : "#") + std::to_string(ids[i]);
  return s + "]";
}

}  // namespace

PairCheck check_pairs(const JaggedParentMap& parents) {
  PairCheck r;
  if (parents.empty()) {
    r.reason = "the kernel has no hl.jagged_tile loop";
    return r;
  }
  // Per-tile problems first: they name one loop, which is the more useful message.
  for (const auto& [child, ps] : parents) {
    if (ps.empty()) {
      r.reason = "jagged tile #" + std::to_string(child) + " has no parent tile recorded";
      return r;
    }
    if (ps.size() > 1) {
      r.reason = "jagged tile #" + std::to_string(child) + " has " + std::to_string(ps.size()) +
                 " parent tiles " + block_list(ps) +
                 " (a multi-dimensional parent); the template needs a single items axis";
      return r;
    }
  }
  const int axis = parents.begin()->second.front();
  for (const auto& [child, ps] : parents) {
    if (ps.front() != axis) {
      std::ostringstream os;
      os << "jagged tiles have different parents (#" << parents.begin()->first << " under #" << axis
         << ", #" << child << " under #" << ps.front()
         << "): several items axes; the template needs a single one";
      r.reason = os.str();
      return r;
    }
  }
  r.items_axis = axis;
  return r;
}

}  // namespace jagtile::analysis
