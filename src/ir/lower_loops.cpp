// Lowering, part 2: device loops (hl.tile, hl.grid, hl.jagged_tile) and `if` statements.
// A jagged_tile's parents are the tile dims of its extents value, all enclosing loops; an `if`
// whose condition is fixed at specialisation (`bias is not None`) is resolved here, any other
// must test a per-program scalar and becomes an if_ node.
#include <algorithm>

#include "ir/lower_impl.h"

namespace jagtile::ir::lower_detail {

int Lowerer::new_block(LoopKind kind, const std::string& name, ast::Pos pos,
                       std::optional<int64_t> explicit_size, std::vector<int> parents) {
  BlockInfo b;
  b.id = int(kernel_.blocks.size());
  b.kind = kind;
  b.name = name;
  b.loc = loc_of(pos);
  b.parents = std::move(parents);
  if (kind == LoopKind::grid) {
    b.block_size = 1;
  } else {
    // A fixed block_size takes no config entry: config block sizes go to the tunable tile
    // dims in order of appearance, as in Helion.
    const size_t index = explicit_size ? 0 : size_t(tile_blocks_seen_++);
    if (!explicit_size) b.config_index = int(index);
    if (explicit_size)
      b.block_size = *explicit_size;
    else if (index < options_.block_sizes.size())
      b.block_size = options_.block_sizes[index];
    else if (loop_stack_.empty())
      b.block_size = options_.default_outer_block;
    else if (std::find(options_.row_blocks.begin(), options_.row_blocks.end(), b.id) !=
             options_.row_blocks.end())
      b.block_size = options_.default_row_block;
    else if (!options_.column_blocks.empty())
      b.block_size = std::find(options_.column_blocks.begin(), options_.column_blocks.end(),
                               b.id) != options_.column_blocks.end()
                         ? options_.default_column_block
                         : options_.default_inner_block;
    else
      b.block_size = kind == LoopKind::tile && loop_stack_.size() == 1
                         ? options_.default_column_block
                         : options_.default_inner_block;
    if (b.block_size < 1)
      fail(pos,
           "block size " + std::to_string(b.block_size) + " for '" + name + "' must be at least 1",
           "fix block_sizes in the kernel's config");
  }
  kernel_.blocks.push_back(b);
  return b.id;
}

NodePtr Lowerer::loop_bound(const ast::Expr& e) {
  NodePtr n = value(e);
  if (n->type.kind == TypeKind::host_int) return n;
  if (n->type.is_value() && n->type.shape.empty() && dtype_is_int(n->type.dtype)) return n;
  if (n->type.is_value() && !n->type.shape.empty())
    fail(e.pos, "a loop bound must be a scalar; this has shape " + shape_text(n->type.shape),
         "reduce it to one value per program first, e.g. nnz.amax(), or use hl.jagged_tile "
         "for per-lane bounds");
  fail(e.pos, "a loop bound must be an integer; this is " + type_text(n->type));
}

void Lowerer::for_loop(const ast::Stmt& s) {
  const ast::Expr& it = *s.iter;
  std::string fn = it.kind == ast::ExprKind::call ? callee_name(*it.func) : "";
  if (fn != "hl.tile" && fn != "hl.grid" && fn != "hl.jagged_tile")
    fail(it.pos,
         "a loop in a kernel must iterate over hl.tile(...), hl.grid(...) or "
         "hl.jagged_tile(...)",
         "for example: for tile_b in hl.tile(num_items):");
  std::vector<const ast::Expr*> targets;
  if (s.target->kind == ast::ExprKind::name) {
    targets.push_back(s.target.get());
  } else if (s.target->kind == ast::ExprKind::tuple || s.target->kind == ast::ExprKind::list) {
    for (const auto& e : s.target->elts) {
      if (e->kind != ast::ExprKind::name) fail(e->pos, "a loop variable must be a plain name");
      targets.push_back(e.get());
    }
  } else {
    fail(s.target->pos, "a loop variable must be a plain name");
  }

  struct LoopDim {
    NodePtr begin, end;
    std::optional<int64_t> block_size;
  };
  std::vector<LoopDim> dims;
  LoopKind kind = fn == "hl.grid"   ? LoopKind::grid
                  : fn == "hl.tile" ? LoopKind::tile
                                    : LoopKind::jagged;
  NodePtr extents;
  std::vector<int> parents;
  const ast::Expr* bs_expr = kwarg(it, "block_size");

  if (kind == LoopKind::jagged) {
    if (loop_stack_.empty())
      fail(it.pos, "hl.jagged_tile cannot be the outermost loop",
           "put it inside a hl.tile loop over the items; its extents are indexed by that tile");
    if (it.args.size() != 1)
      fail(it.pos, "hl.jagged_tile takes one argument: the per-lane extents");
    LVal e = expr(*it.args[0]);
    if (e.k == LVal::K::node && e.node->type.is_tensor())
      fail(it.args[0]->pos,
           "hl.jagged_tile needs per-lane extents indexed by enclosing tiles, "
           "not a whole host tensor",
           "index it first, e.g. nnz = x_offsets[tile_b.index + 1] - x_offsets[tile_b]");
    extents = as_node(e, it.args[0]->pos);
    if (!extents->type.is_value() || extents->type.shape.empty())
      fail(it.args[0]->pos,
           "hl.jagged_tile needs a tensor of per-lane extents; this is a scalar (" +
               type_text(extents->type) + ")",
           "use hl.tile(n) for a bound shared by every lane");
    if (!dtype_is_int(extents->type.dtype))
      fail(it.args[0]->pos, "hl.jagged_tile extents must be integers; these are " +
                                std::string(dtype_name(extents->type.dtype)));
    for (const Dim& d : extents->type.shape) {
      bool enclosing =
          d.kind == Dim::Kind::tile &&
          std::find(loop_stack_.begin(), loop_stack_.end(), d.block) != loop_stack_.end();
      if (!enclosing)
        fail(it.args[0]->pos,
             "every dimension of hl.jagged_tile's extents must be an enclosing tile; this one "
             "is " +
                 dim_str(d, &kernel_) + " (extents shape " + shape_text(extents->type.shape) + ")",
             "index the extents with the enclosing tiles only, e.g. nnz[tile_b]");
      if (std::find(parents.begin(), parents.end(), d.block) != parents.end())
        fail(it.args[0]->pos, "hl.jagged_tile extents use tile '" +
                                  kernel_.blocks[size_t(d.block)].name + "' twice");
      parents.push_back(d.block);
    }
    require_complete(extents->type.shape, it.args[0]->pos, "hl.jagged_tile extents");
    LoopDim d;
    if (bs_expr && bs_expr->kind != ast::ExprKind::none_lit)
      d.block_size = const_int_of(*bs_expr, "block_size");
    dims.push_back(d);
  } else {
    std::vector<const ast::Expr*> begins, ends;
    auto as_list = [](const ast::Expr* e) {
      std::vector<const ast::Expr*> out;
      if (e->kind == ast::ExprKind::list || e->kind == ast::ExprKind::tuple) {
        for (const auto& x : e->elts) out.push_back(x.get());
      } else {
        out.push_back(e);
      }
      return out;
    };
    const ast::Expr* a0 = arg(it, 0, "begin_or_end");
    const ast::Expr* a1 = arg(it, 1, "end_or_none");
    if (!a0) fail(it.pos, fn + " needs a bound, e.g. " + fn + "(n)");
    if (a1) {
      begins = as_list(a0);
      ends = as_list(a1);
      if (begins.size() != ends.size()) fail(it.pos, fn + ": begin and end lists differ in length");
    } else {
      ends = as_list(a0);
    }
    // block_size=None (or a None entry) leaves that dim tunable, as in Helion.
    std::vector<std::optional<int64_t>> sizes;
    if (bs_expr && bs_expr->kind != ast::ExprKind::none_lit) {
      for (const ast::Expr* b : as_list(bs_expr))
        sizes.push_back(b->kind == ast::ExprKind::none_lit
                            ? std::nullopt
                            : std::optional<int64_t>(const_int_of(*b, "block_size")));
      if (sizes.size() != ends.size())
        fail(bs_expr->pos,
             fn + " tiles " + std::to_string(ends.size()) + " dimension(s) but block_size lists " +
                 std::to_string(sizes.size()),
             "give one entry per dimension, None to leave one tunable: block_size=[1, 1, None]");
    }
    for (size_t i = 0; i < ends.size(); ++i) {
      LoopDim d;
      d.begin = begins.empty() ? const_int(0) : loop_bound(*begins[i]);
      d.end = loop_bound(*ends[i]);
      if (!sizes.empty()) d.block_size = sizes[i];
      dims.push_back(d);
    }
  }
  if (targets.size() != dims.size())
    fail(s.target->pos,
         fn + " here gives " + std::to_string(dims.size()) + " tile(s) but the loop names " +
             std::to_string(targets.size()),
         "unpack one name per dimension, e.g. for tile_a, tile_b in hl.tile([n0, n1]):");

  make_vars_for({&s.body}, s.pos);
  std::map<std::string, LVal> before = env_;
  std::vector<Block> bodies(dims.size());
  std::vector<int> ids;
  for (size_t i = 0; i < dims.size(); ++i) {
    int id = new_block(kind, targets[i]->id, targets[i]->pos, dims[i].block_size, parents);
    ids.push_back(id);
    if (kind == LoopKind::tile) tile_loop_bounds_[id] = {dims[i].begin, dims[i].end};
    loop_stack_.push_back(id);
    blocks_.push_back(&bodies[i]);
    if (kind == LoopKind::grid) {
      env_[targets[i]->id] = LVal::of(tile_attr(id, Op::index, targets[i]->pos));
    } else {
      LVal t;
      t.k = LVal::K::tile;
      t.block = id;
      t.text = targets[i]->id;
      env_[targets[i]->id] = t;
    }
  }
  stmts(s.body);
  for (size_t r = dims.size(); r-- > 0;) {
    blocks_.pop_back();
    loop_stack_.pop_back();
    Node loop;
    loop.kind = kind == LoopKind::tile   ? NodeKind::tile_loop
                : kind == LoopKind::grid ? NodeKind::grid_loop
                                         : NodeKind::jagged_loop;
    loop.loc = loc_of(s.pos);
    loop.ival = ids[r];
    if (kind == LoopKind::jagged) {
      loop.operands = {extents};
      loop.ints.assign(parents.begin(), parents.end());
    } else {
      loop.operands = {dims[r].begin, dims[r].end};
    }
    loop.regions.push_back(std::move(bodies[r]));
    if (r > 0)
      bodies[r - 1].push_back(make_node(std::move(loop)));
    else
      emit(std::move(loop));
  }
  end_scope(before);
}

void Lowerer::if_stmt(const ast::Stmt& s) {
  LVal c = expr(*s.test);
  NodePtr cond;
  if (c.k == LVal::K::none) {
    cond = const_bool(false);
  } else {
    cond = as_node(c, s.test->pos);
  }
  if (cond->kind == NodeKind::const_bool || cond->kind == NodeKind::const_int) {
    stmts(cond->ival ? s.body : s.orelse);  // fixed at specialisation: no scope, like Python
    return;
  }
  if (cond->type.is_tensor())
    fail(s.test->pos, "an if condition cannot be a whole tensor",
         "test `x is not None` for optional tensors, or a scalar such as x.size(0) > 0");
  if (!cond->type.is_scalar())
    fail(s.test->pos,
         "an if condition must be one value per program; this has shape " +
             shape_text(cond->type.shape),
         "use torch.where(cond, a, b) to choose per element");
  if (cond->type.dtype != DType::boolean) cond = binary(Op::ne, cond, const_int(0), s.test->pos);

  make_vars_for({&s.body, &s.orelse}, s.pos);
  std::map<std::string, LVal> before = env_;
  Block then_block, else_block;
  blocks_.push_back(&then_block);
  stmts(s.body);
  blocks_.pop_back();
  std::map<std::string, LVal> then_env = env_;
  env_ = before;
  blocks_.push_back(&else_block);
  stmts(s.orelse);
  blocks_.pop_back();
  std::map<std::string, LVal> else_env = env_;
  env_ = then_env;
  end_scope(before);
  std::map<std::string, LVal> merged_then = env_;
  env_ = else_env;
  end_scope(before);
  for (auto& [name, v] : env_) {
    auto t = merged_then.find(name);
    if (t != merged_then.end() && t->second.k == LVal::K::dead) v = t->second;
  }
  Node n;
  n.kind = NodeKind::if_;
  n.loc = loc_of(s.pos);
  n.operands = {cond};
  n.regions.push_back(std::move(then_block));
  n.regions.push_back(std::move(else_block));
  emit(std::move(n));
}

}  // namespace jagtile::ir::lower_detail
