// Pre-specialisation checks (placeholder until the full checker lands): kernel listing and the
// decorator config.
#include "lang/check.h"

namespace jagtile::lang {

namespace {

const ast::Keyword* find_keyword(const ast::Expr& call, const char* name) {
  for (const auto& k : call.keywords) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

template <typename Fail>
void read_block_sizes(const ast::Expr& list, KernelConfig& cfg, Fail fail) {
  if (list.kind != ast::ExprKind::list && list.kind != ast::ExprKind::tuple) {
    fail(list.pos, "block_sizes must be a list of positive integers, like block_sizes=[32, 64]");
  }
  for (const auto& e : list.elts) {
    if (e->kind != ast::ExprKind::int_lit || e->int_value <= 0) {
      fail(e->pos, "block_sizes must be a list of positive integers, like block_sizes=[32, 64]");
    }
    cfg.block_sizes.push_back(e->int_value);
  }
}

template <typename Fail>
KernelConfig config_of(const ast::Stmt& def, Fail fail) {
  KernelConfig cfg;
  for (const auto& d : def.decorators) {
    if (d->kind != ast::ExprKind::call) continue;
    if (const auto* k = find_keyword(*d, "block_sizes")) read_block_sizes(*k->value, cfg, fail);
    if (const auto* k = find_keyword(*d, "config")) {
      if (k->value->kind == ast::ExprKind::call) {
        if (const auto* b = find_keyword(*k->value, "block_sizes")) {
          read_block_sizes(*b->value, cfg, fail);
        }
      }
    }
  }
  return cfg;
}

}  // namespace

void check_module(const ast::Module& m) {
  for (const auto& s : m.body) {
    if (s->kind == ast::StmtKind::function_def || s->kind == ast::StmtKind::import) continue;
    if (s->kind == ast::StmtKind::expr && s->value->kind == ast::ExprKind::str_lit) continue;
    throw ast::error_at(m, s->pos,
                        "top-level statement not allowed here: kernels files hold only kernel "
                        "definitions and imports");
  }
}

std::vector<const ast::Stmt*> kernel_defs(const ast::Module& m) {
  std::vector<const ast::Stmt*> out;
  for (const auto& s : m.body) {
    if (s->kind == ast::StmtKind::function_def) out.push_back(s.get());
  }
  return out;
}

KernelConfig decorator_config(const ast::Module& m, const ast::Stmt& def) {
  return config_of(def, [&](ast::Pos pos, const std::string& msg) {
    throw ast::error_at(m, pos, msg, "write the tile sizes as integer literals");
  });
}

KernelConfig decorator_config(const ast::Stmt& def) {
  ast::Module empty;
  return decorator_config(empty, def);
}

}  // namespace jagtile::lang
