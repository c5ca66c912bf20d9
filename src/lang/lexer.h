// Tokeniser for the kernel language: Python 3's token rules (INDENT/DEDENT/NEWLINE, implicit
// line joining inside brackets, backslash continuation, tab/space consistency) on ASCII source.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lang/ast.h"

namespace jagtile::lang {

enum class TokKind : uint8_t {
  name,       // identifier or keyword (keywords are told apart by the parser)
  int_lit,    // int_value
  float_lit,  // float_value
  string,     // text holds the decoded value
  op,         // text holds the operator or delimiter, e.g. "+=", "(", "->"
  newline,    // end of a logical line
  indent,
  dedent,
  end,  // end of input
};

struct Token {
  TokKind kind = TokKind::end;
  ast::Pos pos;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  bool is_bytes = false;  // string: a b"..." literal
};

// Largest indentation nesting the lexer accepts (Python's own limit).
inline constexpr int kMaxIndentLevels = 100;
// Largest bracket nesting the lexer accepts (Python's own limit).
inline constexpr int kMaxBracketDepth = 200;

// Splits `source` (already '\n'-normalised, BOM removed) into tokens. `m` supplies the file
// name and lines for located errors. Throws UserError on malformed input.
std::vector<Token> tokenize(std::string_view source, const ast::Module& m);

// Human-readable token description for error messages: "'+'", "name 'x'", "end of line".
std::string describe(const Token& t);

// Python keywords (the parser never accepts them as names).
bool is_keyword(std::string_view s);

}  // namespace jagtile::lang
