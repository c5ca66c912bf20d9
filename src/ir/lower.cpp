// Lowering, part 1: the driver, statements, loops (tile / grid / jagged_tile), `if`, and the
// rule that turns names reassigned inside a loop or a runtime `if` into variables. Python's
// scoping is followed where it matters: a name first bound inside a loop or branch is gone
// after it; a name that existed before keeps its (possibly updated) value.
#include "ir/lower.h"

#include <algorithm>

#include "ir/lower_impl.h"
#include "lang/imports.h"

namespace jagtile::ir {

DType promote_dtypes(DType a, DType b) {
  if (a == b) return a;
  auto category = [](DType d) { return dtype_is_float(d) ? 2 : dtype_is_int(d) ? 1 : 0; };
  int ca = category(a), cb = category(b);
  if (ca != cb) return ca > cb ? a : b;
  if (ca == 1) return DType::i64;  // i32 with i64
  // Two different floats: the wider wins; f16 with bf16 has no common 16-bit type, so f32.
  if (a == DType::f64 || b == DType::f64) return DType::f64;
  return DType::f32;
}

namespace lower_detail {
namespace {

void collect_assigned_target(const ast::Expr& t, std::set<std::string>& out) {
  if (t.kind == ast::ExprKind::name) {
    out.insert(t.id);
  } else if (t.kind == ast::ExprKind::tuple || t.kind == ast::ExprKind::list) {
    for (const auto& e : t.elts) collect_assigned_target(*e, out);
  }
}

void collect_assigned(const ast::StmtList& list, std::set<std::string>& out) {
  for (const auto& s : list) {
    switch (s->kind) {
      case ast::StmtKind::assign:
        for (const auto& t : s->targets) collect_assigned_target(*t, out);
        break;
      case ast::StmtKind::aug_assign:
      case ast::StmtKind::ann_assign:
        if (s->target) collect_assigned_target(*s->target, out);
        break;
      case ast::StmtKind::for_loop:
        collect_assigned(s->body, out);
        break;
      case ast::StmtKind::if_stmt:
        collect_assigned(s->body, out);
        collect_assigned(s->orelse, out);
        break;
      default:
        break;
    }
  }
}

bool same_binding(const LVal& a, const LVal& b) {
  return a.k == b.k && a.node == b.node && a.block == b.block;
}

int category(DType d) {
  return dtype_is_float(d) ? 2 : dtype_is_int(d) ? 1 : 0;
}

}  // namespace

Lowerer::Lowerer(const ast::Module& module, const ast::Stmt& fn,
                 const std::vector<ParamSpec>& params, const LowerOptions& options)
    : module_(module), fn_(fn), options_(options) {
  kernel_.name = fn.name;
  kernel_.file = module.file;
  kernel_.source_lines = module.lines;
  kernel_.params = params;
}

void Lowerer::fail(ast::Pos pos, std::string message, std::string hint) const {
  throw ast::error_at(module_, pos, std::move(message), std::move(hint));
}

Kernel Lowerer::run() {
  // Module names (hl, torch, F, ... and the file's aliases of them) stand for their full path;
  // imports kernels cannot use stay unbound (the checker reports their uses).
  for (const auto& [name, imported] : lang::imported_names(module_)) {
    if (imported.understood) env_[name] = LVal::of_module(imported.target);
  }
  JAGTILE_CHECK(kernel_.params.size() == fn_.params.size(),
                << "lower_kernel: " << kernel_.params.size() << " specs for " << fn_.params.size()
                << " parameters");
  for (size_t i = 0; i < fn_.params.size(); ++i) {
    const ParamSpec& spec = kernel_.params[i];
    if (spec.kind == ParamKind::none) {
      env_[spec.name] = LVal{};
      continue;
    }
    Node n;
    n.kind = NodeKind::param;
    n.ival = int64_t(i);
    n.name = spec.name;
    n.loc = loc_of(fn_.params[i].pos);
    switch (spec.kind) {
      case ParamKind::tensor:
        n.type = Type::tensor(spec.dtype, spec.rank, spec.device);
        break;
      case ParamKind::int_scalar:
        n.type = Type::host_int();
        break;
      case ParamKind::float_scalar:
        n.type = Type::host_float();
        break;
      case ParamKind::bool_scalar:
        n.type = Type::host_bool();
        break;
      case ParamKind::none:
        break;
    }
    env_[spec.name] = LVal::of(make_node(std::move(n)));
  }
  blocks_.push_back(&kernel_.body);
  stmts(fn_.body);
  blocks_.pop_back();
  return std::move(kernel_);
}

void Lowerer::stmts(const ast::StmtList& list) {
  for (const auto& s : list) stmt(*s);
}

void Lowerer::stmt(const ast::Stmt& s) {
  switch (s.kind) {
    case ast::StmtKind::expr:
      if (s.value && s.value->kind == ast::ExprKind::str_lit) return;  // docstring
      expr(*s.value);
      return;
    case ast::StmtKind::assign: {
      LVal v = expr(*s.value);
      if (s.targets.size() == 1 && s.targets[0]->kind == ast::ExprKind::name)
        v = named(v, s.targets[0]->id);
      for (const auto& t : s.targets) assign_target(*t, v, s.pos);
      return;
    }
    case ast::StmtKind::ann_assign:
      if (s.value) {
        LVal v = expr(*s.value);
        if (s.target->kind == ast::ExprKind::name) v = named(v, s.target->id);
        assign_target(*s.target, v, s.pos);
      }
      return;
    case ast::StmtKind::aug_assign: {
      const ast::Expr& t = *s.target;
      if (t.kind == ast::ExprKind::subscript) {
        // out[i] += v: read, combine, write back.
        LVal base = expr(*t.value);
        NodePtr tensor = as_node(base, t.pos);
        if (!tensor->type.is_tensor() || !in_device())
          fail(t.pos, "'+=' on a subscript needs a tensor inside a device loop");
        std::vector<const ast::Expr*> idx;
        if (t.index->kind == ast::ExprKind::tuple)
          for (const auto& e : t.index->elts) idx.push_back(e.get());
        else
          idx.push_back(t.index.get());
        NodePtr old = load(tensor, idx, nullptr, t.pos);
        // Read-modify-write of a tensor element: the four arithmetic operators only.
        const Op op = binary_op(s.aug_op);
        if (op != Op::add && op != Op::sub && op != Op::mul && op != Op::div)
          fail(s.pos, "this augmented assignment is not supported on a subscript");
        store(tensor, idx, binary(op, old, value(*s.value), s.pos), nullptr, t.pos);
        return;
      }
      if (t.kind != ast::ExprKind::name) fail(t.pos, "augmented assignment needs a name");
      NodePtr lhs = value(t);
      NodePtr rhs = value(*s.value);
      const Op op = binary_op(s.aug_op);
      if (op == Op::none || op == Op::pow || op == Op::bit_xor)
        fail(s.pos, "this augmented assignment operator is not supported");
      assign_name(t.id, LVal::of(binary(op, lhs, rhs, s.pos)), s.pos);
      return;
    }
    case ast::StmtKind::for_loop:
      for_loop(s);
      return;
    case ast::StmtKind::if_stmt:
      if_stmt(s);
      return;
    case ast::StmtKind::return_stmt: {
      if (in_device())
        fail(s.pos, "return inside a device loop", "return the output tensors after the loops");
      Node n;
      n.kind = NodeKind::return_;
      n.loc = loc_of(s.pos);
      if (s.value) {
        LVal v = expr(*s.value);
        std::vector<LVal> items = v.k == LVal::K::tuple ? v.elts : std::vector<LVal>{v};
        for (const LVal& item : items) {
          NodePtr t = as_node(item, s.value->pos);
          if (!t->type.is_tensor())
            fail(s.value->pos, "a kernel returns tensors; this is " + type_text(t->type),
                 "return the output tensor(s) the kernel wrote");
          n.operands.push_back(t);
        }
      }
      emit(std::move(n));
      return;
    }
    case ast::StmtKind::assert_stmt: {
      if (in_device())
        fail(s.pos, "assert inside a device loop is not supported",
             "check sizes with assert before the first loop");
      NodePtr c = value(*s.test);
      if (!c->type.is_host_scalar())
        fail(s.test->pos, "assert needs a host condition (sizes, scalars)");
      if (c->kind == NodeKind::const_bool && c->ival) return;
      Node n;
      n.kind = NodeKind::assert_;
      n.loc = loc_of(s.pos);
      n.operands = {c};
      n.name = s.msg && s.msg->kind == ast::ExprKind::str_lit ? s.msg->str_value : "";
      emit(std::move(n));
      return;
    }
    case ast::StmtKind::pass:
    case ast::StmtKind::import:
      return;
    case ast::StmtKind::break_stmt:
    case ast::StmtKind::continue_stmt:
      fail(s.pos, "break and continue are not supported in kernels",
           "use masks (torch.where) or an if on a per-program scalar");
    case ast::StmtKind::while_loop:
      fail(s.pos, "while loops are not supported", "use hl.tile or hl.grid");
    case ast::StmtKind::function_def:
      fail(s.pos, "nested function definitions are not supported");
    case ast::StmtKind::unsupported:
      fail(s.pos, s.what + " is not supported in a kernel");
  }
}

void Lowerer::assign_target(const ast::Expr& target, const LVal& v, ast::Pos pos) {
  switch (target.kind) {
    case ast::ExprKind::name:
      assign_name(target.id, v, target.pos);
      return;
    case ast::ExprKind::tuple:
    case ast::ExprKind::list: {
      if (v.k != LVal::K::tuple)
        fail(target.pos,
             "cannot unpack a single value into " + std::to_string(target.elts.size()) + " names");
      if (v.elts.size() != target.elts.size())
        fail(target.pos,
             "cannot unpack " + std::to_string(v.elts.size()) + " values into " +
                 std::to_string(target.elts.size()) + " names",
             "the right-hand side has " + std::to_string(v.elts.size()) + " elements");
      for (size_t i = 0; i < v.elts.size(); ++i) assign_target(*target.elts[i], v.elts[i], pos);
      return;
    }
    case ast::ExprKind::subscript: {
      NodePtr tensor = as_node(expr(*target.value), target.value->pos);
      if (!tensor->type.is_tensor())
        fail(target.pos, "only tensors can be assigned through a subscript; this is " +
                             type_text(tensor->type));
      if (!in_device())
        fail(target.pos, "writing tensor elements outside a device loop is not supported",
             "write them inside a `for tile in hl.tile(...)` loop");
      std::vector<const ast::Expr*> idx;
      if (target.index->kind == ast::ExprKind::tuple)
        for (const auto& e : target.index->elts) idx.push_back(e.get());
      else
        idx.push_back(target.index.get());
      store(tensor, idx, as_node(v, pos), nullptr, target.pos);
      return;
    }
    default:
      fail(target.pos, "cannot assign to this expression");
  }
}

void Lowerer::assign_name(const std::string& name, const LVal& v, ast::Pos pos) {
  auto it = env_.find(name);
  if (it != env_.end() && it->second.k == LVal::K::var) {
    const NodePtr& decl = it->second.node;
    const Type& t = decl->type;
    NodePtr n = v.k == LVal::K::node ? v.node : nullptr;
    bool ok = false;
    if (n && t.is_host_scalar() && n->type.is_host_scalar()) {
      ok = t.kind == n->type.kind ||
           (t.kind == TypeKind::host_float && n->type.kind == TypeKind::host_int);
    } else if (n && t.is_value() && (n->type.is_value() || n->type.is_host_scalar())) {
      bool shape_ok = true;
      // Full dims that are sizes of different tensors (`v.size(2)` where the variable has
      // `q.size(2)`) are equal when the host checks them so; the checks are emitted only when
      // the assignment is otherwise valid.
      std::vector<std::pair<Dim, Dim>> equal_at_run_time;
      if (n->type.is_value()) {
        const Shape& vs = n->type.shape;
        if (vs.size() > t.shape.size()) {
          shape_ok = false;
        } else {
          size_t off = t.shape.size() - vs.size();
          for (size_t i = 0; i < vs.size(); ++i) {
            const Dim& want = t.shape[off + i];
            if (vs[i].is_broadcast() || same_dim(vs[i], want)) continue;
            if (vs[i].kind == Dim::Kind::full && want.kind == Dim::Kind::full)
              equal_at_run_time.emplace_back(want, vs[i]);
            else
              shape_ok = false;
          }
        }
      }
      ok = shape_ok && category(n->type.dtype) <= category(t.dtype);
      for (size_t i = 0; ok && i < equal_at_run_time.size(); ++i)
        ok = check_sizes_equal_at_run_time(equal_at_run_time[i].first, equal_at_run_time[i].second,
                                           pos, "'" + name + "' keeps its shape");
      if (ok && n->type.is_value() && n->type.dtype != t.dtype) n = cast(n, t.dtype, pos);
    }
    if (ok) {
      Node a;
      a.kind = NodeKind::var_assign;
      a.loc = loc_of(pos);
      a.operands = {decl, n};
      emit(std::move(a));
      return;
    }
    if (vars_read_.count(decl.get()))
      fail(pos,
           "'" + name + "' changes type inside a loop or if: it was " + type_text(t) +
               ", here it becomes " + (n ? type_text(n->type) : std::string("a non-value")),
           "keep the same shape and dtype on every iteration, or use a new name");
    // Never read as a variable: this is a fresh value that happens to reuse the name.
  }
  env_[name] = v;
}

LVal Lowerer::named(const LVal& v, const std::string& name) {
  // Gives a freshly computed value the name it is bound to, for readable IR and error
  // messages. Only for `name = expr` with one target: the node was just emitted by `expr` and
  // nothing else holds it yet, so replacing it in the block by a named copy is invisible.
  if (v.k != LVal::K::node || !v.node->name.empty() || blocks_.empty() || blocks_.back()->empty() ||
      blocks_.back()->back() != v.node || v.node->kind == NodeKind::var_read ||
      v.node->kind == NodeKind::var_decl)
    return v;
  Node copy = *v.node;
  copy.name = name;
  NodePtr renamed = make_node(std::move(copy));
  blocks_.back()->back() = renamed;
  return LVal::of(renamed);
}

std::set<std::string> Lowerer::make_vars_for(const std::vector<const ast::StmtList*>& bodies,
                                             ast::Pos pos) {
  std::set<std::string> assigned;
  for (const ast::StmtList* b : bodies) collect_assigned(*b, assigned);
  std::set<std::string> made;
  for (const std::string& name : assigned) {
    auto it = env_.find(name);
    if (it == env_.end() || it->second.k != LVal::K::node) continue;
    const NodePtr& init = it->second.node;
    if (!init->type.is_value() && !init->type.is_host_scalar()) continue;
    Node d;
    d.kind = NodeKind::var_decl;
    d.type = init->type;
    d.operands = {init};
    d.name = name;
    d.loc = loc_of(pos);
    LVal var;
    var.k = LVal::K::var;
    var.node = emit(std::move(d));
    it->second = var;
    made.insert(name);
  }
  return made;
}

void Lowerer::end_scope(const std::map<std::string, LVal>& before) {
  for (auto it = env_.begin(); it != env_.end();) {
    auto b = before.find(it->first);
    if (b == before.end()) {
      it = env_.erase(it);
      continue;
    }
    if (!same_binding(it->second, b->second)) {
      LVal dead;
      dead.k = LVal::K::dead;
      dead.text = "'" + it->first +
                  "' was given a value of another type inside a loop or if, so it has no "
                  "single value after it";
      it->second = dead;
    }
    ++it;
  }
}

}  // namespace lower_detail

namespace {

// The tile block whose index steps an access's last index by one element (tile.index plus values
// that do not involve another tile's index), or -1. A heuristic for default block sizes only.
int unit_stride_block(const Node& e) {
  switch (e.kind) {
    case NodeKind::tile_attr:
      return e.op == Op::index ? int(e.ival) : -1;
    case NodeKind::unsqueeze:
    case NodeKind::cast:
      return unit_stride_block(*e.operand(0));
    case NodeKind::binary: {
      if (e.op != Op::add && e.op != Op::sub) return -1;
      const int a = unit_stride_block(*e.operand(0));
      const int b = e.op == Op::add ? unit_stride_block(*e.operand(1)) : -1;
      return a >= 0 && b >= 0 ? -1 : std::max(a, b);
    }
    default:
      return -1;
  }
}

// The tile blocks that walk some tensor's contiguous last dim in a load or a store.
std::vector<int> column_blocks(const Kernel& k) {
  std::vector<int> columns;
  walk(k.body, [&](const NodePtr& n) {
    const size_t trailing = n->kind == NodeKind::load    ? 1 + size_t(n->ival)
                            : n->kind == NodeKind::store ? 2 + size_t(n->ival)
                                                         : 0;
    if (trailing == 0 || n->operands.size() < trailing + 2) return;
    const int b = unit_stride_block(*n->operand(n->operands.size() - trailing));
    if (b >= 0 && k.blocks[size_t(b)].kind == LoopKind::tile &&
        std::find(columns.begin(), columns.end(), b) == columns.end())
      columns.push_back(b);
  });
  return columns;
}

// The loops of a matmul kernel that take the wider block: the jagged loops (an item's rows), and
// the tile loops that are a matmul's contraction dim (the last dim of its first operand) and walk
// a dense dim from its start (`hl.tile(n)` below the outermost loop, begin the constant 0).
// With `bf16`, the dense loops over a matmul's output rows and columns too.
std::vector<int> wide_matmul_blocks(const Kernel& k, bool bf16) {
  std::vector<int> matmul_dims, wide;  // the blocks of the dims that widen when dense
  walk(k.body, [&](const NodePtr& n) {
    if (n->kind != NodeKind::matmul || n->operand(0)->type.shape.empty()) return;
    const Dim& d = n->operand(0)->type.shape.back();
    if (d.kind == Dim::Kind::tile) matmul_dims.push_back(d.block);
    const Dim& columns = n->type.shape.back();
    if (bf16 && columns.kind == Dim::Kind::tile) matmul_dims.push_back(columns.block);
    const size_t rank = n->type.shape.size();
    if (bf16 && rank >= 2 && n->type.shape[rank - 2].kind == Dim::Kind::tile)
      matmul_dims.push_back(n->type.shape[rank - 2].block);
  });
  walk(k.body, [&](const NodePtr& n) {
    const bool outermost = std::find(k.body.begin(), k.body.end(), n) != k.body.end();
    const bool dense = n->kind == NodeKind::tile_loop && !outermost &&
                       n->operand(0)->kind == NodeKind::const_int && n->operand(0)->ival == 0 &&
                       std::count(matmul_dims.begin(), matmul_dims.end(), int(n->ival)) > 0;
    if (dense || n->kind == NodeKind::jagged_loop) wide.push_back(int(n->ival));
  });
  return wide;
}

// The jagged loops over a matmul's output rows (an item's rows in jagged_dense_bmm), not its
// contraction (jagged_jagged_bmm's rows).
std::vector<int> jagged_row_blocks(const Kernel& k) {
  std::vector<int> rows, contraction;
  walk(k.body, [&](const NodePtr& n) {
    if (n->kind != NodeKind::matmul || n->type.shape.size() < 2) return;
    const Dim& r = n->type.shape[n->type.shape.size() - 2];
    if (r.kind == Dim::Kind::tile) rows.push_back(r.block);
    const Dim& k_dim = n->operand(0)->type.shape.back();
    if (k_dim.kind == Dim::Kind::tile) contraction.push_back(k_dim.block);
  });
  std::vector<int> out;
  walk(k.body, [&](const NodePtr& n) {
    const int b = int(n->ival);
    if (n->kind == NodeKind::jagged_loop && std::count(rows.begin(), rows.end(), b) > 0 &&
        std::count(contraction.begin(), contraction.end(), b) == 0)
      out.push_back(b);
  });
  return out;
}

// Whether every matmul of the kernel multiplies bf16 operands.
bool bf16_matmuls(const Kernel& k) {
  bool all = true, any = false;
  walk(k.body, [&](const NodePtr& n) {
    if (n->kind != NodeKind::matmul) return;
    any = true;
    all =
        all && n->operand(0)->type.dtype == DType::bf16 && n->operand(1)->type.dtype == DType::bf16;
  });
  return any && all;
}

// Whether the kernel walks its items' rows more than once, or writes them: two or more row loops
// (tile or jagged loops two levels inside the outermost: items, then columns or rows, then rows
// or columns), or one that stores. Such a kernel runs best with one item per program. With 16,
// each pass walks all 16 items, so a second pass rereads rows the first has pushed out of L2 (16
// items of 384 rows x 1 KB are 6 MB), and a store's tile grows to [items, rows, columns]. Measured
// at B = 1024, D = 256, max_len 512, two threads, AVX-512: jagged_softmax 29.0 -> 23.6 ms,
// jagged_layer_norm 16.1 -> 12.1 ms, jagged_dense_add 28.4 -> 23.5 ms, and at max_len 8 faster too.
// A kernel that only reduces its rows keeps 16: jagged_sum at max_len 8 took 0.076 ms with 16 and
// 0.185 ms with 1.
bool walks_or_writes_rows(const Kernel& k) {
  int row_loops = 0;
  bool stores_rows = false;
  const auto visit = [&](const auto& self, const Block& block, int depth) -> void {
    for (const NodePtr& n : block) {
      const bool loop = n->kind == NodeKind::tile_loop || n->kind == NodeKind::jagged_loop;
      const bool row_loop = loop && depth >= 2;
      if (row_loop) {
        ++row_loops;
        walk(n->regions[0], [&](const NodePtr& m) { stores_rows |= m->kind == NodeKind::store; });
        continue;  // loops inside a row loop are part of the same pass
      }
      for (const Block& r : n->regions) self(self, r, depth + (loop ? 1 : 0));
    }
  };
  visit(visit, k.body, 0);
  return row_loops >= 2 || stores_rows;
}

}  // namespace

Kernel lower_kernel(const ast::Module& module, const ast::Stmt& fn,
                    const std::vector<ParamSpec>& params, const LowerOptions& options) {
  Kernel k = lower_detail::Lowerer(module, fn, params, options).run();
  bool matmul = false;
  walk(k.body, [&](const NodePtr& n) { matmul |= n->kind == NodeKind::matmul; });
  bool defaulted = false;  // a block size the defaults below would change
  for (const BlockInfo& b : k.blocks)
    defaulted |= b.config_index >= 0 && size_t(b.config_index) >= options.block_sizes.size();
  if (!defaulted) return k;
  if (!matmul) {
    // The wide default goes to the tile loops that walk a tensor's contiguous dim, wherever
    // they nest. The first lowering guessed "the hl.tile directly inside the outermost loop";
    // in a padded layout kernel (items, rows, columns) that is the rows loop, and its columns
    // then went 32 at a time: 128 B of every 1 KB row per pass, 3x slower than whole rows
    // (jagged_to_padded_dense, D = 256, 2 threads, AVX2: 91 ms against 29 ms).
    if (!options.column_blocks.empty()) return k;
    LowerOptions by_columns = options;
    by_columns.column_blocks = column_blocks(k);
    if (walks_or_writes_rows(k)) by_columns.default_outer_block = 1;
    if (by_columns.column_blocks.empty() &&
        by_columns.default_outer_block == options.default_outer_block)
      return k;
    return lower_detail::Lowerer(module, fn, params, by_columns).run();
  }
  // A kernel with a matmul has its own defaults (block sizes given by the config or the source
  // keep theirs). One item per outermost program: with several, the jagged loops run to the
  // longest item of the block and every item's operands are loaded for all of them. Inner
  // blocks of 64: longer k loops and wider panels for the microkernel, operands still in L1/L2.
  // Measured on jagged_dense_bmm, 1 thread: D = K = 256: 16/32/32/32 16 GFLOP/s, 1/32/32/32 35,
  // 1/64/64/64 49, 1/128/128/128 66; D = K = 64: 1/32 16, 1/64 25, 1/128 21.
  // Two kinds of loop take 128. The k loop of a matmul over a dense dim (`hl.tile(D)` from 0, the
  // features): twice as many products between the accumulators' loads and stores, and half the
  // microkernel calls. And a jagged loop over an item's rows: each block of the other operand
  // (a weight) is copied once per 128 rows. Rows walked by `hl.tile(begin, end)` (attention's
  // query and key blocks) keep 64: a causal diagonal block computes its masked half too, and 64
  // x 64 measured best there. So do the output's columns: at D = K = 64 a 128-column block only
  // widens the tile arrays, 3% slower. bench/peers/matmul_blocks.py, 2 threads, Zen 5, blocks
  // (items, rows, columns, k): B = 1024, D = K = 256: 1/64/64/64 348 GFLOP/s, 1/64/64/128 374,
  // 1/128/64/128 374-375; B = 256, D = K = 64: 296, 295, 301-304 (docs/performance.md).
  // On a GPU (tensors on a CUDA device) every inner loop keeps 64: the wider blocks were measured
  // on the CPU only, and the CUDA printer keeps tile arrays in shared memory up to 40 KiB only,
  // past which they go to global memory.
  LowerOptions for_matmul = options;
  for_matmul.default_outer_block = 1;
  for_matmul.default_inner_block = 64;
  const bool on_gpu = std::any_of(params.begin(), params.end(), [](const ParamSpec& p) {
    return p.kind == ParamKind::tensor && p.device.is_cuda();
  });
  // bf16 operands on the CPU take 256 for those loops and for the output's columns: the packs
  // into bf16 pairs (and AMX tiles) pay once per block, so larger blocks amortise them. bf16
  // jagged_dense_bmm at B = 1024, D = K = 256, 2 threads, blocks (items, rows, columns, k):
  // 1/128/64/128 79.4 ms, 1/256/64/256 69.7, 1/256/128/256 60.1, 1/256/256/256 54.3 on AMX tiles;
  // and in bench/peers/bf16_matmul.py's race 1.17x on the pairs, 1.11x on the f32 path
  // (Emerald Rapids Xeon, docs/performance.md). So do dense loops over the output's rows:
  // bf16 jagged_jagged_bmm (x^T @ y, rows over D) at 1/256/256/256 1.29-1.31x its 1/64/256/256.
  // And a jagged loop over a matmul's output rows takes 512 (most items are then one block, B
  // packed once per item): bf16 jagged_dense_bmm 1.044-1.095x. Not a jagged contraction:
  // jagged_jagged_bmm's rows at 512 ran 0.80x.
  if (!on_gpu) {
    const bool bf16 = bf16_matmuls(k);
    for_matmul.default_column_block = bf16 ? 256 : 128;
    for_matmul.column_blocks = wide_matmul_blocks(k, bf16);
    if (bf16) {
      for_matmul.row_blocks = jagged_row_blocks(k);
      for_matmul.default_row_block = 512;
    }
  }
  // An empty list means "guess" to the lowerer: a block id no loop has keeps every loop at 64.
  if (for_matmul.column_blocks.empty()) for_matmul.column_blocks = {-1};
  return lower_detail::Lowerer(module, fn, params, for_matmul).run();
}

}  // namespace jagtile::ir
