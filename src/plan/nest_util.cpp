// What the planning passes share (see nest_util.h).
#include "plan/nest_util.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace jagtile::plan {

bool pass_turned_off(const char* name) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, "0") == 0;
}

// ---- expressions ---------------------------------------------------------------------------

void visit(const ExprPtr& e, const std::function<void(const Expr&)>& fn) {
  if (!e) return;
  fn(*e);
  for (const ExprPtr& a : e->args) visit(a, fn);
}

bool any_expr(const ExprPtr& e, const std::function<bool(const Expr&)>& pred) {
  if (!e) return false;
  if (pred(*e)) return true;
  for (const ExprPtr& a : e->args)
    if (any_expr(a, pred)) return true;
  return false;
}

ExprPtr rewrite(const ExprPtr& e, const std::function<ExprPtr(const ExprPtr&)>& fn) {
  if (!e) return e;
  bool changed = false;
  std::vector<ExprPtr> args;
  args.reserve(e->args.size());
  for (const ExprPtr& a : e->args) {
    args.push_back(rewrite(a, fn));
    changed |= args.back() != a;
  }
  ExprPtr self = e;
  if (changed) {
    Expr copy = *e;
    copy.args = std::move(args);
    self = std::make_shared<const Expr>(std::move(copy));
  }
  return fn(self);
}

ExprPtr substitute(const ExprPtr& e, const std::map<std::string, ExprPtr>& vars) {
  if (vars.empty()) return e;
  return rewrite(e, [&](const ExprPtr& x) {
    if (x->kind != ExprKind::var) return x;
    auto it = vars.find(x->name);
    return it == vars.end() ? x : it->second;
  });
}

std::string expr_key(const ExprPtr& e) {
  std::ostringstream os;
  os << int(e->kind) << ":" << int(e->ctype) << ":" << int(e->dtype) << ":" << int(e->from) << ":"
     << int(e->op) << ":" << e->ival << ":" << e->fval << ":" << e->name << ":" << e->node << ":"
     << e->has_mask << ":" << e->site << "(";
  for (const ExprPtr& a : e->args) os << expr_key(a) << ",";
  os << ")";
  return os.str();
}

bool is_trivial(const ExprPtr& e) {
  return e->kind == ExprKind::var || e->kind == ExprKind::int_imm ||
         e->kind == ExprKind::float_imm || e->kind == ExprKind::bool_imm ||
         e->kind == ExprKind::capture;
}

bool mentions_var(const ExprPtr& e, const std::string& name) {
  return any_expr(e, [&](const Expr& x) { return x.kind == ExprKind::var && x.name == name; });
}

const Stmt* innermost(const Stmt& s, std::vector<std::string>* indices, bool past_guards) {
  const Stmt* at = &s;
  for (;;) {
    const bool descend = at->kind == StmtKind::nest || at->kind == StmtKind::for_ ||
                         (past_guards && at->kind == StmtKind::scope);
    if (!descend) return at;
    if (at->kind == StmtKind::for_ && indices) indices->push_back(at->name);
    const Stmt* next = nullptr;
    for (const StmtPtr& b : at->body) {
      if (b->kind == StmtKind::let || (past_guards && is_guard(b))) continue;
      if (next) return nullptr;
      next = b.get();
    }
    if (!next) return nullptr;
    at = next;
  }
}

void innermost_lets(const Stmt& s, std::map<std::string, ExprPtr>& lets) {
  for (const StmtPtr& b : s.body) {
    if (b->kind == StmtKind::let) lets[b->name] = b->value;
    if (b->kind == StmtKind::for_ || b->kind == StmtKind::nest) innermost_lets(*b, lets);
  }
}

LoopChain loop_chain(const Stmt& nest) {
  LoopChain c;
  const Stmt* at = &nest;
  while (at->kind == StmtKind::nest || at->kind == StmtKind::for_) {
    if (at->kind == StmtKind::for_) {
      c.index.push_back(at->name);
      c.extent.push_back(at->extent);
    }
    const Stmt* next = nullptr;
    for (const StmtPtr& s : at->body) {
      if (s->kind == StmtKind::let && at->kind == StmtKind::for_) {
        c.lets[s->name] = s->value;
      } else if (next) {
        return {};
      } else {
        next = s.get();
      }
    }
    if (!next) return {};
    at = next;
  }
  c.inner = at;
  return c;
}

const Stmt* array_decl_of(const DeviceFunc& f, const std::string& name) {
  const Stmt* found = nullptr;
  for (const StmtPtr& s : f.body)
    visit(s, [&](const Stmt& x) {
      if (x.kind == StmtKind::array_decl && x.name == name) found = &x;
    });
  return found;
}

StmtPtr replace_stmt(const StmtPtr& root, const Stmt* target, const StmtPtr& with) {
  if (root.get() == target) return with;
  if (!any_stmt(root, [&](const Stmt& s) { return &s == target; })) return root;
  return map_bodies(root, [&](const std::vector<StmtPtr>& b) {
    std::vector<StmtPtr> out;
    for (const StmtPtr& x : b) out.push_back(replace_stmt(x, target, with));
    return out;
  });
}

ExprPtr through_lets(ExprPtr e, const std::map<std::string, ExprPtr>& lets) {
  while (e->kind == ExprKind::var) {
    auto it = lets.find(e->name);
    if (it == lets.end()) break;
    e = it->second;
  }
  return e;
}

ExprPtr inline_lets(ExprPtr e, const std::map<std::string, ExprPtr>& lets) {
  auto bound = [&](const Expr& x) { return x.kind == ExprKind::var && lets.count(x.name) > 0; };
  // Each round replaces one level of the chain; the form's lets never refer to themselves.
  for (size_t round = 0; round <= lets.size() && any_expr(e, bound); ++round)
    e = substitute(e, lets);
  return e;
}

const ir::Node* compaction_cumsum(const ir::Node& store) {
  if (store.kind != ir::NodeKind::store || store.ival != 1 || store.operands.size() != 4 ||
      store.type.shape.empty())
    return nullptr;
  const ir::NodePtr& mask = store.operands[3];
  if (mask->type.kind != ir::TypeKind::value || mask->type.dtype != DType::boolean ||
      mask->type.shape.empty() || !same_dim(mask->type.shape.back(), store.type.shape.back()))
    return nullptr;
  const ir::Node* cumsum = nullptr;
  int cumsums = 0;
  bool ok = true;
  std::function<void(const ir::NodePtr&, int)> term = [&](const ir::NodePtr& n, int sign) {
    if (n->kind == ir::NodeKind::binary && (n->op == ir::Op::add || n->op == ir::Op::sub) &&
        dtype_is_int(n->type.dtype)) {
      term(n->operand(0), sign);
      term(n->operand(1), n->op == ir::Op::sub ? -sign : sign);
    } else if (n->kind == ir::NodeKind::scan && n->op == ir::Op::cumsum && n->operand(0) == mask &&
               sign == 1 && n->ints.size() == 1 &&
               n->ints[0] == int64_t(mask->type.shape.size()) - 1) {
      ++cumsums;
      cumsum = n.get();
    } else if (n->type.kind == ir::TypeKind::value) {
      ok = ok && (n->type.shape.empty() || n->type.shape.back().is_broadcast());
    } else {
      ok = ok && n->type.is_host_scalar();
    }
  };
  term(store.operands[1], 1);
  return ok && cumsums == 1 ? cumsum : nullptr;
}

ir::Op binary_op(const ExprPtr& e) {
  if (e->kind == ExprKind::binop) return e->op;
  if (e->kind == ExprKind::compute && e->node && e->node->kind == ir::NodeKind::binary &&
      e->args.size() == 2)
    return e->node->op;
  return ir::Op::none;
}

bool int64_op(const ExprPtr& e, ir::Op op) {
  return binary_op(e) == op && (e->kind == ExprKind::binop || e->dtype == DType::i64);
}

ExprPtr in_bounds_hint(const Expr& load, std::vector<ExprPtr> indices) {
  ExprPtr in;
  for (size_t d = 0; d < indices.size(); ++d) {
    const ExprPtr dim =
        in_bounds(indices[d], tensor_size(capture(int(load.ival), CType::i64), int(d)));
    in = in ? binop(ir::Op::logical_and, in, dim) : dim;
  }
  Expr hint = load;
  hint.site = -1;
  hint.args = std::move(indices);
  return select(in ? in : bool_imm(true), std::make_shared<const Expr>(std::move(hint)),
                convert(int_imm(0), DType::i64, load.dtype));
}

ExprPtr strip_widening(ExprPtr e) {
  while (e->kind == ExprKind::convert && e->dtype == DType::i64 && e->from == DType::i64)
    e = e->args[0];
  return e;
}

bool mentions_any(const ExprPtr& e, const std::set<std::string>& names) {
  return any_expr(e, [&](const Expr& x) {
    return (x.kind == ExprKind::var || x.kind == ExprKind::array_read) && names.count(x.name);
  });
}

// ---- statements ----------------------------------------------------------------------------

std::string tile_name(const char* what, const Stmt& tile_loop) {
  return what + std::to_string(tile_loop.ival);
}

ExprPtr tile_end(const Stmt& tile_loop) {
  return binop(ir::Op::add, var(tile_name("s", tile_loop), CType::i64),
               var(tile_name("lim", tile_loop), CType::i64));
}

void defined_names(const StmtPtr& s, std::set<std::string>& out) {
  visit(s, [&](const Stmt& st) {
    if (st.kind == StmtKind::let || st.kind == StmtKind::decl || st.kind == StmtKind::array_decl ||
        st.kind == StmtKind::for_)
      out.insert(st.name);
    if (st.kind == StmtKind::tile_loop)
      for (const char* what : {"s", "lim", "id", "begin", "end"}) out.insert(tile_name(what, st));
  });
}

std::vector<std::string> program_names(const DeviceFunc& f) {
  const std::string b = std::to_string(f.block);
  std::vector<std::string> names = {"s" + b, "end" + b, "lim" + b, "id" + b};
  if (f.inner_block >= 0) names.insert(names.end(), {"jt_inner_first", "jt_inner_last"});
  if (f.next_program) names.insert(names.end(), {"jt_next_s" + b, "jt_next_inner"});
  return names;
}

std::vector<ExprPtr> own_exprs(const Stmt& s) {
  std::vector<ExprPtr> out;
  for (const ExprPtr& e : {s.value, s.extent, s.begin, s.end, s.mask})
    if (e) out.push_back(e);
  for (const ExprPtr& e : s.indices) out.push_back(e);
  return out;
}

StmtPtr map_own_exprs(const StmtPtr& s, const std::function<ExprPtr(const ExprPtr&)>& fn) {
  Stmt copy = *s;
  bool changed = false;
  auto map = [&](ExprPtr& e) {
    if (!e) return;
    ExprPtr n = fn(e);
    changed |= n != e;
    e = n;
  };
  map(copy.value);
  map(copy.extent);
  map(copy.begin);
  map(copy.end);
  map(copy.mask);
  for (ExprPtr& e : copy.indices) map(e);
  return changed ? std::make_shared<const Stmt>(std::move(copy)) : s;
}

void visit(const StmtPtr& s, const std::function<void(const Stmt&)>& fn) {
  fn(*s);
  for (const StmtPtr& b : s->body) visit(b, fn);
  for (const StmtPtr& b : s->orelse) visit(b, fn);
}

bool any_stmt(const StmtPtr& s, const std::function<bool(const Stmt&)>& pred) {
  if (pred(*s)) return true;
  for (const StmtPtr& b : s->body)
    if (any_stmt(b, pred)) return true;
  for (const StmtPtr& b : s->orelse)
    if (any_stmt(b, pred)) return true;
  return false;
}

bool has_matmul_blocks(const Plan& plan) {
  for (const DeviceFunc& f : plan.funcs)
    for (const StmtPtr& s : f.body)
      if (any_stmt(s, [](const Stmt& x) { return x.kind == StmtKind::matmul_block; })) return true;
  return false;
}

std::set<int64_t> read_tensors(const std::vector<StmtPtr>& body) {
  std::set<int64_t> read;
  for (const StmtPtr& s : body)
    visit(s, [&](const Stmt& st) {
      for (const ExprPtr& e : own_exprs(st))
        visit(e, [&](const Expr& x) {
          if (x.kind == ExprKind::load || x.kind == ExprKind::tensor_address) read.insert(x.ival);
        });
    });
  return read;
}

std::set<int64_t> stored_tensors(const std::vector<StmtPtr>& body) {
  std::set<int64_t> stored;
  for (const StmtPtr& s : body)
    visit(s, [&](const Stmt& st) {
      if (st.kind == StmtKind::tensor_store) stored.insert(st.ival);
    });
  return stored;
}

bool is_guard(const StmtPtr& s) {
  return s->kind == StmtKind::if_ && s->orelse.empty() && !s->body.empty() &&
         std::all_of(s->body.begin(), s->body.end(),
                     [](const StmtPtr& x) { return x->kind == StmtKind::fail; });
}

bool is_container(StmtKind kind) {
  return kind == StmtKind::seq || kind == StmtKind::scope || kind == StmtKind::for_ ||
         kind == StmtKind::tile_loop || kind == StmtKind::if_ || kind == StmtKind::nest;
}

StmtPtr map_bodies(const StmtPtr& s,
                   const std::function<std::vector<StmtPtr>(const std::vector<StmtPtr>&)>& fn) {
  if (s->body.empty() && s->orelse.empty()) return s;
  Stmt copy = *s;
  copy.body = fn(s->body);
  if (!s->orelse.empty()) copy.orelse = fn(s->orelse);
  return std::make_shared<const Stmt>(std::move(copy));
}

namespace {

std::vector<StmtPtr> propagate(const std::vector<StmtPtr>& stmts,
                               std::map<std::string, ExprPtr> vars) {
  std::vector<StmtPtr> out;
  for (const StmtPtr& s : stmts) {
    StmtPtr r = map_own_exprs(s, [&](const ExprPtr& e) { return substitute(e, vars); });
    if (r->kind == StmtKind::let && is_trivial(r->value)) {
      vars[r->name] = r->value;
      continue;
    }
    r = map_bodies(r, [&](const std::vector<StmtPtr>& b) { return propagate(b, vars); });
    out.push_back(r);
  }
  return out;
}

}  // namespace

std::vector<StmtPtr> propagate_copies(const std::vector<StmtPtr>& stmts) {
  return propagate(stmts, {});
}

std::string name_prefix(const std::string& name) {
  size_t i = 0;
  while (i < name.size() && std::isalpha(static_cast<unsigned char>(name[i]))) ++i;
  return i ? name.substr(0, i) : "t";
}

NameGen::NameGen(const DeviceFunc& func) {
  for (const StmtPtr& s : func.body)
    visit(s, [&](const Stmt& st) {
      if (!st.name.empty()) used_.insert(st.name);
      for (const ExprPtr& e : own_exprs(st))
        visit(e, [&](const Expr& x) {
          if (x.kind == ExprKind::var || x.kind == ExprKind::array_read) used_.insert(x.name);
        });
    });
}

std::string NameGen::fresh(const std::string& prefix) {
  int& n = next_[prefix];
  for (;;) {
    std::string name = prefix + std::to_string(n++);
    if (used_.insert(name).second) return name;
  }
}

// ---- units ---------------------------------------------------------------------------------

namespace {

bool program_container(StmtKind kind) {
  return kind == StmtKind::seq || kind == StmtKind::scope || kind == StmtKind::tile_loop ||
         kind == StmtKind::if_;
}

class UnitCollector {
 public:
  explicit UnitCollector(const DeviceFunc& f) : func_(f) {}

  Units run() {
    list(func_.body);
    return std::move(out_);
  }

 private:
  void list(const std::vector<StmtPtr>& stmts) {
    const int id = next_list_++;
    for (size_t i = 0; i < stmts.size(); ++i) {
      const StmtPtr& s = stmts[i];
      if (program_container(s->kind)) {
        // A container's own expressions (an if's condition, a tile_loop's bounds) read too;
        // they are evaluated where the container stands: count them as a unit of their own.
        Unit u = describe(s, id, int(i), /*deep=*/false);
        if (!u.reads.empty() || !u.pinned.empty()) out_.units.push_back(std::move(u));
        list(s->body);
        if (!s->orelse.empty()) list(s->orelse);
        continue;
      }
      out_.units.push_back(describe(s, id, int(i), /*deep=*/true));
    }
  }

  Unit describe(const StmtPtr& s, int list, int index, bool deep) {
    Unit u;
    u.list = list;
    u.index = index;
    u.order = int(out_.units.size());
    u.stmt = s;
    auto expr = [&](const ExprPtr& e) {
      visit(e, [&](const Expr& x) {
        if (x.kind == ExprKind::array_read) (x.ival ? u.pinned : u.reads).insert(x.name);
        if (x.kind == ExprKind::load || x.kind == ExprKind::tensor_address)
          u.loads.insert(root_tensor(capture_node(func_, x.ival)));
      });
    };
    auto one = [&](const Stmt& st) {
      for (const ExprPtr& e : own_exprs(st)) expr(e);
      if (const std::string* written = written_array(st)) u.writes.insert(*written);
      if (st.kind == StmtKind::tensor_store)
        u.stores.insert(root_tensor(capture_node(func_, st.ival)));
    };
    if (deep)
      visit(s, one);
    else
      one(*s);
    return u;
  }

  const DeviceFunc& func_;
  Units out_;
  int next_list_ = 0;
};

}  // namespace

std::vector<int> Units::readers(const std::string& array, int producer) const {
  std::vector<int> out;
  for (size_t i = 0; i < units.size(); ++i)
    if (int(i) != producer && (units[i].reads.count(array) || units[i].pinned.count(array)))
      out.push_back(int(i));
  return out;
}

int Units::producer(const std::string& array) const {
  for (size_t i = 0; i < units.size(); ++i) {
    const Stmt& s = *units[i].stmt;
    if (s.kind == StmtKind::nest && s.name == array &&
        (s.role == NestRole::value || s.role == NestRole::reduce || s.role == NestRole::matmul))
      return int(i);
  }
  return -1;
}

Units collect_units(const DeviceFunc& func) {
  return UnitCollector(func).run();
}

const ir::Node* root_tensor(const ir::Node* t) {
  while (t && t->kind == ir::NodeKind::view) t = t->operand(0).get();
  return t;
}

const ir::Node* capture_node(const DeviceFunc& func, int64_t capture) {
  return func.nest->captures.at(size_t(capture)).node;
}

bool reads_unchanged(const Units& units, int p, int r) {
  const Unit& P = units.units[size_t(p)];
  const Unit& R = units.units[size_t(r)];
  for (int i = p + 1; i < r; ++i) {
    const Unit& m = units.units[size_t(i)];
    if (!P.loads.empty() && !m.stores.empty()) return false;
    for (const std::string& a : m.writes)
      if (P.reads.count(a)) return false;
  }
  // Units nested in containers between the two (a loop that stores) are units too, with
  // orders between p and r; a container's own statement never writes.
  for (const ir::Node* t : P.loads)
    if (R.stores.count(t)) return false;
  return true;
}

namespace {

class Replacer {
 public:
  Replacer(int list, int index, const std::vector<StmtPtr>& with)
      : list_(list), index_(index), with_(with) {}

  std::vector<StmtPtr> list(const std::vector<StmtPtr>& stmts) {
    const int id = next_list_++;
    std::vector<StmtPtr> out;
    for (size_t i = 0; i < stmts.size(); ++i) {
      const StmtPtr& s = stmts[i];
      if (id == list_ && int(i) == index_) {
        out.insert(out.end(), with_.begin(), with_.end());
        continue;
      }
      if (program_container(s->kind)) {
        Stmt copy = *s;
        copy.body = list(s->body);
        if (!s->orelse.empty()) copy.orelse = list(s->orelse);
        out.push_back(std::make_shared<const Stmt>(std::move(copy)));
        continue;
      }
      out.push_back(s);
    }
    return out;
  }

 private:
  int list_, index_;
  const std::vector<StmtPtr>& with_;
  int next_list_ = 0;
};

}  // namespace

DeviceFunc replace_unit(const DeviceFunc& func, int list, int index,
                        const std::vector<StmtPtr>& with) {
  DeviceFunc out = func;
  out.body = Replacer(list, index, with).list(func.body);
  return out;
}

}  // namespace jagtile::plan
