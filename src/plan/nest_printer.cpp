// The loop-nest form as text (see nest_printer.h).
#include "plan/nest_printer.h"

#include <cmath>
#include <sstream>

namespace jagtile::plan {

namespace {

std::string_view op_symbol(ir::Op op) {
  if (ir::op_is_comparison(op)) return ir::comparison_symbol(op);
  switch (op) {
    case ir::Op::add:
      return "+";
    case ir::Op::sub:
      return "-";
    case ir::Op::mul:
      return "*";
    case ir::Op::logical_and:
      return "&&";
    case ir::Op::logical_or:
      return "||";
    case ir::Op::bit_and:
      return "&";
    case ir::Op::bit_or:
      return "|";
    default:
      return "?";
  }
}

const char* update_symbol(Update u) {
  switch (u) {
    case Update::none:
      return "=";
    case Update::add:
      return "+=";
    case Update::amax:
      return "max=";
    case Update::amin:
      return "min=";
    case Update::bit_or:
      return "|=";
    case Update::mean:
      return "/=";
  }
  return "?";
}

class Printer {
 public:
  Printer(const Plan& plan, const DeviceFunc& func) : plan_(plan), func_(func) {}

  std::string capture_name(int index) const {
    const host::Capture& c = func_.nest->captures.at(size_t(index));
    return "$" + (c.node->name.empty() ? "h" + std::to_string(c.slot) : c.node->name);
  }

  std::string expr(const ExprPtr& e) const {
    std::ostringstream os;
    auto args = [&](size_t from = 0, size_t to = size_t(-1)) {
      std::string s;
      for (size_t i = from; i < e->args.size() && i < to; ++i)
        s += (i > from ? ", " : "") + expr(e->args[i]);
      return s;
    };
    switch (e->kind) {
      case ExprKind::int_imm:
        os << e->ival;
        break;
      case ExprKind::float_imm:
        if (std::isinf(e->fval))
          os << (e->fval < 0 ? "-inf" : "inf");
        else
          os << e->fval;
        break;
      case ExprKind::bool_imm:
        os << (e->ival ? "true" : "false");
        break;
      case ExprKind::var:
        os << e->name;
        break;
      case ExprKind::capture:
        os << capture_name(int(e->ival));
        break;
      case ExprKind::tensor_size:
        os << expr(e->args[0]) << ".size[" << e->ival << "]";
        break;
      case ExprKind::array_read:
        os << e->name << "[" << args() << "]" << (e->ival ? "!" : "");
        break;
      case ExprKind::tensor_address:
        os << "&" << capture_name(int(e->ival)) << "[" << args() << "]";
        break;
      case ExprKind::load: {
        size_t rank = e->args.size() - (e->has_mask ? 1 : 0);
        os << "load " << capture_name(int(e->ival)) << "[" << args(0, rank) << "]";
        if (e->has_mask) os << " if " << expr(e->args.back());
        os << " @" << e->site;
        break;
      }
      case ExprKind::compute: {
        const ir::Node& n = *e->node;
        os << ir::kind_name(n.kind);
        if (n.op != ir::Op::none) os << "." << ir::op_name(n.op);
        if (n.kind == ir::NodeKind::cast) os << "<" << dtype_name(n.type.dtype) << ">";
        os << "(" << args() << ")";
        break;
      }
      case ExprKind::convert:
        os << dtype_name(e->dtype) << "(" << args() << ")";
        break;
      case ExprKind::select:
        os << "(" << expr(e->args[0]) << " ? " << expr(e->args[1]) << " : " << expr(e->args[2])
           << ")";
        break;
      case ExprKind::call:
        os << e->name << "(" << args() << ")";
        break;
      case ExprKind::binop:
        os << "(" << expr(e->args[0]) << " " << op_symbol(e->op) << " " << expr(e->args[1]) << ")";
        break;
      case ExprKind::not_:
        os << "!" << expr(e->args[0]);
        break;
      case ExprKind::in_bounds:
        os << "inb(" << args() << ")";
        break;
    }
    return os.str();
  }

  void stmts(const std::vector<StmtPtr>& list, int indent) {
    for (const StmtPtr& s : list) stmt(*s, indent);
  }

  void line(int indent, const std::string& text) {
    out_ << std::string(size_t(indent) * 2, ' ') << text << "\n";
  }

  void stmt(const Stmt& s, int indent) {
    std::string list;
    for (size_t i = 0; i < s.indices.size(); ++i) list += (i ? ", " : "") + expr(s.indices[i]);
    switch (s.kind) {
      case StmtKind::seq:
        return stmts(s.body, indent);
      case StmtKind::scope:
        line(indent, "{");
        stmts(s.body, indent + 1);
        return line(indent, "}");
      case StmtKind::comment:
        return line(indent, "# " + s.name);
      case StmtKind::let:
        return line(indent, "let " + s.name + ": " + std::string(ctype_name(s.ctype)) + " = " +
                                expr(s.value));
      case StmtKind::decl:
        return line(indent, "var " + s.name + ": " + std::string(ctype_name(s.ctype)) + " = " +
                                expr(s.value));
      case StmtKind::assign:
        return line(indent, s.name + " " + update_symbol(s.update) + " " + expr(s.value));
      case StmtKind::array_decl:
        return line(indent,
                    "array " + s.name + ": " + std::string(ctype_name(s.ctype)) + "[" + list + "]");
      case StmtKind::array_fill:
        return line(indent, s.name + "[*] " + update_symbol(s.update) + " " + expr(s.value) +
                                (s.update == Update::mean ? "[*]" : ""));
      case StmtKind::array_store:
        return line(indent,
                    s.name + "[" + list + "] " + update_symbol(s.update) + " " + expr(s.value));
      case StmtKind::tensor_store:
        return line(indent, "store " + capture_name(int(s.ival)) + "[" + list +
                                "] = " + expr(s.value) + (s.mask ? " if " + expr(s.mask) : "") +
                                " @" + std::to_string(s.site));
      case StmtKind::for_: {
        std::string head = "for " + s.name + " < " + expr(s.extent);
        if (s.loop == LoopKind::simd) head += " simd";
        if (s.loop == LoopKind::endpoints) head += " endpoints";
        for (const Reduction& r : s.reductions)
          head += std::string(" reduce(") + update_symbol(r.op) + " " + r.var + ")";
        line(indent, head + ":");
        return stmts(s.body, indent + 1);
      }
      case StmtKind::tile_loop:
        line(indent, "tile_loop " + plan_.kernel->blocks.at(size_t(s.ival)).name + " (#" +
                         std::to_string(s.ival) + ") from " + expr(s.begin) + " to " + expr(s.end) +
                         ":");
        return stmts(s.body, indent + 1);
      case StmtKind::if_:
        line(indent, "if " + expr(s.value) + ":");
        stmts(s.body, indent + 1);
        if (!s.orelse.empty()) {
          line(indent, "else:");
          stmts(s.orelse, indent + 1);
        }
        return;
      case StmtKind::skip_unless:
        return line(indent, "skip unless " + expr(s.value));
      case StmtKind::fail:
        return line(indent, "fail " + std::to_string(s.ival) + " @" + std::to_string(s.site) +
                                " (" + list + ", dim " + std::to_string(s.dim) + ")");
      case StmtKind::checked_int:
        return line(indent, "let " + s.name + " = checked " + std::string(ir::op_name(s.op)) + "(" +
                                expr(s.value) + ", " + expr(s.extent) + ") @" +
                                std::to_string(s.site));
      case StmtKind::matmul_block:
        return line(indent, "matmul_block " + s.name + " (" + list + ")" +
                                (s.ival == int64_t(MatmulInputs::bf16)  ? " bf16 inputs"
                                 : s.ival == int64_t(MatmulInputs::f16) ? " f16 inputs"
                                                                        : "") +
                                (!s.value ? ""
                                 : s.dim == int(ir::MatmulBand::zero_a)
                                     ? " band zero_a(" + expr(s.value) + ")"
                                     : " band unused_c(" + expr(s.value) + ")") +
                                (s.mask ? " D when " + expr(s.mask) : ""));
      case StmtKind::prefetch:
        return line(indent, "prefetch " + capture_name(int(s.ival)) + "[" + list + "] " +
                                expr(s.extent) + " rows along dim " + std::to_string(s.dim) +
                                " of " + expr(s.value));
      case StmtKind::nest: {
        std::string head =
            "nest #" + std::to_string(s.ival) + " " + std::string(nest_role_name(s.role));
        if (!s.name.empty()) head += " " + s.name;
        if (s.node && s.node->loc.line > 0)
          head += " (line " + std::to_string(s.node->loc.line) + ")";
        line(indent, head + ":");
        return stmts(s.body, indent + 1);
      }
    }
  }

  std::string func() {
    std::string caps;
    for (size_t i = 0; i < func_.nest->captures.size(); ++i)
      caps += (i ? ", " : "") + capture_name(int(i));
    std::string programs = plan_.kernel->blocks.at(size_t(func_.block)).name;
    if (func_.inner_block >= 0)  // DeviceFunc::inner_block: (outer, inner) pairs
      programs += " x " + plan_.kernel->blocks.at(size_t(func_.inner_block)).name + " (to " +
                  expr(func_.inner_end) + "; one iteration each where split: jt_inner_first)" +
                  (func_.next_program ? "; the worker's next program: jt_next_s" +
                                            std::to_string(func_.block) + ", jt_next_inner"
                                      : "");
    line(0, "func " + func_.name + " (programs of " + programs + ", block " +
                std::to_string(func_.block_size) + "; captures: " + (caps.empty() ? "none" : caps) +
                "):");
    if (!func_.operand_prefetches.empty()) {
      line(1, "operand prefetches (the worker's next program: jt_next_s" +
                  std::to_string(func_.block) + "; fetched by the matmul blocks):");
      stmts(func_.operand_prefetches, 2);
    }
    stmts(func_.body, 1);
    return out_.str();
  }

 private:
  const Plan& plan_;
  const DeviceFunc& func_;
  std::ostringstream out_;
};

}  // namespace

std::string print_expr(const Plan& plan, const DeviceFunc& func, const ExprPtr& e) {
  return Printer(plan, func).expr(e);
}

std::string print_func(const Plan& plan, const DeviceFunc& func) {
  return Printer(plan, func).func();
}

std::string print_plan(const Plan& plan) {
  std::string out;
  for (const DeviceFunc& f : plan.funcs) out += print_func(plan, f);
  return out;
}

}  // namespace jagtile::plan
