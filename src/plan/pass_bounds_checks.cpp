// Planning pass: bounds-check placement (see pass_bounds_checks.h).
#include "plan/pass_bounds_checks.h"

#include <map>
#include <optional>
#include <set>

#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

using ir::Op;

// One access: a load expression or a tensor store.
struct Access {
  std::vector<ExprPtr> index;  // one per tensor dim
  ExprPtr mask;                // nullptr: none
  ExprPtr tensor;              // the tensor's capture
  int site = -1;
  const ir::Node* node = nullptr;  // the load or store
};

Access access_of_load(const Expr& l) {
  Access a;
  size_t rank = l.args.size() - (l.has_mask ? 1 : 0);
  a.index.assign(l.args.begin(), l.args.begin() + rank);
  if (l.has_mask) a.mask = l.args.back();
  a.tensor = capture(int(l.ival), CType::i64);
  a.site = l.site;
  a.node = l.node;
  return a;
}

Access access_of_store(const Stmt& s) {
  Access a;
  a.index = s.indices;
  a.mask = s.mask;
  a.tensor = capture(int(s.ival), CType::i64);
  a.site = s.site;
  a.node = s.node;
  return a;
}

std::vector<Access> loads_in(const Stmt& s) {
  std::vector<Access> out;
  for (const ExprPtr& e : own_exprs(s))
    visit(e, [&](const Expr& x) {
      // A hint's load (site -1) is read only where a select around it tests its indices.
      if (x.kind == ExprKind::load && x.site >= 0) out.push_back(access_of_load(x));
    });
  return out;
}

std::vector<Access> accesses_in(const Stmt& s) {
  std::vector<Access> out = loads_in(s);
  if (s.kind == StmtKind::tensor_store) out.push_back(access_of_store(s));
  return out;
}

// The dims not in `proven` (bit d for dim d) in bounds, as one expression (without the mask); true
// when there are none.
ExprPtr all_in_bounds(const Access& a, uint32_t proven = 0) {
  ExprPtr c;
  for (size_t d = 0; d < a.index.size(); ++d) {
    if (proven >> d & 1u) continue;
    ExprPtr in = in_bounds(a.index[d], tensor_size(a.tensor, int(d)));
    c = c ? binop(Op::bit_and, c, in) : in;
  }
  return c ? c : bool_imm(true);
}

bool has_accesses(const StmtPtr& s) {
  return any_stmt(s, [](const Stmt& x) { return !accesses_in(x).empty(); });
}

// ---- the check-only copy ----

// The arrays that hold running counts of a mask: each a torch.cumsum of a bool value along its last
// dim, so non-decreasing along its last index. By the IR node that each one's nest computes.
using RunningCounts = std::map<const ir::Node*, std::string>;

RunningCounts running_counts(const std::vector<StmtPtr>& body) {
  RunningCounts out;
  for (const StmtPtr& s : body)
    visit(s, [&](const Stmt& st) {
      if (st.kind != StmtKind::nest || !st.node) return;
      const ir::Node& n = *st.node;
      if (n.kind == ir::NodeKind::scan && n.op == Op::cumsum && n.ints.size() == 1 &&
          n.ints[0] == int64_t(n.type.shape.size()) - 1 &&
          n.operand(0)->type.dtype == DType::boolean && n.type.dtype == DType::i64)
        out[&n] = st.name;
    });
  return out;
}

// The dims of accesses proven in bounds (host::HostProgram::in_bounds_dims): not checked.
using ProvenDims = analysis::InBoundsDims;

class CheckCopy {
 public:
  CheckCopy(const RunningCounts& counts, const ProvenDims& proven)
      : counts_(counts), proven_(proven) {}

  std::vector<StmtPtr> list(const std::vector<StmtPtr>& stmts) {
    std::vector<StmtPtr> out;
    for (const StmtPtr& s : stmts) {
      switch (s->kind) {
        case StmtKind::for_:
          loops_.push_back(s.get());
          out.push_back(map_bodies(s, [&](const std::vector<StmtPtr>& b) { return list(b); }));
          loops_.pop_back();
          continue;
        case StmtKind::scope:
        case StmtKind::seq:
          out.push_back(map_bodies(s, [&](const std::vector<StmtPtr>& b) { return list(b); }));
          continue;
        case StmtKind::skip_unless:
        case StmtKind::if_:
        case StmtKind::fail:
          out.push_back(s);
          continue;
        default:
          break;
      }
      const ExprPtr compacted = compaction_check(*s);
      for (const Access& a : accesses_in(*s)) {
        const bool store = s->kind == StmtKind::tensor_store && a.site == s->site;
        const ExprPtr in = all_in_bounds(a, proven_dims(a));
        if (in->kind == ExprKind::bool_imm && !(store && compacted)) continue;
        ++checks_;
        ExprPtr bad = not_(in);
        if (a.mask) bad = binop(Op::bit_and, a.mask, bad);
        out.push_back(assign("bad", store && compacted ? compacted : bad, Update::bit_or));
      }
      if (s->kind == StmtKind::let) lets_[s->name] = s->value;
      // Locals stay (dead ones go below); a load feeding an index loads only in bounds.
      if (s->kind == StmtKind::let)
        out.push_back(map_own_exprs(s, [&](const ExprPtr& e) {
          return rewrite(e, [&](const ExprPtr& x) {
            if (x->kind != ExprKind::load) return x;
            Access a = access_of_load(*x);
            ExprPtr ok = all_in_bounds(a, proven_dims(a));
            if (a.mask) ok = binop(Op::bit_and, a.mask, ok);
            return select(ok, x, convert(int_imm(0), DType::i64, x->dtype));
          });
        }));
    }
    return out;
  }
  int checks() const { return checks_; }

 private:
  uint32_t proven_dims(const Access& a) const {
    auto it = proven_.find(a.node);
    return it == proven_.end() ? 0 : it->second;
  }

  // The check of a compacting store (compaction_cumsum) along the innermost loop, or null. Its
  // kept positions go to consecutive elements, so they are in bounds when the first and the last
  // kept one are. With the running count c read at the position, the index with c replaced by
  // max(c, 1) is the first kept position's index at every position up to it and the position's
  // own after it: a non-decreasing function whose ends are the first and the last kept index,
  // which the endpoint checks (mark_loops) then visit. Masked by whether the row keeps anything
  // (the count at the loop's last position), which the loop does not change.
  ExprPtr compaction_check(const Stmt& s) const {
    if (s.kind != StmtKind::tensor_store || !s.node || !s.mask || s.indices.size() != 1 ||
        loops_.empty())
      return nullptr;
    const ir::Node* cumsum = compaction_cumsum(*s.node);
    auto it = cumsum ? counts_.find(cumsum) : counts_.end();
    if (it == counts_.end()) return nullptr;
    const Stmt& loop = *loops_.back();
    // Positions the loop skips hold no count: the loop must run over exactly the row's.
    for (const StmtPtr& b : loop.body)
      if (b->kind == StmtKind::skip_unless) return nullptr;
    const ExprPtr index = inline_lets(s.indices[0], lets_);
    ExprPtr count;  // the running count read at the loop's position
    int reads = 0;
    visit(index, [&](const Expr& x) {
      if (x.kind != ExprKind::array_read || x.name != it->second) return;
      ++reads;
      bool along = !x.args.empty() && x.args.back()->kind == ExprKind::var &&
                   x.args.back()->name == loop.name;
      for (size_t d = 0; d + 1 < x.args.size(); ++d)
        along = along && !mentions_var(x.args[d], loop.name);
      if (along) count = std::make_shared<const Expr>(x);
    });
    if (reads != 1 || !count) return nullptr;
    const ExprPtr first_kept = rewrite(index, [&](const ExprPtr& x) {
      return expr_key(x) == expr_key(count) ? call("jt_max64", CType::i64, {x, int_imm(1)}) : x;
    });
    const ExprPtr kept =
        binop(Op::gt, substitute(count, {{loop.name, binop(Op::sub, loop.extent, int_imm(1))}}),
              int_imm(0));
    Access a = access_of_store(s);
    a.index = {first_kept};
    return binop(Op::bit_and, kept, not_(all_in_bounds(a)));
  }

  const RunningCounts& counts_;
  const ProvenDims& proven_;
  std::vector<const Stmt*> loops_;       // the loops around the statement being copied
  std::map<std::string, ExprPtr> lets_;  // the lets seen so far
  int checks_ = 0;
};

// Names every statement reads.
void reads_of(const StmtPtr& s, std::set<std::string>& names) {
  visit(s, [&](const Stmt& st) {
    for (const ExprPtr& e : own_exprs(st))
      visit(e, [&](const Expr& x) {
        if (x.kind == ExprKind::var) names.insert(x.name);
      });
    if (st.kind == StmtKind::assign) names.insert(st.name);
    for (const Reduction& r : st.reductions) names.insert(r.var);
  });
}

// Drops locals nothing reads and loops left empty, until none is left.
std::vector<StmtPtr> prune(const std::vector<StmtPtr>& stmts) {
  std::vector<StmtPtr> cur = stmts;
  for (;;) {
    std::set<std::string> used;
    for (const StmtPtr& s : cur) reads_of(s, used);
    bool changed = false;
    std::function<std::vector<StmtPtr>(const std::vector<StmtPtr>&)> go =
        [&](const std::vector<StmtPtr>& list) {
          std::vector<StmtPtr> out;
          for (const StmtPtr& s : list) {
            if ((s->kind == StmtKind::let || s->kind == StmtKind::decl) && !used.count(s->name)) {
              changed = true;
              continue;
            }
            StmtPtr r = map_bodies(s, go);
            if (r->kind == StmtKind::for_ && !any_stmt(r, [](const Stmt& x) {
                  return x.kind == StmtKind::assign || x.kind == StmtKind::fail;
                })) {
              changed = true;
              continue;
            }
            out.push_back(r);
          }
          return out;
        };
    cur = go(cur);
    if (!changed) return cur;
  }
}

// ---- endpoint checks ----

class Monotone {
 public:
  Monotone(const std::string& index, const std::map<std::string, ExprPtr>& lets,
           const std::set<std::string>& counts)
      : index_(index), lets_(lets), counts_(counts) {}

  bool depends(const ExprPtr& e) const {
    return any_expr(e, [&](const Expr& x) {
      if (x.kind != ExprKind::var) return false;
      if (x.name == index_) return true;
      auto it = lets_.find(x.name);
      return it != lets_.end() && depends(it->second);
    });
  }

  // A non-decreasing int64 function of the loop's position.
  bool operator()(const ExprPtr& e) const {
    if (!depends(e)) return true;
    switch (e->kind) {
      case ExprKind::var: {
        if (e->name == index_) return true;
        auto it = lets_.find(e->name);
        return it != lets_.end() && (*this)(it->second);
      }
      case ExprKind::binop:
        if (e->op == Op::add) return (*this)(e->args[0]) && (*this)(e->args[1]);
        if (e->op == Op::sub) return (*this)(e->args[0]) && !depends(e->args[1]);
        return false;
      case ExprKind::convert:
        return e->dtype == DType::i64 && dtype_is_int(e->from) && (*this)(e->args[0]);
      case ExprKind::compute: {
        const ir::Node& n = *e->node;
        if (n.kind == ir::NodeKind::cast)
          return n.type.dtype == DType::i64 && dtype_is_int(n.operand(0)->type.dtype) &&
                 (*this)(e->args[0]);
        // int64 only: a sum of index terms bounded by the tile sizes cannot wrap past 2^63 and
        // back, so both ends in bounds bound every position; int32 arithmetic could wrap.
        if (n.kind != ir::NodeKind::binary || DType(n.ival) != DType::i64) return false;
        if (n.op == Op::add) return (*this)(e->args[0]) && (*this)(e->args[1]);
        if (n.op == Op::sub) return (*this)(e->args[0]) && !depends(e->args[1]);
        return false;
      }
      case ExprKind::array_read: {
        // A running count of a mask is non-decreasing along its last index.
        if (!counts_.count(e->name) || e->args.empty()) return false;
        for (size_t d = 0; d + 1 < e->args.size(); ++d)
          if (depends(e->args[d])) return false;
        return (*this)(e->args.back());
      }
      case ExprKind::call:
        if (e->name != "jt_max64" && e->name != "jt_min64") return false;
        for (const ExprPtr& a : e->args)
          if (!(*this)(a)) return false;
        return true;
      default:
        return false;  // anything else read from memory, and every other operation
    }
  }

 private:
  const std::string& index_;
  const std::map<std::string, ExprPtr>& lets_;
  const std::set<std::string>& counts_;
};

// A mask that keeps a prefix of the loop: `A < N` with A = index + C, where neither C nor N
// changes along the loop, keeps exactly the positions below N - C. A jagged row's valid part
// (`tile.index < nnz`, `starts + tile.index < ends`) has this form, and a masked load of it is
// then in bounds everywhere if it is at the ends of that prefix.
struct PrefixMask {
  ExprPtr offset;  // C
  ExprPtr limit;   // N
};

class PrefixMasks {
 public:
  PrefixMasks(const std::string& index, const std::map<std::string, ExprPtr>& lets,
              const std::set<std::string>& body_names, const std::set<std::string>& counts)
      : index_(index), lets_(lets), body_names_(body_names), mono_(index, lets, counts) {}

  std::optional<PrefixMask> operator()(const ExprPtr& mask) const {
    ExprPtr m = through_lets(mask);
    if (m->kind == ExprKind::convert && m->dtype == DType::boolean && m->from == DType::boolean)
      m = through_lets(m->args[0]);
    const bool less = binary_op(m) == Op::lt;
    if (!less || m->args[0]->dtype != DType::i64 || m->args[1]->dtype != DType::i64)
      return std::nullopt;
    std::optional<ExprPtr> offset = unit_offset(m->args[0]);
    ExprPtr limit = outside(m->args[1]);
    if (!offset || !limit || !(*offset = outside(*offset))) return std::nullopt;
    return PrefixMask{*offset, limit};
  }

 private:
  ExprPtr through_lets(const ExprPtr& e) const { return plan::through_lets(e, lets_); }

  // C when e is index + C (C not depending on the index), through lets, sums and differences of
  // int64 values (no int32 arithmetic, which could wrap).
  std::optional<ExprPtr> unit_offset(const ExprPtr& raw) const {
    const ExprPtr e = raw->kind == ExprKind::var && raw->name == index_ ? raw : through_lets(raw);
    if (e->kind == ExprKind::var) {
      if (e->name == index_) return int_imm(0);
      return std::nullopt;
    }
    if (e->kind == ExprKind::convert && e->dtype == DType::i64 && e->from == DType::i64)
      return unit_offset(e->args[0]);
    const bool add = int64_op(e, Op::add), sub = int64_op(e, Op::sub);
    if (!add && !sub) return std::nullopt;
    const bool left = mono_.depends(e->args[0]), right = mono_.depends(e->args[1]);
    if (left && !right) {
      std::optional<ExprPtr> c = unit_offset(e->args[0]);
      if (!c) return std::nullopt;
      return binop(add ? Op::add : Op::sub, *c, e->args[1]);
    }
    if (add && right && !left) {
      std::optional<ExprPtr> c = unit_offset(e->args[1]);
      if (!c) return std::nullopt;
      return binop(Op::add, e->args[0], *c);
    }
    return std::nullopt;
  }

  // The expression with every local of the loop's own body replaced by its value, so that it can
  // stand in the loop's header; null when it depends on the index.
  ExprPtr outside(const ExprPtr& e) const {
    if (mono_.depends(e)) return nullptr;
    return rewrite(e, [&](const ExprPtr& x) -> ExprPtr {
      if (x->kind != ExprKind::var || !body_names_.count(x->name)) return x;
      return outside(lets_.at(x->name));
    });
  }

  const std::string& index_;
  const std::map<std::string, ExprPtr>& lets_;
  const std::set<std::string>& body_names_;
  Monotone mono_;
};

// An innermost check loop as one endpoints loop over its full extent for the checks that allow
// it, plus one per prefix mask over that prefix, for the checks under the mask (the mask then
// holds everywhere in it). Empty when some check is neither.
std::vector<StmtPtr> split_prefix_checks(const Stmt& loop,
                                         const std::map<std::string, ExprPtr>& lets,
                                         const std::set<std::string>& counts) {
  std::set<std::string> body_names;
  for (const StmtPtr& b : loop.body)
    if (b->kind == StmtKind::let) body_names.insert(b->name);
  Monotone mono(loop.name, lets, counts);
  PrefixMasks prefix(loop.name, lets, body_names, counts);
  std::vector<StmtPtr> common;  // the lets, in order
  std::vector<StmtPtr> full;    // checks valid at the full extent's ends
  std::map<std::string, std::pair<PrefixMask, std::vector<StmtPtr>>> under;  // by mask
  for (const StmtPtr& b : loop.body) {
    if (b->kind == StmtKind::let) {
      common.push_back(b);
      continue;
    }
    if (b->kind != StmtKind::assign || b->name != "bad") return {};
    bool monotone = true;
    visit(b->value, [&](const Expr& x) {
      if (x.kind == ExprKind::in_bounds && !mono(x.args[0])) monotone = false;
    });
    if (!monotone) return {};
    const bool masked = b->value->kind == ExprKind::binop && b->value->op == Op::bit_and;
    if (!masked || !mono.depends(b->value->args[0])) {
      full.push_back(b);
      continue;
    }
    std::optional<PrefixMask> p = prefix(b->value->args[0]);
    if (!p) return {};
    auto& slot = under[expr_key(p->offset) + " < " + expr_key(p->limit)];
    slot.first = *p;
    slot.second.push_back(assign("bad", b->value->args[1], Update::bit_or));
  }
  if (under.empty()) return {};
  auto endpoints_loop = [&](ExprPtr extent, std::vector<StmtPtr> checks) {
    std::vector<StmtPtr> body = common;
    for (StmtPtr& c : checks) body.push_back(std::move(c));
    return prune({for_(loop.name, std::move(extent), std::move(body), LoopKind::endpoints)});
  };
  std::vector<StmtPtr> out;
  if (!full.empty())
    for (StmtPtr& s : endpoints_loop(loop.extent, full)) out.push_back(std::move(s));
  for (auto& [key, entry] : under) {
    const PrefixMask& p = entry.first;
    ExprPtr kept = call("jt_min64", CType::i64,
                        {loop.extent, call("jt_max64", CType::i64,
                                           {binop(Op::sub, p.limit, p.offset), int_imm(0)})});
    for (StmtPtr& s : endpoints_loop(kept, entry.second)) out.push_back(std::move(s));
  }
  return out;
}

// Marks each innermost loop of a check copy: endpoints when every check in it is monotone and
// unmasked (or masked by a value the loop does not change); split into endpoint loops over
// prefixes where the masks keep prefixes of the loop (split_prefix_checks); else a vectorised
// loop OR-reducing the flag.
std::vector<StmtPtr> mark_loops(const std::vector<StmtPtr>& stmts,
                                const std::map<std::string, ExprPtr>& lets,
                                const std::set<std::string>& counts) {
  std::vector<StmtPtr> out;
  for (const StmtPtr& s : stmts) {
    if (s->kind != StmtKind::for_) {
      out.push_back(map_bodies(
          s, [&](const std::vector<StmtPtr>& b) { return mark_loops(b, lets, counts); }));
      continue;
    }
    bool innermost = true;
    for (const StmtPtr& b : s->body)
      innermost &= !any_stmt(b, [](const Stmt& x) { return x.kind == StmtKind::for_; });
    if (!innermost) {
      out.push_back(map_bodies(
          s, [&](const std::vector<StmtPtr>& b) { return mark_loops(b, lets, counts); }));
      continue;
    }
    Monotone mono(s->name, lets, counts);
    bool endpoints = true;
    for (const StmtPtr& b : s->body) {
      if (b->kind == StmtKind::skip_unless) endpoints = false;
      if (b->kind != StmtKind::assign || b->name != "bad") continue;
      // The check's expression holds its access's indices and mask.
      visit(b->value, [&](const Expr& x) {
        if (x.kind == ExprKind::in_bounds && !mono(x.args[0])) endpoints = false;
      });
      // `mask & !(in bounds)`: a mask that changes along the loop may skip either end; one
      // the loop does not change (a row's mask, in the loop over its columns) keeps or skips
      // every position alike.
      if (b->value->kind == ExprKind::binop && b->value->op == Op::bit_and &&
          mono.depends(b->value->args[0]))
        endpoints = false;
    }
    if (!endpoints) {
      std::vector<StmtPtr> split = split_prefix_checks(*s, lets, counts);
      if (!split.empty()) {
        for (StmtPtr& x : split) out.push_back(std::move(x));
        continue;
      }
    }
    Stmt copy = *s;
    copy.loop = endpoints ? LoopKind::endpoints : LoopKind::simd;
    copy.reductions =
        endpoints ? std::vector<Reduction>{} : std::vector<Reduction>{{"bad", Update::bit_or}};
    out.push_back(std::make_shared<const Stmt>(std::move(copy)));
  }
  return out;
}

// ---- the diagnosing copy ----

std::vector<StmtPtr> checks_before(const Stmt& s) {
  std::vector<StmtPtr> out;
  for (const Access& a : accesses_in(s))
    for (size_t d = 0; d < a.index.size(); ++d) {
      ExprPtr size = tensor_size(a.tensor, int(d));
      StmtPtr check =
          if_(not_(in_bounds(a.index[d], size)), {fail(1, a.site, a.index[d], size, int(d))});
      out.push_back(a.mask ? if_(a.mask, {check}) : check);
    }
  return out;
}

std::vector<StmtPtr> diagnose(const std::vector<StmtPtr>& stmts) {
  std::vector<StmtPtr> out;
  for (const StmtPtr& s : stmts) {
    if (s->kind == StmtKind::for_ || s->kind == StmtKind::scope || s->kind == StmtKind::seq) {
      Stmt copy = *map_bodies(s, diagnose);
      copy.loop = LoopKind::serial;
      copy.reductions.clear();
      out.push_back(std::make_shared<const Stmt>(std::move(copy)));
      continue;
    }
    for (StmtPtr& c : checks_before(*s)) out.push_back(std::move(c));
    out.push_back(s);
  }
  return out;
}

// Gives every local a copy defines a fresh name (copies sit in scopes that see each other).
StmtPtr rename_locals(const StmtPtr& s, NameGen& names) {
  std::map<std::string, ExprPtr> renamed;
  visit(s, [&](const Stmt& st) {
    if (st.kind == StmtKind::let || st.kind == StmtKind::decl || st.kind == StmtKind::for_)
      if (!renamed.count(st.name))
        renamed[st.name] = st.value
                               ? var(names.fresh(name_prefix(st.name)), st.ctype, st.value->dtype)
                               : var(names.fresh(name_prefix(st.name)), st.ctype);
  });
  std::function<StmtPtr(const StmtPtr&)> go = [&](const StmtPtr& st) {
    StmtPtr r = map_own_exprs(st, [&](const ExprPtr& e) { return substitute(e, renamed); });
    r = map_bodies(r, [&](const std::vector<StmtPtr>& b) {
      std::vector<StmtPtr> out;
      for (const StmtPtr& x : b) out.push_back(go(x));
      return out;
    });
    auto it = renamed.find(r->name);
    if (it != renamed.end() && (r->kind == StmtKind::let || r->kind == StmtKind::decl ||
                                r->kind == StmtKind::for_ || r->kind == StmtKind::assign)) {
      Stmt copy = *r;
      copy.name = it->second->name;
      r = std::make_shared<const Stmt>(std::move(copy));
    }
    return r;
  };
  return go(s);
}

StmtPtr as_nest(const Stmt& of, NestRole role, std::vector<StmtPtr> body) {
  Stmt s = of;
  s.role = role;
  s.body = std::move(body);
  return std::make_shared<const Stmt>(std::move(s));
}

// The check structure in front of a nest with accesses.
std::vector<StmtPtr> checked(const StmtPtr& nest, NameGen& names, const RunningCounts& counts,
                             const ProvenDims& proven) {
  CheckCopy copier(counts, proven);
  std::vector<StmtPtr> check_body = prune(copier.list(nest->body));
  if (copier.checks() == 0) return {nest};
  std::map<std::string, ExprPtr> lets;
  for (const StmtPtr& s : check_body)
    visit(s, [&](const Stmt& st) {
      if (st.kind == StmtKind::let) lets[st.name] = st.value;
    });
  std::set<std::string> count_arrays;
  for (const auto& [node, array] : counts) count_arrays.insert(array);
  check_body = mark_loops(check_body, lets, count_arrays);
  StmtPtr check = rename_locals(as_nest(*nest, NestRole::check, std::move(check_body)), names);
  StmtPtr diag = rename_locals(as_nest(*nest, NestRole::diagnose, diagnose(nest->body)), names);
  Stmt guard =
      *scope({decl("bad", CType::i64, int_imm(0)), check,
              if_(var("bad", CType::i64), {diag, fail(1, -1, int_imm(0), int_imm(0), 0)})});
  guard.node = nest->node;  // the source line it checks
  return {std::make_shared<const Stmt>(std::move(guard)), nest};
}

std::vector<StmtPtr> program_list(const std::vector<StmtPtr>& stmts, NameGen& names,
                                  const RunningCounts& counts, const ProvenDims& proven) {
  std::vector<StmtPtr> out;
  for (const StmtPtr& s : stmts) {
    if (s->kind == StmtKind::nest) {
      if (has_accesses(s)) {
        for (StmtPtr& x : checked(s, names, counts, proven)) out.push_back(std::move(x));
      } else {
        out.push_back(s);
      }
      continue;
    }
    if (s->kind == StmtKind::scope || s->kind == StmtKind::seq || s->kind == StmtKind::tile_loop ||
        s->kind == StmtKind::if_) {
      out.push_back(map_bodies(s, [&](const std::vector<StmtPtr>& b) {
        return program_list(b, names, counts, proven);
      }));
      continue;
    }
    // A scalar load where it stands: checked before it, always.
    for (StmtPtr& c : checks_before(*s)) out.push_back(std::move(c));
    out.push_back(s);
  }
  return out;
}

}  // namespace

void place_bounds_checks(Plan& plan) {
  if (!plan.checked) return;
  const ProvenDims none;
  const ProvenDims& proven = plan.host ? plan.host->in_bounds_dims : none;
  for (DeviceFunc& f : plan.funcs) {
    NameGen names(f);
    f.body = program_list(f.body, names, running_counts(f.body), proven);
  }
}

}  // namespace jagtile::plan
