// Batch dims as grid loops (see pass_batch_loops.h). For each outermost tile loop, the candidate
// dims are the full batch dims of matmuls in loops nested inside it; the first one the whole
// body computes pointwise (BatchDimCheck) is taken. The loop is then rebuilt as
// `grid_loop #new 0, X { tile_loop { body without X } }` (BatchRebuild).
#include "ir/pass_batch_loops.h"

#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ir/rewrite.h"

namespace jagtile::ir {
namespace {

// Sizes that name the same full dim (ir.h: same_dim).
bool same_size(const NodePtr& a, const NodePtr& b) {
  return same_dim(Dim::full(a), Dim::full(b));
}

bool is_dim_of(const Dim& d, const NodePtr& size) {
  return d.kind == Dim::Kind::full && same_size(d.size, size);
}

// The position of the dim `size` in shape s, -1 when absent, -2 when it is there twice.
int axis_of(const Shape& s, const NodePtr& size) {
  int axis = -1;
  for (size_t d = 0; d < s.size(); ++d)
    if (is_dim_of(s[d], size)) axis = axis == -1 ? int(d) : -2;
  return axis;
}

// Pure host scalars that the lowering may leave inside a loop (the size of a `:` slice, such as
// `v[cols, :, :]` read again after `hl.specialize(v.size(2))`): the same at every batch position.
bool is_host_scalar(NodeKind k) {
  return k == NodeKind::const_int || k == NodeKind::const_float || k == NodeKind::const_bool ||
         k == NodeKind::size_of || k == NodeKind::numel;
}

// Whether every node of a tile loop's body computes pointwise along the dim `size` and the
// loop's work may be reordered by batch position (pass_batch_loops.h lists the rules).
class BatchDimCheck {
 public:
  explicit BatchDimCheck(NodePtr size) : size_(std::move(size)) {}

  bool holds_for(const Node& loop) {
    if (!block(loop.regions[0])) return false;
    for (const Node* t : stored_)
      if (loaded_.count(t)) return false;
    return true;
  }

 private:
  bool block(const Block& b) {
    for (const NodePtr& n : b) {
      if (!node(*n)) return false;
      inside_.insert(n.get());
      for (const Block& r : n->regions)
        if (!block(r)) return false;
    }
    return true;
  }

  // The axis of the dim in a value's type; -2 (twice) fails every rule below.
  int axis(const NodePtr& n) const {
    return n->type.is_value() ? axis_of(n->type.shape, size_) : -1;
  }

  bool node(const Node& n) {
    if (n.type.is_value() && axis_of(n.type.shape, size_) == -2) return false;
    for (const NodePtr& o : n.operands) {
      if (axis(o) == -2) return false;
      // A value that holds the dim, made outside the loop, would meet a broadcast dim inside.
      if (axis(o) >= 0 && !inside_.count(o.get())) return false;
    }
    switch (n.kind) {
      case NodeKind::binary:
      case NodeKind::unary:
      case NodeKind::where:
      case NodeKind::cast:
      case NodeKind::tile_attr:
      case NodeKind::iota:
      case NodeKind::full:
      case NodeKind::unsqueeze:
      case NodeKind::permute:
      case NodeKind::var_read:
      case NodeKind::tile_loop:
      case NodeKind::grid_loop:
      case NodeKind::if_:
        return true;
      case NodeKind::reduce: {
        const int a = axis(n.operands[0]);
        for (int64_t d : n.ints)
          if (d == a) return false;
        return true;
      }
      case NodeKind::scan:
        return n.ints.at(0) != axis(n.operands[0]);
      case NodeKind::matmul:
        // Batch dims only: the rows, columns and contraction stay whole.
        for (const NodePtr& o : n.operands)
          if (axis(o) >= int(o->type.shape.size()) - 2) return false;
        return axis_of(n.type.shape, size_) < int(n.type.shape.size()) - 2;
      case NodeKind::load:
        loaded_.insert(n.operands[0].get());
        return true;
      case NodeKind::store:
        stored_.insert(n.operands[0].get());
        return true;
      case NodeKind::jagged_loop:
        return axis(n.operands[0]) == -1;
      case NodeKind::var_decl:
        return true;
      case NodeKind::var_assign:
        return inside_.count(n.operands[0].get()) > 0;
      default:  // host work (allocations, asserts) runs once per call, not per position
        return is_host_scalar(n.kind);
    }
  }

  NodePtr size_;
  std::unordered_set<const Node*> inside_, loaded_, stored_;
};

// The full batch dims of matmuls in loops nested in `loop`, in program order.
std::vector<NodePtr> candidate_dims(const Node& loop) {
  std::vector<NodePtr> out;
  auto add = [&](const NodePtr& size) {
    for (const NodePtr& s : out)
      if (same_size(s, size)) return;
    out.push_back(size);
  };
  walk(loop.regions[0], [&](const NodePtr& inner) {
    if (!is_loop(inner->kind)) return;
    for (const Block& r : inner->regions)
      walk(r, [&](const NodePtr& m) {
        if (m->kind != NodeKind::matmul) return;
        const Shape& s = m->type.shape;
        for (size_t d = 0; d + 2 < s.size(); ++d)
          if (s[d].kind == Dim::Kind::full) add(s[d].size);
      });
  });
  return out;
}

// Copies of a body without the dim `size`: each value loses that axis, iota(size) becomes the
// batch loop's index (a scalar), and an operand that lines up a broadcast dim against it (the
// mask of `where(mask[None, :, :], s, 0)`, the [tile, 1, 1] index of a load) loses that dim too,
// so that every operation sees the ranks it saw, less one. Such a broadcast dim must come from
// an unsqueeze or a `full`; anything else (failed()) leaves the loop as it was.
class BatchRebuild {
 public:
  BatchRebuild(NodePtr size, int batch_block) : size_(std::move(size)), block_(batch_block) {}

  bool failed() const { return failed_; }

  Block block(const Block& b) {
    Block out;
    for (const NodePtr& n : b) {
      if (failed_) break;
      if (n->kind == NodeKind::iota && same_size(n->operands[0], size_)) {
        Node index;
        index.kind = NodeKind::tile_attr;
        index.op = Op::index;
        index.ival = block_;
        index.type = Type::value(n->type.dtype, {});
        index.loc = n->loc;
        out.push_back(make_node(std::move(index)));
        map_[n.get()] = out.back();
        continue;
      }
      if (is_host_scalar(n->kind)) {  // kept as it is: types inside the loop may name it
        out.push_back(n);
        continue;
      }
      const int axis = axis_here(*n);
      Node copy = *n;
      if (n->kind != NodeKind::var_assign) copy.type = without(n->type, axis);
      for (size_t i = 0; i < n->operands.size(); ++i) copy.operands[i] = operand(*n, i, axis, out);
      if (axis >= 0) adjust_attributes(*n, copy, axis);
      if (copy.kind == NodeKind::permute && is_identity(copy.ints)) {  // [H, t, D] -> [t, D]
        map_[n.get()] = copy.operands[0];
        continue;
      }
      if (copy.kind == NodeKind::load || copy.kind == NodeKind::store)
        for (size_t d = 1; d <= size_t(copy.operands[0]->type.rank); ++d)
          copy.operands[d] = scalar_if_one_position(copy.operands[d]);
      for (Block& r : copy.regions) r = block(r);
      out.push_back(make_node(std::move(copy)));
      map_[n.get()] = out.back();
    }
    return out;
  }

 private:
  static bool is_identity(const std::vector<int64_t>& perm) {
    for (size_t d = 0; d < perm.size(); ++d)
      if (perm[d] != int64_t(d)) return false;
    return true;
  }

  // An index that unsqueezes a scalar (the batch index, as [1, 1]) is that scalar: the load
  // reads one position of the dim, as `q[tile, head, :]` does.
  static NodePtr scalar_if_one_position(const NodePtr& index) {
    NodePtr v = index;
    while (v->kind == NodeKind::unsqueeze) v = v->operands[0];
    return v->type.is_value() && v->type.shape.empty() ? v : index;
  }

  // The dim's axis in what n computes: its value, a store's access, an assigned variable.
  int axis_here(const Node& n) const { return axis_of(shape_here(n), size_); }
  static const Shape& shape_here(const Node& n) {
    return n.kind == NodeKind::var_assign ? n.operands[0]->type.shape : n.type.shape;
  }

  static Type without(Type t, int axis) {
    if (axis >= 0 && size_t(axis) < t.shape.size()) t.shape.erase(t.shape.begin() + axis);
    return t;
  }

  // Operand i of n, rebuilt; where n's result has the dim at `axis` and the operand lines up a
  // broadcast dim against it (right-aligned, as broadcasting and matmul batch dims are; a load
  // or store index has rank 0 or the access's rank), that dim is dropped.
  NodePtr operand(const Node& n, size_t i, int axis, Block& out) {
    const NodePtr& o = n.operands[i];
    NodePtr mapped = map(o);
    if (axis < 0 || !o->type.is_value() || axis_of(o->type.shape, size_) >= 0) return mapped;
    switch (n.kind) {
      case NodeKind::binary:
      case NodeKind::where:
      case NodeKind::matmul:
      case NodeKind::load:
      case NodeKind::store:
      case NodeKind::var_decl:
      case NodeKind::var_assign:
        break;
      default:
        return mapped;  // structural ops: an operand without the dim gives a result without it
    }
    const int lined_up = axis - int(shape_here(n).size() - o->type.shape.size());
    if (lined_up < 0) return mapped;
    return dropped(mapped, lined_up, out);
  }

  // Value v (rebuilt) without its broadcast dim d: an unsqueeze that made it is skipped, a
  // `full` is made again without it, unsqueezes in between are made again.
  NodePtr dropped(const NodePtr& v, int d, Block& out) {
    if (v->kind == NodeKind::unsqueeze) {
      if (v->ival == d) return v->operands[0];
      const int inner = d - (v->ival < d ? 1 : 0);
      NodePtr operand = dropped(v->operands[0], inner, out);
      Node copy = *v;
      copy.operands = {operand};
      copy.ival = v->ival - (d < v->ival ? 1 : 0);
      copy.type = without(v->type, d);
      out.push_back(make_node(std::move(copy)));
      return out.back();
    }
    if (v->kind == NodeKind::full) {
      Node copy = *v;
      copy.type = without(v->type, d);
      out.push_back(make_node(std::move(copy)));
      return out.back();
    }
    failed_ = true;
    return v;
  }

  // Dim numbers that count the operand's dims, renumbered without its axis.
  void adjust_attributes(const Node& n, Node& copy, int axis) {
    auto renumber = [](int64_t d, int gone) { return d > gone ? d - 1 : d; };
    switch (n.kind) {
      case NodeKind::unsqueeze:
        copy.ival = n.ival - (axis < n.ival ? 1 : 0);
        break;
      case NodeKind::permute: {
        const int from = axis_of(n.operands[0]->type.shape, size_);
        copy.ints.clear();
        for (size_t d = 0; d < n.ints.size(); ++d)
          if (int(d) != axis) copy.ints.push_back(renumber(n.ints[d], from));
        break;
      }
      case NodeKind::reduce:
      case NodeKind::scan: {
        const int from = axis_of(n.operands[0]->type.shape, size_);
        for (int64_t& d : copy.ints) d = renumber(d, from);
        break;
      }
      default:
        break;
    }
  }

  NodePtr map(const NodePtr& n) const {
    auto it = map_.find(n.get());
    return it == map_.end() ? n : it->second;
  }

  NodePtr size_;
  int block_;
  bool failed_ = false;
  std::unordered_map<const Node*, NodePtr> map_;
};

std::string batch_loop_name(const NodePtr& size) {
  return "batch_" + (size->name.empty() ? std::string("dim") : size->name);
}

}  // namespace

Kernel loop_over_batch_dims(const Kernel& kernel) {
  // The outermost tile loops that qualify, with their dims (decided on the original nodes).
  std::unordered_map<const Node*, NodePtr> dims;
  std::function<void(const Block&)> find = [&](const Block& b) {
    for (const NodePtr& n : b) {
      if (n->kind == NodeKind::tile_loop) {
        for (const NodePtr& size : candidate_dims(*n)) {
          if (BatchDimCheck(size).holds_for(*n)) {
            dims[n.get()] = size;
            break;
          }
        }
        if (dims.count(n.get())) continue;
      }
      for (const Block& r : n->regions) find(r);
    }
  };
  find(kernel.body);
  if (dims.empty()) return kernel;

  std::vector<BlockInfo> blocks = kernel.blocks;
  Kernel out = rewrite_in_place(kernel, [&](const NodePtr& original, const NodePtr& rebuilt) {
    auto it = dims.find(original.get());
    if (it == dims.end()) return rebuilt;
    const NodePtr& size = it->second;
    BlockInfo info;
    info.id = int(blocks.size());
    info.kind = LoopKind::grid;
    info.block_size = 1;
    info.name = batch_loop_name(size);
    info.loc = original->loc;
    BatchRebuild body(size, info.id);
    Node tile = *rebuilt;
    tile.regions[0] = body.block(rebuilt->regions[0]);
    if (body.failed()) return rebuilt;
    blocks.push_back(info);
    Node grid;
    grid.kind = NodeKind::grid_loop;
    grid.ival = info.id;
    grid.operands = {const_int(0, original->loc), size};
    grid.regions = {Block{make_node(std::move(tile))}};
    grid.loc = original->loc;
    return make_node(std::move(grid));
  });
  out.blocks = std::move(blocks);
  return out;
}

}  // namespace jagtile::ir
