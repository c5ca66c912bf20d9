// Internal to the parser: the Parser class (token helpers, depth limits, one member function per
// grammar rule), shared by parser.cpp (statements) and parser_expr.cpp (expressions).
#pragma once

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lang/ast.h"
#include "lang/lexer.h"
#include "lang/parser.h"

namespace jagtile::lang::detail {

using ast::Expr;
using ast::ExprKind;
using ast::ExprPtr;
using ast::Pos;
using ast::Stmt;
using ast::StmtKind;
using ast::StmtList;
using ast::StmtPtr;

inline ExprPtr make_expr(ExprKind kind, Pos pos) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->pos = pos;
  return e;
}

inline StmtPtr make_stmt(StmtKind kind, Pos pos) {
  auto s = std::make_unique<Stmt>();
  s->kind = kind;
  s->pos = pos;
  return s;
}

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
    for (const auto& c : e->keys) h = std::max(h, height(c.get()));
    if (h + 1 > kMaxExprDepth) too_deep(e->pos);
    if (h > 0) heights_[e.get()] = h + 1;
    return e;
  }

  // ---- statements ----------------------------------------------------------------------------
  void parse_statement(StmtList& out);

  void parse_simple_statements(StmtList& out);

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

  StmtList parse_block(const std::string& what, Pos header);

  StmtPtr parse_def();

  StmtPtr parse_if();

  StmtPtr parse_for();

  StmtPtr parse_while();

  // class / with / try / async: kept as an `unsupported` node for the checker; their tokens
  // (header, block, and a try's other clauses) are skipped without interpretation.
  StmtPtr skip_compound();
  void skip_clause();

  void parse_small_statement(StmtList& out);

  void skip_small_statement();

  std::string parse_dotted_name();

  void parse_import(StmtList& out);

  StmtPtr parse_from_import();

  void check_target(const Expr& e, const char* what);

  // ---- expressions ---------------------------------------------------------------------------
  bool starts_expression() const;

  // a, b, c (a bare tuple) or a single expression.
  ExprPtr parse_star_expressions();

  // Loop targets: bitwise-or level so that `in` is not taken as a comparison.
  ExprPtr parse_target_list();

  ExprPtr parse_named_expression();

  ExprPtr parse_expression();

  ExprPtr parse_bool(const char* kw, ast::BoolOp op, ExprPtr (Parser::*sub)());
  ExprPtr parse_disjunction();
  ExprPtr parse_conjunction();

  ExprPtr parse_inversion();

  bool accept_compare_op(ast::CompareOp* op);

  ExprPtr parse_comparison();

  ExprPtr parse_binary(int level);

  ExprPtr parse_factor();

  ExprPtr parse_power();

  ExprPtr parse_primary();

  void reject_comprehension();

  ExprPtr parse_call(ExprPtr func);

  ExprPtr parse_slice_item();

  ExprPtr parse_subscript(ExprPtr value);

  ExprPtr parse_atom();

  ExprPtr parse_paren();

  ExprPtr parse_list();
  ExprPtr parse_dict();

  std::vector<Token> toks_;
  size_t p_ = 0;
  ast::Module& m_;
  int recursion_ = 0;
  int block_depth_ = 0;
  std::unordered_map<const Expr*, int> heights_;
};

}  // namespace jagtile::lang::detail
