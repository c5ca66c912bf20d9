// The builder behind build_nests (see build_nests.h): one per device function, it walks the
// outermost loop's body and emits the loop-nest form. Its members are defined here (names,
// operands, loop nests, statements, values, reductions), in build_nests.cpp (scalars) and in
// nest_builder_matmul.cpp (matmul nests and matmul blocks). Internal to src/plan.
#pragma once

#include <cmath>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "host/host_program.h"
#include "ir/element_arith.h"
#include "ir/ir.h"
#include "plan/nest_ir.h"

namespace jagtile::plan::nest_builder {

using ir::Dim;
using ir::Node;
using ir::NodeKind;
using ir::NodePtr;
using ir::Op;

using Idx = std::vector<ExprPtr>;
using BodyFn = std::function<std::vector<StmtPtr>(const Idx& idx)>;

inline CType ctype_of(const ir::Type& t) {
  switch (t.kind) {
    case ir::TypeKind::host_int:
      return CType::i64;
    case ir::TypeKind::host_float:
      return CType::f64;
    case ir::TypeKind::host_bool:
      return CType::boolean;
    default:
      return compute_ctype_of(t.dtype);
  }
}

inline bool is_device_value(const Node& n) {
  return n.type.is_value() && !n.type.shape.empty();
}

inline ExprPtr add(ExprPtr a, ExprPtr b) {
  return binop(Op::add, std::move(a), std::move(b));
}
inline ExprPtr conj(ExprPtr a, ExprPtr b) {
  return a ? binop(Op::logical_and, std::move(a), std::move(b)) : b;
}

class Builder {
 public:
  Builder(const ir::Kernel& k, const host::HostProgram& host, const host::DeviceNest& nest,
          Plan& plan, const std::unordered_map<const Node*, int>& seq)
      : k_(k), host_(host), nest_(nest), plan_(plan), seq_(seq) {
    for (size_t i = 0; i < nest.captures.size(); ++i) captures_[nest.captures[i].node] = int(i);
    if (plan.matmul_blocks) find_read_through_permutes();
  }

  DeviceFunc run() {
    DeviceFunc f;
    f.name = "jt_loop" + std::to_string(seq_.at(nest_.loop.get()));
    f.nest = &nest_;
    f.block = nest_.block;
    f.block_size = nest_.block_size;
    f.body = block(nest_.loop->regions.at(0));
    f.inner_block = nest_.inner_block;
    f.inner_end = inner_end_;
    return f;
  }

 private:
  // ---- names and operands ----
  std::string name(const Node& n) const { return "v" + std::to_string(seq_.at(&n)); }
  std::string fresh(const char* prefix) { return prefix + std::to_string(temp_++); }

  int add_site(Site::Kind kind, const Node& n, std::string tensor = {}, std::string message = {}) {
    for (size_t i = 0; i < plan_.sites.size(); ++i) {
      const Site& s = plan_.sites[i];
      if (s.kind == kind && s.loc.line == n.loc.line && s.loc.column == n.loc.column &&
          s.tensor == tensor && s.message == message)
        return int(i);
    }
    plan_.sites.push_back(Site{kind, n.loc, std::move(tensor), std::move(message)});
    return int(plan_.sites.size() - 1);
  }

  ExprPtr capture_of(const Node& n) {
    auto it = captures_.find(&n);
    JAGTILE_CHECK(it != captures_.end(),
                  << "host value " << ir::kind_name(n.kind) << " not captured by its nest");
    return capture(it->second, ctype_of(n.type));
  }

  // A scalar operand: a constant, a capture, or a local.
  ExprPtr scalar(const NodePtr& n) {
    switch (n->kind) {
      case NodeKind::const_int:
        return int_imm(n->ival);
      case NodeKind::const_float:
        return float_imm(n->fval);
      case NodeKind::const_bool:
        return bool_imm(n->ival != 0);
      default:
        break;
    }
    if (captures_.count(n.get())) return capture_of(*n);
    JAGTILE_CHECK(!is_device_value(*n), << "scalar of a tile value");
    return var(name(*n), ctype_of(n->type), ir::operand_dtype(*n));
  }

  // The value of `n` at position `idx` of its own shape.
  ExprPtr at(const NodePtr& n, const Idx& idx) {
    if (!is_device_value(*n)) return scalar(n);
    if (read_through_.count(n.get())) return at(n->operand(0), permuted(*n, idx));
    return array_read(name(*n), ctype_of(n->type), idx);
  }

  // The operand position of a permute's position `idx`: result dim d is operand dim ints[d].
  static Idx permuted(const Node& permute, const Idx& idx) {
    Idx sub(idx.size());
    for (size_t d = 0; d < idx.size(); ++d) sub[size_t(permute.ints[d])] = idx[d];
    return sub;
  }

  // Positions of an operand of shape `from` broadcast into position `idx` of shape `to`.
  static Idx map_idx(const ir::Shape& from, const ir::Shape& to, const Idx& idx) {
    JAGTILE_CHECK(from.size() <= to.size(),
                  << "broadcast of rank " << from.size() << " into " << to.size());
    Idx r;
    size_t off = to.size() - from.size();
    for (size_t j = 0; j < from.size(); ++j)
      r.push_back(from[j].kind == Dim::Kind::broadcast ? int_imm(0) : idx[j + off]);
    return r;
  }

  ExprPtr operand_at(const Node& user, size_t i, const ir::Shape& shape, const Idx& idx) {
    const NodePtr& o = user.operand(i);
    return at(o, map_idx(o->type.is_value() ? o->type.shape : ir::Shape{}, shape, idx));
  }

  std::vector<ExprPtr> extents(const ir::Shape& s) {
    std::vector<ExprPtr> e;
    for (const Dim& d : s) {
      if (d.kind == Dim::Kind::tile)
        e.push_back(int_imm(k_.blocks[size_t(d.block)].block_size));
      else if (d.kind == Dim::Kind::full)
        e.push_back(scalar(d.size));
      else
        e.push_back(int_imm(1));
    }
    return e;
  }

  ExprPtr tile_start(int block) { return var("s" + std::to_string(block), CType::i64); }
  ExprPtr tile_limit(int block) { return var("lim" + std::to_string(block), CType::i64); }

  // A jagged dim's extent at a position: its extents value at the parent lanes' indices. The
  // read is pinned (a loop structure, never inlined by fusion).
  ExprPtr jagged_extent_at(int block, const ir::Shape& shape, const Idx& idx) {
    auto it = jagged_extents_.find(block);
    JAGTILE_CHECK(it != jagged_extents_.end(), << "jagged dim outside its loop");
    const Node& ext = *it->second;
    Idx eidx;
    for (const Dim& d : ext.type.shape) {
      if (d.kind != Dim::Kind::tile) {
        eidx.push_back(int_imm(0));
        continue;
      }
      ExprPtr found;
      for (size_t q = 0; q < shape.size(); ++q)
        if (shape[q].kind == Dim::Kind::tile && shape[q].block == d.block) found = idx[q];
      JAGTILE_CHECK(found, << "jagged dim of '" << k_.blocks[size_t(block)].name
                           << "' without its parent in a value's shape");
      eidx.push_back(found);
    }
    Expr read = *array_read(name(ext), ctype_of(ext.type), eidx);
    read.ival = 1;  // pinned
    return convert(std::make_shared<const Expr>(std::move(read)), ext.type.dtype, DType::i64);
  }

  // The validity of position idx of a shape (matmul operands, whose positions are not the
  // nest's own).
  ExprPtr mask_cond(const ir::Shape& shape, const Idx& idx) {
    ExprPtr c;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d].kind != Dim::Kind::tile) continue;
      int b = shape[d].block;
      if (k_.blocks[size_t(b)].kind == ir::LoopKind::jagged)
        c = conj(c, binop(Op::lt, add(tile_start(b), idx[d]), jagged_extent_at(b, shape, idx)));
      c = conj(c, binop(Op::lt, idx[d], tile_limit(b)));
    }
    return c ? c : bool_imm(true);
  }

  // The checks that each full dim of `shape` from `first` on fits one tile array.
  std::vector<StmtPtr> size_checks(const Node& origin, const ir::Shape& shape, size_t first) {
    std::vector<StmtPtr> out;
    for (size_t d = first; d < shape.size(); ++d)
      if (shape[d].kind == Dim::Kind::full) {
        ExprPtr size = scalar(shape[d].size);
        int site = add_site(Site::Kind::tile_size, origin);
        out.push_back(if_(binop(Op::logical_or, binop(Op::lt, size, int_imm(0)),
                                binop(Op::gt, size, int_imm(int64_t(1) << 31))),
                          {fail(7, site, size, int_imm(0), int(d))}));
      }
    return out;
  }

  // ---- loop nests ----
  // A nest over the valid positions of `shape`: body(idx) gives the innermost statements.
  StmtPtr nest(NestRole role, const Node& origin, const std::string& array, const ir::Shape& shape,
               const BodyFn& body, LoopKind inner_loop = LoopKind::simd,
               std::vector<Reduction> reductions = {}) {
    const std::string nid = std::to_string(temp_++);
    const size_t R = shape.size();
    Idx idx(R, int_imm(0));
    std::vector<size_t> loops;
    for (size_t d = 0; d < R; ++d)
      if (shape[d].kind != Dim::Kind::broadcast) {
        idx[d] = var("i" + nid + "_" + std::to_string(d), CType::i64);
        loops.push_back(d);
      }
    std::vector<StmtPtr> prologue = size_checks(origin, shape, 0);
    // Limits and deferred conditions, outermost loop first.
    std::vector<ExprPtr> limits(loops.size());
    std::vector<std::vector<StmtPtr>> headers(loops.size());  // lets before each loop
    std::vector<StmtPtr> deferred;
    for (size_t li = 0; li < loops.size(); ++li) {
      size_t d = loops[li];
      if (shape[d].kind == Dim::Kind::full) {
        limits[li] = scalar(shape[d].size);
        continue;
      }
      int b = shape[d].block;
      const ir::BlockInfo& info = k_.blocks[size_t(b)];
      limits[li] = tile_limit(b);
      if (info.kind != ir::LoopKind::jagged) continue;
      bool parents_before = true, parents_present = true;
      for (int p : info.parents) {
        bool before = false, present = false;
        for (size_t q = 0; q < shape.size(); ++q)
          if (shape[q].kind == Dim::Kind::tile && shape[q].block == p) {
            present = true;
            before |= q < d;
          }
        parents_before &= before;
        parents_present &= present;
      }
      // Without its parent lanes (index arithmetic such as tile_k.index[None, :]) a jagged dim
      // runs to its loop's limit: such a value is only ever read at valid positions.
      if (!parents_present) continue;
      ExprPtr ext = jagged_extent_at(b, shape, idx);
      if (parents_before) {
        std::string jl = "jl" + nid + "_" + std::to_string(d);
        headers[li].push_back(let(
            jl, CType::i64,
            call("jt_clamp_len", CType::i64, {binop(Op::sub, ext, tile_start(b)), tile_limit(b)})));
        limits[li] = var(jl, CType::i64);
      } else {
        deferred.push_back(skip_unless(binop(Op::lt, add(tile_start(b), idx[d]), ext)));
      }
    }
    std::vector<StmtPtr> inner = deferred;
    for (StmtPtr& s : body(idx)) inner.push_back(std::move(s));
    std::vector<StmtPtr> out;
    if (loops.empty()) {
      out.push_back(scope(std::move(inner)));
    } else {
      for (size_t li = loops.size(); li-- > 0;) {
        bool innermost = li + 1 == loops.size();
        std::string index = idx[loops[li]]->name;
        std::vector<StmtPtr> level = headers[li];
        StmtPtr loop =
            for_(index, limits[li], std::move(inner), innermost ? inner_loop : LoopKind::serial,
                 innermost ? reductions : std::vector<Reduction>{});
        inner = {loop};
        if (!level.empty()) {
          level.push_back(loop);
          inner = std::move(level);
        }
      }
      out = std::move(inner);
    }
    for (size_t i = prologue.size(); i-- > 0;) out.insert(out.begin(), prologue[i]);
    Stmt s;
    s.kind = StmtKind::nest;
    s.body = std::move(out);
    s.ival = ++nests_;
    s.role = role;
    s.name = array;
    s.node = &origin;
    return std::make_shared<const Stmt>(std::move(s));
  }

  // ---- statements ----
  std::vector<StmtPtr> block(const ir::Block& b) {
    std::vector<StmtPtr> out;
    for (const NodePtr& n : b) stmt(n, out);
    return out;
  }

  StmtPtr tagged(StmtPtr s, const Node& n) {
    Stmt copy = *s;
    copy.node = &n;
    return std::make_shared<const Stmt>(std::move(copy));
  }

  void stmt(const NodePtr& np, std::vector<StmtPtr>& out) {
    const Node& n = *np;
    if (ir::is_const(n) || n.kind == NodeKind::param) return;
    switch (n.kind) {
      case NodeKind::tile_loop:
      case NodeKind::grid_loop:
      case NodeKind::jagged_loop:
        return out.push_back(tagged(loop(n), n));
      case NodeKind::if_: {
        std::vector<StmtPtr> then_body = block(n.regions.at(0));
        std::vector<StmtPtr> else_body;
        if (n.regions.size() > 1) else_body = block(n.regions[1]);
        return out.push_back(tagged(if_(scalar(n.operand(0)), then_body, else_body), n));
      }
      case NodeKind::assert_: {
        int site = add_site(Site::Kind::assert_, n, {}, n.name);
        return out.push_back(
            tagged(if_(not_(scalar(n.operand(0))), {fail(2, site, int_imm(0), int_imm(0), 0)}), n));
      }
      case NodeKind::return_:
        JAGTILE_CHECK(false, << "return inside a device loop");
        return;
      case NodeKind::store:
        return out.push_back(store(n));
      case NodeKind::var_decl:
        return var_decl(n, out);
      case NodeKind::var_assign:
        return var_assign(n, out);
      case NodeKind::reduce:
        return reduce(n, out);
      case NodeKind::scan:
        return scan(n, out);
      case NodeKind::matmul:
        return matmul(n, out);
      default:
        break;
    }
    if (is_device_value(n)) return value(n, out);
    scalar_value(n, out);
  }

  // An inner program loop; a jagged one first finds its end, the largest valid extent.
  StmtPtr loop(const Node& n) {
    const int b = int(n.ival);
    std::vector<StmtPtr> wrapper;
    ExprPtr begin, end;
    if (n.kind == NodeKind::jagged_loop) {
      const NodePtr& ext = n.operand(0);
      jagged_extents_[b] = ext.get();
      const std::string e = "end" + std::to_string(b);
      wrapper.push_back(decl(e, CType::i64, int_imm(0)));
      wrapper.push_back(nest(
          NestRole::extents, n, {}, ext->type.shape,
          [&](const Idx& idx) {
            Expr read = *at(ext, idx);
            read.ival = 1;  // pinned: the loop's own structure
            ExprPtr x =
                convert(std::make_shared<const Expr>(std::move(read)), ext->type.dtype, DType::i64);
            return std::vector<StmtPtr>{assign(e, x, Update::amax)};
          },
          LoopKind::serial));
      begin = int_imm(0);
      end = var(e, CType::i64);
    } else {
      auto bound = [&](const NodePtr& v) {
        bool fl = v->type.kind == ir::TypeKind::host_float ||
                  (v->type.is_value() && dtype_is_float(v->type.dtype));
        return fl ? call("jt_f2i", CType::i64, {scalar(v)})
                  : convert(scalar(v), DType::i64, DType::i64);
      };
      begin = bound(n.operand(0));
      end = bound(n.operand(1));
      if (b == nest_.inner_block) {  // one iteration per program (DeviceFunc::inner_block)
        inner_end_ = end;
        begin = var("jt_inner_first", CType::i64);
        end = var("jt_inner_last", CType::i64);
      }
    }
    Stmt s;
    s.kind = StmtKind::tile_loop;
    s.ival = b;
    s.begin = begin;
    s.end = end;
    s.body = block(n.regions.at(0));
    wrapper.push_back(std::make_shared<const Stmt>(std::move(s)));
    return scope(std::move(wrapper));
  }

  // A device value into its tile array.
  void value(const Node& n, std::vector<StmtPtr>& out) {
    if (read_through_.count(&n)) return;  // no array: its readers read its operand's
    const std::string nm = name(n);
    out.push_back(array_decl(nm, ctype_of(n.type), extents(n.type.shape)));
    out.push_back(nest(NestRole::value, n, nm, n.type.shape, [&](const Idx& idx) {
      std::vector<StmtPtr> body;
      ExprPtr e = element(n, idx, body);
      body.push_back(array_store(nm, idx, e));
      return body;
    }));
  }

  // One element of an elementwise node (lets for a load's address go into `body`).
  ExprPtr element(const Node& n, const Idx& idx, std::vector<StmtPtr>& body) {
    switch (n.kind) {
      case NodeKind::tile_attr:
        JAGTILE_CHECK(n.op == Op::index, << "tile attribute with a shape");
        return add(tile_start(int(n.ival)), idx[0]);
      case NodeKind::iota:
        return idx[0];
      case NodeKind::unsqueeze: {
        Idx sub = idx;
        sub.erase(sub.begin() + n.ival);
        return at(n.operand(0), sub);
      }
      case NodeKind::permute:
        return at(n.operand(0), permuted(n, idx));
      case NodeKind::load:
        return load_element(n, idx, body);
      case NodeKind::var_read: {
        const Node& decl = *n.operand(0);
        return array_read(name(decl), ctype_of(decl.type), idx);
      }
      default: {
        std::vector<ExprPtr> ops;
        for (size_t i = 0; i < n.operands.size(); ++i)
          ops.push_back(operand_at(n, i, n.type.shape, idx));
        return compute(&n, ctype_of(n.type), std::move(ops));
      }
    }
  }

  // Address lets (and the extra mask's) of an access at position idx of its shape.
  std::vector<ExprPtr> address(const Node& access, int rank, const Idx& idx,
                               std::vector<StmtPtr>& body, ExprPtr* mask) {
    const std::string id = std::to_string(temp_++);
    std::vector<ExprPtr> a;
    for (int d = 0; d < rank; ++d) {
      const NodePtr& o = access.operand(size_t(d + 1));
      ExprPtr v = operand_at(access, size_t(d + 1), access.type.shape, idx);
      std::string nm = "a" + id + "_" + std::to_string(d);
      body.push_back(let(nm, CType::i64, convert(v, ir::operand_dtype(*o), DType::i64)));
      a.push_back(var(nm, CType::i64));
    }
    if (access.ival) {
      const NodePtr& m = access.operands.back();
      std::string nm = "m" + id;
      ExprPtr v = at(m, map_idx(m->type.shape, access.type.shape, idx));
      body.push_back(let(nm, CType::boolean, convert(v, ir::operand_dtype(*m), DType::boolean)));
      *mask = var(nm, CType::boolean);
    }
    return a;
  }

  ExprPtr load_element(const Node& n, const Idx& idx, std::vector<StmtPtr>& body) {
    const NodePtr& t = n.operand(0);
    ExprPtr mask;
    std::vector<ExprPtr> a = address(n, t->type.rank, idx, body, &mask);
    Expr e;
    e.kind = ExprKind::load;
    e.ctype = ctype_of(n.type);
    e.dtype = n.type.dtype;
    e.from = t->type.dtype;
    e.node = &n;
    e.ival = captures_.at(t.get());
    e.args = std::move(a);
    if (mask) {
      e.args.push_back(mask);
      e.has_mask = true;
    }
    e.site = add_site(Site::Kind::load, n, t->name);
    return std::make_shared<const Expr>(std::move(e));
  }

  StmtPtr store(const Node& n) {
    const NodePtr& t = n.operand(0);
    const int rank = t->type.rank;
    const NodePtr& value = n.operand(size_t(rank + 1));
    const int site = add_site(Site::Kind::store, n, t->name);
    return nest(NestRole::store, n, {}, n.type.shape, [&](const Idx& idx) {
      std::vector<StmtPtr> body;
      ExprPtr mask;
      std::vector<ExprPtr> a = address(n, rank, idx, body, &mask);
      ExprPtr v = operand_at(n, size_t(rank + 1), n.type.shape, idx);
      Stmt s;
      s.kind = StmtKind::tensor_store;
      s.node = &n;
      s.ival = captures_.at(t.get());
      s.indices = std::move(a);
      s.value = convert_to_compute(v, ir::operand_dtype(*value));
      s.mask = mask;
      s.site = site;
      body.push_back(std::make_shared<const Stmt>(std::move(s)));
      return body;
    });
  }

  // The store's value keeps its own compute dtype (the printer converts to storage).
  static ExprPtr convert_to_compute(ExprPtr v, DType dtype) {
    if (v->dtype == dtype) return v;
    Expr copy = *v;
    copy.dtype = dtype;
    return std::make_shared<const Expr>(std::move(copy));
  }

  void var_decl(const Node& n, std::vector<StmtPtr>& out) {
    const NodePtr& init = n.operand(0);
    const std::string nm = name(n);
    if (!is_device_value(n)) {
      ExprPtr v = n.type.is_value() ? convert(scalar(init), ir::operand_dtype(*init), n.type.dtype)
                                    : scalar(init);
      return out.push_back(tagged(decl(nm, ctype_of(n.type), v), n));
    }
    out.push_back(tagged(array_decl(nm, ctype_of(n.type), extents(n.type.shape)), n));
    out.push_back(nest(NestRole::var_init, n, nm, n.type.shape, [&](const Idx& idx) {
      ExprPtr v = at(init, map_idx(init->type.shape, n.type.shape, idx));
      return std::vector<StmtPtr>{
          array_store(nm, idx, convert(v, ir::operand_dtype(*init), n.type.dtype))};
    }));
  }

  void var_assign(const Node& n, std::vector<StmtPtr>& out) {
    const Node& d = *n.operand(0);
    const NodePtr& value = n.operand(1);
    const std::string nm = name(d);
    // Programs run in parallel: none may assign a variable of the host.
    JAGTILE_CHECK(!captures_.count(&d), << "host variable '" << d.name << "' assigned in a loop");
    if (!is_device_value(d)) {
      ExprPtr v = scalar(value);
      if (d.type.is_value())
        v = convert(v, ir::operand_dtype(*value), d.type.dtype);
      else if (d.type.kind == ir::TypeKind::host_float)
        v = convert_to_compute(v, DType::f32);
      return out.push_back(tagged(assign(nm, v), n));
    }
    const ir::Shape& vs = d.type.shape;
    out.push_back(nest(NestRole::var_assign, n, nm, vs, [&](const Idx& idx) {
      ExprPtr v =
          at(value, map_idx(value->type.is_value() ? value->type.shape : ir::Shape{}, vs, idx));
      return std::vector<StmtPtr>{
          array_store(nm, idx, convert(v, ir::operand_dtype(*value), d.type.dtype))};
    }));
  }

  // A running sum along dim ints[0]: a serial nest over the value's valid positions in row-major
  // order (so the scanned dim runs in order for each position of the others), adding into a
  // carry per position of the other dims and storing the carry. Never vectorised: each step
  // reads the one before.
  void scan(const Node& n, std::vector<StmtPtr>& out) {
    const NodePtr& a = n.operand(0);
    const ir::Shape& shape = n.type.shape;
    const DType t = n.type.dtype;
    const CType ct = compute_ctype_of(t);
    const size_t dim = size_t(n.ints.at(0));
    const std::string nm = name(n), carry = "k" + std::to_string(seq_.at(&n));
    ir::Shape carry_shape;
    for (size_t d = 0; d < shape.size(); ++d)
      if (d != dim) carry_shape.push_back(shape[d]);
    const ExprPtr zero = convert(int_imm(0), DType::i64, t);
    out.push_back(tagged(array_decl(nm, ct, extents(shape)), n));
    if (carry_shape.empty()) {
      out.push_back(decl(carry, ct, zero));
    } else {
      out.push_back(array_decl(carry, ct, extents(carry_shape)));
      out.push_back(array_fill(carry, zero));
    }
    out.push_back(nest(
        NestRole::reduce, n, nm, shape,
        [&](const Idx& idx) {
          ExprPtr x = convert(at(a, idx), a->type.dtype, t);
          std::vector<StmtPtr> body;
          if (carry_shape.empty()) {
            body.push_back(assign(carry, x, Update::add));
            body.push_back(array_store(nm, idx, var(carry, ct, t)));
          } else {
            Idx cidx;
            for (size_t d = 0; d < idx.size(); ++d)
              if (d != dim) cidx.push_back(idx[d]);
            body.push_back(array_store(carry, cidx, x, Update::add));
            body.push_back(array_store(nm, idx, array_read(carry, ct, cidx)));
          }
          return body;
        },
        LoopKind::serial));
  }

  void reduce(const Node& n, std::vector<StmtPtr>& out) {
    const NodePtr& a = n.operand(0);
    const ir::Shape& in = a->type.shape;
    const DType t = n.type.dtype;
    const CType ct = compute_ctype_of(t);
    const bool fl = dtype_is_float(t);
    ExprPtr init = int_imm(0);
    if (n.op == Op::amax)
      init = fl ? float_imm(-INFINITY) : t == DType::boolean ? bool_imm(false) : int_imm(INT64_MIN);
    if (n.op == Op::amin)
      init = fl ? float_imm(INFINITY) : t == DType::boolean ? bool_imm(true) : int_imm(INT64_MAX);
    std::vector<bool> reduced(in.size(), false);
    for (int64_t d : n.ints) reduced[size_t(d)] = true;
    const bool scalar_out = n.type.shape.empty();
    const bool mean = n.op == Op::mean;
    const std::string nm = name(n), cnt = "c" + std::to_string(seq_.at(&n));
    const Update op = n.op == Op::amax   ? Update::amax
                      : n.op == Op::amin ? Update::amin
                                         : Update::add;
    if (scalar_out) {
      out.push_back(tagged(decl(nm, ct, convert(init, init->dtype, t)), n));
      if (mean) out.push_back(decl(cnt, CType::i64, int_imm(0)));
    } else {
      out.push_back(tagged(array_decl(nm, ct, extents(n.type.shape)), n));
      out.push_back(array_fill(nm, convert(init, init->dtype, t)));
      if (mean) {
        out.push_back(array_decl(cnt, CType::i64, extents(n.type.shape)));
        out.push_back(array_fill(cnt, int_imm(0)));
      }
    }
    LoopKind kind = LoopKind::simd;
    std::vector<Reduction> reds;
    if (scalar_out) {
      if (n.op == Op::sum || mean) {
        reds.push_back({nm, Update::add});
        if (mean) reds.push_back({cnt, Update::add});
      } else {
        kind = LoopKind::serial;
      }
    } else if (!in.empty() && reduced.back()) {
      kind = LoopKind::serial;
    }
    out.push_back(nest(
        NestRole::reduce, n, nm, in,
        [&](const Idx& idx) {
          ExprPtr x = convert(at(a, idx), a->type.dtype, t);
          std::vector<StmtPtr> body;
          if (scalar_out) {
            body.push_back(assign(nm, x, op));
            if (mean) body.push_back(assign(cnt, int_imm(1), Update::add));
          } else {
            Idx oidx;
            for (size_t d = 0; d < in.size(); ++d)
              if (!reduced[d]) oidx.push_back(idx[d]);
            body.push_back(array_store(nm, oidx, x, op));
            if (mean) body.push_back(array_store(cnt, oidx, int_imm(1), Update::add));
          }
          return body;
        },
        kind, reds));
    if (mean) {
      Stmt s;
      s.kind = StmtKind::assign;
      s.name = nm;
      s.value = var(cnt, CType::i64);
      s.update = Update::mean;
      s.ctype = ct;
      if (!scalar_out) s.kind = StmtKind::array_fill;  // every element divided by its count
      out.push_back(std::make_shared<const Stmt>(std::move(s)));
    }
  }

  // ---- matmul (nest_builder_matmul.cpp) ----
  void find_read_through_permutes();
  std::vector<ExprPtr> strides_of(const ir::Shape& shape);
  std::vector<ExprPtr> strides_of(const NodePtr& operand);
  bool parents_within(const ir::Shape& shape, size_t before) const;
  ExprPtr valid_count(const ir::Shape& shape, size_t d, const Idx& idx);
  static std::pair<ExprPtr, ExprPtr> last_strides(const std::vector<ExprPtr>& strides);
  static DType sixteen_bit_values(const NodePtr& n);
  bool matmul_as_blocks(const Node& n, std::vector<StmtPtr>& out);
  MatmulBand band(const Node& n);
  void matmul(const Node& n, std::vector<StmtPtr>& out);
  // Scalars inside device code: 0-d values and host-typed values computed per program
  // (build_nests.cpp).
  void scalar_value(const Node& n, std::vector<StmtPtr>& out);
  const ir::Kernel& k_;
  const host::HostProgram& host_;
  const host::DeviceNest& nest_;
  Plan& plan_;
  const std::unordered_map<const Node*, int>& seq_;
  std::unordered_map<const Node*, int> captures_;
  std::unordered_map<int, const Node*> jagged_extents_;
  // Float permutes read only as matmul operands (with matmul blocks): they get no array; every
  // read goes to their operand's array at the permuted position, and a matmul block reads it
  // through permuted strides, so `k.T` costs no transposed copy.
  std::unordered_set<const Node*> read_through_;
  int temp_ = 0;
  ExprPtr inner_end_;  // the inner program loop's extent (DeviceFunc::inner_end)
  int nests_ = 0;
};

}  // namespace jagtile::plan::nest_builder
