// Matmul bands from causal index masks (see pass_band_matmuls.h). The analysis reads the kernel
// once for every node's users, then decides each matmul on its own: zero_a from its A operand,
// else unused_c from where its product goes. The matmuls it marks are rebuilt with their band;
// nothing else changes.
#include "ir/pass_band_matmuls.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <utility>

#include "ir/rewrite.h"

namespace jagtile::ir {
namespace {

// A tile loop's index plus a constant, as one side of a mask holds it: the tile dim at
// position `pos` of a 2-D [tile, 1] or [1, tile] shape.
struct AffineIndex {
  int block = -1;
  int64_t plus = 0;
  size_t pos = 0;
};

class BandFinder {
 public:
  explicit BandFinder(const Kernel& kernel) : kernel_(kernel) {
    walk(kernel.body, [&](const NodePtr& n) {
      for (size_t i = 0; i < n->operands.size(); ++i)
        users_[n->operands[i].get()].push_back({n.get(), i});
    });
  }

  // {mode, row block, column block, offset}, or empty when the matmul has no band.
  std::vector<int64_t> band(const Node& mm) {
    const size_t rank = mm.type.shape.size();
    if (rank < 2 || mm.operands[0]->type.shape.size() != rank ||
        mm.operands[1]->type.shape.size() != rank)
      return {};
    NodePtr a = mm.operands[0];
    while (a->kind == NodeKind::cast) a = a->operands[0];
    if (a->kind == NodeKind::where && is_zero_constant(a->operands[2]) &&
        tile_pair(a->type.shape)) {
      const int r = a->type.shape[rank - 2].block, c = a->type.shape[rank - 1].block;
      if (std::optional<int64_t> off = mask_band(a->operands[0], r, c))
        return {int64_t(MatmulBand::zero_a), r, c, *off};
    }
    if (!tile_pair(mm.type.shape)) return {};
    const int r = mm.type.shape[rank - 2].block, c = mm.type.shape[rank - 1].block;
    if (std::optional<int64_t> off = used_band(mm, r, c))
      return {int64_t(MatmulBand::unused_c), r, c, *off};
    return {};
  }

 private:
  // [batch..., tile r, tile c], both plain tile loops (where position p of a dim is index
  // begin + p); the batch dims (Helion's heads) are any others.
  bool tile_pair(const Shape& s) const {
    if (s.size() < 2) return false;
    for (size_t d = s.size() - 2; d < s.size(); ++d)
      if (s[d].kind != Dim::Kind::tile ||
          kernel_.blocks.at(size_t(s[d].block)).kind != LoopKind::tile)
        return false;
    return true;
  }

  // The widest band that every use of the product, followed through elementwise ops of the
  // same shape, keeps only inside: each path must end as the kept operand of a banded where.
  std::optional<int64_t> used_band(const Node& mm, int r, int c) {
    std::optional<int64_t> widest;
    std::vector<const Node*> work = {&mm};
    while (!work.empty()) {
      const Node* v = work.back();
      work.pop_back();
      auto it = users_.find(v);
      if (it == users_.end()) continue;
      for (const auto& [user, index] : it->second) {
        if (!same_shape(user->type.shape, mm.type.shape)) return std::nullopt;
        switch (user->kind) {
          case NodeKind::unary:
          case NodeKind::cast:
          case NodeKind::binary:
            work.push_back(user);
            break;
          case NodeKind::where: {
            if (index != 1) return std::nullopt;
            std::optional<int64_t> off = mask_band(user->operands[0], r, c);
            if (!off) return std::nullopt;
            widest = widest ? std::max(*widest, *off) : *off;
            break;
          }
          default:
            return std::nullopt;
        }
      }
    }
    return widest;
  }

  static bool same_shape(const Shape& a, const Shape& b) {
    if (a.size() != b.size()) return false;
    for (size_t d = 0; d < a.size(); ++d)
      if (!same_dim(a[d], b[d])) return false;
    return true;
  }

  // The offset of the band outside which mask m is false, rows of loop r and columns of loop c.
  std::optional<int64_t> mask_band(const NodePtr& m, int r, int c) {
    // A 2-D mask given batch dims in front (`mask[None, :, :]`) is the same mask in each.
    if (m->kind == NodeKind::unsqueeze && m->type.shape.size() > 2 &&
        size_t(m->ival) < m->type.shape.size() - 2)
      return mask_band(m->operands[0], r, c);
    if (m->kind != NodeKind::binary) return std::nullopt;
    const NodePtr& a = m->operands[0];
    const NodePtr& b = m->operands[1];
    if (m->op == Op::logical_and || m->op == Op::bit_and) {  // false wherever either side is
      std::optional<int64_t> x = mask_band(a, r, c), y = mask_band(b, r, c);
      if (x && y) return std::min(*x, *y);
      return x ? x : y;
    }
    std::optional<AffineIndex> ia = affine_index(a), ib = affine_index(b);
    if (!ia || !ib) return std::nullopt;
    auto is_row = [&](const AffineIndex& x) { return x.block == r && x.pos == 0; };
    auto is_col = [&](const AffineIndex& x) { return x.block == c && x.pos == 1; };
    // row + p >= col + q keeps col <= row + (p - q); `>` keeps one less.
    if (is_row(*ia) && is_col(*ib)) {
      if (m->op == Op::ge) return ia->plus - ib->plus;
      if (m->op == Op::gt) return ia->plus - ib->plus - 1;
    } else if (is_col(*ia) && is_row(*ib)) {
      if (m->op == Op::le) return ib->plus - ia->plus;
      if (m->op == Op::lt) return ib->plus - ia->plus - 1;
    }
    return std::nullopt;
  }

  // `t.index`, unsqueezed into a 2-D shape, plus or minus integer constants.
  std::optional<AffineIndex> affine_index(const NodePtr& e) {
    if (e->kind == NodeKind::binary && (e->op == Op::add || e->op == Op::sub)) {
      const bool rhs_const = e->operands[1]->kind == NodeKind::const_int;
      const bool lhs_const = e->operands[0]->kind == NodeKind::const_int;
      if (rhs_const) {
        std::optional<AffineIndex> x = affine_index(e->operands[0]);
        if (x) x->plus += e->op == Op::add ? e->operands[1]->ival : -e->operands[1]->ival;
        return x;
      }
      if (lhs_const && e->op == Op::add) {
        std::optional<AffineIndex> x = affine_index(e->operands[1]);
        if (x) x->plus += e->operands[0]->ival;
        return x;
      }
      return std::nullopt;
    }
    if (e->kind != NodeKind::unsqueeze || e->type.shape.size() != 2) return std::nullopt;
    const NodePtr& t = e->operands[0];
    if (t->kind != NodeKind::tile_attr || t->op != Op::index || t->type.shape.size() != 1)
      return std::nullopt;
    const size_t pos = e->ival == 0 ? 1 : 0;  // the new broadcast dim is the other one
    if (e->type.shape[pos].kind != Dim::Kind::tile) return std::nullopt;
    if (kernel_.blocks.at(size_t(t->ival)).kind != LoopKind::tile) return std::nullopt;
    return AffineIndex{int(t->ival), 0, pos};
  }

  const Kernel& kernel_;
  std::unordered_map<const Node*, std::vector<std::pair<const Node*, size_t>>> users_;
};

}  // namespace

Kernel band_matmuls(const Kernel& kernel) {
  BandFinder finder(kernel);
  // Decided on the original nodes, which the users map holds.
  std::unordered_map<const Node*, std::vector<int64_t>> bands;
  walk(kernel.body, [&](const NodePtr& n) {
    if (n->kind != NodeKind::matmul || !n->ints.empty()) return;
    std::vector<int64_t> band = finder.band(*n);
    if (!band.empty()) bands[n.get()] = std::move(band);
  });
  if (bands.empty()) return kernel;
  return rewrite_in_place(kernel, [&](const NodePtr& original, const NodePtr& rebuilt) {
    auto it = bands.find(original.get());
    if (it == bands.end()) return rebuilt;
    Node copy = *rebuilt;
    copy.ints = it->second;
    return make_node(std::move(copy));
  });
}

}  // namespace jagtile::ir
