// Dead code elimination to a fixed point (see pass_dead_code.h). Loads are removable: an unused
// load's bounds error would only report a value nobody reads, which the compiled paths drop too.
#include "ir/pass_dead_code.h"

#include <unordered_set>

#include "ir/rewrite.h"

namespace jagtile::ir {
namespace {

bool has_effect(NodeKind k) {  // nodes kept whether or not their value is used
  return k == NodeKind::store || k == NodeKind::tile_loop || k == NodeKind::grid_loop ||
         k == NodeKind::jagged_loop || k == NodeKind::if_ || k == NodeKind::var_assign ||
         k == NodeKind::assert_ || k == NodeKind::return_ || k == NodeKind::scalar_read;
}

}  // namespace

Kernel eliminate_dead_code(const Kernel& kernel) {
  // Mark: everything an effect depends on is live; a variable is live when a live node reads
  // it, and then its assignments are live too (to a fixed point, since an assignment may read
  // other variables). A variable read only by its own updates stays dead.
  std::unordered_set<const Node*> live;
  std::vector<const Node*> work;
  auto mark = [&](const Node* n) {
    if (n && live.insert(n).second) work.push_back(n);
  };
  std::vector<const Node*> assigns;
  walk(kernel.body, [&](const NodePtr& n) {
    if (has_effect(n->kind) && n->kind != NodeKind::var_assign) mark(n.get());
    if (n->kind == NodeKind::var_assign) assigns.push_back(n.get());
  });
  for (;;) {
    while (!work.empty()) {
      const Node* n = work.back();
      work.pop_back();
      for (const NodePtr& o : n->operands) mark(o.get());
      for (const Dim& d : n->type.shape)
        if (d.kind == Dim::Kind::full) mark(d.size.get());
    }
    bool more = false;
    for (const Node* a : assigns)
      if (!live.count(a) && live.count(a->operands[0].get())) {
        mark(a);
        more = true;
      }
    if (!more) break;
  }
  return rewrite(kernel, [&](const NodePtr& original, const NodePtr& n) -> NodePtr {
    if (is_loop(n->kind) || n->kind == NodeKind::if_) return n;
    return live.count(original.get()) ? n : nullptr;
  });
}

}  // namespace jagtile::ir
