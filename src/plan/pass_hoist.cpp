// Planning pass: hoisting out of innermost loops (see pass_hoist.h).
#include "plan/pass_hoist.h"

#include <map>
#include <set>

#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

bool has_load(const ExprPtr& e) {
  return any_expr(e, [](const Expr& x) { return x.kind == ExprKind::load; });
}

// Whether e reads any of `names` (the loop index, or locals that vary with it).
bool varies(const ExprPtr& e, const std::set<std::string>& names) {
  return any_expr(e, [&](const Expr& x) { return x.kind == ExprKind::var && names.count(x.name); });
}

class Hoister {
 public:
  explicit Hoister(NameGen& names) : names_(names) {}

  std::vector<StmtPtr> list(const std::vector<StmtPtr>& stmts) {
    std::vector<StmtPtr> out;
    for (const StmtPtr& s : stmts) {
      if (s->kind == StmtKind::for_ && !contains_loop(*s)) {
        hoist(s, out);
        continue;
      }
      out.push_back(map_bodies(s, [&](const std::vector<StmtPtr>& b) { return list(b); }));
    }
    return out;
  }

 private:
  static bool contains_loop(const Stmt& loop) {
    for (const StmtPtr& b : loop.body)
      if (any_stmt(b, [](const Stmt& x) { return x.kind == StmtKind::for_; })) return true;
    return false;
  }

  // An innermost loop: invariant lets move in front of it, in order; then invariant reads of
  // tile arrays left in the loop become locals in front of it.
  void hoist(const StmtPtr& loop, std::vector<StmtPtr>& out) {
    std::set<std::string> variant = {loop->name};
    std::set<std::string> written;  // arrays the loop writes: reads of them stay in it
    visit(loop, [&](const Stmt& s) {
      if (const std::string* array = written_array(s)) written.insert(*array);
    });
    std::vector<StmtPtr> kept;
    for (const StmtPtr& s : loop->body) {
      if (s->kind == StmtKind::let && !has_load(s->value) && !varies(s->value, variant) &&
          !any_expr(s->value, [&](const Expr& x) {
            return x.kind == ExprKind::array_read && written.count(x.name);
          })) {
        out.push_back(s);
        continue;
      }
      if (s->kind == StmtKind::let || s->kind == StmtKind::decl) variant.insert(s->name);
      kept.push_back(s);
    }
    std::map<std::string, ExprPtr> hoisted;  // by key
    std::vector<StmtPtr> body;
    for (const StmtPtr& s : kept) {
      body.push_back(map_own_exprs(s, [&](const ExprPtr& e) {
        return rewrite(e, [&](const ExprPtr& x) {
          // A matmul block reads its operands through their addresses: no local copies.
          if (x->kind != ExprKind::array_read || written.count(x->name) ||
              s->kind == StmtKind::matmul_block)
            return x;
          for (const ExprPtr& i : x->args)
            if (varies(i, variant)) return x;
          std::string key = expr_key(x);
          auto it = hoisted.find(key);
          if (it != hoisted.end()) return it->second;
          std::string name = names_.fresh("e");
          out.push_back(let(name, x->ctype, x));
          return hoisted[key] = var(name, x->ctype, x->dtype);
        });
      }));
    }
    out.push_back(with_body(loop, std::move(body)));
  }

  NameGen& names_;
};

}  // namespace

void hoist_invariants(Plan& plan) {
  for (DeviceFunc& f : plan.funcs) {
    NameGen names(f);
    Hoister h(names);
    std::vector<StmtPtr> body;
    for (const StmtPtr& s : f.body) {
      // Only inside nests: a program-level statement is no loop body of a nest.
      if (s->kind == StmtKind::nest || s->kind == StmtKind::scope ||
          s->kind == StmtKind::tile_loop || s->kind == StmtKind::if_ || s->kind == StmtKind::seq)
        body.push_back(map_bodies(s, [&](const std::vector<StmtPtr>& b) { return h.list(b); }));
      else
        body.push_back(s);
    }
    f.body = std::move(body);
  }
}

}  // namespace jagtile::plan
