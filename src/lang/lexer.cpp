// Tokeniser for the kernel language. Follows Python 3's tokenizer closely enough that a Helion
// kernel lexes the same way (indentation stack with a tab-consistency check, implicit joining
// inside brackets), while rejecting what the language has no use for (non-ASCII names,
// complex literals) with a located message.
#include "lang/lexer.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace jagtile::lang {

namespace {

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ident_char(char c) {
  return is_ident_start(c) || is_digit(c);
}
bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes one UTF-8 sequence at s[i]; returns the code point, or -1 when malformed.
int64_t decode_utf8(std::string_view s, size_t i, size_t* len) {
  auto b = static_cast<unsigned char>(s[i]);
  int n = b >= 0xF0 && b < 0xF8 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return -1;
  uint32_t cp = b & (0x7F >> n);
  for (int k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (c & 0x3F);
  }
  *len = n;
  return cp;
}

// Operators and delimiters, longest first so that a prefix scan finds the longest match.
constexpr std::array<std::string_view, 47> kOperators = {
    "**=", "//=", ">>=", "<<=", "...", "->", "**", "//", "<<", ">>", "<=", ">=",
    "==",  "!=",  "+=",  "-=",  "*=",  "/=", "%=", "&=", "|=", "^=", "@=", ":=",
    "+",   "-",   "*",   "/",   "%",   "@",  "&",  "|",  "^",  "~",  "<",  ">",
    "(",   ")",   "[",   "]",   "{",   "}",  ",",  ":",  ".",  ";",  "="};

class Lexer {
 public:
  Lexer(std::string_view src, const ast::Module& m) : src_(src), m_(m) {}

  std::vector<Token> run() {
    while (true) {
      if (at_line_start_ && brackets_.empty()) {
        if (!handle_indentation()) break;
      }
      skip_spaces();
      if (i_ >= src_.size()) break;
      char c = src_[i_];
      if (c == '#') {
        while (i_ < src_.size() && src_[i_] != '\n') advance();
      } else if (c == '\n') {
        if (brackets_.empty()) {
          push(TokKind::newline, here(), "");
          at_line_start_ = true;
        }
        advance();
      } else if (c == '\\') {
        lex_continuation();
      } else if (is_ident_start(c)) {
        lex_name_or_prefixed_string();
      } else if (is_digit(c) || (c == '.' && i_ + 1 < src_.size() && is_digit(src_[i_ + 1]))) {
        lex_number();
      } else if (c == '\'' || c == '"') {
        lex_string(here(), "");
      } else {
        lex_operator();
      }
    }
    if (!brackets_.empty()) {
      const auto& b = brackets_.back();
      fail(b.pos, std::string("'") + b.c + "' was never closed",
           std::string("add the matching '") + closing_of(b.c) + "'");
    }
    ast::Pos eof = here();
    if (!at_line_start_) push(TokKind::newline, eof, "");
    for (size_t k = 1; k < indents_.size(); ++k) push(TokKind::dedent, eof, "");
    push(TokKind::end, eof, "");
    return std::move(out_);
  }

 private:
  struct Open {
    char c;
    ast::Pos pos;
  };

  [[noreturn]] void fail(ast::Pos pos, std::string msg, std::string hint = {}) {
    throw ast::error_at(m_, pos, std::move(msg), std::move(hint));
  }

  ast::Pos here() const { return ast::Pos{line_, col_}; }

  // Moves one byte; columns count code points, so UTF-8 continuation bytes do not advance.
  void advance() {
    char c = src_[i_++];
    if (c == '\n') {
      ++line_;
      col_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++col_;
    }
  }

  char peek(size_t ahead = 0) const { return i_ + ahead < src_.size() ? src_[i_ + ahead] : '\0'; }
  bool at_end(size_t ahead = 0) const { return i_ + ahead >= src_.size(); }

  void push(TokKind kind, ast::Pos pos, std::string text) {
    Token t;
    t.kind = kind;
    t.pos = pos;
    t.text = std::move(text);
    out_.push_back(std::move(t));
  }

  void skip_spaces() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\f')) advance();
  }

  static char closing_of(char open) { return open == '(' ? ')' : open == '[' ? ']' : '}'; }

  // Measures the indentation of a new logical line and emits INDENT/DEDENT tokens. Returns false
  // at end of input. Blank and comment-only lines are skipped without tokens.
  bool handle_indentation() {
    while (true) {
      int width = 0;      // tabs to the next multiple of 8, as Python
      int alt_width = 0;  // tabs count 1: disagreement between the two means mixed use
      while (!at_end()) {
        char c = peek();
        if (c == ' ') {
          ++width;
          ++alt_width;
        } else if (c == '\t') {
          width = (width / 8 + 1) * 8;
          ++alt_width;
        } else if (c == '\f') {
          width = alt_width = 0;
        } else {
          break;
        }
        advance();
      }
      if (at_end()) return false;
      char c = peek();
      if (c == '#') {
        while (!at_end() && peek() != '\n') advance();
        if (at_end()) return false;
      }
      if (peek() == '\n') {
        advance();
        continue;
      }
      at_line_start_ = false;
      apply_indentation(width, alt_width);
      return true;
    }
  }

  void apply_indentation(int width, int alt_width) {
    ast::Pos pos = here();
    const char* inconsistent = "inconsistent use of tabs and spaces in indentation";
    const char* inconsistent_hint = "indent with spaces only (4 per level is the convention)";
    if (width == indents_.back()) {
      if (alt_width != alt_indents_.back()) fail(pos, inconsistent, inconsistent_hint);
    } else if (width > indents_.back()) {
      if (alt_width <= alt_indents_.back()) fail(pos, inconsistent, inconsistent_hint);
      if (static_cast<int>(indents_.size()) > kMaxIndentLevels) {
        fail(pos,
             "too many levels of indentation (the limit is " + std::to_string(kMaxIndentLevels) +
                 ")",
             "move deeply nested code into fewer blocks");
      }
      indents_.push_back(width);
      alt_indents_.push_back(alt_width);
      push(TokKind::indent, pos, "");
    } else {
      while (indents_.size() > 1 && width < indents_.back()) {
        indents_.pop_back();
        alt_indents_.pop_back();
        push(TokKind::dedent, pos, "");
      }
      if (width != indents_.back()) {
        fail(pos, "unindent does not match any outer indentation level",
             "indent this line exactly as far as the block it continues");
      }
      if (alt_width != alt_indents_.back()) fail(pos, inconsistent, inconsistent_hint);
    }
  }

  void lex_continuation() {
    ast::Pos pos = here();
    advance();
    if (at_end()) {
      fail(pos, "unexpected end of file after line continuation character",
           "remove the trailing '\\'");
    }
    if (peek() != '\n') {
      fail(pos, "unexpected character after line continuation character",
           "a '\\' continues a line only as the last character of the line");
    }
    advance();
  }

  void lex_name_or_prefixed_string() {
    ast::Pos pos = here();
    size_t start = i_;
    while (!at_end() && is_ident_char(peek())) advance();
    std::string name(src_.substr(start, i_ - start));
    if (!at_end() && (peek() == '\'' || peek() == '"') && name.size() <= 2) {
      std::string lower;
      for (char c : name) lower += static_cast<char>(c | 0x20);
      static constexpr std::array<std::string_view, 8> kPrefixes = {"r",  "u",  "b",  "f",
                                                                    "br", "rb", "fr", "rf"};
      for (auto p : kPrefixes) {
        if (lower == p) {
          lex_string(pos, lower);
          return;
        }
      }
    }
    if (!at_end() && static_cast<unsigned char>(peek()) >= 0x80) non_ascii();
    push(TokKind::name, pos, std::move(name));
  }

  [[noreturn]] void non_ascii() {
    size_t len = 0;
    int64_t cp = decode_utf8(src_, i_, &len);
    if (cp < 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned char>(peek()));
      fail(here(), std::string("invalid UTF-8 byte ") + buf + " in the source",
           "save the file as UTF-8");
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
    fail(here(),
         "non-ASCII character '" + std::string(src_.substr(i_, len)) + "' (" + buf +
             ") is not allowed here: names and operators must be ASCII",
         "rename it with ASCII letters, digits and '_'; non-ASCII text is fine in strings and "
         "comments");
  }

  // Reads digits of one base with Python's underscore rule (one '_' between two digits).
  // Returns the digits without underscores; empty when there were none.
  std::string read_digits(bool (*digit_ok)(char), ast::Pos lit_pos, const char* what) {
    std::string digits;
    while (!at_end()) {
      char c = peek();
      if (digit_ok(c)) {
        digits += c;
        advance();
      } else if (c == '_' && !digits.empty() && digit_ok(peek(1))) {
        advance();
      } else if (c == '_') {
        fail(lit_pos, std::string("invalid ") + what + " literal: '_' must separate two digits",
             "write digit groups like 1_000_000");
      } else {
        break;
      }
    }
    return digits;
  }

  void lex_number() {
    ast::Pos pos = here();
    size_t start = i_;
    char c1 = peek(1) | 0x20;
    if (peek() == '0' && (c1 == 'x' || c1 == 'o' || c1 == 'b')) {
      advance();
      advance();
      if (peek() == '_') advance();  // Python allows 0x_ff
      int base = c1 == 'x' ? 16 : c1 == 'o' ? 8 : 2;
      const char* what = base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary";
      bool (*ok)(char) = base == 16  ? is_hex_digit
                         : base == 8 ? [](char c) { return c >= '0' && c <= '7'; }
                                     : [](char c) { return c == '0' || c == '1'; };
      std::string digits = read_digits(ok, pos, what);
      if (digits.empty() || (!at_end() && (is_ident_char(peek()) || peek() == '.'))) {
        fail(pos, std::string("invalid ") + what + " literal '" + literal_text(start) + "'",
             "check the digits after the base prefix");
      }
      uint64_t v = 0;
      for (char c : digits) {
        uint64_t d = static_cast<uint64_t>(hex_value(c));
        if (v > (static_cast<uint64_t>(INT64_MAX) - d) / base) out_of_range(pos, start);
        v = v * base + d;
      }
      push_int(pos, static_cast<int64_t>(v));
      return;
    }
    std::string text = read_digits(is_digit, pos, "decimal");
    bool is_float = false;
    if (peek() == '.' && !(peek(1) == '.' && peek(2) == '.')) {
      is_float = true;
      text += '.';
      advance();
      if (is_digit(peek())) text += read_digits(is_digit, pos, "decimal");
    }
    if ((peek() | 0x20) == 'e' &&
        (is_digit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && is_digit(peek(2))))) {
      is_float = true;
      text += 'e';
      advance();
      if (peek() == '+' || peek() == '-') {
        text += peek();
        advance();
      }
      text += read_digits(is_digit, pos, "decimal");
    }
    if ((peek() | 0x20) == 'j') {
      fail(pos, "complex literals are not supported", "use a real number");
    }
    if (!at_end() && (is_ident_char(peek()) || static_cast<unsigned char>(peek()) >= 0x80)) {
      fail(pos, "invalid decimal literal '" + literal_text(start) + "'",
           "separate the number from the name that follows it");
    }
    if (is_float) {
      Token t;
      t.kind = TokKind::float_lit;
      t.pos = pos;
      t.text = text;
      // strtod gives inf / 0 on overflow / underflow, which is what Python does as well.
      t.float_value = std::strtod(text.c_str(), nullptr);
      out_.push_back(std::move(t));
      return;
    }
    if (text.size() > 1 && text[0] == '0' && text.find_first_not_of('0') != std::string::npos) {
      fail(pos, "leading zeros in decimal integer literals are not permitted",
           "write the number without leading zeros, or use an 0o prefix for octal");
    }
    uint64_t v = 0;
    for (char c : text) {
      uint64_t d = static_cast<uint64_t>(c - '0');
      if (v > (static_cast<uint64_t>(INT64_MAX) - d) / 10) out_of_range(pos, start);
      v = v * 10 + d;
    }
    push_int(pos, static_cast<int64_t>(v));
  }

  std::string literal_text(size_t start) {
    size_t end = i_;
    while (end < src_.size() && (is_ident_char(src_[end]) || src_[end] == '.')) ++end;
    return std::string(src_.substr(start, std::min<size_t>(end - start, 40)));
  }

  [[noreturn]] void out_of_range(ast::Pos pos, size_t start) {
    fail(pos, "integer literal " + literal_text(start) + " is out of range for a 64-bit integer",
         "integers must lie in [-9223372036854775808, 9223372036854775807]");
  }

  void push_int(ast::Pos pos, int64_t v) {
    Token t;
    t.kind = TokKind::int_lit;
    t.pos = pos;
    t.int_value = v;
    out_.push_back(std::move(t));
  }

  // `prefix` is lower case ("", "r", "b", "f", "rb", ...). The cursor is on the opening quote.
  void lex_string(ast::Pos pos, const std::string& prefix) {
    bool raw = prefix.find('r') != std::string::npos;
    char q = peek();
    bool triple = peek(1) == q && peek(2) == q;
    int quote_len = triple ? 3 : 1;
    for (int k = 0; k < quote_len; ++k) advance();
    std::string value;
    while (true) {
      if (at_end()) {
        if (triple) {
          fail(pos,
               "unterminated triple-quoted string literal (detected at line " +
                   std::to_string(line_) + ")",
               std::string("close it with ") + std::string(3, q));
        }
        fail(pos, "unterminated string literal (detected at line " + std::to_string(line_) + ")",
             std::string("close it with ") + q);
      }
      char c = peek();
      if (c == q && (!triple || (peek(1) == q && peek(2) == q))) {
        for (int k = 0; k < quote_len; ++k) advance();
        break;
      }
      if (c == '\n' && !triple) {
        fail(
            pos, "unterminated string literal (detected at line " + std::to_string(line_) + ")",
            std::string("close it with ") + q + " on the same line, or use a triple-quoted string");
      }
      if (c == '\\') {
        if (raw) {
          value += c;
          advance();
          if (!at_end()) {
            value += peek();
            advance();
          }
        } else {
          lex_escape(value, prefix.find('b') != std::string::npos);
        }
        continue;
      }
      value += c;
      advance();
    }
    Token t;
    t.kind = TokKind::string;
    t.pos = pos;
    t.text = std::move(value);
    t.is_bytes = prefix.find('b') != std::string::npos;
    out_.push_back(std::move(t));
  }

  void lex_escape(std::string& value, bool bytes) {
    ast::Pos pos = here();
    advance();             // the backslash
    if (at_end()) return;  // reported as unterminated by the caller
    char c = peek();
    advance();
    switch (c) {
      case '\n':
        return;
      case '\\':
        value += '\\';
        return;
      case '\'':
        value += '\'';
        return;
      case '"':
        value += '"';
        return;
      case 'a':
        value += '\a';
        return;
      case 'b':
        value += '\b';
        return;
      case 'f':
        value += '\f';
        return;
      case 'n':
        value += '\n';
        return;
      case 'r':
        value += '\r';
        return;
      case 't':
        value += '\t';
        return;
      case 'v':
        value += '\v';
        return;
      default:
        break;
    }
    if (c >= '0' && c <= '7') {
      uint32_t v = static_cast<uint32_t>(c - '0');
      for (int k = 0; k < 2 && peek() >= '0' && peek() <= '7'; ++k) {
        v = v * 8 + static_cast<uint32_t>(peek() - '0');
        advance();
      }
      if (bytes) {
        value += static_cast<char>(v & 0xFF);
      } else {
        append_utf8(value, v);
      }
      return;
    }
    int hex_len = c == 'x' ? 2 : (c == 'u' && !bytes) ? 4 : (c == 'U' && !bytes) ? 8 : 0;
    if (hex_len > 0) {
      uint32_t v = 0;
      for (int k = 0; k < hex_len; ++k) {
        if (!is_hex_digit(peek())) {
          fail(pos,
               std::string("truncated \\") + c + " escape: expected " + std::to_string(hex_len) +
                   " hexadecimal digits",
               "write exactly that many hexadecimal digits, or use a raw string r\"...\"");
        }
        v = v * 16 + static_cast<uint32_t>(hex_value(peek()));
        advance();
      }
      if (v > 0x10FFFF) {
        fail(pos, "\\U escape is not a valid Unicode code point", "use a value up to 0010FFFF");
      }
      if (bytes) {
        value += static_cast<char>(v);
      } else {
        append_utf8(value, v);
      }
      return;
    }
    if (c == 'N' && !bytes) {
      fail(pos, "\\N{...} escapes are not supported", "write the character itself or use \\u");
    }
    // Unknown escapes keep their backslash, as in Python.
    value += '\\';
    value += c;
    if ((static_cast<unsigned char>(c) & 0x80) != 0) {
      while (!at_end() && (static_cast<unsigned char>(peek()) & 0xC0) == 0x80) {
        value += peek();
        advance();
      }
    }
  }

  void lex_operator() {
    ast::Pos pos = here();
    char c = peek();
    if (static_cast<unsigned char>(c) >= 0x80) non_ascii();
    for (auto op : kOperators) {
      if (src_.substr(i_, op.size()) == op) {
        for (size_t k = 0; k < op.size(); ++k) advance();
        if (op == "(" || op == "[" || op == "{") {
          if (static_cast<int>(brackets_.size()) >= kMaxBracketDepth) {
            fail(pos,
                 "too many nested brackets (the limit is " + std::to_string(kMaxBracketDepth) + ")",
                 "split the expression into several assignments");
          }
          brackets_.push_back(Open{op[0], pos});
        } else if (op == ")" || op == "]" || op == "}") {
          if (brackets_.empty()) {
            fail(pos, "unmatched '" + std::string(op) + "'",
                 "remove it, or add the opening bracket it closes");
          }
          if (closing_of(brackets_.back().c) != op[0]) {
            const auto& b = brackets_.back();
            fail(pos,
                 "closing bracket '" + std::string(op) + "' does not match opening bracket '" +
                     b.c + "' on line " + std::to_string(b.pos.line),
                 std::string("close the '") + b.c + "' with '" + closing_of(b.c) + "' first");
          }
          brackets_.pop_back();
        }
        push(TokKind::op, pos, std::string(op));
        return;
      }
    }
    if (c == '!')
      fail(pos, "invalid syntax: '!'", "use 'not' for negation and '!=' for inequality");
    char buf[32];
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned char>(c));
      fail(pos, std::string("invalid control character ") + buf + " in the source", "remove it");
    }
    fail(pos, std::string("invalid character '") + c + "' in the source",
         "remove it; kernels use Python's operators only");
  }

  std::string_view src_;
  const ast::Module& m_;
  size_t i_ = 0;
  int line_ = 1;
  int col_ = 1;
  bool at_line_start_ = true;
  std::vector<int> indents_{0};
  std::vector<int> alt_indents_{0};
  std::vector<Open> brackets_;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const ast::Module& m) {
  return Lexer(source, m).run();
}

bool is_keyword(std::string_view s) {
  static constexpr std::array<std::string_view, 35> kKeywords = {
      "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
      "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};
  for (auto k : kKeywords) {
    if (k == s) return true;
  }
  return false;
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokKind::name:
      return (is_keyword(t.text) ? "keyword '" : "name '") + t.text + "'";
    case TokKind::int_lit:
      return "number " + std::to_string(t.int_value);
    case TokKind::float_lit:
      return "number " + t.text;
    case TokKind::string:
      return "string literal";
    case TokKind::op:
      return "'" + t.text + "'";
    case TokKind::newline:
      return "end of line";
    case TokKind::indent:
      return "indentation";
    case TokKind::dedent:
      return "end of block";
    case TokKind::end:
      return "end of file";
  }
  return "token";
}

}  // namespace jagtile::lang
