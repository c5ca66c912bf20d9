// Recursive-descent parser for the kernel language: source text -> ast::Module, with Python's
// precedence and statement forms. Never crashes: malformed or hostile input gives a UserError.
#pragma once

#include <string>
#include <string_view>

#include "lang/ast.h"

namespace jagtile::lang {

// Limits that keep the parser (and every recursive walk over its AST) within a small stack.
inline constexpr size_t kMaxSourceBytes = 1u << 20;  // 1 MiB
inline constexpr int kMaxBlockDepth = 100;           // nested blocks (def/for/if/while)
inline constexpr int kMaxExprDepth = 200;            // expression tree height

// Parses a whole kernel file. A UTF-8 BOM is skipped; "\r\n" and "\r" line ends are accepted.
ast::Module parse_module(std::string_view source, const std::string& file_name);

}  // namespace jagtile::lang

namespace jagtile::ast {
// Convenience alias so callers may write ast::parse_module as well.
using lang::parse_module;
}  // namespace jagtile::ast
