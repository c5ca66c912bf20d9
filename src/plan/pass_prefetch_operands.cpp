// Planning pass: the next item's matmul operands streamed in (see pass_prefetch_operands.h).
#include "plan/pass_prefetch_operands.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

using ir::Op;

// A tensor element a matmul block reads: the capture and its indices, lets inlined.
struct Access {
  int capture = 0;
  std::vector<ExprPtr> indices;
};

// The additive terms of an int64 sum, widenings stripped.
void sum_terms(const ExprPtr& e, std::vector<ExprPtr>& out) {
  const ExprPtr x = strip_widening(e);
  if (int64_op(x, Op::add)) {
    sum_terms(x->args[0], out);
    sum_terms(x->args[1], out);
  } else {
    out.push_back(x);
  }
}

class OperandPrefetcher {
 public:
  explicit OperandPrefetcher(const DeviceFunc& f)
      : func_(f),
        stored_(stored_tensors(f.body)),
        program_("s" + std::to_string(f.block)),
        next_(var("jt_next_s" + std::to_string(f.block), CType::i64)) {
    for (const StmtPtr& s : f.body) {
      visit(s, [&](const Stmt& st) {
        if (st.kind == StmtKind::let) lets_[st.name] = st.value;
        if (st.kind == StmtKind::nest && st.role == NestRole::value)
          fills_[st.name] = std::make_shared<const Stmt>(st);
      });
    }
  }

  // The prefetches of the next program's operand rows (none where no operand qualifies).
  std::vector<StmtPtr> prefetches() {
    std::vector<StmtPtr> out;
    std::set<std::string> seen;
    for (const StmtPtr& s : func_.body)
      visit(s, [&](const Stmt& block) {
        if (block.kind != StmtKind::matmul_block) return;
        for (size_t op : {size_t(3), size_t(6)}) {  // A and B (nest_ir.h)
          const std::optional<Access> access = operand_access(block.indices[op]);
          if (!access) continue;
          StmtPtr p = next_rows(*access);
          if (p && seen.insert(expr_key(p->indices[0]) + "@" + std::to_string(p->ival)).second)
            out.push_back(std::move(p));
        }
      });
    return out;
  }

 private:
  // The tensor element an operand reads: in place, or through the one load of the value nest
  // that fills its array.
  std::optional<Access> operand_access(const ExprPtr& operand) const {
    if (operand->kind == ExprKind::tensor_address)
      return Access{int(operand->ival), inlined(operand->args)};
    if (operand->kind != ExprKind::array_read) return std::nullopt;
    const Expr* load = only_load(operand->name);
    if (!load) return std::nullopt;
    return Access{int(load->ival), inlined(load->args)};
  }

  // The single unmasked load of the value nest that fills `array`, or null.
  const Expr* only_load(const std::string& array) const {
    auto it = fills_.find(array);
    if (it == fills_.end()) return nullptr;
    ExprPtr value;
    int stores = 0;
    visit(it->second, [&](const Stmt& st) {
      if (st.kind == StmtKind::array_store && st.name == array) value = st.value, ++stores;
    });
    if (stores != 1) return nullptr;
    const ExprPtr inlined_value = inline_lets(value, lets_);
    const Expr* load = nullptr;
    int loads = 0;
    visit(inlined_value, [&](const Expr& x) {
      if (x.kind == ExprKind::load) load = &x, ++loads;
    });
    if (loads != 1 || load->has_mask) return nullptr;
    kept_.push_back(inlined_value);  // the load points into it
    return load;
  }

  std::vector<ExprPtr> inlined(const std::vector<ExprPtr>& indices) const {
    std::vector<ExprPtr> out;
    for (const ExprPtr& e : indices) out.push_back(strip_widening(inline_lets(e, lets_)));
    return out;
  }

  // Whether every term but the one at `skip` is a loop index or a constant (not the program's).
  bool rest_local(const std::vector<ExprPtr>& terms, size_t skip) const {
    for (size_t i = 0; i < terms.size(); ++i) {
      if (i == skip) continue;
      const Expr& t = *terms[i];
      if (t.kind == ExprKind::int_imm) continue;
      if (t.kind != ExprKind::var || t.name == program_) return false;
    }
    return true;
  }

  // Whether e is the program's index plus loop indices.
  bool at_program(const ExprPtr& e) const {
    std::vector<ExprPtr> terms;
    sum_terms(e, terms);
    for (size_t i = 0; i < terms.size(); ++i)
      if (terms[i]->kind == ExprKind::var && terms[i]->name == program_)
        return rest_local(terms, i);
    return false;
  }

  // The element `index` of a rank-1 tensor read as `load` reads it, in the next program: read
  // only in bounds (else 0), as an int64.
  ExprPtr hint_read(const Expr& load, const ExprPtr& index) const {
    return convert(in_bounds_hint(load, {index}), load.dtype, DType::i64);
  }

  // The prefetch of the next program's rows of an access's tensor, or null where its first index
  // has neither form of pass_prefetch_operands.h.
  StmtPtr next_rows(const Access& a) const {
    const ir::Node* t = capture_node(func_, a.capture);
    if (!t || !t->type.is_tensor() || t->type.rank < 2 || stored_.count(a.capture) ||
        int(a.indices.size()) != t->type.rank)
      return nullptr;
    const ExprPtr tensor = capture(a.capture, CType::i64);
    ExprPtr elements = tensor_size(tensor, 1);  // a whole row: the trailing dims
    for (int d = 2; d < t->type.rank; ++d)
      elements = binop(Op::mul, elements, tensor_size(tensor, d));
    std::vector<ExprPtr> first(a.indices.size(), int_imm(0));
    if (at_program(a.indices[0])) {  // the next program's slice
      first[0] = next_;
      return prefetch(a.capture, first, 0,
                      select(in_bounds(next_, tensor_size(tensor, 0)), int_imm(1), int_imm(0)),
                      elements);
    }
    // An item's rows: its offset (a tile array's element, filled from offsets[program]) plus
    // loop indices.
    std::vector<ExprPtr> terms;
    sum_terms(a.indices[0], terms);
    for (size_t i = 0; i < terms.size(); ++i) {
      if (terms[i]->kind != ExprKind::array_read || !rest_local(terms, i)) continue;
      const Expr* offsets = only_load(terms[i]->name);
      if (!offsets || offsets->args.size() != 1 || stored_.count(offsets->ival)) continue;
      if (!at_program(strip_widening(inline_lets(offsets->args[0], lets_)))) continue;
      const ExprPtr start = hint_read(*offsets, next_);
      const ExprPtr end = hint_read(*offsets, binop(Op::add, next_, int_imm(1)));
      first[0] = start;
      return prefetch(a.capture, first, 0,
                      call("jt_max64", CType::i64, {binop(Op::sub, end, start), int_imm(0)}),
                      elements);
    }
    return nullptr;
  }

  const DeviceFunc& func_;
  std::set<int64_t> stored_;
  std::string program_;  // s<b>: the program's index
  ExprPtr next_;         // jt_next_s<b>: the next program's index, -1 where there is none
  std::map<std::string, ExprPtr> lets_;   // every let of the function (each name bound once)
  std::map<std::string, StmtPtr> fills_;  // the value nest that fills each array
  mutable std::vector<ExprPtr> kept_;     // loads found in inlined values (only_load)
};

}  // namespace

void prefetch_next_operands(Plan& plan) {
  if (pass_turned_off("JAGTILE_PREFETCH")) return;
  for (DeviceFunc& f : plan.funcs) {
    if (f.block_size != 1 || f.inner_block >= 0) continue;
    const bool products = std::any_of(f.body.begin(), f.body.end(), [](const StmtPtr& s) {
      return any_stmt(s, [](const Stmt& x) { return x.kind == StmtKind::matmul_block; });
    });
    if (!products) continue;
    f.operand_prefetches = OperandPrefetcher(f).prefetches();
    f.next_program = f.next_program || !f.operand_prefetches.empty();
  }
}

}  // namespace jagtile::plan
