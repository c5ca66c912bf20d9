// Recursive-descent parser for the kernel language, expression level: Python's precedence from
// conditional expressions down to atoms. Comprehensions, lambdas, unpacking and walrus are
// reported with their location.
#include "lang/parser_impl.h"

namespace jagtile::lang::detail {

namespace {

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

}  // namespace

bool Parser::starts_expression() const {
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

ExprPtr Parser::parse_star_expressions() {
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

ExprPtr Parser::parse_target_list() {
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

ExprPtr Parser::parse_named_expression() {
  ExprPtr e = parse_expression();
  if (is_op(":=")) {
    fail(cur().pos, "assignment expressions (':=') are not supported",
         "assign with '=' in a statement of its own");
  }
  return e;
}

ExprPtr Parser::parse_expression() {
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

ExprPtr Parser::parse_bool(const char* kw, ast::BoolOp op, ExprPtr (Parser::*sub)()) {
  ExprPtr first = (this->*sub)();
  if (!is_kw(kw)) return first;
  auto b = make_expr(ExprKind::boolean, first->pos);
  b->bool_op = op;
  b->elts.push_back(std::move(first));
  while (accept_kw(kw)) b->elts.push_back((this->*sub)());
  return seal(std::move(b));
}

ExprPtr Parser::parse_disjunction() {
  return parse_bool("or", ast::BoolOp::logical_or, &Parser::parse_conjunction);
}

ExprPtr Parser::parse_conjunction() {
  return parse_bool("and", ast::BoolOp::logical_and, &Parser::parse_inversion);
}

ExprPtr Parser::parse_inversion() {
  if (!is_kw("not")) return parse_comparison();
  DepthGuard guard(*this);
  auto u = make_expr(ExprKind::unary, take().pos);
  u->unary_op = ast::UnaryOp::logical_not;
  u->operand = parse_inversion();
  return seal(std::move(u));
}

bool Parser::accept_compare_op(ast::CompareOp* op) {
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

ExprPtr Parser::parse_comparison() {
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

ExprPtr Parser::parse_binary(int level) {
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

ExprPtr Parser::parse_factor() {
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

ExprPtr Parser::parse_power() {
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

ExprPtr Parser::parse_primary() {
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

void Parser::reject_comprehension() {
  if (is_kw("for") || is_kw("async")) {
    fail(cur().pos, "comprehensions and generator expressions are not supported",
         "write the loop out, or use a tile loop");
  }
}

ExprPtr Parser::parse_call(ExprPtr func) {
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

ExprPtr Parser::parse_slice_item() {
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

ExprPtr Parser::parse_subscript(ExprPtr value) {
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

ExprPtr Parser::parse_atom() {
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
      if (t.text == "{") return parse_dict();
      if (t.text == "...") fail(pos, "'...' (Ellipsis) is not supported", "write ':' per dim");
      break;
    default:
      break;
  }
  unexpected("an expression");
}

ExprPtr Parser::parse_paren() {
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

// A dict display {k: v, ...} (decorator configs use them); a set display {a, b} is an error.
ExprPtr Parser::parse_dict() {
  auto d = make_expr(ExprKind::dict, take().pos);
  while (!is_op("}")) {
    ExprPtr key = parse_named_expression();
    reject_comprehension();
    if (!is_op(":")) {
      fail(key->pos, "set displays ('{a, b}') are not supported",
           "use a list [a, b], or write a dict as {key: value}");
    }
    take();
    d->keys.push_back(std::move(key));
    d->elts.push_back(parse_named_expression());
    reject_comprehension();
    if (!accept_op(",")) break;
  }
  expect_op("}", "to close the dict");
  return seal(std::move(d));
}

ExprPtr Parser::parse_list() {
  auto l = make_expr(ExprKind::list, take().pos);
  while (!is_op("]")) {
    l->elts.push_back(parse_named_expression());
    reject_comprehension();
    if (!accept_op(",")) break;
  }
  expect_op("]", "to close the list");
  return seal(std::move(l));
}

}  // namespace jagtile::lang::detail
