// Parser tests: precedence and statement forms checked through the AST printer (golden strings),
// node fields checked directly where the printer would hide them, and every syntax error with
// its message and location. Also the depth and size limits.
#include "lang/parser.h"

#include "lang_test_util.h"

namespace jagtile::lang {
namespace {

using testing::failure_of;
using testing::parse;

// The printed form of the single expression statement in `src`.
std::string expr(const std::string& src) {
  ast::Module m = parse(src + "\n");
  EXPECT_EQ(m.body.size(), 1u);
  return ast::dump(*m.body.at(0));
}

TEST(ParserTest, ArithmeticPrecedence) {
  EXPECT_EQ(expr("a + b * c - d"), "((a + (b * c)) - d)\n");
  EXPECT_EQ(expr("-a ** -b"), "(-(a ** (-b)))\n");
  EXPECT_EQ(expr("a ** b ** c"), "(a ** (b ** c))\n");
  EXPECT_EQ(expr("a // b % c @ d"), "(((a // b) % c) @ d)\n");
  EXPECT_EQ(expr("a | b ^ c & d << e + f"), "(a | (b ^ (c & (d << (e + f)))))\n");
  EXPECT_EQ(expr("~a & b"), "((~a) & b)\n");
}

TEST(ParserTest, ComparisonsAndBooleans) {
  EXPECT_EQ(expr("a < b <= c"), "(a < b <= c)\n");
  EXPECT_EQ(expr("bias is not None"), "(bias is not None)\n");
  EXPECT_EQ(expr("a not in b"), "(a not in b)\n");
  EXPECT_EQ(expr("not a == b and c or d"), "(((not (a == b)) and c) or d)\n");
  EXPECT_EQ(expr("a and b and c"), "(a and b and c)\n");
  EXPECT_EQ(expr("x if c else y"), "(x if c else y)\n");
  EXPECT_EQ(expr("a & b > c"), "((a & b) > c)\n");  // & binds tighter than comparison
}

TEST(ParserTest, ComparisonNodeFields) {
  ast::Module m = parse("a < b is not c\n");
  const ast::Expr& e = *m.body[0]->value;
  ASSERT_EQ(e.kind, ast::ExprKind::compare);
  ASSERT_EQ(e.cmp_ops.size(), 2u);
  EXPECT_EQ(e.cmp_ops[0], ast::CompareOp::lt);
  EXPECT_EQ(e.cmp_ops[1], ast::CompareOp::is_not);
  EXPECT_EQ(e.comparators[1]->id, "c");
}

TEST(ParserTest, CallsAttributesSubscripts) {
  EXPECT_EQ(expr("hl.load(x, [idx], extra_mask=m)"), "hl.load(x, [idx], extra_mask=m)\n");
  EXPECT_EQ(expr("x[:, None]"), "x[:, None]\n");
  EXPECT_EQ(expr("x[tile_b.index + 1]"), "x[(tile_b.index + 1)]\n");
  EXPECT_EQ(expr("x[a, b:c]"), "x[a, b:c]\n");
  EXPECT_EQ(expr("x[::2, 1:]"), "x[::2, 1:]\n");
  EXPECT_EQ(expr("x[a,]"), "x[a]\n");
  EXPECT_EQ(expr("t[-1].item()"), "t[(-1)].item()\n");
  EXPECT_EQ(expr("(s[:, None] + k.index[None, :])[:, :, None] * M"),
            "((s[:, None] + k.index[None, :])[:, :, None] * M)\n");
  EXPECT_EQ(expr("float(\"-inf\")"), "float(\"-inf\")\n");
  EXPECT_EQ(expr("f()"), "f()\n");
}

TEST(ParserTest, SubscriptNodeShape) {
  ast::Module m = parse("x[:, None]\n");
  const ast::Expr& s = *m.body[0]->value;
  ASSERT_EQ(s.kind, ast::ExprKind::subscript);
  ASSERT_EQ(s.index->kind, ast::ExprKind::tuple);
  ASSERT_EQ(s.index->elts.size(), 2u);
  EXPECT_EQ(s.index->elts[0]->kind, ast::ExprKind::slice);
  EXPECT_EQ(s.index->elts[0]->lower, nullptr);
  EXPECT_EQ(s.index->elts[1]->kind, ast::ExprKind::none_lit);
}

TEST(ParserTest, Literals) {
  EXPECT_EQ(expr("(1, 2.5, 'a' \"b\", True, None, [])"), "(1, 2.5, \"ab\", True, None, [])\n");
  EXPECT_EQ(expr("(x,)"), "(x,)\n");
  EXPECT_EQ(expr("()"), "()\n");
  EXPECT_EQ(expr("1e-6"), "1e-06\n");
}

TEST(ParserTest, Assignments) {
  EXPECT_EQ(expr("(m,) = x.size()"), "(m,) = x.size()\n");
  EXPECT_EQ(expr("total, M = x.shape"), "(total, M) = x.shape\n");
  EXPECT_EQ(expr("a = b = 0"), "a = b = 0\n");
  EXPECT_EQ(expr("out[tile_b, tile_m] = v"), "out[tile_b, tile_m] = v\n");
  EXPECT_EQ(expr("acc += x * 2"), "acc += (x * 2)\n");
  EXPECT_EQ(expr("acc //= 2"), "acc //= 2\n");
  EXPECT_EQ(expr("n: int = 3"), "n: int = 3\n");
  EXPECT_EQ(expr("n: int"), "n: int\n");
  EXPECT_EQ(expr("a, = f()"), "(a,) = f()\n");
  EXPECT_EQ(expr("x = 1, 2"), "x = (1, 2)\n");
}

TEST(ParserTest, AssignmentNodeFields) {
  ast::Module m = parse("a = b = 0\nx += 1\n");
  ASSERT_EQ(m.body[0]->kind, ast::StmtKind::assign);
  EXPECT_EQ(m.body[0]->targets.size(), 2u);
  ASSERT_EQ(m.body[1]->kind, ast::StmtKind::aug_assign);
  EXPECT_EQ(m.body[1]->aug_op, ast::BinaryOp::add);
}

TEST(ParserTest, FunctionDefinition) {
  const char* src =
      "@helion.kernel(config=helion.Config(block_sizes=[32, 64]))\n"
      "def k(x: torch.Tensor, bias: torch.Tensor | None, eps: float = 1e-6,\n"
      "      ) -> tuple[torch.Tensor, torch.Tensor]:\n"
      "    \"\"\"Doc.\"\"\"\n"
      "    return x, x\n";
  ast::Module m = parse(src);
  ASSERT_EQ(m.body.size(), 1u);
  const ast::Stmt& d = *m.body[0];
  EXPECT_EQ(d.kind, ast::StmtKind::function_def);
  EXPECT_EQ(d.pos.line, 2);
  EXPECT_EQ(d.pos.column, 1);
  ASSERT_EQ(d.params.size(), 3u);
  EXPECT_EQ(d.params[2].pos.line, 2);
  EXPECT_EQ(d.params[2].pos.column, 51);
  EXPECT_EQ(ast::dump(m),
            "@helion.kernel(config=helion.Config(block_sizes=[32, 64]))\n"
            "def k(x: torch.Tensor, bias: (torch.Tensor | None), eps: float = 1e-06) -> "
            "tuple[torch.Tensor, torch.Tensor]:\n"
            "  \"Doc.\"\n"
            "  return (x, x)\n");
}

TEST(ParserTest, ControlFlow) {
  const char* src =
      "for tile_b in hl.tile(B):\n"
      "    if a:\n"
      "        pass\n"
      "    elif b: x = 1; y = 2\n"
      "    else:\n"
      "        assert x, 'msg'\n"
      "for a, b in hl.tile([m, n]):\n"
      "    while x:\n"
      "        break\n"
      "        continue\n"
      "return\n";
  EXPECT_EQ(ast::dump(parse(src)),
            "for tile_b in hl.tile(B):\n"
            "  if a:\n"
            "    pass\n"
            "  else:\n"
            "    if b:\n"
            "      x = 1\n"
            "      y = 2\n"
            "    else:\n"
            "      assert x, \"msg\"\n"
            "for (a, b) in hl.tile([m, n]):\n"
            "  while x:\n"
            "    break\n"
            "    continue\n"
            "return\n");
}

TEST(ParserTest, Imports) {
  ast::Module m = parse(
      "import torch, helion\nimport helion.language as hl\n"
      "from torch.nn import functional as F\nfrom . import (a, b,)\nfrom x import *\n");
  ASSERT_EQ(m.body.size(), 6u);
  EXPECT_EQ(m.body[1]->module, "helion");
  EXPECT_EQ(m.body[2]->module, "helion.language");
  EXPECT_EQ(m.body[2]->import_names, std::vector<std::string>{"hl"});
  EXPECT_EQ(m.body[3]->import_names, std::vector<std::string>{"F"});
  EXPECT_EQ(m.body[4]->module, ".");
  EXPECT_EQ(m.body[4]->import_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.body[5]->import_names, std::vector<std::string>{"*"});
}

TEST(ParserTest, UnsupportedStatementsBecomeNodes) {
  ast::Module m = parse(
      "class A:\n    x = 1\n    def f(self): pass\n"
      "try:\n    x = 1\nexcept E:\n    pass\nfinally:\n    pass\n"
      "with open(f) as g: pass\n"
      "del x\nglobal y\nraise ValueError('no; no')\ny = 1\n");
  std::vector<std::string> whats;
  for (const auto& s : m.body)
    whats.push_back(s->kind == ast::StmtKind::unsupported ? s->what : "-");
  EXPECT_EQ(whats, (std::vector<std::string>{"class definition", "'try' statement",
                                             "'with' statement", "'del' statement",
                                             "'global' statement", "'raise' statement", "-"}));
  EXPECT_EQ(m.body[1]->pos.line, 4);
  EXPECT_EQ(m.body[6]->pos.line, 14);
}

TEST(ParserTest, AttributeNamePosition) {
  ast::Module m = parse("y = tile_b.index\n");
  const ast::Expr& a = *m.body[0]->value;
  EXPECT_EQ(a.pos.column, 5);
  EXPECT_EQ(a.name_pos.column, 12);
}

TEST(ParserTest, ModuleLinesKeptForCarets) {
  ast::Module m = parse("a = 1\r\nb = 2\n");
  ASSERT_GE(m.lines.size(), 2u);
  EXPECT_EQ(m.lines[0], "a = 1");
  EXPECT_EQ(m.lines[1], "b = 2");
  EXPECT_EQ(m.file, "k.py");
}

struct SyntaxError {
  const char* src;
  const char* message;
  int line, column;
};

class ParserErrorTest : public ::testing::TestWithParam<SyntaxError> {};

TEST_P(ParserErrorTest, ReportsMessageAndLocation) {
  const SyntaxError& c = GetParam();
  auto f = failure_of(c.src, /*check=*/false);
  ASSERT_TRUE(f.thrown) << c.src;
  EXPECT_THAT(f.message, ::testing::HasSubstr(c.message)) << f.what;
  EXPECT_EQ(f.line, c.line) << f.what;
  EXPECT_EQ(f.column, c.column) << f.what;
  EXPECT_FALSE(f.hint.empty()) << f.what;
  // The rendered message carries file:line:col and the caret line.
  EXPECT_THAT(f.what, ::testing::StartsWith("k.py:" + std::to_string(c.line) + ":" +
                                            std::to_string(c.column) + ": error: "));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ParserErrorTest,
    ::testing::Values(
        SyntaxError{"x = 1\n    y = 2\n", "unexpected indent", 2, 5},
        SyntaxError{"if x:\ny = 1\n", "expected an indented block after 'if' statement on line 1",
                    2, 1},
        SyntaxError{"def f(x)\n    pass\n", "expected ':' after the 'def f' line", 1, 9},
        SyntaxError{"for i in x\n  pass\n", "expected ':' after 'for' statement", 1, 11},
        SyntaxError{"x = \n", "expected an expression, found end of line", 1, 5},
        SyntaxError{"x = 1 2\n", "expected end of line, found number 2", 1, 7},
        SyntaxError{"f(x) = 1\n", "cannot assign to a function call", 1, 1},
        SyntaxError{"a + 1 = 2\n", "cannot assign to an expression", 1, 1},
        SyntaxError{"for f(x) in y:\n  pass\n", "cannot assign to a function call", 1, 5},
        SyntaxError{"(a, b) += 1\n", "cannot use '+=' on an expression", 1, 1},
        SyntaxError{"1: int = 2\n", "cannot annotate a literal", 1, 1},
        SyntaxError{"f(*args)\n", "argument unpacking with '*' is not supported", 1, 3},
        SyntaxError{"f(**kw)\n", "argument unpacking with '**' is not supported", 1, 3},
        SyntaxError{"x = [*a]\n", "unpacking with '*' is not supported", 1, 6},
        SyntaxError{"x[*a]\n", "unpacking with '*' is not supported in subscripts", 1, 3},
        SyntaxError{"f(a=1, b)\n", "positional argument follows keyword argument", 1, 8},
        SyntaxError{"f(a=1, a=2)\n", "keyword argument repeated: 'a'", 1, 8},
        SyntaxError{"y = lambda x: x\n", "lambda expressions are not supported", 1, 5},
        SyntaxError{"y = [i for i in x]\n", "comprehensions and generator expressions", 1, 8},
        SyntaxError{"f(i for i in x)\n", "comprehensions and generator expressions", 1, 5},
        SyntaxError{"y = {1, 2}\n", "set displays", 1, 6},
        SyntaxError{"y = x[...]\n", "'...' (Ellipsis) is not supported", 1, 7},
        SyntaxError{"if (n := 3):\n  pass\n", "assignment expressions (':=')", 1, 7},
        SyntaxError{"def f(*a):\n  pass\n", "'*' parameters are not supported", 1, 7},
        SyntaxError{"def f(a=1, b):\n  pass\n", "parameter 'b' without a default", 1, 12},
        SyntaxError{"for i in x:\n  pass\nelse:\n  pass\n", "'for ... else' is not supported", 3,
                    1},
        SyntaxError{"while x:\n  pass\nelse:\n  pass\n", "'while ... else' is not supported", 3, 1},
        SyntaxError{"else:\n  pass\n", "'else' without a matching statement", 1, 1},
        SyntaxError{"x = y[]\n", "empty subscript '[]'", 1, 6},
        SyntaxError{"x = a.if\n", "expected an attribute name after '.', found keyword 'if'", 1, 7},
        SyntaxError{"@dec\nx = 1\n", "expected 'def' after the decorators", 2, 1},
        SyntaxError{"x = (1 if a)\n", "expected 'else' in the conditional expression", 1, 12},
        SyntaxError{"x = yield 3\n", "'yield' is not supported", 1, 5},
        SyntaxError{"x = 'a' b'c'\n", "cannot mix bytes and non-bytes literals", 1, 9},
        SyntaxError{"import\n", "expected a module name", 1, 7},
        SyntaxError{"from x import (a\n", "'(' was never closed", 1, 15}));

TEST(ParserTest, ExpressionDepthLimitIsAnErrorNotACrash) {
  std::string deep = "x = " + std::string(300, '-') + "1\n";
  auto f = failure_of(deep, false);
  ASSERT_TRUE(f.thrown);
  EXPECT_THAT(f.message, ::testing::HasSubstr("expression is nested too deeply"));
  EXPECT_EQ(f.line, 1);

  std::string sum = "x = 1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  f = failure_of(sum + "\n", false);
  ASSERT_TRUE(f.thrown);
  EXPECT_THAT(f.message, ::testing::HasSubstr("expression is nested too deeply"));

  std::string chain = "x = a";
  for (int i = 0; i < 5000; ++i) chain += ".b";
  f = failure_of(chain + "\n", false);
  ASSERT_TRUE(f.thrown);
  EXPECT_THAT(f.message, ::testing::HasSubstr("expression is nested too deeply"));

  std::string nots = "x = ";
  for (int i = 0; i < 300; ++i) nots += "not ";
  f = failure_of(nots + "y\n", false);
  ASSERT_TRUE(f.thrown);
  EXPECT_THAT(f.message, ::testing::HasSubstr("expression is nested too deeply"));

  // Within the limit, deep expressions parse.
  std::string ok = "x = 1";
  for (int i = 0; i < 150; ++i) ok += " + 1";
  EXPECT_NO_THROW(parse(ok + "\n"));
}

TEST(ParserTest, BlockDepthLimitCountsElifs) {
  std::string src = "if a:\n  pass\n";
  for (int i = 0; i < 150; ++i) src += "elif a:\n  pass\n";
  auto f = failure_of(src, false);
  ASSERT_TRUE(f.thrown);
  EXPECT_THAT(f.message, ::testing::HasSubstr("blocks are nested too deeply"));
}

TEST(ParserTest, FileSizeLimit) {
  std::string big(kMaxSourceBytes + 1, '\n');
  try {
    parse_module(big, "big.py");
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_THAT(e.message(), ::testing::HasSubstr("kernel file is too large (1048577 bytes"));
    EXPECT_EQ(e.loc().file, "big.py");
  }
  // Exactly at the limit is fine (one long comment line keeps the test fast).
  EXPECT_NO_THROW(parse_module("#" + std::string(kMaxSourceBytes - 1, 'x'), "ok.py"));
}

TEST(ParserTest, EmptyAndCommentOnlyFiles) {
  EXPECT_TRUE(parse("").body.empty());
  EXPECT_TRUE(parse("# nothing\n\n   \n").body.empty());
  EXPECT_TRUE(parse("\xEF\xBB\xBF").body.empty());
}

}  // namespace
}  // namespace jagtile::lang
