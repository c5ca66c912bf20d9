// Finds the indices in bounds by construction (see static_bounds.h): one walk records each
// hl.tile / hl.grid loop that starts at 0 with its end as a polynomial, a second compares every
// access's index in each dimension with the loops' indices and the tensor's size there.
#include "analysis/static_bounds.h"

#include <map>
#include <optional>

#include "analysis/dispatch_poly.h"

namespace jagtile::analysis {
namespace {

using detail::Poly;
using detail::PolyBuilder;
using ir::NodeKind;
using ir::NodePtr;

class Finder {
 public:
  explicit Finder(const ir::Kernel& k) : k_(k), poly_(k) {}

  InBoundsDims run() {
    ir::walk(k_.body, [&](const NodePtr& n) {
      if ((n->kind == NodeKind::tile_loop || n->kind == NodeKind::grid_loop) &&
          poly_.of(n->operand(0)) == Poly::constant(0))
        loop_ends_[int(n->ival)] = poly_.of(n->operand(1));
    });
    InBoundsDims out;
    ir::walk(k_.body, [&](const NodePtr& n) {
      if (n->kind != NodeKind::load && n->kind != NodeKind::store) return;
      const NodePtr& t = n->operand(0);
      if (!t->type.is_tensor() || t->type.rank > 32) return;
      uint32_t dims = 0;
      for (int d = 0; d < t->type.rank && size_t(d) + 1 < n->operands.size(); ++d) {
        std::optional<Poly> extent = extent_of(n->operand(size_t(d) + 1));
        if (!extent) continue;
        const Poly size = poly_.size_of(t, d);
        if (*extent == size && PolyBuilder::sizes_named(size)) dims |= uint32_t(1) << d;
      }
      if (dims) out[n.get()] = dims;
    });
    return out;
  }

 private:
  // S when `index` takes only values in [0, S) at valid positions: a loop index over [0, S) or an
  // iota of S, through broadcasts (unsqueeze).
  std::optional<Poly> extent_of(NodePtr index) {
    while (index->kind == NodeKind::unsqueeze) index = index->operand(0);
    if (index->kind == NodeKind::iota) return poly_.of(index->operand(0));
    if (index->kind != NodeKind::tile_attr || index->op != ir::Op::index) return std::nullopt;
    auto it = loop_ends_.find(int(index->ival));
    if (it == loop_ends_.end()) return std::nullopt;
    return it->second;
  }

  const ir::Kernel& k_;
  PolyBuilder poly_;
  std::map<int, Poly> loop_ends_;  // block id -> end, for the loops that start at 0
};

}  // namespace

InBoundsDims dims_within_loops(const ir::Kernel& kernel) {
  return Finder(kernel).run();
}

}  // namespace jagtile::analysis
