// Layer 2 of the dispatch detector: the body match (DESIGN §3). Walks the specialised IR of a
// kernel whose items axis the pair check found and checks, piece by piece, that it computes
//
//   for b in items:  out[b, m] = post(init (+) x[offsets[b] + k, m] for k < nnz[b])
//
// with nothing else visible: one loop nest, one accumulator, one store into the one returned
// allocation. Every index is compared as a polynomial (dispatch_poly.h), so the spelling of the
// kernel does not matter but its meaning does. The first check that fails is the reason.
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "analysis/dispatch.h"
#include "analysis/dispatch_poly.h"

namespace jagtile::analysis {
namespace {

using detail::Poly;
using detail::PolyBuilder;
using ir::Block;
using ir::Dim;
using ir::Node;
using ir::NodeKind;
using ir::NodePtr;
using ir::Op;

struct NoMatch {
  std::string reason;
};

[[noreturn]] void fail(std::string reason) {
  throw NoMatch{std::move(reason)};
}

std::string at(const NodePtr& n) {
  return n && n->loc.line > 0 ? " (line " + std::to_string(n->loc.line) + ")" : "";
}

// A node as a user would recognise it: "binary.add", "load of x_values", "reduce.sum".
std::string describe(const NodePtr& n) {
  std::string s(ir::kind_name(n->kind));
  if (n->op != Op::none) s += "." + std::string(ir::op_name(n->op));
  if (n->kind == NodeKind::load && n->operand(0)->kind == NodeKind::param)
    s = "load of " + n->operand(0)->name;
  return s;
}

bool has_effect(NodeKind k) {
  return k == NodeKind::store || ir::is_loop(k) || k == NodeKind::if_ ||
         k == NodeKind::var_assign || k == NodeKind::assert_ || k == NodeKind::return_ ||
         k == NodeKind::scalar_read;
}

std::vector<NodePtr> effects(const Block& block) {
  std::vector<NodePtr> out;
  for (const NodePtr& n : block)
    if (has_effect(n->kind)) out.push_back(n);
  return out;
}

bool is_float(DType d) {
  return d == DType::f32 || d == DType::f16 || d == DType::bf16;
}

std::optional<double> const_value(const NodePtr& n) {
  if (n->kind == NodeKind::const_float) return n->fval;
  if (n->kind == NodeKind::const_int || n->kind == NodeKind::const_bool) return double(n->ival);
  return std::nullopt;
}

class Matcher {
 public:
  Matcher(const ir::Kernel& k, int items_axis) : k_(k), poly_(k), items_(items_axis) {
    index_positions(k.body);
    for (size_t p = 0; p < k.params.size(); ++p) {
      const ir::ParamSpec& s = k.params[p];
      if (s.kind == ir::ParamKind::int_scalar) scalar_atoms_[s.name] = int(p);
      if (s.kind == ir::ParamKind::tensor)
        for (int d = 0; d < s.rank; ++d) size_atoms_[poly_.size_atom(int(p), d)] = {int(p), d};
    }
  }

  ReducePlan run() {
    plan_.items_axis = items_;
    check_host();
    check_single_store();
    const NodePtr items_loop = top_loop_;
    // Descend to the region that holds the accumulator: the items loop's body (1-D values) or
    // the body of the one column loop inside it.
    const Block* region = &items_loop->regions.at(0);
    NodePtr cols_loop;
    std::vector<NodePtr> fx = effects(*region);
    bool has_store = false;
    for (const NodePtr& e : fx) has_store |= e->kind == NodeKind::store;
    if (!has_store) {
      if (fx.size() != 1 || !ir::is_loop(fx[0]->kind))
        fail("the items loop" + at(items_loop) + " holds " + count_of(fx) +
             "; the template needs exactly one column loop in it (or, for [N] values, one "
             "jagged loop and one store)");
      cols_loop = fx[0];
      region = &cols_loop->regions.at(0);
    }
    match_accumulation(*region);
    if (k_.params.at(size_t(plan_.data_param)).rank == 2 && !cols_loop)
      fail("the values '" + plan_.data_name + "' are [N, M] but the items loop" + at(items_loop) +
           " holds no column loop");
    match_items_loop(items_loop);
    if (cols_loop) match_cols_loop(cols_loop);
    match_output();
    return plan_;
  }

 private:
  // ---- where each node sits ----
  void index_positions(const Block& block) {
    for (size_t i = 0; i < block.size(); ++i) {
      pos_[block[i].get()] = {&block, i};
      for (const Block& r : block[i]->regions) index_positions(r);
    }
  }
  struct Pos {
    const Block* block = nullptr;
    size_t index = 0;
  };
  Pos pos(const NodePtr& n) const {
    auto it = pos_.find(n.get());
    return it == pos_.end() ? Pos{} : it->second;
  }

  std::string block_name(int id) const { return poly_.index_atom(id); }

  // "3 loops and 1 store", for messages about a loop body's statements with effects.
  static std::string count_of(const std::vector<NodePtr>& fx) {
    int loops = 0, stores = 0, other = 0;
    for (const NodePtr& e : fx) {
      if (ir::is_loop(e->kind))
        ++loops;
      else if (e->kind == NodeKind::store)
        ++stores;
      else
        ++other;
    }
    auto plural = [](int n, const char* what) {
      return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
    };
    std::string s = plural(loops, "loop") + " and " + plural(stores, "store");
    if (other) s += " and " + plural(other, "other statement") + " with effects";
    return s;
  }

  // ---- equalities under run-time guards ----
  // got == want, or equal once integer scalar parameters are replaced by tensor sizes. Each
  // replacement used becomes a guard the call checks (SizeGuard); the guards found so far are
  // applied first, so one scalar stands for one size throughout the match.
  bool same_or_guarded(const Poly& got, const Poly& want) {
    Poly g = got;
    for (const SizeGuard& guard : plan_.guards)
      g = g.substitute(guard.scalar_name, size_name(guard));
    if (g == want) return true;
    for (const std::string& scalar : g.atoms()) {
      auto s = scalar_atoms_.find(scalar);
      if (s == scalar_atoms_.end()) continue;
      for (const std::string& size : want.atoms()) {
        auto z = size_atoms_.find(size);
        if (z == size_atoms_.end() || g.substitute(scalar, size) != want) continue;
        SizeGuard guard;
        guard.scalar_param = s->second;
        guard.scalar_name = scalar;
        guard.tensor_param = z->second.first;
        guard.tensor_name = k_.params.at(size_t(guard.tensor_param)).name;
        guard.dim = z->second.second;
        plan_.guards.push_back(std::move(guard));
        return true;
      }
    }
    return false;
  }
  std::string size_name(const SizeGuard& g) const { return poly_.size_atom(g.tensor_param, g.dim); }

  // ---- host part ----
  void check_host() {
    std::vector<NodePtr> loops;
    for (const NodePtr& n : effects(k_.body)) {
      switch (n->kind) {
        case NodeKind::return_:
          ret_ = n;
          break;
        case NodeKind::assert_:
        case NodeKind::scalar_read:
          // Checks the host executor makes before the template runs (an assert, a
          // bounds-checked .item()). A value read this way that reaches a loop bound or a size
          // is an opaque atom there, and fails the match.
          break;
        case NodeKind::if_:
          fail("the host code has a runtime `if`" + at(n));
        default:
          if (ir::is_loop(n->kind))
            loops.push_back(n);
          else
            fail("the host code has a " + describe(n) + at(n));
      }
    }
    if (loops.size() != 1)
      fail("the kernel has " + std::to_string(loops.size()) +
           " top-level loops; the template needs a single loop over the items");
    top_loop_ = loops[0];
    if (top_loop_->kind != NodeKind::tile_loop || top_loop_->ival != items_)
      fail("the outermost loop" + at(top_loop_) + " is not the hl.tile over the items axis (#" +
           std::to_string(items_) + ")");
    if (!ret_) fail("the kernel returns nothing; the template produces one output tensor");
    if (ret_->operands.size() != 1)
      fail("the kernel returns " + std::to_string(ret_->operands.size()) +
           " tensors (two outputs); the template produces a single output" + at(ret_));
    out_ = ret_->operand(0);
    if (out_->kind != NodeKind::alloc)
      fail("the returned tensor '" + out_->name +
           "' is not an allocation made by the kernel "
           "(torch.zeros/empty/full)" +
           at(ret_));
  }

  void check_single_store() {
    std::vector<NodePtr> stores;
    ir::walk(k_.body, [&](const NodePtr& n) {
      if (n->kind == NodeKind::store) stores.push_back(n);
    });
    if (stores.empty()) fail("the kernel stores nothing");
    if (stores.size() > 1) {
      std::string where;
      for (const NodePtr& s : stores)
        where += (where.empty() ? "" : ", ") + s->operand(0)->name + at(s);
      fail("the kernel has " + std::to_string(stores.size()) + " stores (" + where +
           "); the template writes one output, once per position");
    }
    store_ = stores[0];
  }

  // ---- the accumulation: var_decl, jagged loop with one update, post, store ----
  void match_accumulation(const Block& region) {
    NodePtr rows_loop;
    std::vector<NodePtr> fx = effects(region);
    for (const NodePtr& e : fx) {
      if (e->kind == NodeKind::store) continue;  // store_ (the only one), checked below
      if (ir::is_loop(e->kind) && !rows_loop) {
        rows_loop = e;
        continue;
      }
      if (e->kind == NodeKind::var_assign)
        fail("the accumulator '" + e->operand(0)->name + "' is assigned outside the jagged loop" +
             at(e));
      fail("the loop around the accumulation holds " + count_of(fx) +
           " (several passes over the rows?); the template's shape is one jagged loop over the "
           "rows followed by one store");
    }
    if (!rows_loop) fail("no loop accumulates over the rows of an item");
    if (rows_loop->kind != NodeKind::jagged_loop)
      fail("the accumulation loop " + block_name(int(rows_loop->ival)) + at(rows_loop) +
           " runs over a non-jagged axis; the template reduces over an item's rows (a "
           "hl.jagged_tile)");
    plan_.rows_axis = int(rows_loop->ival);
    if (rows_loop->ints != std::vector<int64_t>{items_})
      fail("the row loop " + block_name(plan_.rows_axis) +
           " is not a jagged tile of the items axis");
    const Pos rows_pos = pos(rows_loop);
    if (pos(store_).block != &region || pos(store_).index < rows_pos.index)
      fail("the store" + at(store_) + " is not after the jagged loop, in the same loop body");

    // The one update inside the row loop.
    const Block& body = rows_loop->regions.at(0);
    std::vector<NodePtr> inner = effects(body);
    if (inner.size() != 1 || inner[0]->kind != NodeKind::var_assign)
      fail("the jagged loop" + at(rows_loop) + " must hold exactly one accumulator update and " +
           "nothing else with an effect; it holds " + std::to_string(inner.size()) +
           (inner.empty() ? "" : " (first: " + describe(inner[0]) + at(inner[0]) + ")"));
    const NodePtr update = inner[0];
    const NodePtr var = update->operand(0);
    if (pos(var).block != &region || pos(var).index > rows_pos.index)
      fail("the accumulator '" + var->name + "' is not declared just outside the jagged loop");
    check_accumulator_uses(var, rows_loop, region);
    match_init(var);
    find_offsets(rows_loop);
    match_update(update, var, body);
    match_post(var, region, rows_pos.index);
  }

  void check_accumulator_uses(const NodePtr& var, const NodePtr& rows_loop, const Block& region) {
    const Block* body = &rows_loop->regions.at(0);
    const size_t loop_index = pos(rows_loop).index;
    ir::walk(k_.body, [&](const NodePtr& n) {
      if (n->operands.empty() || n->operand(0) != var) return;
      Pos p = pos(n);
      if (n->kind == NodeKind::var_read) {
        if (p.block == body) return;
        if (p.block == &region && p.index > loop_index) return;
        fail("the accumulator '" + var->name + "' is used before the jagged loop" + at(n) +
             "; the template starts each item from a constant");
      }
      if (n->kind == NodeKind::var_assign && p.block != body)
        fail("the accumulator '" + var->name + "' is assigned outside the jagged loop" + at(n));
    });
  }

  void match_init(const NodePtr& var) {
    const ir::Type& t = var->type;
    if (!t.is_value() || !is_float(t.dtype))
      fail("the accumulator '" + var->name + "' has type " + ir::type_str(t, &k_) +
           "; the template accumulates float32, float16 or bfloat16 values in float32");
    acc_shape_ = t.shape;
    const NodePtr init = var->operand(0);
    std::optional<double> c;
    if (init->kind == NodeKind::full) c = const_value(init->operand(0));
    if (!c)
      fail("the accumulator '" + var->name + "' starts from " + describe(init) + at(init) +
           ", not a constant hl.zeros/hl.full: it is computed (used) before the jagged loop");
    plan_.init = float(*c);
  }

  // The jagged loop's extents are offsets[b + 1] - offsets[b] for one rank-1 integer parameter.
  void find_offsets(const NodePtr& rows_loop) {
    Poly ext = poly_.of(rows_loop->operand(0));
    for (size_t p = 0; p < k_.params.size(); ++p) {
      const ir::ParamSpec& s = k_.params[p];
      if (s.kind != ir::ParamKind::tensor || s.rank != 1 || dtype_is_float(s.dtype)) continue;
      if (ext == nnz_of(int(p))) {
        plan_.offsets_param = int(p);
        plan_.offsets_name = s.name;
        return;
      }
    }
    fail("the jagged loop" + at(rows_loop) + " runs to " + ext.str() + ", not offsets[" +
         block_name(items_) + " + 1] - offsets[" + block_name(items_) +
         "] for an offsets parameter (offsets read off by one?)");
  }

  Poly offset_at(int param, int64_t shift) const {
    return Poly::atom(
        poly_.load_atom(param, Poly::atom(poly_.index_atom(items_)) + Poly::constant(shift)));
  }
  Poly nnz_of(int param) const { return offset_at(param, 1) - offset_at(param, 0); }
  Poly index(int block) const { return Poly::atom(poly_.index_atom(block)); }

  static NodePtr strip_f32_casts(NodePtr n) {
    while (n->kind == NodeKind::cast && n->type.dtype == DType::f32 &&
           is_float(n->operand(0)->type.dtype))
      n = n->operand(0);
    return n;
  }

  void match_update(const NodePtr& update, const NodePtr& var, const Block& body) {
    const NodePtr c = update->operand(1);
    const char* shape_hint =
        "acc + x.sum(dim=...), torch.maximum(acc, x.amax(...)) or torch.minimum(acc, x.amin(...))";
    if (c->kind != NodeKind::binary ||
        (c->op != Op::add && c->op != Op::maximum && c->op != Op::minimum))
      fail("the accumulator update" + at(update) + " is " + describe(c) + ", not " + shape_hint);
    int self = -1;
    for (int i = 0; i < 2; ++i)
      if (c->operand(size_t(i))->kind == NodeKind::var_read &&
          c->operand(size_t(i))->operand(0) == var)
        self = i;
    if (self < 0)
      fail("the accumulator update" + at(update) + " does not combine the accumulator '" +
           var->name + "' with the new rows");
    if (pos(c->operand(size_t(self))).block != &body)
      fail("the accumulator update" + at(update) + " reads '" + var->name +
           "' from before the jagged loop");
    const NodePtr r = c->operand(size_t(1 - self));
    Op want = c->op == Op::add ? Op::sum : c->op == Op::maximum ? Op::amax : Op::amin;
    if (r->kind != NodeKind::reduce || r->op != want)
      fail("the accumulator update" + at(update) + " combines with " + describe(r) +
           ", not with a ." + std::string(ir::op_name(want)) + "() over the jagged axis (" +
           shape_hint + ")");
    plan_.op = c->op == Op::add       ? ReduceOp::sum
               : c->op == Op::maximum ? ReduceOp::max
                                      : ReduceOp::min;
    const NodePtr a = r->operand(0);
    int kpos = -1;
    for (size_t d = 0; d < a->type.shape.size(); ++d)
      if (a->type.shape[d].kind == Dim::Kind::tile && a->type.shape[d].block == plan_.rows_axis)
        kpos = int(d);
    if (kpos < 0 || r->ints != std::vector<int64_t>{kpos})
      fail("the reduction" + at(r) + " is over a non-jagged axis: it reduces dims " +
           dims_str(r->ints) + " of " + ir::type_str(a->type, &k_) + ", not the jagged axis " +
           block_name(plan_.rows_axis));
    if (!same_shape(r->type.shape, acc_shape_) || !same_shape(c->type.shape, acc_shape_))
      fail("the reduced value" + at(r) + " has shape " + ir::type_str(r->type, &k_) +
           ", not the accumulator's " + shape_str(acc_shape_));
    match_load(strip_f32_casts(a));
  }

  static std::string dims_str(const std::vector<int64_t>& d) {
    std::string s = "(";
    for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + ")";
  }
  static bool same_shape(const ir::Shape& a, const ir::Shape& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!ir::same_dim(a[i], b[i])) return false;
    return true;
  }
  std::string shape_str(const ir::Shape& s) const {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + ir::dim_str(s[i], &k_);
    return r + "]";
  }

  // ---- the data read: x[starts + k, cols] or x.view(-1)[(starts + k) * M + cols] ----
  void match_load(const NodePtr& ld) {
    if (ld->kind != NodeKind::load)
      fail("the reduced value is " + describe(ld) + at(ld) +
           ", not a plain load of the values (a transformed load); the template reduces the "
           "values as stored");
    if (ld->ival != 0) fail("the load of the values" + at(ld) + " has an extra_mask");
    NodePtr t = ld->operand(0);
    if (t->kind == NodeKind::view && t->operands.size() == 2 &&
        const_value(t->operand(1)) == -1.0 && t->operand(0)->kind == NodeKind::param) {
      plan_.flat_form = true;
      t = t->operand(0);
    }
    if (t->kind != NodeKind::param)
      fail("the values are read from " + describe(t) + at(ld) +
           ", not from a kernel parameter or its view(-1)");
    const int p = int(t->ival);
    const ir::ParamSpec& s = k_.params.at(size_t(p));
    if (!is_float(s.dtype))
      fail("the values '" + s.name + "' are " + std::string(dtype_name(s.dtype)) +
           "; the template reduces float32, float16 or bfloat16 values");
    if (s.rank != 1 && s.rank != 2)
      fail("the values '" + s.name + "' have rank " + std::to_string(s.rank) +
           "; the template reduces [N] or [N, M]");
    plan_.data_param = p;
    plan_.data_name = s.name;
    ir::Shape want_acc = {Dim::tile(items_)};
    if (s.rank == 2) want_acc.push_back(Dim::tile(cols_block()));
    if (!same_shape(acc_shape_, want_acc))
      fail("the accumulator has shape " + shape_str(acc_shape_) + ", not " + shape_str(want_acc));
    const size_t nidx = ld->operands.size() - 1;
    const Poly rows = offset_at(plan_.offsets_param, 0) + index(plan_.rows_axis);
    std::vector<Poly> want;
    if (plan_.flat_form) {
      Poly flat =
          s.rank == 2 ? rows * Poly::atom(poly_.size_atom(p, 1)) + index(cols_block()) : rows;
      want = {flat};
    } else {
      want = {rows};
      if (s.rank == 2) want.push_back(index(cols_block()));
    }
    JAGTILE_CHECK(nidx == want.size(),
                  << "load of rank " << s.rank << " with " << nidx << " indices");
    for (size_t i = 0; i < nidx; ++i) {
      Poly got = poly_.of(ld->operand(i + 1));
      if (!same_or_guarded(got, want[i]))
        fail("the values are read at index " + got.str() + at(ld) + ", not " + want[i].str() +
             " (the item's rows " + rows.str() + (s.rank == 2 ? ", the column tile" : "") + ")");
    }
    // The load's shape must be exactly the items, rows and (for [N, M]) column tiles.
    std::vector<int> want_blocks = {items_, plan_.rows_axis};
    if (s.rank == 2) want_blocks.push_back(cols_block());
    std::vector<int> seen;
    for (const Dim& d : ld->type.shape) {
      if (d.kind == Dim::Kind::broadcast) continue;
      if (d.kind != Dim::Kind::tile)
        fail("the load of the values" + at(ld) + " has a full dimension (`:`)");
      seen.push_back(d.block);
    }
    std::sort(seen.begin(), seen.end());
    std::sort(want_blocks.begin(), want_blocks.end());
    if (seen != want_blocks)
      fail("the load of the values" + at(ld) + " has shape " + ir::type_str(ld->type, &k_) +
           "; it must span exactly the items, rows and column tiles");
  }

  // The column block id: the accumulator's tile dim other than the items axis.
  int cols_block() {
    if (plan_.cols_axis >= 0) return plan_.cols_axis;
    for (const Dim& d : acc_shape_)
      if (d.kind == Dim::Kind::tile && d.block != items_) plan_.cols_axis = d.block;
    if (plan_.cols_axis < 0)
      fail("the values are 2-D but the accumulator " + shape_str(acc_shape_) +
           " has no column tile");
    return plan_.cols_axis;
  }

  // ---- post(acc) and the store ----
  void match_post(const NodePtr& var, const Block& region, size_t loop_index) {
    const size_t r = size_t(store_->operand(0)->type.rank);
    if (store_->ival != 0) fail("the store" + at(store_) + " has an extra_mask");
    NodePtr v = store_->operand(1 + r);
    if (!same_shape(v->type.shape, acc_shape_))
      fail("the stored value" + at(store_) + " has shape " + ir::type_str(v->type, &k_) +
           ", not the accumulator's " + shape_str(acc_shape_));
    auto strip = [&](NodePtr n) {
      while (n->kind == NodeKind::cast && is_float(n->operand(0)->type.dtype) &&
             (n->type.dtype == DType::f32 || n->type.dtype == out_->type.dtype))
        n = n->operand(0);
      return n;
    };
    auto is_final_acc = [&](const NodePtr& n) {
      NodePtr s = strip(n);
      return s->kind == NodeKind::var_read && s->operand(0) == var && pos(s).block == &region &&
             pos(s).index > loop_index;
    };
    const Poly nnz = nnz_of(plan_.offsets_param);
    auto is_div = [&](const NodePtr& n) {
      NodePtr s = strip(n);
      return s->kind == NodeKind::binary && s->op == Op::div && is_final_acc(s->operand(0)) &&
             poly_.of(s->operand(1)) == nnz;
    };
    // nnz > 0, 0 < nnz, nnz >= 1, nnz != 0 (equivalent for valid offsets, where nnz >= 0).
    auto is_nonempty = [&](const NodePtr& n) {
      if (n->kind != NodeKind::binary) return false;
      Poly a = poly_.of(n->operand(0)), b = poly_.of(n->operand(1));
      switch (n->op) {
        case Op::gt:
          return a == nnz && b == Poly::constant(0);
        case Op::lt:
          return b == nnz && a == Poly::constant(0);
        case Op::ge:
          return a == nnz && b == Poly::constant(1);
        case Op::ne:
          return (a == nnz && b == Poly::constant(0)) || (b == nnz && a == Poly::constant(0));
        default:
          return false;
      }
    };
    NodePtr s = strip(v);
    if (is_final_acc(s)) {
      plan_.post = ReducePost::identity;
    } else if (is_div(s)) {
      plan_.post = ReducePost::divide_by_count;
    } else if (s->kind == NodeKind::where && is_nonempty(s->operand(0)) && is_div(s->operand(1)) &&
               const_value(s->operand(2))) {
      plan_.post = ReducePost::divide_or_value;
      plan_.post_value = float(*const_value(s->operand(2)));
    } else {
      fail("the stored value is " + describe(s) + at(s) +
           ": an unknown post-op; the template applies acc, acc / nnz or "
           "torch.where(nnz > 0, acc / nnz, c) with nnz = offsets[b + 1] - offsets[b]");
    }
    if (plan_.op == ReduceOp::sum && plan_.post != ReducePost::identity) plan_.op = ReduceOp::mean;

    // The store goes to the item's own row (and the column tile).
    std::vector<Poly> want = {index(items_)};
    if (r == 2) want.push_back(index(cols_block()));
    if (r != acc_shape_.size())
      fail("the output '" + out_->name + "' has rank " + std::to_string(r) +
           " but the accumulator " + shape_str(acc_shape_) + " has " +
           std::to_string(acc_shape_.size()) + " dims");
    for (size_t i = 0; i < r; ++i) {
      Poly got = poly_.of(store_->operand(1 + i));
      if (!same_or_guarded(got, want[i]))
        fail("the result is stored at index " + got.str() + " of dim " + std::to_string(i) +
             " of '" + out_->name + "'" + at(store_) + ", not " + want[i].str() +
             (i == 0 ? " (a store to another row)" : ""));
    }
  }

  // ---- loops' ranges and the output allocation ----
  Poly num_items() const {
    return Poly::atom(poly_.size_atom(plan_.offsets_param, 0)) - Poly::constant(1);
  }
  Poly num_cols() const { return Poly::atom(poly_.size_atom(plan_.data_param, 1)); }

  void match_items_loop(const NodePtr& loop) {
    Poly b = poly_.of(loop->operand(0)), e = poly_.of(loop->operand(1));
    if (b != Poly::constant(0) || !same_or_guarded(e, num_items()))
      fail("the items loop" + at(loop) + " runs over [" + b.str() + ", " + e.str() + "), not [0, " +
           num_items().str() + ")");
  }

  void match_cols_loop(const NodePtr& loop) {
    const ir::ParamSpec& data = k_.params.at(size_t(plan_.data_param));
    if (data.rank != 2)
      fail("the values '" + data.name + "' are 1-D but the kernel has a column loop" + at(loop));
    if (int(loop->ival) != plan_.cols_axis)
      fail("the column loop" + at(loop) + " is not the accumulator's column tile");
    if (loop->kind == NodeKind::tile_loop) {
      Poly b = poly_.of(loop->operand(0)), e = poly_.of(loop->operand(1));
      if (b != Poly::constant(0) || !same_or_guarded(e, num_cols()))
        fail("the column loop" + at(loop) + " runs over [" + b.str() + ", " + e.str() +
             "), not [0, " + num_cols().str() + ")");
      return;
    }
    if (loop->kind != NodeKind::jagged_loop || loop->ints != std::vector<int64_t>{items_})
      fail("the column loop" + at(loop) + " is neither an hl.tile over the columns nor an " +
           "hl.jagged_tile over per-item column counts");
    Poly ext = poly_.of(loop->operand(0));
    for (size_t p = 0; p < k_.params.size(); ++p) {
      const ir::ParamSpec& s = k_.params[p];
      if (s.kind != ir::ParamKind::tensor || s.rank != 1 || dtype_is_float(s.dtype)) continue;
      if (ext == Poly::atom(poly_.load_atom(int(p), index(items_)))) {
        plan_.counts_param = int(p);
        plan_.counts_name = s.name;
        return;
      }
    }
    fail("the column loop" + at(loop) + " runs to " + ext.str() + ", not counts[" +
         block_name(items_) + "] for a per-item counts parameter");
  }

  void match_output() {
    const NodePtr& a = out_;
    const ir::ParamSpec& data = k_.params.at(size_t(plan_.data_param));
    if (store_->operand(0) != a)
      fail("the kernel stores into '" + store_->operand(0)->name + "'" + at(store_) +
           " but returns '" + a->name + "'");
    const int rank = a->type.rank;
    if (rank != data.rank)
      fail("the output '" + a->name + "' has rank " + std::to_string(rank) + ", the values " +
           std::to_string(data.rank) + "; the template writes [B] for [N] and [B, M] for [N, M]");
    std::vector<Poly> want = {num_items()};
    if (rank == 2) want.push_back(num_cols());
    for (int d = 0; d < rank; ++d) {
      Poly got = poly_.of(a->operand(size_t(d)));
      if (!same_or_guarded(got, want[size_t(d)]))
        fail("the output '" + a->name + "'" + at(a) + " has size " + got.str() + " in dim " +
             std::to_string(d) + ", not " + want[size_t(d)].str());
    }
    if (!is_float(a->type.dtype))
      fail("the output '" + a->name + "' is " + std::string(dtype_name(a->type.dtype)) +
           "; the template writes float32, float16 or bfloat16");
    if (!(a->type.device == data.device))
      fail("the output '" + a->name + "' is allocated on " + a->type.device.str() +
           " but the values are on " + data.device.str());
    plan_.out_name = a->name;
    plan_.out_dtype = a->type.dtype;
    plan_.out_rank = rank;
    plan_.out_alloc = a->op;
    plan_.out_node = a.get();
    // `full` holds its fill value. `empty` holds unspecified values where nothing is stored;
    // the template writes 0 there, as the interpreter's zero-filled allocation would show.
    plan_.masked_value = 0.0f;
    if (a->op == Op::fill) {
      std::optional<double> c = const_value(a->operands.back());
      if (c)
        plan_.masked_value = float(*c);
      else if (plan_.has_counts())
        fail("the output '" + a->name + "' is filled with a computed value" + at(a) +
             "; with per-item column counts the template needs a constant fill");
    }
  }

  const ir::Kernel& k_;
  PolyBuilder poly_;
  const int items_;
  std::unordered_map<const Node*, Pos> pos_;
  NodePtr top_loop_, ret_, out_, store_;
  ir::Shape acc_shape_;
  ReducePlan plan_;
  std::unordered_map<std::string, int> scalar_atoms_;  // integer scalar parameters by name
  std::unordered_map<std::string, std::pair<int, int>> size_atoms_;  // (tensor param, dim)
};

}  // namespace

DispatchResult match_reduce(const ir::Kernel& kernel, int items_axis) {
  DispatchResult r;
  for (const ir::ParamSpec& s : kernel.params)
    if (s.kind == ir::ParamKind::tensor && s.dtype == DType::f64) {
      // Said first: later checks would name a symptom (the fp32 accumulator's cast) instead.
      r.reason = "'" + s.name +
                 "' is float64; the templates accumulate in fp32, so the generated code, which "
                 "computes float64 in double, runs it";
      return r;
    }
  try {
    r.plan = Matcher(kernel, items_axis).run();
  } catch (const NoMatch& e) {
    r.reason = e.reason;
  }
  return r;
}

}  // namespace jagtile::analysis
