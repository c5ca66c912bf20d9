// Inlining a value nest into its readers (see inline.h).
#include "plan/inline.h"

#include <map>

namespace jagtile::plan {

namespace {

// The innermost statement list of a nest's loop chain (through scopes and loops).
const std::vector<StmtPtr>* innermost(const std::vector<StmtPtr>& body) {
  for (const StmtPtr& s : body)
    if (s->kind == StmtKind::for_ || s->kind == StmtKind::scope) return innermost(s->body);
  return &body;
}

class Inliner {
 public:
  Inliner(const std::string& array, const ElementTemplate& t, NameGen& names)
      : array_(array), t_(t), names_(names) {}

  std::vector<StmtPtr> list(const std::vector<StmtPtr>& stmts) {
    std::map<std::string, ExprPtr> memo;
    std::vector<StmtPtr> out;
    for (const StmtPtr& s : stmts) {
      std::vector<StmtPtr> pending;
      StmtPtr rebuilt = map_own_exprs(s, [&](const ExprPtr& e) {
        return rewrite(e, [&](const ExprPtr& x) {
          if (x->kind != ExprKind::array_read || x->name != array_ || x->ival) return x;
          return element(x->args, memo, pending);
        });
      });
      if (!rebuilt->body.empty() || !rebuilt->orelse.empty())
        rebuilt = map_bodies(rebuilt, [&](const std::vector<StmtPtr>& b) { return list(b); });
      out.insert(out.end(), pending.begin(), pending.end());
      out.push_back(rebuilt);
    }
    return out;
  }

 private:
  ExprPtr element(const std::vector<ExprPtr>& at, std::map<std::string, ExprPtr>& memo,
                  std::vector<StmtPtr>& pending) {
    std::string key;
    for (const ExprPtr& e : at) key += expr_key(e) + ";";
    auto hit = memo.find(key);
    if (hit != memo.end()) return hit->second;
    std::map<std::string, ExprPtr> vars;
    for (size_t d = 0; d < t_.index.size() && d < at.size(); ++d)
      if (t_.index[d]->kind == ExprKind::var) vars[t_.index[d]->name] = at[d];
    for (const StmtPtr& l : t_.lets) {
      ExprPtr v = substitute(l->value, vars);
      if (is_trivial(v)) {
        vars[l->name] = v;
        continue;
      }
      std::string name = names_.fresh(name_prefix(l->name));
      pending.push_back(let(name, l->ctype, v));
      vars[l->name] = var(name, l->ctype, v->dtype);
    }
    ExprPtr v = substitute(t_.value, vars);
    if (!is_trivial(v)) {
      std::string name = names_.fresh("e");
      pending.push_back(let(name, v->ctype, v));
      v = var(name, v->ctype, v->dtype);
    }
    memo[key] = v;
    return v;
  }

  const std::string& array_;
  const ElementTemplate& t_;
  NameGen& names_;
};

}  // namespace

std::optional<ElementTemplate> element_template(const Stmt& nest) {
  if (nest.kind != StmtKind::nest || nest.role != NestRole::value) return std::nullopt;
  const std::vector<StmtPtr>& body = *innermost(nest.body);
  ElementTemplate t;
  for (const StmtPtr& s : body) {
    switch (s->kind) {
      case StmtKind::skip_unless:
        break;  // readers read valid positions only
      case StmtKind::let:
        t.lets.push_back(s);
        break;
      case StmtKind::array_store:
        if (s->name != nest.name || s->update != Update::none || t.value) return std::nullopt;
        t.index = s->indices;
        t.value = s->value;
        break;
      default:
        return std::nullopt;
    }
  }
  if (!t.value) return std::nullopt;
  return t;
}

StmtPtr inline_reads(const StmtPtr& stmt, const std::string& array, const ElementTemplate& t,
                     NameGen& names) {
  std::vector<StmtPtr> out = propagate_copies(Inliner(array, t, names).list({stmt}));
  return out.size() == 1 ? out[0] : seq(std::move(out));
}

bool fusing_role(NestRole role, bool index_arithmetic) {
  switch (role) {
    case NestRole::value:
    case NestRole::reduce:
    case NestRole::store:
    case NestRole::var_assign:
      return true;
    case NestRole::var_init:
      return index_arithmetic;
    default:
      return false;
  }
}

DeviceFunc remove_array(const DeviceFunc& func, const std::string& array) {
  DeviceFunc f = func;
  for (;;) {
    Units units = collect_units(f);
    bool removed = false;
    for (const Unit& u : units.units) {
      const Stmt& s = *u.stmt;
      bool filler = s.kind == StmtKind::nest && s.name == array && s.role == NestRole::value;
      bool decl = s.kind == StmtKind::array_decl && s.name == array;
      if (filler || decl) {
        f = replace_unit(f, u.list, u.index, {});
        removed = true;
        break;
      }
    }
    if (!removed) return f;
  }
}

}  // namespace jagtile::plan
