// The shared part of the C++ and CUDA printers (see c_printer.h): expressions one to one, and the
// statements both dialects print alike.
#include "codegen/common/c_printer.h"

#include <cctype>

namespace jagtile::codegen {

using plan::CType;
using plan::Expr;
using plan::ExprKind;
using plan::ExprPtr;
using plan::Stmt;
using plan::StmtKind;
using plan::StmtPtr;
using plan::Update;

const char* c_type(CType t) {
  switch (t) {
    case CType::i64:
      return "int64_t";
    case CType::f32:
      return "float";
    case CType::f64:
      return "double";
    case CType::boolean:
      return "bool";
  }
  return "int";
}

std::string sanitize(const std::string& name) {
  std::string s;
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return s;
}

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

const char* c_operator(ir::Op op) {
  switch (op) {
    case ir::Op::add:
      return " + ";
    case ir::Op::sub:
      return " - ";
    case ir::Op::mul:
      return " * ";
    case ir::Op::lt:
      return " < ";
    case ir::Op::le:
      return " <= ";
    case ir::Op::gt:
      return " > ";
    case ir::Op::ge:
      return " >= ";
    case ir::Op::eq:
      return " == ";
    case ir::Op::ne:
      return " != ";
    case ir::Op::logical_and:
      return " && ";
    case ir::Op::logical_or:
      return " || ";
    case ir::Op::bit_and:
      return " & ";
    case ir::Op::bit_or:
      return " | ";
    default:
      JAGTILE_CHECK(false, << "no C operator for " << ir::op_name(op));
  }
  return " ? ";
}

}  // namespace

NestPrinter::NestPrinter(const plan::Plan& plan, const plan::DeviceFunc& func)
    : plan_(plan), k_(*plan.kernel), func_(func) {}

// ---- captures ----
std::string NestPrinter::field(const host::Capture& c) {
  if (c.node->kind == ir::NodeKind::param) return "p" + std::to_string(c.node->ival);
  return "h" + std::to_string(c.slot);
}

const char* NestPrinter::capture_ctype(const host::Capture& c) {
  if (c.kind == host::Capture::Kind::tensor) return "JtTensor";
  if (c.kind == host::Capture::Kind::float64) return "double";
  return c.node->type.kind == ir::TypeKind::host_bool ? "bool" : "int64_t";
}

std::string NestPrinter::capture(int64_t i) const {
  return "F." + field(func_.nest->captures.at(size_t(i)));
}

DType NestPrinter::tensor_dtype(int64_t capture) const {
  return func_.nest->captures.at(size_t(capture)).node->type.dtype;
}

// ---- expressions ----
// An integer as an index: bare when small (readable array offsets).
std::string NestPrinter::index_literal(const ExprPtr& e) const {
  if (e->kind == ExprKind::int_imm && e->ival >= 0 && e->ival < (int64_t(1) << 31))
    return std::to_string(e->ival);
  return expr(e);
}

std::string NestPrinter::flat(const std::string& array, const std::vector<ExprPtr>& idx) const {
  auto it = arrays_.find(array);
  JAGTILE_CHECK(it != arrays_.end(), << "array " << array << " used before its declaration");
  const std::vector<ExprPtr>& ext = it->second;
  std::string f;
  for (size_t d = 0; d < ext.size(); ++d) {
    if (ext[d]->kind == ExprKind::int_imm && ext[d]->ival == 1) continue;
    std::string i = index_literal(idx[d]);
    f = f.empty() ? i : "(" + f + ") * " + index_literal(ext[d]) + " + " + i;
  }
  return f.empty() ? "0" : f;
}

std::string NestPrinter::array_element(const std::string& array,
                                       const std::vector<ExprPtr>& idx) const {
  return array + "[" + flat(array, idx) + "]";
}

std::string NestPrinter::count(const std::string& array) const {
  const std::vector<ExprPtr>& ext = arrays_.at(array);
  int64_t n = 1;
  std::string dynamic;
  for (const ExprPtr& e : ext) {
    if (e->kind == ExprKind::int_imm)
      n *= e->ival;
    else
      dynamic += " * (" + expr(e) + ")";
  }
  return dynamic.empty() ? std::to_string(n)
                         : "(INT64_C(" + std::to_string(n) + ")" + dynamic + ")";
}

std::string NestPrinter::address(int64_t tensor, const std::vector<ExprPtr>& idx) const {
  std::string t = capture(tensor);
  std::string a = idx.empty() ? "0" : expr(idx[0]);
  for (size_t d = 1; d < idx.size(); ++d)
    a = "(" + a + ") * " + t + ".size[" + std::to_string(d) + "] + " + expr(idx[d]);
  return a;
}

std::string NestPrinter::expr(const ExprPtr& e) const {
  switch (e->kind) {
    case ExprKind::int_imm:
      return "INT64_C(" + std::to_string(e->ival) + ")";
    case ExprKind::float_imm:
      return double_literal(e->fval);
    case ExprKind::bool_imm:
      return e->ival ? "true" : "false";
    case ExprKind::var:
      return e->name;
    case ExprKind::capture:
      return capture(e->ival);
    case ExprKind::tensor_size:
      return expr(e->args[0]) + ".size[" + std::to_string(e->ival) + "]";
    case ExprKind::array_read:
      return array_element(e->name, e->args);
    case ExprKind::tensor_address:
      return "((const " + std::string(storage_ctype(tensor_dtype(e->ival))) + "*)" +
             capture(e->ival) + ".data + " + address(e->ival, e->args) + ")";
    case ExprKind::load: {
      size_t rank = e->args.size() - (e->has_mask ? 1 : 0);
      std::vector<ExprPtr> idx(e->args.begin(), e->args.begin() + rank);
      std::string ld = from_storage("((const " + std::string(storage_ctype(e->from)) + "*)" +
                                        capture(e->ival) + ".data)[" + address(e->ival, idx) + "]",
                                    e->from);
      ld = convert(ld, e->from, e->dtype);
      if (!e->has_mask) return ld;
      return "(" + expr(e->args.back()) + " ? " + ld + " : (" + compute_ctype(e->dtype) + ")0)";
    }
    case ExprKind::compute: {
      std::vector<std::string> ops;
      for (const ExprPtr& a : e->args) ops.push_back(expr(a));
      return elementwise(*e->node, ops);
    }
    case ExprKind::convert:
      return convert(expr(e->args[0]), e->from, e->dtype);
    case ExprKind::select:
      return "((" + expr(e->args[0]) + ") ? " + expr(e->args[1]) + " : " + expr(e->args[2]) + ")";
    case ExprKind::call: {
      std::string s = e->name + "(";
      for (size_t i = 0; i < e->args.size(); ++i) s += (i ? ", " : "") + expr(e->args[i]);
      return s + ")";
    }
    case ExprKind::binop:
      return "(" + expr(e->args[0]) + c_operator(e->op) + expr(e->args[1]) + ")";
    case ExprKind::not_:
      return "!(" + expr(e->args[0]) + ")";
    case ExprKind::in_bounds:
      return "((uint64_t)" + expr(e->args[0]) + " < (uint64_t)" + expr(e->args[1]) + ")";
  }
  return "?";
}

std::string NestPrinter::update(const std::string& target, Update u, const std::string& value,
                                CType type) {
  switch (u) {
    case Update::none:
      return target + " = " + value + ";";
    case Update::add:
      return target + " += " + value + ";";
    case Update::amax:
      return target + " = jt_amax_step(" + target + ", " + value + ");";
    case Update::amin:
      return target + " = jt_amin_step(" + target + ", " + value + ");";
    case Update::bit_or:
      return target + " |= " + value + ";";
    case Update::mean:
      return target + " = " + target + " / (" + c_type(type) + ")" + value + ";";
  }
  return "";
}

// ---- statements ----
void NestPrinter::comment(const Stmt& s, Writer& w) {
  if (!s.node || s.node->loc.line <= 0 || s.node->loc.line == last_line_) return;
  if (s.kind == StmtKind::tensor_store) return;  // inside its nest, which said the line
  last_line_ = s.node->loc.line;
  std::string text;
  if (size_t(last_line_) <= k_.source_lines.size())
    text = trim(k_.source_lines[size_t(last_line_ - 1)]);
  w.line("// line " + std::to_string(last_line_) + (text.empty() ? "" : ": " + text));
}

std::string NestPrinter::program_param() const {
  return func_.inner_block >= 0 ? "jt_program" : "id" + std::to_string(func_.block);
}

void NestPrinter::program_ids(Writer& w, const std::string& split) const {
  const std::string b = std::to_string(func_.block);
  if (func_.inner_block < 0) {
    if (!func_.next_program) return;
    // The program this worker runs next (jt_next_program, -1: none).
    w.line("const int64_t jt_next_s" + b +
           " = jt_next_program < 0 ? INT64_C(-1) : F.loop_begin + jt_next_program * INT64_C(" +
           std::to_string(func_.block_size) + ");");
    w.line("const int64_t jt_next_inner = INT64_C(0);");
    w.line("(void)jt_next_inner;");
    return;
  }
  const std::string inner = k_.blocks.at(size_t(func_.inner_block)).name;
  w.line("// Split, a program is one (" + k_.blocks.at(size_t(func_.block)).name + ", " + inner +
         ") pair, " + inner + " fastest, and its loop runs one iteration (none where it is");
  w.line("// empty); else one iteration of the outer loop, and its " + inner + " loop runs whole.");
  w.line("const int64_t jt_inner = " + expr(func_.inner_end) + ";");
  w.line("const int jt_split = (" + split + ") && jt_inner > 0;");
  w.line("const int64_t id" + b + " = jt_split ? jt_program / jt_inner : jt_program;");
  w.line("const int64_t jt_inner_first = jt_split ? jt_program % jt_inner : INT64_C(0);");
  w.line("const int64_t jt_inner_last = jt_split ? jt_inner_first + 1 : jt_inner;");
  if (!func_.next_program) return;
  // The program this worker runs next (jt_next_program, -1: none), split the same way.
  w.line(
      "const int64_t jt_next_id = jt_next_program < 0 ? INT64_C(-1) : jt_split ? "
      "jt_next_program / jt_inner : jt_next_program;");
  w.line(
      "const int64_t jt_next_inner = jt_split && jt_next_program >= 0 ? jt_next_program % "
      "jt_inner : INT64_C(0);");
  w.line("const int64_t jt_next_s" + b +
         " = jt_next_id < 0 ? INT64_C(-1) : F.loop_begin + "
         "jt_next_id * INT64_C(" +
         std::to_string(func_.block_size) + ");");
}

void NestPrinter::stmts(const std::vector<StmtPtr>& list, Writer& w) {
  for (const StmtPtr& s : list) stmt(*s, w);
}

std::string NestPrinter::tensor_store_text(const Stmt& s) const {
  DType t = tensor_dtype(s.ival);
  return "((" + std::string(storage_ctype(t)) + "*)" + capture(s.ival) + ".data)[" +
         address(s.ival, s.indices) + "] = " + to_storage(expr(s.value), s.value->dtype, t) + ";";
}

void NestPrinter::tensor_store(const Stmt& s, Writer& w) {
  std::string st = tensor_store_text(s);
  w.line(s.mask ? "if (" + expr(s.mask) + ") " + st : st);
}

void NestPrinter::array_store(const Stmt& s, Writer& w) {
  std::string target = s.name + "[" + flat(s.name, s.indices) + "]";
  w.line(update(target, s.update, expr(s.value), s.ctype));
}

void NestPrinter::matmul_block(const Stmt&, Writer&) {
  JAGTILE_CHECK(false, << "a matmul block in a dialect without a block matmul");
}

std::string NestPrinter::matmul_operands(const Stmt& s, const std::string& prefetch) const {
  std::string args, a16 = "0", b16 = "0";
  auto pointer = [&](const plan::ExprPtr& e) {
    return e->kind == ExprKind::array_read ? e->name + " + " + flat(e->name, e->args) : expr(e);
  };
  const size_t operands = plan::matmul_operand_count(s);
  for (size_t i = 0; i < operands; ++i) {
    const plan::ExprPtr& e = s.indices[i];
    std::string a = pointer(e);
    // A bf16 operand read in place goes in a16 / b16, its float pointer null.
    if (e->kind == ExprKind::tensor_address && tensor_dtype(e->ival) == DType::bf16) {
      (i == 3 ? a16 : b16) = a;
      a = "(const float*)0";
    }
    // D added only where the block's mask holds (pass_first_block.h).
    if (i == 11 && s.mask) a = "((" + expr(s.mask) + ") ? " + a + " : (const float*)0)";
    args += (i ? ", " : "") + a;
  }
  if (operands == 11) args += ", (const float*)0, 0, 0";  // no D
  const bool in_place_bf16 = a16 != "0" || b16 != "0";
  const bool kept_panels = operands < s.indices.size();
  const bool streamed = !prefetch.empty();
  if (s.value)
    args += ", " + expr(s.value) + ", " + std::to_string(s.dim);  // the band
  else if (in_place_bf16 || kept_panels || streamed)
    args += ", 0, 0";
  if (in_place_bf16 || kept_panels || streamed) args += ", " + a16 + ", " + b16;
  // B's panels kept across calls (pass_memoize.h): where, and whether they are packed already.
  if (kept_panels)
    args += ", " + pointer(s.indices[operands]) + ", " + expr(s.indices[operands + 1]);
  else if (streamed)
    args += ", (float*)0, 0";
  if (streamed) args += ", " + prefetch;
  return "JtMatmul{" + args + "}";
}

void NestPrinter::tile_loop(const Stmt& s, Writer& w) {
  const std::string b = std::to_string(s.ival);
  const int64_t bs = k_.blocks.at(size_t(s.ival)).block_size;
  w.line("const int64_t begin" + b + " = " + expr(s.begin) + ";");
  if (!(s.end->kind == ExprKind::var && s.end->name == "end" + b))
    w.line("const int64_t end" + b + " = " + expr(s.end) + ";");
  w.open("for (int64_t s" + b + " = begin" + b + ", id" + b + " = 0; s" + b + " < end" + b + "; s" +
         b + " += " + std::to_string(bs) + ", ++id" + b + ") {");
  w.line("(void)id" + b + ";");
  w.line("const int64_t lim" + b + " = jt_min64(INT64_C(" + std::to_string(bs) + "), end" + b +
         " - s" + b + ");");
  w.line("(void)lim" + b + ";");
  stmts(s.body, w);
  w.close();
}

void NestPrinter::stmt(const Stmt& s, Writer& w) {
  comment(s, w);
  switch (s.kind) {
    case StmtKind::seq:
    case StmtKind::nest:
      return stmts(s.body, w);
    case StmtKind::scope:
      w.open("{");
      stmts(s.body, w);
      return w.close();
    case StmtKind::comment:
      return w.line("// " + s.name);
    case StmtKind::let:
      return w.line("const " + std::string(c_type(s.ctype)) + " " + s.name + " = " + expr(s.value) +
                    ";");
    case StmtKind::decl:
      return w.line(std::string(c_type(s.ctype)) + " " + s.name + " = " + expr(s.value) + ";");
    case StmtKind::assign:
      return w.line(update(s.name, s.update, expr(s.value), s.ctype));
    case StmtKind::array_decl:
      arrays_[s.name] = s.indices;
      return array_decl(s, w);
    case StmtKind::array_fill:
      return array_fill(s, w);
    case StmtKind::array_store:
      return array_store(s, w);
    case StmtKind::tensor_store:
      return tensor_store(s, w);
    case StmtKind::matmul_block:
      return matmul_block(s, w);
    case StmtKind::prefetch:
      return prefetch(s, w);
    case StmtKind::for_:
      return for_loop(s, w);
    case StmtKind::tile_loop:
      return tile_loop(s, w);
    case StmtKind::if_:
      w.open("if (" + expr(s.value) + ") {");
      stmts(s.body, w);
      if (!s.orelse.empty()) {
        w.reopen("} else {");
        stmts(s.orelse, w);
      }
      return w.close();
    case StmtKind::skip_unless:
      return w.line("if (!(" + expr(s.value) + ")) continue;");
    case StmtKind::fail:
      return w.line(fail(fail_record() + std::to_string(s.ival) + ", " + std::to_string(s.site) +
                         ", " + expr(s.indices[0]) + ", " + expr(s.indices[1]) + ", " +
                         std::to_string(s.dim) + ")"));
    case StmtKind::checked_int: {
      std::string a = "(int64_t)(" + expr(s.value) + ")", b = "(int64_t)(" + expr(s.extent) + ")";
      if (s.op == ir::Op::floordiv || s.op == ir::Op::mod)
        return w.line("if (" + b + " == 0) " +
                      fail(fail_record() + "JT_ERR_DIV_ZERO, " + std::to_string(s.site) + ", " + a +
                           ", " + b + ", 0)"));
      w.line("int64_t " + s.name + ";");
      return w.line("if (" + overflow_builtin(s.op) + "(" + a + ", " + b + ", &" + s.name + ")) " +
                    fail(fail_record() + "JT_ERR_OVERFLOW, " + std::to_string(s.site) + ", " + a +
                         ", " + b + ", 0)"));
    }
  }
}

}  // namespace jagtile::codegen
