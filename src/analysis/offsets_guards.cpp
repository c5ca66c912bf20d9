// Finds the offsets guards of a kernel (see offsets_guards.h): one walk collects the loads of
// rank-1 integer parameters at b.index and b.index + 1, a second the uses of each pair as item
// boundaries and the tensors whose rows they address. Indices are compared as the dispatch
// detector compares them (dispatch_poly.h), so spelling does not matter.
#include "analysis/offsets_guards.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "analysis/dispatch_poly.h"

namespace jagtile::analysis {
namespace {

using detail::Monomial;
using detail::Poly;
using detail::PolyBuilder;
using ir::NodeKind;
using ir::NodePtr;

// The part of p that multiplies atom a: the terms that hold a once, with a removed. nullopt when
// a term holds a more than once (not a row index).
std::optional<Poly> coefficient_of(const Poly& p, const std::string& a) {
  Poly c;
  for (const auto& [m, k] : p.terms) {
    auto n = std::count(m.begin(), m.end(), a);
    if (n == 0) continue;
    if (n > 1) return std::nullopt;
    Monomial rest = m;
    rest.erase(std::find(rest.begin(), rest.end(), a));
    Poly t;
    t.terms[rest] = k;
    c = c + t;
  }
  return c;
}

bool is_flat_view(const ir::Node& t) {
  return t.kind == NodeKind::view && t.operands.size() == 2 &&
         t.operand(1)->kind == NodeKind::const_int && t.operand(1)->ival == -1;
}

class Finder {
 public:
  explicit Finder(const ir::Kernel& k) : k_(k), poly_(k) {}

  std::vector<OffsetsGuard> run() {
    ir::walk(k_.body, [&](const NodePtr& n) { note_bound_load(n); });
    std::vector<OffsetsGuard> guards;
    for (int param : order_) {
      OffsetsGuard g;
      g.offsets_param = param;
      g.offsets_name = k_.params.at(size_t(param)).name;
      bool used = false;
      for (const auto& [key, ends] : pairs_) {
        if (key.first != param || !ends.first || !ends.second) continue;
        used |= pair_used(param, key.second, g.rows, g.item_blocks);
      }
      if (used) guards.push_back(std::move(g));
    }
    return guards;
  }

 private:
  Poly index(int block) const { return Poly::atom(poly_.index_atom(block)); }
  std::string offset_atom(int param, int block, int64_t shift) const {
    return poly_.load_atom(param, index(block) + Poly::constant(shift));
  }

  // A load of a rank-1 integer parameter at b.index (first) or b.index + 1 (second).
  void note_bound_load(const NodePtr& n) {
    if (n->kind != NodeKind::load || n->operands.size() != 2) return;
    const NodePtr& t = n->operand(0);
    if (t->kind != NodeKind::param || t->type.rank != 1 || !dtype_is_int(t->type.dtype)) return;
    const int param = int(t->ival);
    const Poly at = poly_.of(n->operand(1));
    for (size_t b = 0; b < k_.blocks.size(); ++b) {
      if (k_.blocks[b].kind == ir::LoopKind::jagged) continue;
      const Poly base = index(int(b));
      const bool lo = at == base, hi = at == base + Poly::constant(1);
      if (!lo && !hi) continue;
      auto& ends = pairs_[{param, int(b)}];
      (lo ? ends.first : ends.second) = true;
      if (std::find(order_.begin(), order_.end(), param) == order_.end()) order_.push_back(param);
    }
  }

  // Whether the pair P[b], P[b + 1] bounds items; adds the tensors whose rows it addresses.
  bool pair_used(int param, int block, std::vector<const ir::Node*>& rows,
                 std::vector<int>& item_blocks) {
    const std::string lo = offset_atom(param, block, 0);
    bool used = false;
    std::vector<std::string> row_atoms{lo};
    ir::walk(k_.body, [&](const NodePtr& n) {
      if (!item_row(poly_, param, block, *n)) return;
      used = true;
      if (n->kind == NodeKind::tile_loop) row_atoms.push_back(poly_.index_atom(int(n->ival)));
    });
    if (used) item_blocks.push_back(block);
    ir::walk(k_.body, [&](const NodePtr& n) {
      if (n->kind != NodeKind::load && n->kind != NodeKind::store) return;
      const NodePtr& t = n->operand(0);
      if (n->operands.size() < 2 || !t->type.is_tensor() || t->type.rank < 1) return;
      if (t->kind == NodeKind::param && t->ival == param) return;
      const Poly at = poly_.of(n->operand(1));
      // Direct: x[P[b] + k, ...]; flat: x.view(-1)[(P[b] + k) * (x.size(1) * ...) + m].
      const ir::Node* target = t.get();
      Poly stride = Poly::constant(1);
      if (is_flat_view(*t)) {
        const NodePtr& src = t->operand(0);
        target = src.get();
        for (int d = 1; d < src->type.rank; ++d) stride = stride * poly_.size_of(src, d);
      }
      for (const std::string& a : row_atoms) {
        std::optional<Poly> c = coefficient_of(at, a);
        if (c && c->terms.empty()) continue;  // the index does not use this boundary
        used = true;
        if (c && *c == stride) add_rows(rows, target);
      }
    });
    return used;
  }

  void add_rows(std::vector<const ir::Node*>& rows, const ir::Node* t) {
    for (const ir::Node* r : rows) {
      const bool same_param =
          r->kind == NodeKind::param && t->kind == NodeKind::param && r->ival == t->ival;
      if (r == t || same_param) return;
    }
    rows.push_back(t);
  }

  const ir::Kernel& k_;
  PolyBuilder poly_;
  std::map<std::pair<int, int>, std::pair<bool, bool>> pairs_;  // (param, block) -> (lo, hi)
  std::vector<int> order_;                                      // params in first-load order
};

}  // namespace

std::vector<OffsetsGuard> find_offsets_guards(const ir::Kernel& kernel) {
  return Finder(kernel).run();
}

std::optional<Poly> item_row(PolyBuilder& poly, int param, int block, const ir::Node& loop) {
  if (loop.kind != NodeKind::jagged_loop && loop.kind != NodeKind::tile_loop) return std::nullopt;
  const Poly b = Poly::atom(poly.index_atom(block));
  const Poly lo = Poly::atom(poly.load_atom(param, b));
  const Poly hi = Poly::atom(poly.load_atom(param, b + Poly::constant(1)));
  const Poly index = Poly::atom(poly.index_atom(int(loop.ival)));
  if (loop.kind == NodeKind::jagged_loop && poly.of(loop.operand(0)) == hi - lo) return lo + index;
  if (loop.kind == NodeKind::tile_loop && poly.of(loop.operand(0)) == lo &&
      poly.of(loop.operand(1)) == hi)
    return index;
  return std::nullopt;
}

std::unordered_set<const ir::Node*> rows_within_guards(const ir::Kernel& kernel,
                                                       const std::vector<OffsetsGuard>& guards) {
  std::unordered_set<const ir::Node*> out;
  bool stores_into_param = false;
  ir::walk(kernel.body, [&](const NodePtr& n) {
    if (n->kind != NodeKind::store) return;
    const ir::Node* t = n->operand(0).get();
    while (t->kind == NodeKind::view) t = t->operand(0).get();
    stores_into_param |= t->kind == NodeKind::param;
  });
  if (stores_into_param) return out;
  PolyBuilder poly(kernel);
  // The loops that walk an item's rows, with the row each one's index gives; the indices of the
  // hl.tile / hl.grid loops from 0, with their ends (a column of a flat row).
  std::vector<std::pair<const OffsetsGuard*, Poly>> item_rows;
  std::vector<std::pair<Poly, Poly>> columns;  // (index, end)
  ir::walk(kernel.body, [&](const NodePtr& n) {
    for (const OffsetsGuard& g : guards)
      for (int block : g.item_blocks)
        if (std::optional<Poly> row = item_row(poly, g.offsets_param, block, *n))
          item_rows.emplace_back(&g, *row);
    if ((n->kind == NodeKind::tile_loop || n->kind == NodeKind::grid_loop) &&
        poly.of(n->operand(0)) == Poly::constant(0))
      columns.emplace_back(Poly::atom(poly.index_atom(int(n->ival))), poly.of(n->operand(1)));
  });
  ir::walk(kernel.body, [&](const NodePtr& n) {
    if (n->kind != NodeKind::load && n->kind != NodeKind::store) return;
    const NodePtr& t = n->operand(0);
    if (n->operands.size() < 2 || !t->type.is_tensor() || t->type.rank < 1) return;
    const ir::Type& index_type = n->operand(1)->type;
    const bool integral = index_type.kind == ir::TypeKind::host_int ||
                          (index_type.is_value() &&
                           (index_type.dtype == DType::i32 || index_type.dtype == DType::i64));
    if (!integral) return;
    // Direct: x[row, ...]. Flat: x.view(-1)[row * S + m], S the product of x's other sizes and
    // m the index of a loop over [0, S), so the element is in x's row `row`.
    const bool flat = is_flat_view(*t);
    const ir::Node* target = flat ? t->operand(0).get() : t.get();
    Poly stride = Poly::constant(1);
    if (flat)
      for (int d = 1; d < t->operand(0)->type.rank; ++d)
        stride = stride * poly.size_of(t->operand(0), d);
    if (!PolyBuilder::sizes_named(stride)) return;
    const Poly at = poly.of(n->operand(1));
    // An access masked by `k < P[b + 1] - P[b]`, k a loop's index from 0 (jagged_dense_add's
    // `hl.tile(0, max_nnz)` under `in_item`), reads row P[b] + k of item b where it reads at all.
    std::vector<std::pair<const OffsetsGuard*, Poly>> rows = item_rows;
    if (n->ival == 1) {
      NodePtr m = n->operands.back();
      while (m->kind == NodeKind::unsqueeze) m = m->operand(0);
      if (m->kind == NodeKind::binary && m->op == ir::Op::lt) {
        const Poly k = poly.of(m->operand(0)), limit = poly.of(m->operand(1));
        const bool from_zero = std::any_of(columns.begin(), columns.end(),
                                           [&](const auto& c) { return c.first == k; });
        // Any loop b whose P[b] and P[b + 1] the mask reads (both loaded, so both in bounds).
        for (const OffsetsGuard& g : guards)
          for (size_t block = 0; block < kernel.blocks.size(); ++block) {
            if (kernel.blocks[block].kind == ir::LoopKind::jagged) continue;
            const Poly b = Poly::atom(poly.index_atom(int(block)));
            const Poly lo = Poly::atom(poly.load_atom(g.offsets_param, b));
            const Poly hi = Poly::atom(poly.load_atom(g.offsets_param, b + Poly::constant(1)));
            if (from_zero && limit == hi - lo) rows.emplace_back(&g, lo + k);
          }
      }
    }
    for (const auto& [g, row] : rows) {
      const bool rows_tensor = std::any_of(g->rows.begin(), g->rows.end(), [&](const ir::Node* r) {
        return r == target || (r->kind == NodeKind::param && target->kind == NodeKind::param &&
                               r->ival == target->ival);
      });
      if (!rows_tensor) continue;
      bool in_row = at == row * stride && stride == Poly::constant(1);
      for (const auto& [column, end] : columns)
        in_row = in_row || (end == stride && at == row * stride + column);
      if (in_row) {
        out.insert(n.get());
        return;
      }
    }
  });
  return out;
}

std::string to_string(const std::vector<OffsetsGuard>& guards) {
  std::ostringstream os;
  for (const OffsetsGuard& g : guards) {
    os << g.offsets_name;
    if (g.rows.empty()) {
      os << " (order only)\n";
      continue;
    }
    os << " rows <=";
    for (size_t i = 0; i < g.rows.size(); ++i)
      os << (i ? ", " : " ") << (g.rows[i]->name.empty() ? "<tensor>" : g.rows[i]->name)
         << ".size(0)";
    os << "\n";
  }
  return os.str();
}

}  // namespace jagtile::analysis
