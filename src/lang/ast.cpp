// AST helpers: located user errors (file:line:col plus the source line for the caret) and a
// printer that renders the tree as fully parenthesised Python for debugging and golden tests.
#include "lang/ast.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace jagtile::ast {

UserError error_at(const Module& m, Pos pos, std::string message, std::string hint) {
  std::string line;
  if (pos.line >= 1 && static_cast<size_t>(pos.line) <= m.lines.size()) {
    line = m.lines[pos.line - 1];
  }
  return UserError(std::move(message), std::move(hint), SourceLoc{m.file, pos.line, pos.column},
                   std::move(line));
}

namespace {

const char* binary_text(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
      return "+";
    case BinaryOp::sub:
      return "-";
    case BinaryOp::mul:
      return "*";
    case BinaryOp::div:
      return "/";
    case BinaryOp::floordiv:
      return "//";
    case BinaryOp::mod:
      return "%";
    case BinaryOp::pow:
      return "**";
    case BinaryOp::matmul:
      return "@";
    case BinaryOp::bit_and:
      return "&";
    case BinaryOp::bit_or:
      return "|";
    case BinaryOp::bit_xor:
      return "^";
    case BinaryOp::lshift:
      return "<<";
    case BinaryOp::rshift:
      return ">>";
  }
  return "?";
}

const char* compare_text(CompareOp op) {
  switch (op) {
    case CompareOp::lt:
      return "<";
    case CompareOp::le:
      return "<=";
    case CompareOp::gt:
      return ">";
    case CompareOp::ge:
      return ">=";
    case CompareOp::eq:
      return "==";
    case CompareOp::ne:
      return "!=";
    case CompareOp::is:
      return "is";
    case CompareOp::is_not:
      return "is not";
    case CompareOp::in:
      return "in";
    case CompareOp::not_in:
      return "not in";
  }
  return "?";
}

std::string float_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string join(const std::vector<ExprPtr>& elts, const char* sep = ", ") {
  std::string out;
  for (size_t i = 0; i < elts.size(); ++i) {
    if (i) out += sep;
    out += elts[i] ? dump(*elts[i]) : "<null>";
  }
  return out;
}

std::string opt(const ExprPtr& e) {
  return e ? dump(*e) : "";
}

std::string block(const StmtList& body, int indent) {
  std::string out;
  for (const auto& s : body) out += dump(*s, indent);
  return out;
}

}  // namespace

std::string dump(const Expr& e) {
  switch (e.kind) {
    case ExprKind::name:
      return e.id;
    case ExprKind::int_lit:
      return std::to_string(e.int_value);
    case ExprKind::float_lit:
      return float_text(e.float_value);
    case ExprKind::str_lit:
      return quote(e.str_value);
    case ExprKind::bool_lit:
      return e.bool_value ? "True" : "False";
    case ExprKind::none_lit:
      return "None";
    case ExprKind::attribute:
      return opt(e.value) + "." + e.id;
    case ExprKind::subscript: {
      std::string idx = e.index && e.index->kind == ExprKind::tuple && !e.index->elts.empty()
                            ? join(e.index->elts)
                            : opt(e.index);
      return opt(e.value) + "[" + idx + "]";
    }
    case ExprKind::call: {
      std::string out = opt(e.func) + "(" + join(e.args);
      for (size_t i = 0; i < e.keywords.size(); ++i) {
        if (i || !e.args.empty()) out += ", ";
        out += e.keywords[i].name + "=" + opt(e.keywords[i].value);
      }
      return out + ")";
    }
    case ExprKind::binary:
      return "(" + opt(e.left) + " " + binary_text(e.binary_op) + " " + opt(e.right) + ")";
    case ExprKind::unary: {
      const char* op = e.unary_op == UnaryOp::neg      ? "-"
                       : e.unary_op == UnaryOp::pos    ? "+"
                       : e.unary_op == UnaryOp::invert ? "~"
                                                       : "not ";
      return "(" + std::string(op) + opt(e.operand) + ")";
    }
    case ExprKind::compare: {
      std::string out = "(" + opt(e.left);
      for (size_t i = 0; i < e.cmp_ops.size() && i < e.comparators.size(); ++i) {
        out += std::string(" ") + compare_text(e.cmp_ops[i]) + " " + opt(e.comparators[i]);
      }
      return out + ")";
    }
    case ExprKind::boolean:
      return "(" + join(e.elts, e.bool_op == BoolOp::logical_and ? " and " : " or ") + ")";
    case ExprKind::tuple:
      return e.elts.size() == 1 ? "(" + join(e.elts) + ",)" : "(" + join(e.elts) + ")";
    case ExprKind::list:
      return "[" + join(e.elts) + "]";
    case ExprKind::dict: {
      std::string out = "{";
      for (size_t i = 0; i < e.keys.size(); ++i)
        out += (i ? ", " : "") + opt(e.keys[i]) + ": " + opt(e.elts[i]);
      return out + "}";
    }
    case ExprKind::slice: {
      std::string out = opt(e.lower) + ":" + opt(e.upper);
      if (e.step) out += ":" + opt(e.step);
      return out;
    }
    case ExprKind::if_expr:
      return "(" + opt(e.body) + " if " + opt(e.test) + " else " + opt(e.orelse) + ")";
  }
  return "<?>";
}

std::string dump(const Stmt& s, int indent) {
  std::string pad(static_cast<size_t>(indent) * 2, ' ');
  switch (s.kind) {
    case StmtKind::expr:
      return pad + opt(s.value) + "\n";
    case StmtKind::assign: {
      std::string out = pad;
      for (const auto& t : s.targets) out += opt(t) + " = ";
      return out + opt(s.value) + "\n";
    }
    case StmtKind::aug_assign:
      return pad + opt(s.target) + " " + binary_text(s.aug_op) + "= " + opt(s.value) + "\n";
    case StmtKind::ann_assign:
      return pad + opt(s.target) + ": " + opt(s.annotation) +
             (s.value ? " = " + opt(s.value) : "") + "\n";
    case StmtKind::for_loop:
      return pad + "for " + opt(s.target) + " in " + opt(s.iter) + ":\n" +
             block(s.body, indent + 1);
    case StmtKind::if_stmt: {
      std::string out = pad + "if " + opt(s.test) + ":\n" + block(s.body, indent + 1);
      if (!s.orelse.empty()) out += pad + "else:\n" + block(s.orelse, indent + 1);
      return out;
    }
    case StmtKind::while_loop:
      return pad + "while " + opt(s.test) + ":\n" + block(s.body, indent + 1);
    case StmtKind::return_stmt:
      return pad + "return" + (s.value ? " " + opt(s.value) : "") + "\n";
    case StmtKind::assert_stmt:
      return pad + "assert " + opt(s.test) + (s.msg ? ", " + opt(s.msg) : "") + "\n";
    case StmtKind::pass:
      return pad + "pass\n";
    case StmtKind::break_stmt:
      return pad + "break\n";
    case StmtKind::continue_stmt:
      return pad + "continue\n";
    case StmtKind::import: {
      std::string out = pad + "import " + s.module + " ->";
      for (const auto& n : s.import_names) out += " " + n;
      return out + "\n";
    }
    case StmtKind::function_def: {
      std::string out;
      for (const auto& d : s.decorators) out += pad + "@" + opt(d) + "\n";
      out += pad + "def " + s.name + "(";
      for (size_t i = 0; i < s.params.size(); ++i) {
        const auto& p = s.params[i];
        if (i) out += ", ";
        out += p.name;
        if (p.annotation) out += ": " + opt(p.annotation);
        if (p.default_value) out += " = " + opt(p.default_value);
      }
      out += ")";
      if (s.returns) out += " -> " + opt(s.returns);
      return out + ":\n" + block(s.body, indent + 1);
    }
    case StmtKind::unsupported:
      return pad + "<unsupported: " + s.what + ">\n";
  }
  return pad + "<?>\n";
}

std::string dump(const Module& m) {
  return block(m.body, 0);
}

ExprPtr clone(const Expr& e) {
  auto copy = [](const ExprPtr& p) { return p ? clone(*p) : nullptr; };
  auto copies = [&](const std::vector<ExprPtr>& v) {
    std::vector<ExprPtr> out;
    out.reserve(v.size());
    for (const ExprPtr& p : v) out.push_back(copy(p));
    return out;
  };
  auto c = std::make_unique<Expr>();
  c->kind = e.kind;
  c->pos = e.pos;
  c->id = e.id;
  c->name_pos = e.name_pos;
  c->int_value = e.int_value;
  c->float_value = e.float_value;
  c->str_value = e.str_value;
  c->bool_value = e.bool_value;
  c->value = copy(e.value);
  c->index = copy(e.index);
  c->func = copy(e.func);
  c->args = copies(e.args);
  for (const Keyword& k : e.keywords) c->keywords.push_back({k.name, copy(k.value), k.pos});
  c->binary_op = e.binary_op;
  c->unary_op = e.unary_op;
  c->bool_op = e.bool_op;
  c->left = copy(e.left);
  c->right = copy(e.right);
  c->operand = copy(e.operand);
  c->cmp_ops = e.cmp_ops;
  c->comparators = copies(e.comparators);
  c->elts = copies(e.elts);
  c->keys = copies(e.keys);
  c->lower = copy(e.lower);
  c->upper = copy(e.upper);
  c->step = copy(e.step);
  c->test = copy(e.test);
  c->body = copy(e.body);
  c->orelse = copy(e.orelse);
  return c;
}

}  // namespace jagtile::ast
