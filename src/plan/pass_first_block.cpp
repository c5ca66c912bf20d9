// Planning pass: zero fills skipped before matmuls that overwrite (see pass_first_block.h).
#include "plan/pass_first_block.h"

#include <cmath>

#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

bool is_var(const ExprPtr& e, const std::string& name) {
  return e->kind == ExprKind::var && e->name == name;
}

// Whether e, through the lets and a float32-to-float32 conversion, is `full(+0)` (hl.zeros' fill;
// -0 would not be A @ B + D's identity).
bool is_zero_f32(ExprPtr e, const std::map<std::string, ExprPtr>& lets) {
  e = through_lets(e, lets);
  if (e->kind == ExprKind::convert && e->dtype == DType::f32 && e->from == DType::f32)
    e = through_lets(e->args[0], lets);
  if (e->kind != ExprKind::compute || !e->node || e->node->kind != ir::NodeKind::full ||
      e->args.size() != 1)
    return false;
  const ExprPtr fill = through_lets(e->args[0], lets);
  return (fill->kind == ExprKind::float_imm && fill->fval == 0 && !std::signbit(fill->fval)) ||
         (fill->kind == ExprKind::int_imm && fill->ival == 0);
}

// Whether statement s (deep) reads, writes or declares array `name`.
bool touches(const StmtPtr& s, const std::string& name) {
  return any_stmt(s, [&](const Stmt& x) {
    if (const std::string* w = written_array(x); w && *w == name) return true;
    if (x.kind == StmtKind::array_decl && x.name == name) return true;
    for (const ExprPtr& e : own_exprs(x))
      if (any_expr(e,
                   [&](const Expr& r) { return r.kind == ExprKind::array_read && r.name == name; }))
        return true;
    return false;
  });
}

// The fill F (a var_init nest storing +0 to every element of its array over its loops) and the
// matmul nest M of the loop after it: whether M's block, in place (C = D = the array), writes
// exactly the elements F fills: M's loops are F's outer loops (the same extents, F's indices
// renamed to M's), its C origin those indices then (0, 0), its rows and columns F's last two
// extents, and its row stride the array's last extent. Returns the block, or null.
const Stmt* overwrites_fill(const DeviceFunc& f, const Stmt& F, const Stmt& M) {
  const std::string& acc = F.name;
  const LoopChain fill = loop_chain(F), mm = loop_chain(M);
  if (!fill.inner || !mm.inner) return nullptr;
  const Stmt& store = *fill.inner;
  const Stmt& block = *mm.inner;
  if (store.kind != StmtKind::array_store || store.name != acc || store.update != Update::none ||
      !is_zero_f32(store.value, fill.lets))
    return nullptr;
  const size_t rank = fill.index.size();
  if (rank < 2 || store.indices.size() != rank || mm.index.size() + 2 != rank) return nullptr;
  for (size_t d = 0; d < rank; ++d)
    if (!is_var(store.indices[d], fill.index[d])) return nullptr;
  if (block.kind != StmtKind::matmul_block || block.name != acc || block.indices.size() != 14 ||
      block.mask || band_of(block).mode != ir::MatmulBand::none)
    return nullptr;
  const ExprPtr &c = block.indices[9], &d = block.indices[11];
  if (c->kind != ExprKind::array_read || c->name != acc || c->args.size() != rank ||
      expr_key(c) != expr_key(d) || expr_key(block.indices[10]) != expr_key(block.indices[12]) ||
      expr_key(block.indices[13]) != expr_key(int_imm(1)))
    return nullptr;
  const Stmt* decl = array_decl_of(f, acc);
  if (!decl || decl->ctype != CType::f32 || decl->indices.size() != rank ||
      expr_key(decl->indices[rank - 1]) != expr_key(block.indices[10]))
    return nullptr;
  std::map<std::string, ExprPtr> renamed;  // F's indices as M's
  for (size_t d = 0; d + 2 < rank; ++d) {
    if (!is_var(c->args[d], mm.index[d])) return nullptr;
    renamed[fill.index[d]] = var(mm.index[d], CType::i64);
  }
  for (size_t d : {rank - 2, rank - 1})
    if (expr_key(c->args[d]) != expr_key(int_imm(0))) return nullptr;
  auto fill_extent = [&](size_t d) {
    return expr_key(substitute(inline_lets(fill.extent[d], fill.lets), renamed));
  };
  for (size_t d = 0; d + 2 < rank; ++d)
    if (fill_extent(d) != expr_key(inline_lets(mm.extent[d], mm.lets))) return nullptr;
  if (fill_extent(rank - 2) != expr_key(inline_lets(block.indices[0], mm.lets)) ||
      fill_extent(rank - 1) != expr_key(inline_lets(block.indices[1], mm.lets)))
    return nullptr;
  return &block;
}

// The tile loop of a statement that is one, or the last statement of a scope (whose statements
// before it, such as a jagged loop's extent, do not touch `array`); else null.
const Stmt* tile_loop_of(const StmtPtr& s, const std::string& array) {
  if (s->kind == StmtKind::tile_loop) return s.get();
  if (s->kind != StmtKind::scope || s->body.empty() || s->body.back()->kind != StmtKind::tile_loop)
    return nullptr;
  for (size_t j = 0; j + 1 < s->body.size(); ++j)
    if (touches(s->body[j], array)) return nullptr;
  return s->body.back().get();
}

// Rewrites the first fill of `list` it can skip; true when it did.
bool skip_one(const DeviceFunc& f, std::vector<StmtPtr>& list) {
  for (size_t i = 0; i + 1 < list.size(); ++i) {
    const Stmt& F = *list[i];
    if (F.kind != StmtKind::nest || F.role != NestRole::var_init) continue;
    const Stmt* T = tile_loop_of(list[i + 1], F.name);
    if (!T) continue;
    // In every iteration of T the matmul nest runs (it is in T's own list, nothing skips the
    // rest of an iteration), and nothing else of T touches the array.
    const Stmt* block = nullptr;
    size_t at = 0;
    bool other_use = false;
    for (size_t j = 0; j < T->body.size(); ++j) {
      const StmtPtr& s = T->body[j];
      if (s->kind == StmtKind::skip_unless) other_use = true;
      if (!touches(s, F.name)) continue;
      const Stmt* b = block || s->kind != StmtKind::nest || s->role != NestRole::matmul
                          ? nullptr
                          : overwrites_fill(f, F, *s);
      if (!b) other_use = true;
      block = b ? b : block;
      at = b ? j : at;
    }
    if (!block || other_use) continue;
    // The first iteration's block adds no D; an empty loop leaves the array to the fill, which
    // moves just before the loop (past statements that do not touch the array), where the
    // loop's bounds are known.
    Stmt first = *block;
    first.mask = binop(ir::Op::ne, var("id" + std::to_string(T->ival), CType::i64), int_imm(0));
    std::vector<StmtPtr> body = T->body;
    body[at] = replace_stmt(body[at], block, std::make_shared<const Stmt>(std::move(first)));
    Stmt loop = *T;
    loop.body = std::move(body);
    std::vector<StmtPtr> then = {if_(binop(ir::Op::ge, T->begin, T->end), {list[i]}),
                                 std::make_shared<const Stmt>(std::move(loop))};
    if (list[i + 1]->kind == StmtKind::tile_loop) {
      list[i] = then[0];
      list[i + 1] = then[1];
    } else {
      std::vector<StmtPtr> scoped(list[i + 1]->body.begin(), list[i + 1]->body.end() - 1);
      scoped.insert(scoped.end(), then.begin(), then.end());
      list[i + 1] = with_body(list[i + 1], std::move(scoped));
      list.erase(list.begin() + std::ptrdiff_t(i));
    }
    return true;
  }
  return false;
}

std::vector<StmtPtr> rewrite_list(const DeviceFunc& f, const std::vector<StmtPtr>& in) {
  std::vector<StmtPtr> list;
  for (const StmtPtr& s : in)
    list.push_back(
        is_container(s->kind) && s->kind != StmtKind::nest
            ? map_bodies(s, [&](const std::vector<StmtPtr>& b) { return rewrite_list(f, b); })
            : s);
  while (skip_one(f, list)) {
  }
  return list;
}

}  // namespace

void skip_zero_fills_before_matmuls(Plan& plan) {
  for (DeviceFunc& f : plan.funcs) f.body = rewrite_list(f, f.body);
}

}  // namespace jagtile::plan
