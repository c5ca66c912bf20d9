// The loop-nest form's verifier (see nest_verifier.h): one walk with a stack of scopes.
#include "plan/nest_verifier.h"

#include <unordered_map>
#include <unordered_set>

#include "plan/nest_printer.h"
#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

class Verifier {
 public:
  Verifier(const Plan& plan, const DeviceFunc& func) : plan_(plan), func_(func) {}

  void run() {
    push();
    if (func_.inner_block >= 0) {  // the printers' split of the program id (DeviceFunc)
      check(func_.inner_end != nullptr, "an inner program loop without its extent");
      expr(func_.inner_end);
    }
    for (const std::string& v : program_names(func_)) define(v);
    for (const StmtPtr& p : func_.operand_prefetches)
      check(p->kind == StmtKind::prefetch, "an operand prefetch that is not a prefetch");
    list(func_.operand_prefetches);  // at the program's top, before its body
    list(func_.body);
    pop();
  }

 private:
  void check(bool cond, const std::string& what) {
    JAGTILE_CHECK(cond, << "invalid loop-nest form in " << func_.name << " of kernel '"
                        << plan_.kernel->name << "': " << what);
  }

  void push() { scopes_.emplace_back(); }
  void pop() {
    for (const std::string& n : scopes_.back()) {
      names_.erase(n);
      arrays_.erase(n);
    }
    scopes_.pop_back();
  }
  void define(const std::string& name) {
    check(!names_.count(name), "'" + name + "' defined twice in one scope chain");
    names_.insert(name);
    scopes_.back().push_back(name);
  }

  void expr(const ExprPtr& e) {
    check(e != nullptr, "a missing expression");
    for (const ExprPtr& a : e->args) expr(a);
    switch (e->kind) {
      case ExprKind::var:
        check(names_.count(e->name), "'" + e->name + "' used where it is not defined");
        break;
      case ExprKind::capture:
        check(e->ival >= 0 && size_t(e->ival) < func_.nest->captures.size(),
              "capture " + std::to_string(e->ival) + " out of range");
        break;
      case ExprKind::array_read: {
        auto it = arrays_.find(e->name);
        check(it != arrays_.end(), "array '" + e->name + "' read where it is not declared");
        check(it->second == e->args.size(),
              "array '" + e->name + "' read with " + std::to_string(e->args.size()) +
                  " indices; it has " + std::to_string(it->second) + " dims");
        break;
      }
      case ExprKind::load: {
        check(e->node && e->node->kind == ir::NodeKind::load, "a load without its IR node");
        int rank = e->node->operand(0)->type.rank;
        check(int(e->args.size()) == rank + (e->has_mask ? 1 : 0), "a load's index count");
        if (e->site != -1) site(e->site);  // -1: a hint's load (nest_ir.h), never checked
        break;
      }
      case ExprKind::compute:
        check(e->node && e->args.size() == e->node->operands.size(),
              "a compute without its node's operands");
        break;
      case ExprKind::tensor_address: {
        const ir::Node* t = capture_node(func_, e->ival);
        check(t && (t->type.dtype == DType::f32 || t->type.dtype == DType::bf16) &&
                  int(e->args.size()) == t->type.rank,
              "a tensor address that is not one index per dim of a float32 or bf16 tensor");
        break;
      }
      default:
        break;
    }
  }

  void site(int s) {
    check(s >= 0 && size_t(s) < plan_.sites.size(), "site " + std::to_string(s) + " unknown");
  }

  void list(const std::vector<StmtPtr>& stmts) {
    for (const StmtPtr& s : stmts) stmt(*s);
  }

  void scoped(const std::vector<StmtPtr>& stmts, const std::vector<std::string>& names = {}) {
    push();
    for (const std::string& n : names) define(n);
    list(stmts);
    pop();
  }

  void stmt(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::seq:
      case StmtKind::nest:
        return list(s.body);
      case StmtKind::scope:
        return scoped(s.body);
      case StmtKind::comment:
        return;
      case StmtKind::let:
      case StmtKind::decl:
        expr(s.value);
        return define(s.name);
      case StmtKind::assign:
        expr(s.value);
        check(names_.count(s.name), "assignment to undefined '" + s.name + "'");
        return;
      case StmtKind::array_decl:
        for (const ExprPtr& e : s.indices) expr(e);
        define(s.name);
        arrays_[s.name] = s.indices.size();
        return;
      case StmtKind::array_fill:
        expr(s.value);
        check(arrays_.count(s.name), "fill of undeclared array '" + s.name + "'");
        return;
      case StmtKind::array_store: {
        for (const ExprPtr& e : s.indices) expr(e);
        expr(s.value);
        auto it = arrays_.find(s.name);
        check(it != arrays_.end(), "store to undeclared array '" + s.name + "'");
        check(it->second == s.indices.size(), "array '" + s.name + "' stored with " +
                                                  std::to_string(s.indices.size()) + " indices");
        return;
      }
      case StmtKind::tensor_store: {
        for (const ExprPtr& e : s.indices) expr(e);
        expr(s.value);
        if (s.mask) expr(s.mask);
        check(s.node && int(s.indices.size()) == s.node->operand(0)->type.rank,
              "a store's index count");
        return site(s.site);
      }
      case StmtKind::for_:
        expr(s.extent);
        for (const Reduction& r : s.reductions)
          check(names_.count(r.var), "reduction over undefined '" + r.var + "'");
        return scoped(s.body, {s.name});
      case StmtKind::tile_loop: {
        expr(s.begin);
        expr(s.end);
        const std::string b = std::to_string(s.ival);
        std::vector<std::string> names = {"s" + b, "lim" + b, "id" + b};
        if (!(s.end->kind == ExprKind::var && s.end->name == "end" + b)) names.push_back("end" + b);
        return scoped(s.body, names);
      }
      case StmtKind::if_:
        expr(s.value);
        scoped(s.body);
        return scoped(s.orelse);
      case StmtKind::skip_unless:
        return expr(s.value);
      case StmtKind::fail:
        for (const ExprPtr& e : s.indices) expr(e);
        if (s.site >= 0) site(s.site);
        return;
      case StmtKind::matmul_block: {
        for (const ExprPtr& e : s.indices) expr(e);
        const size_t n = matmul_operand_count(s);
        check(n == 11 || n == 14,
              "a matmul block with " + std::to_string(s.indices.size()) + " operands");
        if (n < s.indices.size()) {
          const ExprPtr& panels = s.indices[n];
          check(panels->kind == ExprKind::array_read && arrays_.count(panels->name) &&
                    s.indices[n + 1]->ctype == CType::boolean &&
                    MatmulInputs(s.ival) == MatmulInputs::f32,
                "a matmul block's kept panels are not a tile array and a boolean, on f32 inputs");
        }
        // A and B may be read in place from a tensor (pass_operands_in_place.h); C and D are
        // arrays.
        for (size_t i : {size_t(3), size_t(6), size_t(9), size_t(11)})
          if (i < n)
            check(s.indices[i]->kind == ExprKind::array_read ||
                      ((i == 3 || i == 6) && s.indices[i]->kind == ExprKind::tensor_address),
                  "a matmul block's operand " + std::to_string(i) + " is not an array");
        check(s.indices[9]->name == s.name, "a matmul block writes another array than its C");
        // bf16 elements read in place only where the block takes bf16 inputs (jt_matmul_bf16).
        for (size_t i : {size_t(3), size_t(6)}) {
          const ExprPtr& e = s.indices[i];
          if (e->kind != ExprKind::tensor_address) continue;
          const ir::Node* t = capture_node(func_, e->ival);
          check(!t || t->type.dtype == DType::f32 || s.ival == int64_t(MatmulInputs::bf16),
                "a matmul block reads bf16 elements in place without bf16 inputs");
        }
        check(s.ival >= 0 && s.ival <= int64_t(MatmulInputs::f16),
              "a matmul block's inputs kind " + std::to_string(s.ival));
        check(s.dim >= 0 && s.dim <= int(ir::MatmulBand::unused_c) && (s.dim == 0) == !s.value,
              "a matmul block's band mode " + std::to_string(s.dim) + " and its offset");
        if (s.value) expr(s.value);
        if (s.mask) {
          check(n == 14, "a matmul block with a mask on D has no D");
          check(s.mask->ctype == CType::boolean, "a matmul block's mask on D is not a bool");
          expr(s.mask);
        }
        return;
      }
      case StmtKind::prefetch: {
        for (const ExprPtr& e : s.indices) expr(e);
        expr(s.extent);
        expr(s.value);
        const ir::Node* t = capture_node(func_, s.ival);
        check(t && t->type.is_tensor(), "a prefetch of a capture that is not a tensor");
        if (t && t->type.is_tensor())
          check(int(s.indices.size()) == t->type.rank && s.dim >= 0 && s.dim + 1 < t->type.rank,
                "a prefetch's index count or its rows' dim");
        return;
      }
      case StmtKind::checked_int:
        expr(s.value);
        expr(s.extent);
        site(s.site);
        if (s.op != ir::Op::floordiv && s.op != ir::Op::mod) define(s.name);
        return;
    }
  }

  const Plan& plan_;
  const DeviceFunc& func_;
  std::unordered_set<std::string> names_;
  std::unordered_map<std::string, size_t> arrays_;
  std::vector<std::vector<std::string>> scopes_;
};

}  // namespace

void verify(const Plan& plan) {
  for (const DeviceFunc& f : plan.funcs) Verifier(plan, f).run();
}

}  // namespace jagtile::plan
