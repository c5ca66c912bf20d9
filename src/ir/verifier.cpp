// The verifier (see verifier.h). It walks blocks keeping the set of visible definitions and the
// stack of enclosing loops, and checks each node kind's contract as documented in ir.h.
#include "ir/verifier.h"

#include <algorithm>
#include <unordered_set>

namespace jagtile::ir {
namespace {

class Verifier {
 public:
  explicit Verifier(const Kernel& k) : k_(k) {}

  void run() { block(k_.body, 0); }

 private:
  void check(bool cond, const Node& n, const std::string& what) {
    JAGTILE_CHECK(cond, << "invalid IR in kernel '" << k_.name << "' at line " << n.loc.line
                        << ", node " << kind_name(n.kind) << ": " << what);
  }

  bool visible(const NodePtr& o) {
    if (!o) return false;
    if (o->kind == NodeKind::const_int || o->kind == NodeKind::const_float ||
        o->kind == NodeKind::const_bool || o->kind == NodeKind::param)
      return true;
    return defined_.count(o.get()) > 0;
  }

  static Shape shape_of(const NodePtr& n) { return n->type.is_value() ? n->type.shape : Shape{}; }

  // True when `from` broadcasts (right-aligned) into `to` without adding dims. Two full dims
  // match whatever their size expressions: lowering asserts on the host, before any loop, that
  // sizes of different tensors meeting in one op are equal (check_sizes_equal_at_run_time).
  static bool broadcasts_into(const Shape& from, const Shape& to) {
    if (from.size() > to.size()) return false;
    size_t off = to.size() - from.size();
    for (size_t i = 0; i < from.size(); ++i) {
      const Dim& a = from[i];
      const Dim& b = to[off + i];
      const bool both_full = a.kind == Dim::Kind::full && b.kind == Dim::Kind::full;
      if (!a.is_broadcast() && !both_full && !same_dim(a, b)) return false;
    }
    return true;
  }

  bool loop_active(int block) {
    return std::find(loops_.begin(), loops_.end(), block) != loops_.end();
  }

  void check_type(const Node& n, const Type& t) {
    for (const Dim& d : t.shape) {
      if (d.kind == Dim::Kind::tile) {
        check(d.block >= 0 && size_t(d.block) < k_.blocks.size(), n, "tile dim of unknown block");
        check(loop_active(d.block), n,
              "tile dim #" + std::to_string(d.block) + " outside its loop");
      } else if (d.kind == Dim::Kind::full) {
        check(d.size && d.size->type.kind == TypeKind::host_int, n, "full dim without int size");
        check(visible(d.size), n, "full dim size not defined before use");
      }
    }
  }

  void block(const Block& b, int depth) {
    std::vector<const Node*> added;
    for (const NodePtr& p : b) {
      check(p != nullptr, Node{}, "null node in block");
      node(*p, depth);
      defined_.insert(p.get());
      added.push_back(p.get());
    }
    for (const Node* n : added) defined_.erase(n);
  }

  void node(const Node& n, int depth) {
    for (const NodePtr& o : n.operands) {
      check(o != nullptr, n, "null operand");
      check(visible(o), n,
            std::string("operand ") + std::string(kind_name(o->kind)) +
                " is not defined before this use");
    }
    check_type(n, n.type);
    auto nops = n.operands.size();
    switch (n.kind) {
      case NodeKind::const_int:
      case NodeKind::const_float:
      case NodeKind::const_bool:
      case NodeKind::param:
        check(false, n, "leaves are never placed in blocks");
        break;
      case NodeKind::size_of:
        check(nops == 1 && n.operands[0]->type.is_tensor(), n, "needs one tensor");
        check(n.ival >= 0 && n.ival < n.operands[0]->type.rank, n, "dim out of range");
        break;
      case NodeKind::numel:
        check(nops == 1 && n.operands[0]->type.is_tensor(), n, "needs one tensor");
        break;
      case NodeKind::scalar_read:
        check(nops >= 1 && n.operands[0]->type.is_tensor(), n, "needs a tensor");
        check(int(nops) == 1 + n.operands[0]->type.rank, n, "one index per dim");
        break;
      case NodeKind::alloc:
        check(n.type.is_tensor() && depth == 0, n, "allocations are host-level tensors");
        break;
      case NodeKind::view:
        check(nops >= 1 && n.operands[0]->type.is_tensor() && n.type.is_tensor(), n,
              "view of a tensor");
        check(int(nops) == 1 + n.type.rank, n, "one size per dim");
        break;
      case NodeKind::binary:
        check(nops == 2, n, "two operands");
        check(n.type.is_host_scalar() || n.type.is_value(), n, "scalar or value result");
        if (n.type.is_host_scalar())
          check(n.operands[0]->type.is_host_scalar() && n.operands[1]->type.is_host_scalar(), n,
                "host result from host operands");
        else
          for (const NodePtr& o : n.operands)
            check(!o->type.is_tensor() && broadcasts_into(shape_of(o), n.type.shape), n,
                  "operands broadcast to the result shape");
        break;
      case NodeKind::unary:
      case NodeKind::cast:
        check(nops == 1 && !n.operands[0]->type.is_tensor(), n, "one scalar or value operand");
        if (n.type.is_value())
          check(shape_of(n.operands[0]).size() == n.type.shape.size() &&
                    broadcasts_into(shape_of(n.operands[0]), n.type.shape),
                n, "same shape as the operand");
        break;
      case NodeKind::where:
        check(nops == 3, n, "three operands");
        if (n.type.is_value())
          for (const NodePtr& o : n.operands)
            check(!o->type.is_tensor() && broadcasts_into(shape_of(o), n.type.shape), n,
                  "operands broadcast to the result shape");
        break;
      case NodeKind::tile_attr:
        check(loop_active(int(n.ival)), n, "tile attribute outside its loop");
        break;
      case NodeKind::iota:
        check(nops == 1 && n.type.is_value() && n.type.shape.size() == 1, n, "1-d full value");
        break;
      case NodeKind::full:
        check(nops == 1 && n.operands[0]->type.is_scalar() && n.type.is_value(), n,
              "a scalar fill and a value type");
        break;
      case NodeKind::unsqueeze:
        check(nops == 1 && n.operands[0]->type.is_value() && n.type.is_value() &&
                  n.type.shape.size() == n.operands[0]->type.shape.size() + 1,
              n, "adds one dim to a value");
        break;
      case NodeKind::permute: {
        check(nops == 1 && n.operands[0]->type.is_value() && n.type.is_value() &&
                  n.ints.size() == n.operands[0]->type.shape.size() &&
                  n.type.shape.size() == n.ints.size(),
              n, "reorders the dims of a value");
        std::vector<bool> seen(n.ints.size(), false);
        for (size_t d = 0; d < n.ints.size(); ++d) {
          const int64_t from = n.ints[d];
          check(from >= 0 && size_t(from) < n.ints.size() && !seen[size_t(from)], n,
                "a permutation of the operand's dims");
          seen[size_t(from)] = true;
          check(same_dim(n.type.shape[d], n.operands[0]->type.shape[size_t(from)]), n,
                "result dim d is operand dim ints[d]");
        }
        break;
      }
      case NodeKind::reduce:
        check(nops == 1 && n.operands[0]->type.is_value(), n, "reduces a value");
        check(n.type.shape.size() + n.ints.size() == n.operands[0]->type.shape.size(), n,
              "result rank = input rank - reduced dims");
        break;
      case NodeKind::scan:
        check(nops == 1 && n.operands[0]->type.is_value(), n, "scans a value");
        check(n.ints.size() == 1 && n.ints[0] >= 0 &&
                  size_t(n.ints[0]) < n.operands[0]->type.shape.size(),
              n, "one dim of the operand");
        check(n.type.shape.size() == n.operands[0]->type.shape.size(), n, "keeps the shape");
        break;
      case NodeKind::matmul:
        check(nops == 2 || nops == 3, n, "two operands and an optional acc");
        if (!n.ints.empty()) {  // a band (pass_band_matmuls.h): over the last two, tile dims
          check(n.ints.size() == 4 && (n.ints[0] == 1 || n.ints[0] == 2), n,
                "band = {mode 1 or 2, row block, column block, offset}");
          const Shape& s = n.ints[0] == 1 ? n.operands[0]->type.shape : n.type.shape;
          const size_t r = s.size();
          check(r >= 2 && r == n.type.shape.size() && s[r - 2].kind == Dim::Kind::tile &&
                    s[r - 2].block == n.ints[1] && s[r - 1].kind == Dim::Kind::tile &&
                    s[r - 1].block == n.ints[2],
                n,
                "a band's blocks are the last two dims of A (mode 1) or of the product (mode 2)");
        }
        break;
      case NodeKind::load:
      case NodeKind::store: {
        check(nops >= 1 && n.operands[0]->type.is_tensor(), n, "accesses a tensor");
        int rank = n.operands[0]->type.rank;
        size_t expect = 1 + size_t(rank) + (n.kind == NodeKind::store ? 1 : 0) + (n.ival ? 1 : 0);
        check(nops == expect, n, "tensor, one index per dim, [value], [extra_mask]");
        size_t R = n.type.shape.size();
        for (int d = 0; d < rank; ++d) {
          const Type& it = n.operands[size_t(1 + d)]->type;
          check(
              it.is_host_scalar() || (it.is_value() && (it.shape.empty() || it.shape.size() == R)),
              n, "index operands have rank 0 or the access's rank");
        }
        check(depth > 0, n, "loads and stores live inside device loops");
        if (n.kind == NodeKind::store)
          check(broadcasts_into(shape_of(n.operands[size_t(1 + rank)]), n.type.shape), n,
                "the stored value fits the access shape");
        break;
      }
      case NodeKind::tile_loop:
      case NodeKind::grid_loop:
      case NodeKind::jagged_loop: {
        int b = int(n.ival);
        check(b >= 0 && size_t(b) < k_.blocks.size(), n, "unknown block id");
        check(!loop_active(b), n, "loop nested in itself");
        check(n.regions.size() == 1, n, "one body");
        const BlockInfo& info = k_.blocks[size_t(b)];
        if (n.kind == NodeKind::jagged_loop) {
          check(info.kind == LoopKind::jagged && nops == 1, n, "jagged loop with extents");
          const Shape& es = n.operands[0]->type.shape;
          check(es.size() == info.parents.size() && !es.empty(), n, "parents match extents");
          for (size_t i = 0; i < es.size(); ++i)
            check(es[i].kind == Dim::Kind::tile && es[i].block == info.parents[i], n,
                  "parents match extents dims");
        } else {
          check(nops == 2, n, "begin and end");
          check(info.kind == (n.kind == NodeKind::grid_loop ? LoopKind::grid : LoopKind::tile), n,
                "block kind matches the loop");
        }
        loops_.push_back(b);
        block(n.regions[0], depth + 1);
        loops_.pop_back();
        return;
      }
      case NodeKind::if_:
        check(nops == 1 && n.operands[0]->type.is_scalar(), n, "scalar condition");
        for (const Block& r : n.regions) block(r, depth);
        return;
      case NodeKind::var_decl:
        check(nops == 1 && same_type(n.type, n.operands[0]->type), n, "typed by its init");
        break;
      case NodeKind::var_read:
        check(nops == 1 && n.operands[0]->kind == NodeKind::var_decl &&
                  same_type(n.type, n.operands[0]->type),
              n, "reads a variable");
        break;
      case NodeKind::var_assign:
        check(nops == 2 && n.operands[0]->kind == NodeKind::var_decl, n, "assigns a variable");
        if (n.operands[0]->type.is_value())
          check(broadcasts_into(shape_of(n.operands[1]), n.operands[0]->type.shape), n,
                "the value fits the variable's shape");
        break;
      case NodeKind::assert_:
        check(nops == 1 && depth == 0, n, "host-level assert");
        break;
      case NodeKind::return_:
        check(depth == 0, n, "host-level return");
        for (const NodePtr& o : n.operands) check(o->type.is_tensor(), n, "returns tensors");
        break;
    }
    check(n.regions.empty(), n, "unexpected regions");
  }

  const Kernel& k_;
  std::unordered_set<const Node*> defined_;
  std::vector<int> loops_;
};

}  // namespace

void verify(const Kernel& kernel) {
  Verifier(kernel).run();
}

}  // namespace jagtile::ir
