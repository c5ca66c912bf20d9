// Kernel rebuilding for the passes (see rewrite.h).
#include "ir/rewrite.h"

#include <algorithm>
#include <unordered_map>

namespace jagtile::ir {
namespace {

class Rewriter {
 public:
  explicit Rewriter(const RewriteFn& fn, bool in_place = false) : fn_(fn), in_place_(in_place) {}

  NodePtr map(const NodePtr& n) {
    if (!n) return n;
    auto it = map_.find(n.get());
    return it == map_.end() ? n : it->second;
  }

  Type map_type(const Type& t) {
    Type out = t;
    for (Dim& d : out.shape)
      if (d.kind == Dim::Kind::full) d.size = map(d.size);
    return out;
  }

  Block block(const Block& b) {
    Block out;
    for (const NodePtr& n : b) {
      Node copy = *n;
      bool changed = false;
      for (NodePtr& o : copy.operands) {
        NodePtr m = map(o);
        changed |= m != o;
        o = m;
      }
      Type t = map_type(copy.type);
      for (size_t i = 0; i < t.shape.size(); ++i)
        changed |= t.shape[i].size != copy.type.shape[i].size;
      copy.type = t;
      for (Block& r : copy.regions) {
        Block nb = block(r);
        changed |= nb.size() != r.size() || !std::equal(nb.begin(), nb.end(), r.begin());
        r = std::move(nb);
      }
      NodePtr rebuilt = changed ? make_node(std::move(copy)) : n;
      NodePtr result = fn_(n, rebuilt);
      if (result != n) map_[n.get()] = result;
      if (result == rebuilt || in_place_) out.push_back(result);
    }
    return out;
  }

 private:
  const RewriteFn& fn_;
  const bool in_place_;  // every result is placed (rewrite_in_place)
  std::unordered_map<const Node*, NodePtr> map_;
};

}  // namespace

Kernel rewrite(const Kernel& kernel, const RewriteFn& fn) {
  Kernel out = kernel;
  Rewriter r(fn);
  out.body = r.block(kernel.body);
  return out;
}

Kernel rewrite_in_place(const Kernel& kernel, const RewriteFn& fn) {
  const RewriteFn each = [&](const NodePtr& original, const NodePtr& rebuilt) {
    NodePtr placed = fn(original, rebuilt);
    JAGTILE_CHECK(placed, << "rewrite_in_place drops no node");
    return placed;
  };
  Kernel out = kernel;
  Rewriter r(each, /*in_place=*/true);
  out.body = r.block(kernel.body);
  return out;
}

}  // namespace jagtile::ir
