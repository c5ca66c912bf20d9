// Finding the outputs a kernel writes in full (see fully_written.h): one walk records every use
// of each candidate allocation and, for its stores, the control nodes around them; then a
// candidate is kept when nothing reads it and one of its stores covers every element, always or
// when the offsets end where the allocation does. Row indices are compared as index polynomials
// (dispatch_poly.h), as the offsets guards compare them, so spelling does not matter.
#include "analysis/fully_written.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/dispatch_poly.h"
#include "analysis/offsets_guards.h"

namespace jagtile::analysis {

namespace {

using detail::Poly;
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
  explicit Finder(const ir::Kernel& k) : k_(k), poly_(k) {
    for (size_t i = 0; i < k.body.size(); ++i) {
      const NodePtr& n = k.body[i];
      position_[n.get()] = i;
      if (n->kind == NodeKind::alloc && (n->op == ir::Op::zeros || n->op == ir::Op::fill))
        uses_[n.get()];
    }
    std::vector<const Node*> around;
    visit(k.body, around);
  }

  std::unordered_set<const Node*> always() {
    std::unordered_set<const Node*> out;
    for (const auto& [alloc, stores] : uses_) {
      if (read_.count(alloc)) continue;
      bool listed = false;
      for (const StoreSite& s : stores) listed = listed || covers(*alloc, s);
      for (const StoreSite& a : stores)
        for (const StoreSite& b : stores)
          listed = listed || (&a != &b && covers_together(*alloc, a, b));
      if (listed) out.insert(alloc);
    }
    return out;
  }

  // The candidates `listed` (always()) leaves that the items cover.
  std::vector<ItemRowsCover> by_items(const std::unordered_set<const Node*>& listed) {
    std::vector<ItemRowsCover> out;
    for (const NodePtr& n : k_.body) {  // program order, for stable output
      auto it = uses_.find(n.get());
      if (it == uses_.end() || read_.count(n.get()) || listed.count(n.get())) continue;
      for (const StoreSite& s : it->second) {
        if (std::optional<ItemRowsCover> c = covers_items(*n, s)) {
          out.push_back(*c);
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
        const Node* used = n->operands[i].get();
        auto view = view_of_.find(used);
        auto it = uses_.find(view == view_of_.end() ? used : view->second);
        if (it == uses_.end()) continue;
        if (n->kind == NodeKind::store && i == 0 && view == view_of_.end())
          it->second.push_back(StoreSite{n.get(), around});
        else if (n->kind == NodeKind::view && i == 0)
          view_of_[n.get()] = it->first;  // `out.reshape(N, M)`: its uses are the allocation's
        else if (n->kind != NodeKind::return_ && n->kind != NodeKind::size_of &&
                 n->kind != NodeKind::numel)
          read_.insert(it->first);  // a store through a view counts too: it is not analysed
      }
      if (n->regions.empty()) continue;
      around.push_back(n.get());
      for (const ir::Block& r : n->regions) visit(r, around);
      around.pop_back();
    }
  }

  // The loop whose tile index each dimension of the store's index is, when the store has no
  // extra_mask, every index is such a loop's, the loops are distinct and they are all that is
  // around it (nothing else that could skip it); nullopt otherwise.
  static std::optional<std::vector<const Node*>> index_loops(const Node& alloc,
                                                             const StoreSite& site) {
    const Node& store = *site.store;
    const size_t rank = size_t(alloc.type.rank);
    if (rank == 0) return std::nullopt;
    if (store.ival != 0 || store.operands.size() != rank + 2) return std::nullopt;  // extra_mask
    if (site.around.size() != rank) return std::nullopt;
    std::vector<const Node*> loops;
    for (size_t d = 0; d < rank; ++d) {
      const Node* index = store.operands[d + 1].get();
      while (index->kind == NodeKind::unsqueeze) index = index->operands[0].get();
      if (index->kind != NodeKind::tile_attr || index->op != ir::Op::index) return std::nullopt;
      const Node* loop = nullptr;
      for (const Node* c : site.around)
        if ((c->kind == NodeKind::tile_loop || c->kind == NodeKind::grid_loop) &&
            c->ival == index->ival)
          loop = c;
      if (!loop || std::find(loops.begin(), loops.end(), loop) != loops.end()) return std::nullopt;
      loops.push_back(loop);
    }
    return loops;  // rank distinct loops: nothing else is around
  }

  // The same value wherever each is evaluated: the same node or constant or parameter, or equal
  // index polynomials of sizes and scalars (`y.size(0)` read twice is two nodes). Not of loads:
  // a kernel could store to the tensor between the two reads.
  bool same_value(const NodePtr& a, const NodePtr& b) {
    if (same_host_value(a, b)) return true;
    const Poly pa = poly_.of(a);
    for (const std::string& atom : pa.atoms())
      if (atom.find('[') != std::string::npos) return false;
    return pa == poly_.of(b);
  }

  // The loop runs over [0, size d).
  bool spans(const Node& loop, const Node& alloc, size_t d) {
    return is_zero(loop.operands[0]) && same_value(loop.operands[1], alloc.operands[d]);
  }

  // The store writes every element of `alloc` (see fully_written.h).
  bool covers(const Node& alloc, const StoreSite& site) {
    std::optional<std::vector<const Node*>> loops = index_loops(alloc, site);
    if (!loops) return false;
    for (size_t d = 0; d < loops->size(); ++d)
      if (!spans(*(*loops)[d], alloc, d)) return false;
    return true;
  }

  // Two stores that write every element between them: inside the same loops on every dimension
  // but one, where the first runs over [0, m) and the second over [m, size) (Helion's
  // jagged_dense_add: the item's columns, then the rest from there; m may be a device value, the
  // same node in both). Whatever m is, [0, m) and [m, size) together hold [0, size).
  bool covers_together(const Node& alloc, const StoreSite& a, const StoreSite& b) {
    std::optional<std::vector<const Node*>> first = index_loops(alloc, a),
                                            second = index_loops(alloc, b);
    if (!first || !second) return false;
    int split = -1;
    for (size_t d = 0; d < first->size(); ++d) {
      if ((*first)[d] == (*second)[d]) {
        if (!spans(*(*first)[d], alloc, d)) return false;
      } else if (split < 0) {
        split = int(d);
      } else {
        return false;
      }
    }
    if (split < 0) return false;
    const Node& low = *(*first)[size_t(split)];
    const Node& high = *(*second)[size_t(split)];
    return is_zero(low.operands[0]) && same_value(low.operands[1], high.operands[0]) &&
           same_value(high.operands[1], alloc.operands[size_t(split)]);
  }

  static bool is_loop_from_zero(const Node& c) {
    return (c.kind == NodeKind::tile_loop || c.kind == NodeKind::grid_loop) &&
           is_zero(c.operands[0]);
  }

  Poly index(const Node& loop) const { return Poly::atom(poly_.index_atom(int(loop.ival))); }

  // A host value the executor has computed when it reaches `alloc`.
  bool known_before(const NodePtr& value, const Node& alloc) const {
    if (value->kind == NodeKind::const_int || value->kind == NodeKind::param) return true;
    auto at = position_.find(value.get());
    return at != position_.end() && at->second < position_.at(&alloc);
  }

  // The rows of items that `row_loop` walks inside item loop `item_loop` (offsets_guards.h,
  // item_row), with the offsets parameter; nullopt when it walks no item's rows. A jagged loop
  // over several extents (two levels) is not one item's rows.
  std::optional<std::pair<Poly, int>> item_rows(const Node& item_loop, const Node& row_loop) {
    if (row_loop.kind == NodeKind::jagged_loop && row_loop.operands.size() != 1)
      return std::nullopt;
    for (size_t p = 0; p < k_.params.size(); ++p) {
      const ir::ParamSpec& param = k_.params[p];
      if (param.kind != ir::ParamKind::tensor || param.rank != 1 || !dtype_is_int(param.dtype))
        continue;
      if (std::optional<Poly> row = item_row(poly_, int(p), int(item_loop.ival), row_loop))
        return std::make_pair(*row, int(p));
    }
    return std::nullopt;
  }

  // The store writes the rows of every item (see ItemRowsCover); every around node is a loop
  // the index uses, exactly once.
  std::optional<ItemRowsCover> covers_items(const Node& alloc, const StoreSite& site) {
    const Node& store = *site.store;
    const size_t rank = size_t(alloc.type.rank);
    if (rank == 0 || store.ival != 0 || store.operands.size() != rank + 2) return std::nullopt;
    std::set<const Node*> used;
    for (size_t d = 1; d < rank; ++d) {  // the columns: a loop over each size
      const Node* column = nullptr;
      for (const Node* c : site.around)
        if (is_loop_from_zero(*c) && !used.count(c) &&
            poly_.of(store.operands[d + 1]) == index(*c) &&
            poly_.of(c->operands[1]) == poly_.of(alloc.operands[d]))
          column = c;
      if (!column) return std::nullopt;
      used.insert(column);
    }
    const Poly at = poly_.of(store.operands[1]);
    for (const Node* item_loop : site.around) {
      if (!is_loop_from_zero(*item_loop) || used.count(item_loop)) continue;
      for (const Node* row_loop : site.around) {
        if (row_loop == item_loop || used.count(row_loop)) continue;
        std::optional<std::pair<Poly, int>> rows = item_rows(*item_loop, *row_loop);
        if (!rows) continue;
        ItemRowsCover cover{&alloc, rows->second, item_loop->operands[1].get(), nullptr};
        size_t loops = used.size() + 2;
        if (at != rows->first) {  // a flat store: row * S + m
          const Node* column = nullptr;
          for (const Node* c : site.around)
            if (rank == 1 && is_loop_from_zero(*c) && c != item_loop && c != row_loop &&
                at == rows->first * poly_.of(c->operands[1]) + index(*c))
              column = c;
          if (!column || !known_before(column->operands[1], alloc)) continue;
          cover.row_length = column->operands[1].get();
          ++loops;
        }
        if (loops == site.around.size() && known_before(item_loop->operands[1], alloc))
          return cover;
      }
    }
    return std::nullopt;
  }

  const ir::Kernel& k_;
  detail::PolyBuilder poly_;
  std::map<const Node*, size_t> position_;  // top-level nodes: their place in the body
  std::map<const Node*, std::vector<StoreSite>> uses_;
  std::map<const Node*, const Node*> view_of_;  // a view of a candidate -> the candidate
  std::set<const Node*> read_;
};

}  // namespace

WrittenInFull written_in_full(const ir::Kernel& kernel) {
  Finder finder(kernel);
  WrittenInFull out;
  out.always = finder.always();
  out.by_items = finder.by_items(out.always);
  return out;
}

std::unordered_set<const Node*> fully_written_allocations(const ir::Kernel& kernel) {
  return Finder(kernel).always();
}

std::vector<ItemRowsCover> item_covered_allocations(const ir::Kernel& kernel) {
  return written_in_full(kernel).by_items;
}

}  // namespace jagtile::analysis
