// Dead code elimination to a fixed point (see pass_dead_code.h). Loads are removable: an unused
// load's bounds error would only report a value nobody reads, which the compiled paths drop too.
#include "ir/pass_dead_code.h"

#include <unordered_set>

#include "ir/rewrite.h"

namespace jagtile::ir {
namespace {

bool has_effect(NodeKind k) {
  return k == NodeKind::store || k == NodeKind::tile_loop || k == NodeKind::grid_loop ||
         k == NodeKind::jagged_loop || k == NodeKind::if_ || k == NodeKind::var_assign ||
         k == NodeKind::assert_ || k == NodeKind::return_ || k == NodeKind::scalar_read;
}

}  // namespace

Kernel eliminate_dead_code(const Kernel& kernel) {
  Kernel k = rewrite(kernel, [](const NodePtr& n) { return n; });
  for (;;) {
    auto uses = use_counts(k);
    // Variables that are never read: their assignments are dead, then the declaration.
    std::unordered_set<const Node*> read_vars;
    walk(k.body, [&](const NodePtr& n) {
      if (n->kind == NodeKind::var_read) read_vars.insert(n->operands[0].get());
    });
    bool removed = false;
    Kernel next = rewrite(k, [&](const NodePtr& n) -> NodePtr {
      if (n->kind == NodeKind::var_assign && !read_vars.count(n->operands[0].get())) {
        removed = true;
        return nullptr;
      }
      if (n->kind == NodeKind::var_decl && !read_vars.count(n.get())) {
        // Its assignments go in this same sweep; the declaration follows on the next.
        if (uses[n.get()] == 0) {
          removed = true;
          return nullptr;
        }
        return n;
      }
      if (!has_effect(n->kind) && uses[n.get()] == 0) {
        removed = true;
        return nullptr;
      }
      return n;
    });
    k = std::move(next);
    if (!removed) return k;
  }
}

}  // namespace jagtile::ir
