// Finding the outputs a kernel writes in full (see fully_written.h): one walk records every use
// of each candidate allocation and, for its stores, the control nodes around them; then a
// candidate is kept when nothing reads it and one of its stores covers every element.
#include "analysis/fully_written.h"

#include <map>
#include <set>
#include <vector>

namespace jagtile::analysis {

namespace {

using ir::Node;
using ir::NodeKind;
using ir::NodePtr;

// The same host value: one node, or two equal integer constants, or one parameter.
bool same_host_value(const NodePtr& a, const NodePtr& b) {
  if (a.get() == b.get()) return true;
  if (a->kind != b->kind) return false;
  return (a->kind == NodeKind::const_int || a->kind == NodeKind::param) && a->ival == b->ival;
}

bool is_zero(const NodePtr& n) {
  return n->kind == NodeKind::const_int && n->ival == 0;
}

struct StoreSite {
  const Node* store;
  std::vector<const Node*> around;  // the control nodes enclosing it, outermost first
};

class Finder {
 public:
  explicit Finder(const ir::Kernel& k) {
    for (const NodePtr& n : k.body)
      if (n->kind == NodeKind::alloc && (n->op == ir::Op::zeros || n->op == ir::Op::fill))
        uses_[n.get()];
    std::vector<const Node*> around;
    visit(k.body, around);
  }

  std::unordered_set<const Node*> result() const {
    std::unordered_set<const Node*> out;
    for (const auto& [alloc, stores] : uses_) {
      if (read_.count(alloc)) continue;
      for (const StoreSite& s : stores) {
        if (covers(*alloc, s)) {
          out.insert(alloc);
          break;
        }
      }
    }
    return out;
  }

 private:
  void visit(const ir::Block& block, std::vector<const Node*>& around) {
    for (const NodePtr& n : block) {
      for (size_t i = 0; i < n->operands.size(); ++i) {
        auto it = uses_.find(n->operands[i].get());
        if (it == uses_.end()) continue;
        if (n->kind == NodeKind::store && i == 0)
          it->second.push_back(StoreSite{n.get(), around});
        else if (n->kind != NodeKind::return_ && n->kind != NodeKind::size_of &&
                 n->kind != NodeKind::numel)
          read_.insert(it->first);
      }
      if (n->regions.empty()) continue;
      around.push_back(n.get());
      for (const ir::Block& r : n->regions) visit(r, around);
      around.pop_back();
    }
  }

  // The store writes every element of `alloc` (see fully_written.h).
  static bool covers(const Node& alloc, const StoreSite& site) {
    const Node& store = *site.store;
    const size_t rank = size_t(alloc.type.rank);
    if (rank == 0) return false;
    if (store.ival != 0 || store.operands.size() != rank + 2) return false;  // extra_mask
    if (site.around.size() != rank) return false;
    std::set<const Node*> loops_used;
    for (size_t d = 0; d < rank; ++d) {
      const Node* index = store.operands[d + 1].get();
      while (index->kind == NodeKind::unsqueeze) index = index->operands[0].get();
      if (index->kind != NodeKind::tile_attr || index->op != ir::Op::index) return false;
      const Node* loop = nullptr;
      for (const Node* c : site.around)
        if ((c->kind == NodeKind::tile_loop || c->kind == NodeKind::grid_loop) &&
            c->ival == index->ival)
          loop = c;
      if (!loop || !loops_used.insert(loop).second) return false;
      if (!is_zero(loop->operands[0]) || !same_host_value(loop->operands[1], alloc.operands[d]))
        return false;
    }
    return true;  // rank loops, all distinct and all covering: nothing else is around
  }

  std::map<const Node*, std::vector<StoreSite>> uses_;
  std::set<const Node*> read_;
};

}  // namespace

std::unordered_set<const Node*> fully_written_allocations(const ir::Kernel& kernel) {
  return Finder(kernel).result();
}

}  // namespace jagtile::analysis
