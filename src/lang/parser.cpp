// Recursive-descent parser for the kernel language (Python's grammar and precedence, restricted
// to what kernels use). Everything the language rejects is either parsed into a node the checker
// reports (while, class, ...) or reported here with its location. Recursion and tree height are
// bounded so that hostile input cannot overflow the stack here or in later AST walks.
#include "lang/parser.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "lang/lexer.h"

namespace jagtile::lang {

namespace {

using ast::Expr;
using ast::ExprKind;
using ast::ExprPtr;
using ast::Pos;
using ast::Stmt;
using ast::StmtKind;
using ast::StmtList;
using ast::StmtPtr;

ExprPtr make_expr(ExprKind kind, Pos pos) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->pos = pos;
  return e;
}

StmtPtr make_stmt(StmtKind kind, Pos pos) {
  auto s = std::make_unique<Stmt>();
  s->kind = kind;
  s->pos = pos;
  return s;
}

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

struct BinaryLevel {
  std::initializer_list<std::pair<const char*, ast::BinaryOp>> ops;
};

// Python's binary operator levels, loosest first (comparison and boolean levels are separate).
const BinaryLevel kLevels[] = {
    {{{"|", ast::BinaryOp::bit_or}}},
    {{{"^", ast::BinaryOp::bit_xor}}},
    {{{"&", ast::BinaryOp::bit_and}}},
    {{{"<<", ast::BinaryOp::lshift}, {">>", ast::BinaryOp::rshift}}},
    {{{"+", ast::BinaryOp::add}, {"-", ast::BinaryOp::sub}}},
    {{{"*", ast::BinaryOp::mul},
      {"/", ast::BinaryOp::div},
      {"//", ast::BinaryOp::floordiv},
      {"%", ast::BinaryOp::mod},
      {"@", ast::BinaryOp::matmul}}},
};
constexpr int kNumLevels = sizeof(kLevels) / sizeof(kLevels[0]);

const std::pair<const char*, ast::BinaryOp> kAugOps[] = {
    {"+=", ast::BinaryOp::add},    {"-=", ast::BinaryOp::sub},       {"*=", ast::BinaryOp::mul},
    {"/=", ast::BinaryOp::div},    {"//=", ast::BinaryOp::floordiv}, {"%=", ast::BinaryOp::mod},
    {"**=", ast::BinaryOp::pow},   {"@=", ast::BinaryOp::matmul},    {"&=", ast::BinaryOp::bit_and},
    {"|=", ast::BinaryOp::bit_or}, {"^=", ast::BinaryOp::bit_xor},   {"<<=", ast::BinaryOp::lshift},
    {">>=", ast::BinaryOp::rshift}};

class Parser {
 public:
  Parser(std::vector<Token> toks, ast::Module& m) : toks_(std::move(toks)), m_(m) {}

  void parse_file() {
    while (cur().kind != TokKind::end) parse_statement(m_.body);
  }

 private:
  // ---- token helpers -------------------------------------------------------------------------
  const Token& cur() const { return toks_[p_]; }
  const Token& peek(size_t k = 1) const { return toks_[std::min(p_ + k, toks_.size() - 1)]; }
  const Token& take() {
    const Token& t = toks_[p_];
    if (p_ + 1 < toks_.size()) ++p_;
    return t;
  }
  bool is_op(const char* s) const { return cur().kind == TokKind::op && cur().text == s; }
  bool is_kw(const char* s) const { return cur().kind == TokKind::name && cur().text == s; }
  bool accept_op(const char* s) {
    if (!is_op(s)) return false;
    take();
    return true;
  }
  bool accept_kw(const char* s) {
    if (!is_kw(s)) return false;
    take();
    return true;
  }

  [[noreturn]] void fail(Pos pos, std::string msg, std::string hint = {}) {
    throw ast::error_at(m_, pos, std::move(msg), std::move(hint));
  }
  [[noreturn]] void unexpected(const std::string& expected = {}) {
    const Token& t = cur();
    if (t.kind == TokKind::indent) {
      fail(t.pos, "unexpected indent", "indent this line like the line before it");
    }
    if (expected.empty()) {
      fail(t.pos, "invalid syntax: unexpected " + describe(t),
           "the kernel language follows Python's syntax; check the code just before this point");
    }
    fail(t.pos, "invalid syntax: expected " + expected + ", found " + describe(t),
         "write " + expected + " here");
  }
  void expect_op(const char* s, const std::string& where = {}) {
    if (!accept_op(s)) unexpected("'" + std::string(s) + "'" + (where.empty() ? "" : " " + where));
  }
  std::string expect_name(const std::string& what) {
    if (cur().kind != TokKind::name || is_keyword(cur().text)) unexpected(what);
    return take().text;
  }

  // ---- depth limits --------------------------------------------------------------------------
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.recursion_ > kMaxExprDepth) p.too_deep(p.cur().pos);
    }
    ~DepthGuard() { --p.recursion_; }
  };
  [[noreturn]] void too_deep(Pos pos) {
    fail(pos,
         "expression is nested too deeply (the limit is " + std::to_string(kMaxExprDepth) +
             " levels)",
         "split it into several assignments");
  }

  int height(const Expr* e) const {
    if (e == nullptr) return 0;
    auto it = heights_.find(e);
    return it == heights_.end() ? 1 : it->second;
  }
  // Records the height of a finished node; every node with children goes through here, which
  // bounds the height of every tree the parser returns.
  ExprPtr seal(ExprPtr e) {
    int h = 0;
    for (const Expr* c : {e->value.get(), e->index.get(), e->func.get(), e->left.get(),
                          e->right.get(), e->operand.get(), e->lower.get(), e->upper.get(),
                          e->step.get(), e->test.get(), e->body.get(), e->orelse.get()}) {
      h = std::max(h, height(c));
    }
    for (const auto& c : e->args) h = std::max(h, height(c.get()));
    for (const auto& k : e->keywords) h = std::max(h, height(k.value.get()));
    for (const auto& c : e->comparators) h = std::max(h, height(c.get()));
    for (const auto& c : e->elts) h = std::max(h, height(c.get()));
    if (h + 1 > kMaxExprDepth) too_deep(e->pos);
    if (h > 0) heights_[e.get()] = h + 1;
    return e;
  }

  // ---- statements ----------------------------------------------------------------------------
  void parse_statement(StmtList& out) {
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

  void parse_simple_statements(StmtList& out) {
    while (true) {
      parse_small_statement(out);
      if (cur().kind == TokKind::newline) break;
      if (!accept_op(";")) unexpected("end of line");
      if (cur().kind == TokKind::newline) break;
    }
    take();  // newline
  }

  struct BlockGuard {
    Parser& p;
    BlockGuard(Parser& parser, Pos pos) : p(parser) {
      if (++p.block_depth_ > kMaxBlockDepth) {
        p.fail(pos,
               "blocks are nested too deeply (the limit is " + std::to_string(kMaxBlockDepth) +
                   " levels; each 'elif' counts as one)",
               "move some of the work into separate statements or kernels");
      }
    }
    ~BlockGuard() { --p.block_depth_; }
  };

  StmtList parse_block(const std::string& what, Pos header) {
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

  StmtPtr parse_def() {
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

  StmtPtr parse_if() {
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

  StmtPtr parse_for() {
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

  StmtPtr parse_while() {
    auto s = make_stmt(StmtKind::while_loop, cur().pos);
    take();
    s->test = parse_named_expression();
    s->body = parse_block("'while' statement", s->pos);
    if (is_kw("else")) {
      fail(cur().pos, "'while ... else' is not supported", "move the else-part after the loop");
    }
    return s;
  }

  // class / with / try / async: kept as an `unsupported` node for the checker; their tokens
  // (header, block, and a try's other clauses) are skipped without interpretation.
  StmtPtr skip_compound() {
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
  void skip_clause() {
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

  void parse_small_statement(StmtList& out) {
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

  void skip_small_statement() {
    int depth = 0;
    while (cur().kind != TokKind::end && cur().kind != TokKind::newline &&
           !(depth == 0 && is_op(";"))) {
      if (is_op("(") || is_op("[") || is_op("{")) ++depth;
      if (is_op(")") || is_op("]") || is_op("}")) --depth;
      take();
    }
  }

  std::string parse_dotted_name() {
    std::string name = expect_name("a module name");
    while (accept_op(".")) name += "." + expect_name("a name after '.'");
    return name;
  }

  void parse_import(StmtList& out) {
    Pos pos = take().pos;  // import
    do {
      auto s = make_stmt(StmtKind::import, pos);
      s->module = parse_dotted_name();
      if (accept_kw("as")) {
        s->import_names.push_back(expect_name("a name after 'as'"));
      } else {
        s->import_names.push_back(s->module.substr(0, s->module.find('.')));
      }
      out.push_back(std::move(s));
    } while (accept_op(","));
  }

  StmtPtr parse_from_import() {
    auto s = make_stmt(StmtKind::import, cur().pos);
    take();  // from
    while (is_op(".") || is_op("...")) s->module += take().text;
    if (!is_kw("import")) s->module += parse_dotted_name();
    if (!accept_kw("import")) unexpected("'import'");
    if (accept_op("*")) {
      s->import_names.push_back("*");
      return s;
    }
    bool paren = accept_op("(");
    do {
      if (paren && is_op(")")) break;
      std::string name = expect_name("a name to import");
      if (accept_kw("as")) name = expect_name("a name after 'as'");
      s->import_names.push_back(name);
    } while (accept_op(","));
    if (paren) expect_op(")", "to close the import list");
    return s;
  }

  void check_target(const Expr& e, const char* what) {
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

  // ---- expressions ---------------------------------------------------------------------------
  bool starts_expression() const {
    const Token& t = cur();
    switch (t.kind) {
      case TokKind::int_lit:
      case TokKind::float_lit:
      case TokKind::string:
        return true;
      case TokKind::name:
        return !is_keyword(t.text) || t.text == "True" || t.text == "False" || t.text == "None" ||
               t.text == "not" || t.text == "lambda" || t.text == "await" || t.text == "yield";
      case TokKind::op:
        return t.text == "(" || t.text == "[" || t.text == "{" || t.text == "-" || t.text == "+" ||
               t.text == "~" || t.text == "*" || t.text == "..." || t.text == "**";
      default:
        return false;
    }
  }

  // a, b, c (a bare tuple) or a single expression.
  ExprPtr parse_star_expressions() {
    ExprPtr first = parse_expression();
    if (!is_op(",")) return first;
    auto t = make_expr(ExprKind::tuple, first->pos);
    t->elts.push_back(std::move(first));
    while (accept_op(",")) {
      if (!starts_expression()) break;
      t->elts.push_back(parse_expression());
    }
    return seal(std::move(t));
  }

  // Loop targets: bitwise-or level so that `in` is not taken as a comparison.
  ExprPtr parse_target_list() {
    ExprPtr first = parse_binary(0);
    if (!is_op(",")) return first;
    auto t = make_expr(ExprKind::tuple, first->pos);
    t->elts.push_back(std::move(first));
    while (accept_op(",")) {
      if (is_kw("in")) break;
      t->elts.push_back(parse_binary(0));
    }
    return seal(std::move(t));
  }

  ExprPtr parse_named_expression() {
    ExprPtr e = parse_expression();
    if (is_op(":=")) {
      fail(cur().pos, "assignment expressions (':=') are not supported",
           "assign with '=' in a statement of its own");
    }
    return e;
  }

  ExprPtr parse_expression() {
    DepthGuard guard(*this);
    const Token& t = cur();
    if (t.kind == TokKind::name) {
      if (t.text == "lambda") {
        fail(t.pos, "lambda expressions are not supported", "write the computation inline");
      }
      if (t.text == "yield") {
        fail(t.pos, "'yield' is not supported", "kernels return their results with 'return'");
      }
      if (t.text == "await") fail(t.pos, "'await' is not supported", "remove it");
    }
    if (t.kind == TokKind::op && (t.text == "*" || t.text == "**")) {
      fail(t.pos, "unpacking with '" + t.text + "' is not supported",
           "pass or list the elements one by one");
    }
    ExprPtr e = parse_disjunction();
    if (!is_kw("if")) return e;
    take();
    auto x = make_expr(ExprKind::if_expr, e->pos);
    x->body = std::move(e);
    x->test = parse_disjunction();
    if (!accept_kw("else")) unexpected("'else' in the conditional expression");
    x->orelse = parse_expression();
    return seal(std::move(x));
  }

  ExprPtr parse_bool(const char* kw, ast::BoolOp op, ExprPtr (Parser::*sub)()) {
    ExprPtr first = (this->*sub)();
    if (!is_kw(kw)) return first;
    auto b = make_expr(ExprKind::boolean, first->pos);
    b->bool_op = op;
    b->elts.push_back(std::move(first));
    while (accept_kw(kw)) b->elts.push_back((this->*sub)());
    return seal(std::move(b));
  }
  ExprPtr parse_disjunction() {
    return parse_bool("or", ast::BoolOp::logical_or, &Parser::parse_conjunction);
  }
  ExprPtr parse_conjunction() {
    return parse_bool("and", ast::BoolOp::logical_and, &Parser::parse_inversion);
  }

  ExprPtr parse_inversion() {
    if (!is_kw("not")) return parse_comparison();
    DepthGuard guard(*this);
    auto u = make_expr(ExprKind::unary, take().pos);
    u->unary_op = ast::UnaryOp::logical_not;
    u->operand = parse_inversion();
    return seal(std::move(u));
  }

  bool accept_compare_op(ast::CompareOp* op) {
    static const std::pair<const char*, ast::CompareOp> kOps[] = {
        {"<", ast::CompareOp::lt},  {"<=", ast::CompareOp::le}, {">", ast::CompareOp::gt},
        {">=", ast::CompareOp::ge}, {"==", ast::CompareOp::eq}, {"!=", ast::CompareOp::ne}};
    for (const auto& [text, o] : kOps) {
      if (accept_op(text)) {
        *op = o;
        return true;
      }
    }
    if (accept_kw("in")) {
      *op = ast::CompareOp::in;
      return true;
    }
    if (is_kw("not") && peek().kind == TokKind::name && peek().text == "in") {
      take();
      take();
      *op = ast::CompareOp::not_in;
      return true;
    }
    if (accept_kw("is")) {
      *op = accept_kw("not") ? ast::CompareOp::is_not : ast::CompareOp::is;
      return true;
    }
    return false;
  }

  ExprPtr parse_comparison() {
    ExprPtr first = parse_binary(0);
    ast::CompareOp op;
    if (!accept_compare_op(&op)) return first;
    auto c = make_expr(ExprKind::compare, first->pos);
    c->left = std::move(first);
    do {
      c->cmp_ops.push_back(op);
      c->comparators.push_back(parse_binary(0));
    } while (accept_compare_op(&op));
    return seal(std::move(c));
  }

  ExprPtr parse_binary(int level) {
    if (level == kNumLevels) return parse_factor();
    ExprPtr left = parse_binary(level + 1);
    while (true) {
      const ast::BinaryOp* found = nullptr;
      for (const auto& entry : kLevels[level].ops) {
        if (is_op(entry.first)) found = &entry.second;
      }
      if (found == nullptr) return left;
      auto b = make_expr(ExprKind::binary, left->pos);
      take();
      b->binary_op = *found;
      b->left = std::move(left);
      b->right = parse_binary(level + 1);
      left = seal(std::move(b));
    }
  }

  ExprPtr parse_factor() {
    ast::UnaryOp op;
    if (is_op("-")) {
      op = ast::UnaryOp::neg;
    } else if (is_op("+")) {
      op = ast::UnaryOp::pos;
    } else if (is_op("~")) {
      op = ast::UnaryOp::invert;
    } else {
      return parse_power();
    }
    DepthGuard guard(*this);
    auto u = make_expr(ExprKind::unary, take().pos);
    u->unary_op = op;
    u->operand = parse_factor();
    return seal(std::move(u));
  }

  ExprPtr parse_power() {
    ExprPtr base = parse_primary();
    if (!is_op("**")) return base;
    auto b = make_expr(ExprKind::binary, base->pos);
    take();
    b->binary_op = ast::BinaryOp::pow;
    b->left = std::move(base);
    DepthGuard guard(*this);
    b->right = parse_factor();
    return seal(std::move(b));
  }

  ExprPtr parse_primary() {
    ExprPtr e = parse_atom();
    while (true) {
      if (is_op(".")) {
        take();
        auto a = make_expr(ExprKind::attribute, e->pos);
        a->name_pos = cur().pos;
        a->id = expect_name("an attribute name after '.'");
        a->value = std::move(e);
        e = seal(std::move(a));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else if (is_op("[")) {
        e = parse_subscript(std::move(e));
      } else {
        return e;
      }
    }
  }

  void reject_comprehension() {
    if (is_kw("for") || is_kw("async")) {
      fail(cur().pos, "comprehensions and generator expressions are not supported",
           "write the loop out, or use a tile loop");
    }
  }

  ExprPtr parse_call(ExprPtr func) {
    auto c = make_expr(ExprKind::call, func->pos);
    c->func = std::move(func);
    take();  // (
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) {
        fail(cur().pos, "argument unpacking with '" + cur().text + "' is not supported",
             "pass the arguments one by one");
      }
      if (cur().kind == TokKind::name && !is_keyword(cur().text) && peek().kind == TokKind::op &&
          peek().text == "=") {
        ast::Keyword k;
        k.pos = cur().pos;
        k.name = take().text;
        take();  // =
        for (const auto& other : c->keywords) {
          if (other.name == k.name) {
            fail(k.pos, "keyword argument repeated: '" + k.name + "'", "pass it once");
          }
        }
        k.value = parse_expression();
        c->keywords.push_back(std::move(k));
      } else {
        Pos pos = cur().pos;
        ExprPtr arg = parse_named_expression();
        if (!c->keywords.empty()) {
          fail(pos, "positional argument follows keyword argument",
               "put positional arguments before keyword arguments");
        }
        c->args.push_back(std::move(arg));
      }
      reject_comprehension();
      if (!accept_op(",")) break;
    }
    expect_op(")", "to close the call");
    return seal(std::move(c));
  }

  ExprPtr parse_slice_item() {
    if (is_op("*")) {
      fail(cur().pos, "unpacking with '*' is not supported in subscripts",
           "list the indices one by one");
    }
    ExprPtr lower;
    if (!is_op(":")) {
      lower = parse_named_expression();
      if (!is_op(":")) return lower;
    }
    auto s = make_expr(ExprKind::slice, lower ? lower->pos : cur().pos);
    take();  // :
    auto bound_follows = [&] { return !is_op(":") && !is_op(",") && !is_op("]"); };
    s->lower = std::move(lower);
    if (bound_follows()) s->upper = parse_expression();
    if (accept_op(":") && bound_follows()) s->step = parse_expression();
    return seal(std::move(s));
  }

  ExprPtr parse_subscript(ExprPtr value) {
    auto s = make_expr(ExprKind::subscript, value->pos);
    s->value = std::move(value);
    Pos open = take().pos;  // [
    if (is_op("]")) fail(open, "empty subscript '[]'", "write an index between the brackets");
    ExprPtr first = parse_slice_item();
    if (is_op(",")) {
      auto t = make_expr(ExprKind::tuple, first->pos);
      t->elts.push_back(std::move(first));
      while (accept_op(",") && !is_op("]")) t->elts.push_back(parse_slice_item());
      first = seal(std::move(t));
    }
    expect_op("]", "to close the subscript");
    s->index = std::move(first);
    return seal(std::move(s));
  }

  ExprPtr parse_atom() {
    const Token& t = cur();
    Pos pos = t.pos;
    switch (t.kind) {
      case TokKind::int_lit: {
        auto e = make_expr(ExprKind::int_lit, pos);
        e->int_value = take().int_value;
        return e;
      }
      case TokKind::float_lit: {
        auto e = make_expr(ExprKind::float_lit, pos);
        e->float_value = take().float_value;
        return e;
      }
      case TokKind::string: {
        auto e = make_expr(ExprKind::str_lit, pos);
        bool bytes = t.is_bytes;
        while (cur().kind == TokKind::string) {
          if (cur().is_bytes != bytes) {
            fail(cur().pos, "cannot mix bytes and non-bytes literals", "drop the b prefix");
          }
          e->str_value += take().text;
        }
        return e;
      }
      case TokKind::name: {
        if (t.text == "True" || t.text == "False") {
          auto e = make_expr(ExprKind::bool_lit, pos);
          e->bool_value = take().text == "True";
          return e;
        }
        if (t.text == "None") {
          take();
          return make_expr(ExprKind::none_lit, pos);
        }
        if (is_keyword(t.text)) unexpected();
        auto e = make_expr(ExprKind::name, pos);
        e->id = take().text;
        return e;
      }
      case TokKind::op:
        if (t.text == "(") return parse_paren();
        if (t.text == "[") return parse_list();
        if (t.text == "{") {
          fail(pos, "dict and set displays ('{...}') are not supported",
               "use a list or pass values as arguments");
        }
        if (t.text == "...") fail(pos, "'...' (Ellipsis) is not supported", "write ':' per dim");
        break;
      default:
        break;
    }
    unexpected("an expression");
  }

  ExprPtr parse_paren() {
    Pos open = take().pos;
    if (accept_op(")")) return seal(make_expr(ExprKind::tuple, open));
    ExprPtr first = parse_named_expression();
    reject_comprehension();
    if (accept_op(")")) return first;
    if (!is_op(",")) unexpected("')' or ','");
    auto t = make_expr(ExprKind::tuple, open);
    t->elts.push_back(std::move(first));
    while (accept_op(",") && !is_op(")")) t->elts.push_back(parse_named_expression());
    expect_op(")", "to close the tuple");
    return seal(std::move(t));
  }

  ExprPtr parse_list() {
    auto l = make_expr(ExprKind::list, take().pos);
    while (!is_op("]")) {
      l->elts.push_back(parse_named_expression());
      reject_comprehension();
      if (!accept_op(",")) break;
    }
    expect_op("]", "to close the list");
    return seal(std::move(l));
  }

  std::vector<Token> toks_;
  size_t p_ = 0;
  ast::Module& m_;
  int recursion_ = 0;
  int block_depth_ = 0;
  std::unordered_map<const Expr*, int> heights_;
};

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
  Parser parser(tokenize(text, m), m);
  parser.parse_file();
  return m;
}

}  // namespace jagtile::lang
