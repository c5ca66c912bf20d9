// Lexer tests: token streams for Python's layout rules, literals, and every lexical error with
// its message and location.
#include "lang/lexer.h"

#include "lang_test_util.h"

namespace jagtile::lang {
namespace {

using testing::failure_of;

ast::Module module_for(const std::string& src) {
  ast::Module m;
  m.file = "k.py";
  m.lines.push_back(src);
  return m;
}

// Compact rendering of a token stream: "x = 1 NL", with INDENT/DEDENT as > and <.
std::string render(const std::string& src) {
  ast::Module m = module_for(src);
  std::string out;
  for (const Token& t : tokenize(src, m)) {
    if (!out.empty()) out += ' ';
    switch (t.kind) {
      case TokKind::name:
      case TokKind::op:
        out += t.text;
        break;
      case TokKind::int_lit:
        out += "i" + std::to_string(t.int_value);
        break;
      case TokKind::float_lit:
        out += "f" + t.text;
        break;
      case TokKind::string:
        out += "'" + t.text + "'";
        break;
      case TokKind::newline:
        out += "NL";
        break;
      case TokKind::indent:
        out += ">";
        break;
      case TokKind::dedent:
        out += "<";
        break;
      case TokKind::end:
        out += "END";
        break;
    }
  }
  return out;
}

std::vector<Token> tokens(const std::string& src) {
  static ast::Module m;  // tokens do not refer to it
  m = module_for(src);
  return tokenize(src, m);
}

TEST(LexerTest, IndentAndDedent) {
  EXPECT_EQ(render("def f(x):\n    if x:\n        y = 1\n    return y\n"),
            "def f ( x ) : NL > if x : NL > y = i1 NL < return y NL < END");
}

TEST(LexerTest, BlankLinesAndCommentsMakeNoTokens) {
  EXPECT_EQ(render("a = 1\n\n   # comment at any indent\n\t\nb = 2  # trailing\n"),
            "a = i1 NL b = i2 NL END");
}

TEST(LexerTest, MissingFinalNewlineStillEndsTheLine) {
  EXPECT_EQ(render("if x:\n  y"), "if x : NL > y NL < END");
}

TEST(LexerTest, ImplicitJoiningInsideBrackets) {
  EXPECT_EQ(render("x = f(a,\n      b)[\n 1]\n"), "x = f ( a , b ) [ i1 ] NL END");
  // Indentation inside brackets is irrelevant.
  EXPECT_EQ(render("x = [\n1,\n        2]\ny = 3\n"), "x = [ i1 , i2 ] NL y = i3 NL END");
}

TEST(LexerTest, BackslashContinuation) {
  EXPECT_EQ(render("x = 1 + \\\n    2\n"), "x = i1 + i2 NL END");
}

TEST(LexerTest, TabsConsistentWithThemselves) {
  EXPECT_EQ(render("if x:\n\ty = 1\n\tif y:\n\t\tz = 2\n"),
            "if x : NL > y = i1 NL if y : NL > z = i2 NL < < END");
}

TEST(LexerTest, Operators) {
  EXPECT_EQ(render("a **= b // c -> d != e <= f >> g @ h\n"),
            "a **= b // c -> d != e <= f >> g @ h NL END");
}

TEST(LexerTest, IntegerLiterals) {
  auto t = tokens("10 0x1F 0o17 0b101 1_000_000 0 00 9223372036854775807\n");
  std::vector<int64_t> want = {10, 31, 15, 5, 1000000, 0, 0, INT64_MAX};
  ASSERT_GE(t.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(t[i].kind, TokKind::int_lit) << i;
    EXPECT_EQ(t[i].int_value, want[i]) << i;
  }
}

TEST(LexerTest, FloatLiterals) {
  auto t = tokens("1e-6 .5 1. 1_000.0 2.5E+3 3e2\n");
  std::vector<double> want = {1e-6, 0.5, 1.0, 1000.0, 2500.0, 300.0};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(t[i].kind, TokKind::float_lit) << i;
    EXPECT_DOUBLE_EQ(t[i].float_value, want[i]) << i;
  }
}

TEST(LexerTest, Strings) {
  auto t = tokens(R"(a = "x\ty" 'q\'s' r"\n" b"by" f"{x}" """tri
ple""" '\x41\u00e9\101')"
                  "\n");
  EXPECT_EQ(t[2].text, "x\ty");
  EXPECT_EQ(t[3].text, "q's");
  EXPECT_EQ(t[4].text, "\\n");
  EXPECT_EQ(t[5].text, "by");
  EXPECT_TRUE(t[5].is_bytes);
  EXPECT_EQ(t[6].text, "{x}");  // f-strings are plain strings to the lexer
  EXPECT_EQ(t[7].text, "tri\nple");
  EXPECT_EQ(t[8].text,
            "A\xC3\xA9"
            "A");
  EXPECT_EQ(t[9].kind, TokKind::newline);
  // A triple-quoted string spans lines without NEWLINE tokens; the next token is on line 2.
  EXPECT_EQ(t[8].pos.line, 2);
}

TEST(LexerTest, ColumnsAreOneBasedCodePoints) {
  auto t = tokens("s = 'h\xC3\xA9llo' + x\n");
  EXPECT_EQ(t[0].pos.column, 1);
  EXPECT_EQ(t[2].pos.column, 5);
  EXPECT_EQ(t[3].pos.column, 13);  // '+' after a 7-character string holding one 2-byte char
  EXPECT_EQ(t[4].pos.column, 15);
}

TEST(LexerTest, ByteOrderMarkAndCrLfAreAccepted) {
  ast::Module m = parse_module("\xEF\xBB\xBFx = 1\r\ny = 2\rz = 3\r\n", "k.py");
  ASSERT_EQ(m.body.size(), 3u);
  EXPECT_EQ(m.body[0]->pos.column, 1);
  EXPECT_EQ(m.body[2]->pos.line, 3);
}

struct LexError {
  const char* src;
  const char* message;
  int line, column;
};

class LexerErrorTest : public ::testing::TestWithParam<LexError> {};

TEST_P(LexerErrorTest, ReportsMessageAndLocation) {
  const LexError& c = GetParam();
  auto f = failure_of(c.src, /*check=*/false);
  ASSERT_TRUE(f.thrown) << c.src;
  EXPECT_THAT(f.message, ::testing::HasSubstr(c.message)) << f.what;
  EXPECT_EQ(f.line, c.line) << f.what;
  EXPECT_EQ(f.column, c.column) << f.what;
  EXPECT_FALSE(f.hint.empty()) << "errors should carry a hint: " << f.what;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, LexerErrorTest,
    ::testing::Values(
        LexError{"if x:\n        a = 1\n\tb = 2\n", "inconsistent use of tabs and spaces", 3, 2},
        LexError{"if x:\n  \ta = 1\n\t  b = 2\n", "inconsistent use of tabs and spaces", 3, 4},
        LexError{"if x:\n    a = 1\n  b = 2\n", "unindent does not match any outer indentation", 3,
                 3},
        LexError{"x = 'abc\n", "unterminated string literal (detected at line 1)", 1, 5},
        LexError{"x = 1\ny = \"\"\"abc\n\n", "unterminated triple-quoted string literal", 2, 5},
        LexError{"x = f(1,\n  2\n", "'(' was never closed", 1, 6},
        LexError{"x = [1, 2)\n", "closing bracket ')' does not match opening bracket '['", 1, 10},
        LexError{"x = 1)\n", "unmatched ')'", 1, 6},
        LexError{"x = 99999999999999999999\n",
                 "integer literal 99999999999999999999 is out of "
                 "range for a 64-bit integer",
                 1, 5},
        LexError{"x = 0x8000000000000000\n", "out of range for a 64-bit integer", 1, 5},
        LexError{"x = 007\n", "leading zeros in decimal integer literals", 1, 5},
        LexError{"x = 1__0\n", "'_' must separate two digits", 1, 5},
        LexError{"x = 1_\n", "'_' must separate two digits", 1, 5},
        LexError{"x = 0x\n", "invalid hexadecimal literal", 1, 5},
        LexError{"x = 0b102\n", "invalid binary literal", 1, 5},
        LexError{"x = 12abc\n", "invalid decimal literal", 1, 5},
        LexError{"x = 3j\n", "complex literals are not supported", 1, 5},
        LexError{"t\xC3\xA9st = 1\n", "non-ASCII character '\xC3\xA9' (U+00E9)", 1, 2},
        LexError{"x = \xCE\xB1\n", "non-ASCII character", 1, 5},
        LexError{"x = \xFF\n", "invalid UTF-8 byte 0xFF", 1, 5},
        LexError{"x = 1 $ 2\n", "invalid character '$'", 1, 7},
        LexError{"x = 1 \\ 2\n", "unexpected character after line continuation character", 1, 7},
        LexError{"x = 1 + \\", "unexpected end of file after line continuation", 1, 9},
        LexError{"x = !y\n", "'!'", 1, 5},
        LexError{"x = 'a\\x4'\n", "truncated \\x escape", 1, 7}));

TEST(LexerTest, NullBytesAreRejectedWithTheirLocation) {
  auto f = failure_of(std::string("x = 1\ny = '\xC3\xA9\0b'\n", 17), false);
  ASSERT_TRUE(f.thrown);
  EXPECT_EQ(f.message, "source code cannot contain null bytes");
  EXPECT_EQ(f.line, 2);
  EXPECT_EQ(f.column, 7);  // code points: y, space, =, space, quote, e-acute, then the null
}

TEST(LexerTest, TooManyIndentationLevels) {
  std::string src;
  for (int i = 0; i < 101; ++i) src += std::string(i, ' ') + "if x:\n";
  src += std::string(101, ' ') + "pass\n";
  auto f = failure_of(src, false);
  ASSERT_TRUE(f.thrown);
  EXPECT_THAT(f.message, ::testing::HasSubstr("too many levels of indentation"));
  EXPECT_EQ(f.line, 102);  // 100 levels are fine, the 101st is not
}

TEST(LexerTest, TooManyNestedBrackets) {
  std::string src = "x = " + std::string(201, '(') + "1" + std::string(201, ')') + "\n";
  auto f = failure_of(src, false);
  ASSERT_TRUE(f.thrown);
  EXPECT_THAT(f.message, ::testing::HasSubstr("too many nested brackets"));
  EXPECT_EQ(f.column, 205);
}

TEST(LexerTest, DescribeNamesTokens) {
  Token t;
  t.kind = TokKind::name;
  t.text = "for";
  EXPECT_EQ(describe(t), "keyword 'for'");
  t.text = "x";
  EXPECT_EQ(describe(t), "name 'x'");
  t.kind = TokKind::newline;
  EXPECT_EQ(describe(t), "end of line");
}

}  // namespace
}  // namespace jagtile::lang
