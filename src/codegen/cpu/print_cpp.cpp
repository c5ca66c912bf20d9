// The C++ printer of the loop-nest form (see print_cpp.h): expressions and statements one to one,
// the frame of captured host values per device nest, and the file around them.
#include "codegen/cpu/print_cpp.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "codegen/cpu/abi.h"
#include "codegen/cpu/cpp_text.h"

namespace jagtile::codegen::cpu {

namespace {

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

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string sanitize(const std::string& name) {
  std::string s;
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return s;
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

// One device function.
class FuncPrinter {
 public:
  FuncPrinter(const plan::Plan& plan, const plan::DeviceFunc& func, int index)
      : plan_(plan), k_(*plan.kernel), func_(func), index_(index) {}

  // The frame struct, the program function and the extern "C" entry.
  std::string run(std::string* entry) {
    const std::string b = std::to_string(func_.block);
    const std::string bs = "INT64_C(" + std::to_string(func_.block_size) + ")";
    const std::string frame = "Frame" + std::to_string(index_);
    Writer w;
    w.line("// ---- device nest " + std::to_string(index_) + ": the loop over " +
           k_.blocks[size_t(func_.block)].name + " at line " +
           std::to_string(func_.nest->loop->loc.line) + " ----");
    w.line("// The host values it reads (captured by the runtime) and its loop's bounds.");
    w.open("struct " + frame + " {");
    w.line("JtError* err;");
    for (const host::Capture& c : func_.nest->captures)
      w.line(std::string(capture_ctype(c)) + " " + field(c) + ";" +
             (c.node->name.empty() ? "" : "  // " + c.node->name));
    w.line("int64_t loop_begin;");
    w.line("int64_t loop_end;");
    w.close("};");
    w.line("");
    w.line("// One program (iteration) of the loop over " + k_.blocks[size_t(func_.block)].name +
           ".");
    // The frame is passed by value: a local copy cannot alias the tensors the body stores to,
    // so the compiler keeps its data pointers and sizes in registers across those stores (by
    // reference they were reloaded after every store, 4-11% slower on jagged_dense_add).
    w.open("static int " + func_.name + "(const " + frame + " F, int64_t id" + b + ") {");
    w.line("const int64_t s" + b + " = F.loop_begin + id" + b + " * " + bs + ";");
    w.line("const int64_t end" + b + " = F.loop_end;");
    w.line("const int64_t lim" + b + " = jt_min64(" + bs + ", end" + b + " - s" + b + ");");
    w.line("(void)lim" + b + ";");
    stmts(func_.body, w);
    w.line("return 0;");
    w.close();
    w.line("");
    *entry = "jagtile_" + sanitize(k_.name) + "_nest" + std::to_string(index_);
    w.line("// Runs programs [begin, end) of device nest " + std::to_string(index_) +
           " (abi.h: JtNestFn).");
    w.open("extern \"C\" int " + *entry + "(const JtCaptures* c, int64_t begin, int64_t end) {");
    w.line(frame + " F;");
    w.line("F.err = c->error;");
    for (const host::Capture& c : func_.nest->captures) {
      std::string src = c.kind == host::Capture::Kind::tensor  ? "c->tensors"
                        : c.kind == host::Capture::Kind::int64 ? "c->ints"
                                                               : "c->floats";
      std::string v = src + "[" + std::to_string(c.index) + "]";
      if (c.node->type.kind == ir::TypeKind::host_bool) v = "(" + v + " != 0)";
      w.line("F." + field(c) + " = " + v + ";");
    }
    w.line("F.loop_begin = c->loop_begin;");
    w.line("F.loop_end = c->loop_end;");
    w.open("for (int64_t id = begin; id < end; ++id) {");
    w.line("if (jt_failed(F.err)) return 1;");
    w.line("if (" + func_.name + "(F, id)) return 1;");
    w.close();
    w.line("return 0;");
    w.close();
    return w.str();
  }

 private:
  // ---- names ----
  static std::string field(const host::Capture& c) {
    if (c.node->kind == ir::NodeKind::param) return "p" + std::to_string(c.node->ival);
    return "h" + std::to_string(c.slot);
  }
  static const char* capture_ctype(const host::Capture& c) {
    if (c.kind == host::Capture::Kind::tensor) return "JtTensor";
    if (c.kind == host::Capture::Kind::float64) return "double";
    return c.node->type.kind == ir::TypeKind::host_bool ? "bool" : "int64_t";
  }
  std::string capture(int64_t i) const { return "F." + field(func_.nest->captures.at(size_t(i))); }
  DType tensor_dtype(int64_t capture) const {
    return func_.nest->captures.at(size_t(capture)).node->type.dtype;
  }

  // ---- expressions ----
  // An integer as an index: bare when small (readable array offsets).
  std::string index_literal(const ExprPtr& e) const {
    if (e->kind == ExprKind::int_imm && e->ival >= 0 && e->ival < (int64_t(1) << 31))
      return std::to_string(e->ival);
    return expr(e);
  }

  std::string flat(const std::string& array, const std::vector<ExprPtr>& idx) const {
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

  std::string count(const std::string& array) const {
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

  std::string address(int64_t tensor, const std::vector<ExprPtr>& idx) const {
    std::string t = capture(tensor);
    std::string a = idx.empty() ? "0" : expr(idx[0]);
    for (size_t d = 1; d < idx.size(); ++d)
      a = "(" + a + ") * " + t + ".size[" + std::to_string(d) + "] + " + expr(idx[d]);
    return a;
  }

  std::string expr(const ExprPtr& e) const {
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
        return e->name + "[" + flat(e->name, e->args) + "]";
      case ExprKind::load: {
        size_t rank = e->args.size() - (e->has_mask ? 1 : 0);
        std::vector<ExprPtr> idx(e->args.begin(), e->args.begin() + rank);
        std::string ld =
            from_storage("((const " + std::string(storage_ctype(e->from)) + "*)" +
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

  // `target op= value` for assignments and array stores.
  static std::string update(const std::string& target, Update u, const std::string& value,
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
  void comment(const Stmt& s, Writer& w) {
    if (!s.node || s.node->loc.line <= 0 || s.node->loc.line == last_line_) return;
    if (s.kind == StmtKind::tensor_store) return;  // inside its nest, which said the line
    last_line_ = s.node->loc.line;
    std::string text;
    if (size_t(last_line_) <= k_.source_lines.size())
      text = trim(k_.source_lines[size_t(last_line_ - 1)]);
    w.line("// line " + std::to_string(last_line_) + (text.empty() ? "" : ": " + text));
  }

  void stmts(const std::vector<StmtPtr>& list, Writer& w) {
    for (const StmtPtr& s : list) stmt(*s, w);
  }

  void stmt(const Stmt& s, Writer& w) {
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
        return w.line("const " + std::string(c_type(s.ctype)) + " " + s.name + " = " +
                      expr(s.value) + ";");
      case StmtKind::decl:
        return w.line(std::string(c_type(s.ctype)) + " " + s.name + " = " + expr(s.value) + ";");
      case StmtKind::assign:
        return w.line(update(s.name, s.update, expr(s.value), s.ctype));
      case StmtKind::array_decl: {
        arrays_[s.name] = s.indices;
        const char* ct = c_type(s.ctype);
        std::string n = count(s.name);
        int64_t size = s.ctype == CType::boolean ? 1 : s.ctype == CType::f32 ? 4 : 8;
        bool fixed = n.find_first_not_of("0123456789") == std::string::npos;
        if (fixed && std::stoll(n) * size <= 64 * 1024)
          return w.line("alignas(64) " + std::string(ct) + " " + s.name + "[" + n + "];");
        // Past 64 KiB (big block sizes) the heap: a worker's stack never overflows.
        return w.line("JtHeapArray<" + std::string(ct) + "> " + s.name + "_heap(" + n + "); " + ct +
                      "* const " + s.name + " = " + s.name + "_heap.p;");
      }
      case StmtKind::array_fill: {
        std::string value = s.update == Update::mean ? s.value->name + "[o]" : expr(s.value);
        return w.line("for (int64_t o = 0; o < " + count(s.name) + "; ++o) " +
                      update(s.name + "[o]", s.update, value, s.ctype));
      }
      case StmtKind::array_store: {
        std::string target = s.name + "[" + flat(s.name, s.indices) + "]";
        return w.line(update(target, s.update, expr(s.value), s.ctype));
      }
      case StmtKind::tensor_store: {
        DType t = tensor_dtype(s.ival);
        std::string st = "((" + std::string(storage_ctype(t)) + "*)" + capture(s.ival) + ".data)[" +
                         address(s.ival, s.indices) +
                         "] = " + to_storage(expr(s.value), s.value->dtype, t) + ";";
        return w.line(s.mask ? "if (" + expr(s.mask) + ") " + st : st);
      }
      case StmtKind::for_: {
        std::string ext = expr(s.extent);
        if (s.loop == plan::LoopKind::endpoints) {
          w.open("for (int64_t " + s.name + " = 0; " + s.name + " < " + ext + "; " + s.name +
                 " += jt_max64(" + ext +
                 " - 1, 1)) {  // monotone indices: the ends bound the rest");
        } else {
          if (s.loop == plan::LoopKind::simd) {
            std::string pragma = "#pragma omp simd";
            for (const plan::Reduction& r : s.reductions)
              pragma += std::string(" reduction(") + (r.op == Update::bit_or ? "|" : "+") + ":" +
                        r.var + ")";
            w.line(pragma);
          }
          w.open("for (int64_t " + s.name + " = 0; " + s.name + " < " + ext + "; ++" + s.name +
                 ") {");
        }
        stmts(s.body, w);
        return w.close();
      }
      case StmtKind::tile_loop: {
        const std::string b = std::to_string(s.ival);
        const int64_t bs = k_.blocks.at(size_t(s.ival)).block_size;
        w.line("const int64_t begin" + b + " = " + expr(s.begin) + ";");
        if (!(s.end->kind == ExprKind::var && s.end->name == "end" + b))
          w.line("const int64_t end" + b + " = " + expr(s.end) + ";");
        w.open("for (int64_t s" + b + " = begin" + b + ", id" + b + " = 0; s" + b + " < end" + b +
               "; s" + b + " += " + std::to_string(bs) + ", ++id" + b + ") {");
        w.line("(void)id" + b + ";");
        w.line("const int64_t lim" + b + " = jt_min64(INT64_C(" + std::to_string(bs) + "), end" +
               b + " - s" + b + ");");
        w.line("(void)lim" + b + ";");
        stmts(s.body, w);
        return w.close();
      }
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
        return w.line("return jt_fail(F.err, " + std::to_string(s.ival) + ", " +
                      std::to_string(s.site) + ", " + expr(s.indices[0]) + ", " +
                      expr(s.indices[1]) + ", " + std::to_string(s.dim) + ");");
      case StmtKind::checked_int: {
        std::string a = "(int64_t)(" + expr(s.value) + ")", b = "(int64_t)(" + expr(s.extent) + ")";
        std::string failure = "return jt_fail(F.err, ";
        if (s.op == ir::Op::floordiv || s.op == ir::Op::mod)
          return w.line("if (" + b + " == 0) " + failure + "JT_ERR_DIV_ZERO, " +
                        std::to_string(s.site) + ", " + a + ", " + b + ", 0);");
        const char* builtin = s.op == ir::Op::add   ? "__builtin_add_overflow"
                              : s.op == ir::Op::sub ? "__builtin_sub_overflow"
                                                    : "__builtin_mul_overflow";
        w.line("int64_t " + s.name + ";");
        return w.line("if (" + std::string(builtin) + "(" + a + ", " + b + ", &" + s.name + ")) " +
                      failure + "JT_ERR_OVERFLOW, " + std::to_string(s.site) + ", " + a + ", " + b +
                      ", 0);");
      }
    }
  }

  const plan::Plan& plan_;
  const ir::Kernel& k_;
  const plan::DeviceFunc& func_;
  const int index_;
  std::map<std::string, std::vector<ExprPtr>> arrays_;
  int last_line_ = -1;
};

}  // namespace

std::string unsupported_reason(const ir::Kernel& kernel) {
  std::string reason;
  ir::walk(kernel.body, [&](const ir::NodePtr& n) {
    if (!reason.empty()) return;
    if (n->type.is_tensor() && n->type.rank > JT_MAX_RANK)
      reason = "tensors of rank above " + std::to_string(JT_MAX_RANK) + " are not supported";
  });
  return reason;
}

CpuSource print_cpp(const plan::Plan& plan) {
  const ir::Kernel& k = *plan.kernel;
  std::string why = unsupported_reason(k);
  JAGTILE_CHECK(
      why.empty(), << "the generic CPU backend cannot compile kernel '" << k.name << "': " << why);
  CpuSource src;
  std::string out = "// Generated by jagtile from kernel '" + k.name + "' (" + k.file + ").\n";
  out +=
      "// Bounds checks: " + std::string(plan.checked ? "on" : "off (--unchecked)") + ". Blocks:";
  for (const ir::BlockInfo& b : k.blocks) out += " " + b.name + "=" + std::to_string(b.block_size);
  out += "\n" + prelude() + "\n";
  for (size_t i = 0; i < plan.funcs.size(); ++i) {
    std::string entry;
    out += FuncPrinter(plan, plan.funcs[i], int(i)).run(&entry) + "\n";
    src.functions.push_back(entry);
  }
  src.code = std::move(out);
  return src;
}

}  // namespace jagtile::codegen::cpu
