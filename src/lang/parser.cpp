// Recursive-descent parser for the kernel language, statement level, and the parse_module entry
// point. Python's grammar restricted to what kernels use: everything the language rejects is
// either parsed into a node the checker reports (while, class, ...) or reported here with its
// location. Recursion and tree height are bounded (parser_impl.h) so hostile input cannot
// overflow the stack here or in later AST walks.
#include "lang/parser.h"

#include "lang/parser_impl.h"

namespace jagtile::lang {
namespace detail {

namespace {

// What an expression is, in words, for "cannot assign to ..." messages.
std::string expr_noun(const Expr& e) {
  switch (e.kind) {
    case ExprKind::call:
      return "a function call";
    case ExprKind::int_lit:
    case ExprKind::float_lit:
    case ExprKind::str_lit:
    case ExprKind::bool_lit:
    case ExprKind::none_lit:
      return "a literal";
    case ExprKind::compare:
      return "a comparison";
    case ExprKind::boolean:
      return "a boolean expression";
    case ExprKind::if_expr:
      return "a conditional expression";
    case ExprKind::slice:
      return "a slice";
    default:
      return "an expression";
  }
}

const std::pair<const char*, ast::BinaryOp> kAugOps[] = {
    {"+=", ast::BinaryOp::add},    {"-=", ast::BinaryOp::sub},       {"*=", ast::BinaryOp::mul},
    {"/=", ast::BinaryOp::div},    {"//=", ast::BinaryOp::floordiv}, {"%=", ast::BinaryOp::mod},
    {"**=", ast::BinaryOp::pow},   {"@=", ast::BinaryOp::matmul},    {"&=", ast::BinaryOp::bit_and},
    {"|=", ast::BinaryOp::bit_or}, {"^=", ast::BinaryOp::bit_xor},   {"<<=", ast::BinaryOp::lshift},
    {">>=", ast::BinaryOp::rshift}};

}  // namespace

void Parser::parse_statement(StmtList& out) {
  const Token& t = cur();
  if (t.kind == TokKind::name) {
    const std::string& k = t.text;
    if (k == "def" || k == "@") {
      out.push_back(parse_def());
      return;
    }
    if (k == "if") {
      out.push_back(parse_if());
      return;
    }
    if (k == "for") {
      out.push_back(parse_for());
      return;
    }
    if (k == "while") {
      out.push_back(parse_while());
      return;
    }
    if (k == "class" || k == "with" || k == "try" || k == "async") {
      out.push_back(skip_compound());
      return;
    }
    if (k == "elif" || k == "else" || k == "except" || k == "finally") {
      fail(t.pos, "'" + k + "' without a matching statement before it",
           "check the indentation of this line");
    }
  } else if (t.kind == TokKind::op && t.text == "@") {
    out.push_back(parse_def());
    return;
  }
  parse_simple_statements(out);
}

void Parser::parse_simple_statements(StmtList& out) {
  while (true) {
    parse_small_statement(out);
    if (cur().kind == TokKind::newline) break;
    if (!accept_op(";")) unexpected("end of line");
    if (cur().kind == TokKind::newline) break;
  }
  take();  // newline
}

StmtList Parser::parse_block(const std::string& what, Pos header) {
  if (!is_op(":")) unexpected("':' after " + what);
  take();
  BlockGuard guard(*this, header);
  StmtList body;
  if (cur().kind != TokKind::newline) {
    parse_simple_statements(body);
    return body;
  }
  take();
  if (cur().kind != TokKind::indent) {
    fail(cur().pos,
         "expected an indented block after " + what + " on line " + std::to_string(header.line),
         "indent the body of the block");
  }
  take();
  while (cur().kind != TokKind::dedent && cur().kind != TokKind::end) parse_statement(body);
  take();  // dedent
  return body;
}

StmtPtr Parser::parse_def() {
  std::vector<ExprPtr> decorators;
  while (is_op("@")) {
    take();
    decorators.push_back(parse_named_expression());
    if (cur().kind != TokKind::newline) unexpected("end of line after the decorator");
    take();
  }
  if (is_kw("class") || is_kw("async")) return skip_compound();
  if (!is_kw("def")) unexpected("'def' after the decorators");
  auto s = make_stmt(StmtKind::function_def, cur().pos);
  take();
  s->decorators = std::move(decorators);
  s->name = expect_name("a function name after 'def'");
  expect_op("(", "after the function name");
  bool seen_default = false;
  while (!is_op(")")) {
    if (is_op("*") || is_op("**") || is_op("/")) {
      fail(cur().pos, "'" + cur().text + "' parameters are not supported in kernels",
           "list every parameter by name");
    }
    ast::Param p;
    p.pos = cur().pos;
    p.name = expect_name("a parameter name");
    if (accept_op(":")) p.annotation = parse_expression();
    if (accept_op("=")) {
      p.default_value = parse_expression();
      seen_default = true;
    } else if (seen_default) {
      fail(p.pos, "parameter '" + p.name + "' without a default follows a parameter with one",
           "give it a default or move it before the parameters that have one");
    }
    s->params.push_back(std::move(p));
    if (!accept_op(",")) break;
  }
  expect_op(")", "to close the parameter list");
  if (accept_op("->")) s->returns = parse_expression();
  s->body = parse_block("the 'def " + s->name + "' line", s->pos);
  return s;
}

StmtPtr Parser::parse_if() {
  auto s = make_stmt(StmtKind::if_stmt, cur().pos);
  std::string kw = take().text;  // "if" or "elif"
  s->test = parse_named_expression();
  s->body = parse_block("'" + kw + "' statement", s->pos);
  if (is_kw("elif")) {
    BlockGuard guard(*this, cur().pos);
    s->orelse.push_back(parse_if());
  } else if (is_kw("else")) {
    Pos pos = take().pos;
    s->orelse = parse_block("'else'", pos);
  }
  return s;
}

StmtPtr Parser::parse_for() {
  auto s = make_stmt(StmtKind::for_loop, cur().pos);
  take();
  s->target = parse_target_list();
  check_target(*s->target, "'for' loop variable");
  if (!accept_kw("in")) unexpected("'in' after the loop variable");
  s->iter = parse_star_expressions();
  s->body = parse_block("'for' statement", s->pos);
  if (is_kw("else")) {
    fail(cur().pos, "'for ... else' is not supported", "move the else-part after the loop");
  }
  return s;
}

StmtPtr Parser::parse_while() {
  auto s = make_stmt(StmtKind::while_loop, cur().pos);
  take();
  s->test = parse_named_expression();
  s->body = parse_block("'while' statement", s->pos);
  if (is_kw("else")) {
    fail(cur().pos, "'while ... else' is not supported", "move the else-part after the loop");
  }
  return s;
}

StmtPtr Parser::skip_compound() {
  auto s = make_stmt(StmtKind::unsupported, cur().pos);
  std::string k = cur().text;
  s->what = k == "class"  ? "class definition"
            : k == "with" ? "'with' statement"
            : k == "try"  ? "'try' statement"
                          : "'async' statement";
  skip_clause();
  if (k == "try") {
    while (is_kw("except") || is_kw("else") || is_kw("finally")) skip_clause();
  }
  return s;
}

void Parser::skip_clause() {
  while (cur().kind != TokKind::newline && cur().kind != TokKind::end) take();
  take();
  if (cur().kind != TokKind::indent) return;
  int depth = 0;
  do {
    if (cur().kind == TokKind::indent) ++depth;
    if (cur().kind == TokKind::dedent) --depth;
    take();
  } while (depth > 0 && cur().kind != TokKind::end);
}

void Parser::parse_small_statement(StmtList& out) {
  const Token& t = cur();
  Pos pos = t.pos;
  if (t.kind == TokKind::name) {
    const std::string& k = t.text;
    if (k == "pass" || k == "break" || k == "continue") {
      take();
      out.push_back(make_stmt(k == "pass"    ? StmtKind::pass
                              : k == "break" ? StmtKind::break_stmt
                                             : StmtKind::continue_stmt,
                              pos));
      return;
    }
    if (k == "return") {
      take();
      auto s = make_stmt(StmtKind::return_stmt, pos);
      if (cur().kind != TokKind::newline && !is_op(";")) s->value = parse_star_expressions();
      out.push_back(std::move(s));
      return;
    }
    if (k == "assert") {
      take();
      auto s = make_stmt(StmtKind::assert_stmt, pos);
      s->test = parse_expression();
      if (accept_op(",")) s->msg = parse_expression();
      out.push_back(std::move(s));
      return;
    }
    if (k == "import") {
      parse_import(out);
      return;
    }
    if (k == "from") {
      out.push_back(parse_from_import());
      return;
    }
    if (k == "del" || k == "global" || k == "nonlocal" || k == "raise" || k == "yield") {
      auto s = make_stmt(StmtKind::unsupported, pos);
      s->what = "'" + k + "' statement";
      skip_small_statement();
      out.push_back(std::move(s));
      return;
    }
  }
  ExprPtr first = parse_star_expressions();
  if (is_op("=")) {
    auto s = make_stmt(StmtKind::assign, pos);
    s->targets.push_back(std::move(first));
    while (accept_op("=")) {
      ExprPtr e = parse_star_expressions();
      if (is_op("=")) {
        s->targets.push_back(std::move(e));
      } else {
        s->value = std::move(e);
      }
    }
    for (const auto& tgt : s->targets) check_target(*tgt, "assignment target");
    out.push_back(std::move(s));
    return;
  }
  for (const auto& [text, op] : kAugOps) {
    if (is_op(text)) {
      auto s = make_stmt(StmtKind::aug_assign, pos);
      if (first->kind != ExprKind::name && first->kind != ExprKind::attribute &&
          first->kind != ExprKind::subscript) {
        fail(first->pos, "cannot use '" + std::string(text) + "' on " + expr_noun(*first),
             "the left side of an augmented assignment must be a name, subscript or attribute");
      }
      take();
      s->aug_op = op;
      s->target = std::move(first);
      s->value = parse_star_expressions();
      out.push_back(std::move(s));
      return;
    }
  }
  if (is_op(":")) {
    auto s = make_stmt(StmtKind::ann_assign, pos);
    if (first->kind != ExprKind::name && first->kind != ExprKind::attribute &&
        first->kind != ExprKind::subscript) {
      fail(first->pos, "cannot annotate " + expr_noun(*first),
           "only a single name, subscript or attribute can carry an annotation");
    }
    take();
    s->target = std::move(first);
    s->annotation = parse_expression();
    if (accept_op("=")) s->value = parse_star_expressions();
    out.push_back(std::move(s));
    return;
  }
  auto s = make_stmt(StmtKind::expr, pos);
  s->value = std::move(first);
  out.push_back(std::move(s));
}

void Parser::skip_small_statement() {
  int depth = 0;
  while (cur().kind != TokKind::end && cur().kind != TokKind::newline &&
         !(depth == 0 && is_op(";"))) {
    if (is_op("(") || is_op("[") || is_op("{")) ++depth;
    if (is_op(")") || is_op("]") || is_op("}")) --depth;
    take();
  }
}

std::string Parser::parse_dotted_name() {
  std::string name = expect_name("a module name");
  while (accept_op(".")) name += "." + expect_name("a name after '.'");
  return name;
}

void Parser::parse_import(StmtList& out) {
  Pos pos = take().pos;  // import
  do {
    auto s = make_stmt(StmtKind::import, pos);
    s->module = parse_dotted_name();
    if (accept_kw("as")) {
      s->import_names.push_back(expect_name("a name after 'as'"));
      s->import_targets.push_back(s->module);
    } else {
      // `import a.b.c` binds `a`, as in Python.
      s->import_names.push_back(s->module.substr(0, s->module.find('.')));
      s->import_targets.push_back(s->import_names.back());
    }
    out.push_back(std::move(s));
  } while (accept_op(","));
}

StmtPtr Parser::parse_from_import() {
  auto s = make_stmt(StmtKind::import, cur().pos);
  take();  // from
  while (is_op(".") || is_op("...")) s->module += take().text;
  if (!is_kw("import")) s->module += parse_dotted_name();
  if (!accept_kw("import")) unexpected("'import'");
  if (accept_op("*")) {
    s->import_names.push_back("*");
    s->import_targets.push_back(s->module + ".*");
    return s;
  }
  bool paren = accept_op("(");
  do {
    if (paren && is_op(")")) break;
    std::string name = expect_name("a name to import");
    bool bare = s->module.empty() || s->module.back() == '.';  // `from . import x`
    s->import_targets.push_back(s->module + (bare ? "" : ".") + name);
    if (accept_kw("as")) name = expect_name("a name after 'as'");
    s->import_names.push_back(name);
  } while (accept_op(","));
  if (paren) expect_op(")", "to close the import list");
  return s;
}

void Parser::check_target(const Expr& e, const char* what) {
  switch (e.kind) {
    case ExprKind::name:
    case ExprKind::attribute:
    case ExprKind::subscript:
      return;
    case ExprKind::tuple:
    case ExprKind::list:
      for (const auto& elt : e.elts) check_target(*elt, what);
      return;
    default:
      fail(e.pos, std::string("cannot assign to ") + expr_noun(e) + " (" + what + ")",
           "assign to a name, a subscript, an attribute, or a tuple of those");
  }
}

}  // namespace detail

namespace {

// Strips a BOM and turns "\r\n" / "\r" into "\n" so that line numbers match every editor.
std::string normalise(std::string_view source) {
  if (source.substr(0, 3) == "\xEF\xBB\xBF") source.remove_prefix(3);
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  return out;
}

}  // namespace

ast::Module parse_module(std::string_view source, const std::string& file_name) {
  ast::Module m;
  m.file = file_name;
  if (source.size() > kMaxSourceBytes) {
    throw UserError("kernel file is too large (" + std::to_string(source.size()) +
                        " bytes; the limit is " + std::to_string(kMaxSourceBytes) + ")",
                    "split the kernels into several files", SourceLoc{file_name, 0, 0});
  }
  std::string text = normalise(source);
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    m.lines.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  for (size_t i = 0; i < m.lines.size(); ++i) {
    size_t z = m.lines[i].find('\0');
    if (z != std::string::npos) {
      int column = 1;  // in code points, like every other column
      for (size_t k = 0; k < z; ++k) column += (m.lines[i][k] & 0xC0) != 0x80;
      throw ast::error_at(m, ast::Pos{static_cast<int>(i) + 1, column},
                          "source code cannot contain null bytes",
                          "remove the null byte (is this a binary file?)");
    }
  }
  detail::Parser parser(tokenize(text, m), m);
  parser.parse_file();
  return m;
}

}  // namespace jagtile::lang
