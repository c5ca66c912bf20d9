// Planning pass: elements a mask drops are not computed (see pass_masked_elements.h).
#include "plan/pass_masked_elements.h"

#include <optional>

#include "ir/element_arith.h"
#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

using ir::Op;

// Elements of a 64-byte vector of floats: the kept range is rounded outwards to a multiple.
constexpr int64_t kVectorElements = 16;

// e as coef * index + rest, rest free of the index: integer sums and differences of the index and
// of values that do not read it. Anything that reads memory is refused, since `rest` is evaluated
// once, before the loop.
struct Affine {
  int64_t coef = 0;
  ExprPtr rest;
};

std::optional<Affine> affine_in(const ExprPtr& e, const std::string& index) {
  ExprPtr x = strip_widening(e);
  if (x->ctype != CType::i64) return std::nullopt;
  if (x->kind == ExprKind::var && x->name == index) return Affine{1, int_imm(0)};
  if (!mentions_var(x, index)) {
    bool pure = !any_expr(x, [](const Expr& y) {
      return y.kind == ExprKind::load || y.kind == ExprKind::array_read ||
             y.kind == ExprKind::compute || y.kind == ExprKind::call;
    });
    if (!pure) return std::nullopt;
    return Affine{0, x};
  }
  // Integer sums: the form's own (binop), or the kernel's on int64 values.
  const Op op = int64_op(x, Op::add) ? Op::add : int64_op(x, Op::sub) ? Op::sub : Op::none;
  if (op == Op::none) return std::nullopt;
  std::optional<Affine> a = affine_in(x->args[0], index), b = affine_in(x->args[1], index);
  if (!a || !b) return std::nullopt;
  const int64_t sign = op == Op::add ? 1 : -1;
  return Affine{a->coef + sign * b->coef, binop(op, a->rest, b->rest)};
}

// The mask's kept positions among [0, extent): a prefix [0, end) or a suffix [end, extent).
struct KeptRange {
  bool prefix = true;
  ExprPtr end;  // clamped to [0, extent]
};

// `cond` (lets inlined) as a comparison whose sides differ by +-index + rest, or nullopt.
std::optional<KeptRange> kept_range(const ExprPtr& cond, const std::string& index,
                                    const ExprPtr& extent) {
  const Op op = binary_op(cond);
  if (op != Op::ge && op != Op::gt && op != Op::le && op != Op::lt) return std::nullopt;
  std::optional<Affine> lhs = affine_in(cond->args[0], index);
  std::optional<Affine> rhs = affine_in(cond->args[1], index);
  if (!lhs || !rhs) return std::nullopt;
  // d = lhs - rhs; the condition as coef * index + rest >= 0.
  int64_t coef = lhs->coef - rhs->coef;
  ExprPtr rest = binop(Op::sub, lhs->rest, rhs->rest);
  if (op == Op::le || op == Op::lt) {
    coef = -coef;
    rest = binop(Op::sub, int_imm(0), rest);
  }
  if (op == Op::gt || op == Op::lt) rest = binop(Op::sub, rest, int_imm(1));
  if (coef == -1)  // index <= rest: kept while index < rest + 1
    return KeptRange{true,
                     call("jt_clamp_len", CType::i64, {binop(Op::add, rest, int_imm(1)), extent})};
  if (coef == 1)  // index >= -rest
    return KeptRange{false,
                     call("jt_clamp_len", CType::i64, {binop(Op::sub, int_imm(0), rest), extent})};
  return std::nullopt;
}

// The where a store's value is: {cond, kept value, other value, the IR node (null for a select)}.
struct Where {
  ExprPtr cond, kept, other;
  const ir::Node* node = nullptr;
};

std::optional<Where> where_of(const ExprPtr& value) {
  if (value->kind == ExprKind::select) return Where{value->args[0], value->args[1], value->args[2]};
  if (value->kind == ExprKind::compute && value->node->kind == ir::NodeKind::where)
    return Where{value->args[0], value->args[1], value->args[2], value->node};
  return std::nullopt;
}

// The terms of a conjunction of booleans (`a & b`, `a and b`), or cond itself.
void conjuncts(const ExprPtr& cond, std::vector<ExprPtr>& out) {
  const Op op = binary_op(cond);
  if (cond->ctype == CType::boolean && (op == Op::bit_and || op == Op::logical_and)) {
    conjuncts(cond->args[0], out);
    conjuncts(cond->args[1], out);
    return;
  }
  out.push_back(cond);
}

// The positions a mask can keep, [begin, end) of the loop's range: every term of the conjunction
// that is one comparison of the index bounds it from one side (the others are left to the mask,
// which the kept loop still applies). Null bounds: that side is the range's own.
struct KeptSpan {
  ExprPtr begin, end;
};

std::optional<KeptSpan> kept_span(const ExprPtr& cond, const std::string& index,
                                  const ExprPtr& extent) {
  std::vector<ExprPtr> terms;
  conjuncts(cond, terms);
  KeptSpan span;
  for (const ExprPtr& t : terms) {
    std::optional<KeptRange> r = kept_range(t, index, extent);
    if (!r) continue;
    ExprPtr& side = r->prefix ? span.end : span.begin;
    side = !side ? r->end : call(r->prefix ? "jt_min64" : "jt_max64", CType::i64, {side, r->end});
  }
  if (!span.begin && !span.end) return std::nullopt;
  return span;
}

// The kept loop over [at, at + extent) of `index`: its own index from 0, `index` bound by a let
// (the form's names stay bound once).
StmtPtr kept_loop(const Stmt& loop, const ExprPtr& at, const ExprPtr& extent, NameGen& names) {
  if (at->kind == ExprKind::int_imm && at->ival == 0)
    return for_(loop.name, extent, loop.body, LoopKind::simd);
  const std::string own = names.fresh(loop.name + "_k");
  std::vector<StmtPtr> body = {
      let(loop.name, CType::i64, binop(Op::add, var(own, CType::i64), at))};
  body.insert(body.end(), loop.body.begin(), loop.body.end());
  return for_(own, extent, std::move(body), LoopKind::simd);
}

// A loop storing `value` at `indices` (lets inlined; they read the loop's index) over
// [at, at + extent).
StmtPtr dropped_loop(const Stmt& loop, const std::string& array, std::vector<ExprPtr> indices,
                     ExprPtr value, const ExprPtr& at, const ExprPtr& extent, NameGen& names) {
  const std::string own = names.fresh(loop.name + "_d");
  const std::map<std::string, ExprPtr> shift = {
      {loop.name, binop(Op::add, var(own, CType::i64), at)}};
  for (ExprPtr& i : indices) i = substitute(i, shift);
  return for_(own, extent, {array_store(array, indices, substitute(value, shift))}, LoopKind::simd);
}

// The loops that replace `loop`, or nothing when it does not qualify.
std::vector<StmtPtr> split(const Stmt& loop, NameGen& names) {
  if (loop.kind != StmtKind::for_ || loop.loop != LoopKind::simd || !loop.reductions.empty() ||
      loop.body.empty())
    return {};
  std::map<std::string, ExprPtr> lets;
  for (size_t i = 0; i + 1 < loop.body.size(); ++i) {
    const Stmt& s = *loop.body[i];
    if (s.kind == StmtKind::comment) continue;
    if (s.kind != StmtKind::let) return {};
    lets[s.name] = s.value;
  }
  const Stmt& store = *loop.body.back();
  if (store.kind != StmtKind::array_store || store.update != Update::none) return {};
  std::optional<Where> w = where_of(store.value);
  if (!w) return {};
  // Worth more loops only where the kept value costs something to compute.
  if (!any_expr(inline_lets(w->kept, lets), [](const Expr& x) {
        return x.kind == ExprKind::compute || x.kind == ExprKind::load;
      }))
    return {};
  std::optional<KeptSpan> span = kept_span(inline_lets(w->cond, lets), loop.name, loop.extent);
  if (!span) return {};

  // [begin, end) rounded outwards to whole vectors, within [0, extent], end >= begin.
  std::vector<StmtPtr> out;
  ExprPtr begin = int_imm(0), end = loop.extent;
  if (span->begin) {
    const std::string name = names.fresh("kept_begin");
    out.push_back(
        let(name, CType::i64, binop(Op::bit_and, span->begin, int_imm(-kVectorElements))));
    begin = var(name, CType::i64);
  }
  if (span->end) {
    ExprPtr up = call(
        "jt_min64", CType::i64,
        {loop.extent, binop(Op::bit_and, binop(Op::add, span->end, int_imm(kVectorElements - 1)),
                            int_imm(-kVectorElements))});
    const std::string name = names.fresh("kept_end");
    out.push_back(
        let(name, CType::i64, span->begin ? call("jt_max64", CType::i64, {begin, up}) : up));
    end = var(name, CType::i64);
  }

  // The dropped positions store the other value at the store's indices and compute nothing else.
  ExprPtr other = inline_lets(w->other, lets);
  if (w->node) other = convert(other, ir::operand_dtype(*w->node->operand(2)), w->node->type.dtype);
  std::vector<ExprPtr> indices;
  for (const ExprPtr& i : store.indices) indices.push_back(inline_lets(i, lets));
  if (span->begin)
    out.push_back(dropped_loop(loop, store.name, indices, other, int_imm(0), begin, names));
  out.push_back(kept_loop(loop, begin, span->begin ? binop(Op::sub, end, begin) : end, names));
  if (span->end)
    out.push_back(dropped_loop(loop, store.name, indices, other, end,
                               binop(Op::sub, loop.extent, end), names));
  return out;
}

std::vector<StmtPtr> rewrite_list(const std::vector<StmtPtr>& stmts, NameGen& names) {
  std::vector<StmtPtr> out;
  for (const StmtPtr& s : stmts) {
    std::vector<StmtPtr> replaced = split(*s, names);
    if (!replaced.empty()) {
      out.insert(out.end(), replaced.begin(), replaced.end());
      continue;
    }
    out.push_back(
        map_bodies(s, [&](const std::vector<StmtPtr>& b) { return rewrite_list(b, names); }));
  }
  return out;
}

}  // namespace

void skip_masked_elements(Plan& plan) {
  if (pass_turned_off("JAGTILE_MASKED_ELEMENTS")) return;
  for (DeviceFunc& f : plan.funcs) {
    NameGen names(f);
    f.body = rewrite_list(f.body, names);
  }
}

}  // namespace jagtile::plan
