// Builds the jagged parent map from the jagged_loop nodes themselves (not from the block table),
// so it describes exactly the loops the kernel runs; the block table must agree.
#include "analysis/jagged_parents.h"

namespace jagtile::analysis {

JaggedParentMap jagged_parent_map(const ir::Kernel& kernel) {
  JaggedParentMap map;
  ir::walk(kernel.body, [&](const ir::NodePtr& n) {
    if (n->kind != ir::NodeKind::jagged_loop) return;
    int id = int(n->ival);
    std::vector<int> parents(n->ints.begin(), n->ints.end());
    JAGTILE_CHECK(id >= 0 && size_t(id) < kernel.blocks.size() &&
                      kernel.blocks[size_t(id)].kind == ir::LoopKind::jagged &&
                      kernel.blocks[size_t(id)].parents == parents,
                  << "jagged loop #" << id << " disagrees with the block table");
    map[id] = std::move(parents);
  });
  return map;
}

std::string to_string(const JaggedParentMap& map) {
  std::string s = "{";
  bool first = true;
  for (const auto& [id, parents] : map) {
    s += (first ? "" : ", ") + std::to_string(id) + ": [";
    for (size_t i = 0; i < parents.size(); ++i) s += (i ? ", " : "") + std::to_string(parents[i]);
    s += "]";
    first = false;
  }
  return s + "}";
}

}  // namespace jagtile::analysis
