// Constructors and names of the loop-nest form (see nest_ir.h).
#include "plan/nest_ir.h"

namespace jagtile::plan {

std::string_view ctype_name(CType t) {
  switch (t) {
    case CType::i64:
      return "i64";
    case CType::f32:
      return "f32";
    case CType::f64:
      return "f64";
    case CType::boolean:
      return "bool";
  }
  return "?";
}

CType compute_ctype_of(DType dtype) {
  if (dtype == DType::f64) return CType::f64;
  if (dtype_is_float(dtype)) return CType::f32;
  if (dtype == DType::boolean) return CType::boolean;
  return CType::i64;
}

std::string_view expr_kind_name(ExprKind kind) {
  switch (kind) {
#define JAGTILE_PLAN_EXPR_NAME(name, doc) \
  case ExprKind::name:                    \
    return #name;
    JAGTILE_PLAN_EXPR_KINDS(JAGTILE_PLAN_EXPR_NAME)
#undef JAGTILE_PLAN_EXPR_NAME
  }
  return "?";
}

std::string_view stmt_kind_name(StmtKind kind) {
  switch (kind) {
#define JAGTILE_PLAN_STMT_NAME(name, doc) \
  case StmtKind::name:                    \
    return #name;
    JAGTILE_PLAN_STMT_KINDS(JAGTILE_PLAN_STMT_NAME)
#undef JAGTILE_PLAN_STMT_NAME
  }
  return "?";
}

std::string_view nest_role_name(NestRole role) {
  switch (role) {
    case NestRole::value:
      return "value";
    case NestRole::reduce:
      return "reduce";
    case NestRole::matmul:
      return "matmul";
    case NestRole::store:
      return "store";
    case NestRole::var_init:
      return "var_init";
    case NestRole::var_assign:
      return "var_assign";
    case NestRole::extents:
      return "extents";
    case NestRole::check:
      return "check";
    case NestRole::diagnose:
      return "diagnose";
  }
  return "?";
}

namespace {

ExprPtr make(Expr e) {
  return std::make_shared<const Expr>(std::move(e));
}
StmtPtr make(Stmt s) {
  return std::make_shared<const Stmt>(std::move(s));
}

}  // namespace

ExprPtr int_imm(int64_t v) {
  Expr e;
  e.kind = ExprKind::int_imm;
  e.ival = v;
  return make(std::move(e));
}

ExprPtr float_imm(double v) {
  Expr e;
  e.kind = ExprKind::float_imm;
  e.ctype = CType::f64;
  e.dtype = DType::f32;
  e.fval = v;
  return make(std::move(e));
}

ExprPtr bool_imm(bool v) {
  Expr e;
  e.kind = ExprKind::bool_imm;
  e.ctype = CType::boolean;
  e.dtype = DType::boolean;
  e.ival = v;
  return make(std::move(e));
}

ExprPtr var(std::string name, CType type) {
  // Every float32 compute dtype converts alike, so f32 stands for them.
  const DType dtype = type == CType::f32       ? DType::f32
                      : type == CType::f64     ? DType::f64
                      : type == CType::boolean ? DType::boolean
                                               : DType::i64;
  return var(std::move(name), type, dtype);
}

ExprPtr var(std::string name, CType type, DType dtype) {
  Expr e;
  e.kind = ExprKind::var;
  e.ctype = type;
  e.dtype = dtype;
  e.name = std::move(name);
  return make(std::move(e));
}

ExprPtr capture(int index, CType type) {
  Expr e;
  e.kind = ExprKind::capture;
  e.ctype = type;
  e.ival = index;
  return make(std::move(e));
}

ExprPtr tensor_size(ExprPtr tensor, int dim) {
  Expr e;
  e.kind = ExprKind::tensor_size;
  e.ival = dim;
  e.args = {std::move(tensor)};
  return make(std::move(e));
}

ExprPtr tensor_address(int capture, std::vector<ExprPtr> indices) {
  Expr e;
  e.kind = ExprKind::tensor_address;
  e.ctype = CType::f32;
  e.dtype = DType::f32;
  e.ival = capture;
  e.args = std::move(indices);
  return make(std::move(e));
}

ExprPtr array_read(std::string array, CType type, std::vector<ExprPtr> indices) {
  Expr e;
  e.kind = ExprKind::array_read;
  e.ctype = type;
  e.name = std::move(array);
  e.args = std::move(indices);
  return make(std::move(e));
}

ExprPtr compute(const ir::Node* node, CType type, std::vector<ExprPtr> args) {
  Expr e;
  e.kind = ExprKind::compute;
  e.ctype = type;
  e.node = node;
  e.dtype = node->type.dtype;
  e.args = std::move(args);
  return make(std::move(e));
}

ExprPtr convert(ExprPtr a, DType from, DType to) {
  Expr e;
  e.kind = ExprKind::convert;
  e.ctype = compute_ctype_of(to);
  e.from = from;
  e.dtype = to;
  e.args = {std::move(a)};
  return make(std::move(e));
}

ExprPtr select(ExprPtr cond, ExprPtr a, ExprPtr b) {
  Expr e;
  e.kind = ExprKind::select;
  e.ctype = a->ctype;
  e.dtype = a->dtype;
  e.args = {std::move(cond), std::move(a), std::move(b)};
  return make(std::move(e));
}

ExprPtr call(std::string helper, CType type, std::vector<ExprPtr> args) {
  Expr e;
  e.kind = ExprKind::call;
  e.ctype = type;
  e.name = std::move(helper);
  e.args = std::move(args);
  return make(std::move(e));
}

ExprPtr binop(ir::Op op, ExprPtr a, ExprPtr b) {
  Expr e;
  e.kind = ExprKind::binop;
  e.op = op;
  const bool logical = ir::op_is_comparison(op) || op == ir::Op::logical_and ||
                       op == ir::Op::logical_or ||
                       (op == ir::Op::bit_or && a->ctype == CType::boolean);
  e.ctype = logical ? CType::boolean : CType::i64;
  e.dtype = logical ? DType::boolean : DType::i64;
  e.args = {std::move(a), std::move(b)};
  return make(std::move(e));
}

ExprPtr not_(ExprPtr a) {
  Expr e;
  e.kind = ExprKind::not_;
  e.ctype = CType::boolean;
  e.dtype = DType::boolean;
  e.args = {std::move(a)};
  return make(std::move(e));
}

ExprPtr in_bounds(ExprPtr index, ExprPtr extent) {
  Expr e;
  e.kind = ExprKind::in_bounds;
  e.ctype = CType::boolean;
  e.dtype = DType::boolean;
  e.args = {std::move(index), std::move(extent)};
  return make(std::move(e));
}

StmtPtr seq(std::vector<StmtPtr> body) {
  Stmt s;
  s.kind = StmtKind::seq;
  s.body = std::move(body);
  return make(std::move(s));
}

StmtPtr scope(std::vector<StmtPtr> body) {
  Stmt s;
  s.kind = StmtKind::scope;
  s.body = std::move(body);
  return make(std::move(s));
}

StmtPtr comment(std::string text) {
  Stmt s;
  s.kind = StmtKind::comment;
  s.name = std::move(text);
  return make(std::move(s));
}

StmtPtr let(std::string name, CType type, ExprPtr value) {
  Stmt s;
  s.kind = StmtKind::let;
  s.name = std::move(name);
  s.ctype = type;
  s.value = std::move(value);
  return make(std::move(s));
}

StmtPtr decl(std::string name, CType type, ExprPtr value) {
  Stmt s;
  s.kind = StmtKind::decl;
  s.name = std::move(name);
  s.ctype = type;
  s.value = std::move(value);
  return make(std::move(s));
}

StmtPtr assign(std::string name, ExprPtr value, Update update) {
  Stmt s;
  s.kind = StmtKind::assign;
  s.name = std::move(name);
  s.value = std::move(value);
  s.update = update;
  return make(std::move(s));
}

StmtPtr array_decl(std::string name, CType type, std::vector<ExprPtr> extents) {
  Stmt s;
  s.kind = StmtKind::array_decl;
  s.name = std::move(name);
  s.ctype = type;
  s.indices = std::move(extents);
  return make(std::move(s));
}

StmtPtr array_fill(std::string name, ExprPtr value) {
  Stmt s;
  s.kind = StmtKind::array_fill;
  s.name = std::move(name);
  s.value = std::move(value);
  return make(std::move(s));
}

StmtPtr array_store(std::string name, std::vector<ExprPtr> indices, ExprPtr value, Update update) {
  Stmt s;
  s.kind = StmtKind::array_store;
  s.name = std::move(name);
  s.indices = std::move(indices);
  s.value = std::move(value);
  s.update = update;
  return make(std::move(s));
}

StmtPtr matmul_block(std::string c_array, std::vector<ExprPtr> operands, MatmulInputs inputs,
                     MatmulBand band) {
  Stmt s;
  s.kind = StmtKind::matmul_block;
  s.name = std::move(c_array);
  s.indices = std::move(operands);
  s.ival = int64_t(inputs);
  s.dim = int(band.mode);
  s.value = band.mode == ir::MatmulBand::none ? nullptr : std::move(band.offset);
  return make(std::move(s));
}

StmtPtr prefetch(int capture, std::vector<ExprPtr> first, int dim, ExprPtr rows, ExprPtr elements) {
  Stmt s;
  s.kind = StmtKind::prefetch;
  s.ival = capture;
  s.indices = std::move(first);
  s.dim = dim;
  s.extent = std::move(rows);
  s.value = std::move(elements);
  return make(std::move(s));
}

MatmulBand band_of(const Stmt& block) {
  return MatmulBand{ir::MatmulBand(block.dim), block.value};
}

size_t matmul_operand_count(const Stmt& block) {
  const size_t n = block.indices.size();
  return n == 13 || n == 16 ? n - 2 : n;
}

const std::string* written_array(const Stmt& s) {
  bool writes = s.kind == StmtKind::array_store || s.kind == StmtKind::array_fill ||
                s.kind == StmtKind::matmul_block;
  return writes ? &s.name : nullptr;
}

StmtPtr for_(std::string index, ExprPtr extent, std::vector<StmtPtr> body, LoopKind loop,
             std::vector<Reduction> reductions) {
  Stmt s;
  s.kind = StmtKind::for_;
  s.name = std::move(index);
  s.extent = std::move(extent);
  s.body = std::move(body);
  s.loop = loop;
  s.reductions = std::move(reductions);
  return make(std::move(s));
}

StmtPtr if_(ExprPtr cond, std::vector<StmtPtr> then_body, std::vector<StmtPtr> else_body) {
  Stmt s;
  s.kind = StmtKind::if_;
  s.value = std::move(cond);
  s.body = std::move(then_body);
  s.orelse = std::move(else_body);
  return make(std::move(s));
}

StmtPtr skip_unless(ExprPtr cond) {
  Stmt s;
  s.kind = StmtKind::skip_unless;
  s.value = std::move(cond);
  return make(std::move(s));
}

StmtPtr fail(int code, int site, ExprPtr index, ExprPtr extent, int dim) {
  Stmt s;
  s.kind = StmtKind::fail;
  s.ival = code;
  s.site = site;
  s.indices = {std::move(index), std::move(extent)};
  s.dim = dim;
  return make(std::move(s));
}

StmtPtr with_body(const StmtPtr& s, std::vector<StmtPtr> body) {
  Stmt copy = *s;
  copy.body = std::move(body);
  return make(std::move(copy));
}

}  // namespace jagtile::plan
