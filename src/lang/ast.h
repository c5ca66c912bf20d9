// The kernel language AST: the Python subset of DESIGN.md §2, with a source location on every
// node. Produced by the parser (parser.h), read by the checker and by lowering (src/ir).
// Nodes are "tagged structs": one `kind` plus the fields that kind uses (documented per kind).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jagtile/error.h"

namespace jagtile::ast {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

struct Pos {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in characters (code points) of the source line
};

enum class ExprKind : uint8_t {
  name,       // id
  int_lit,    // int_value
  float_lit,  // float_value (also float("inf") is a Call, not a literal)
  str_lit,    // str_value (adjacent literals already concatenated)
  bool_lit,   // bool_value
  none_lit,   //
  attribute,  // value.id            e.g. hl.tile, tile_b.index, x.shape
  subscript,  // value[index]        index is a tuple expr for x[a, b]
  call,       // func(args..., keywords...)
  binary,     // left binary_op right
  unary,      // unary_op operand
  compare,    // left cmp_ops[0] comparators[0] cmp_ops[1] comparators[1] ... (chained)
  boolean,    // bool_op over elts (a and b and c)
  tuple,      // elts   (parenthesised or bare a, b)
  list,       // elts
  dict,       // keys[i]: elts[i]   (a dict display; meaningful only in decorators)
  slice,      // lower:upper:step, each may be null (x[:, None] -> tuple(slice(), none_lit))
  if_expr,    // body if test else orelse
};

enum class BinaryOp : uint8_t {
  add,
  sub,
  mul,
  div,
  floordiv,
  mod,
  pow,
  matmul,
  bit_and,
  bit_or,
  bit_xor,
  lshift,
  rshift
};
enum class UnaryOp : uint8_t { neg, pos, invert, logical_not };
enum class CompareOp : uint8_t { lt, le, gt, ge, eq, ne, is, is_not, in, not_in };
enum class BoolOp : uint8_t { logical_and, logical_or };

struct Keyword {
  std::string name;
  ExprPtr value;
  Pos pos;
};

struct Expr {
  ExprKind kind;
  Pos pos;

  std::string id;  // name, attribute (the attribute's name)
  Pos name_pos;    // attribute: where the name after '.' starts (pos is the chain's start)
  int64_t int_value = 0;
  double float_value = 0;
  std::string str_value;
  bool bool_value = false;

  ExprPtr value;  // attribute, subscript: the object
  ExprPtr index;  // subscript
  ExprPtr func;   // call
  std::vector<ExprPtr> args;
  std::vector<Keyword> keywords;

  BinaryOp binary_op = BinaryOp::add;
  UnaryOp unary_op = UnaryOp::neg;
  BoolOp bool_op = BoolOp::logical_and;
  ExprPtr left, right;  // binary; compare uses left
  ExprPtr operand;      // unary
  std::vector<CompareOp> cmp_ops;
  std::vector<ExprPtr> comparators;
  std::vector<ExprPtr> elts;   // tuple, list, boolean; dict: the values
  std::vector<ExprPtr> keys;   // dict: the keys, one per value
  ExprPtr lower, upper, step;  // slice (each may be null)
  ExprPtr test, body, orelse;  // if_expr
};

enum class StmtKind : uint8_t {
  expr,         // value (a docstring is an expr statement holding a str_lit)
  assign,       // targets[0] = targets[1] = ... = value ; a target may be a tuple/list
  aug_assign,   // target aug_op= value
  ann_assign,   // target: annotation [= value]
  for_loop,     // for target in iter: body
  if_stmt,      // if test: body else: orelse (elif is a nested if_stmt in orelse)
  while_loop,   // parsed so the checker can reject it with a located message
  return_stmt,  // value may be null
  assert_stmt,  // test, msg may be null
  pass,
  break_stmt,
  continue_stmt,
  import,        // import / from-import: `module` holds the dotted name (see lang/imports.h)
  function_def,  // the kernel (see FunctionDef below)
  unsupported,   // class/with/try/del/global/lambda...: `what` names it, the checker rejects it
};

struct Param {
  std::string name;
  ExprPtr annotation;     // may be null
  ExprPtr default_value;  // may be null
  Pos pos;
};

struct Stmt {
  StmtKind kind;
  Pos pos;

  std::vector<ExprPtr> targets;  // assign
  ExprPtr target;                // aug_assign, ann_assign, for_loop
  BinaryOp aug_op = BinaryOp::add;
  ExprPtr annotation;  // ann_assign
  ExprPtr value;       // expr, assign, aug_assign, ann_assign (may be null), return
  ExprPtr iter;        // for_loop
  ExprPtr test;        // if_stmt, while_loop, assert_stmt
  ExprPtr msg;         // assert_stmt
  StmtList body;       // for_loop, if_stmt, while_loop, function_def
  StmtList orelse;     // if_stmt (for/while `else` is rejected by the parser)
  std::string module;  // import
  std::vector<std::string> import_names;  // import: names it binds ("hl" for `import x as hl`)
  // import: what each name stands for, a dotted path parallel to import_names:
  // `import a.b as x` -> "a.b"; `import a.b` -> "a"; `from a.b import c as d` -> "a.b.c".
  std::vector<std::string> import_targets;
  std::string what;  // unsupported: "class definition", "with statement", ...

  // function_def
  std::string name;
  std::vector<Param> params;
  std::vector<ExprPtr> decorators;
  ExprPtr returns;  // return annotation, may be null
};

// A parsed file. `lines` holds the source split into lines (for carets in diagnostics).
struct Module {
  std::string file;
  std::vector<std::string> lines;
  StmtList body;
};

// Builds a UserError located at pos in module m, with the offending line and a caret.
UserError error_at(const Module& m, Pos pos, std::string message, std::string hint = {});

// Debug/golden-test rendering as fully parenthesised Python (`(a + (b * c))`, `x[:, None]`).
std::string dump(const Expr& e);
std::string dump(const Stmt& s, int indent = 0);
std::string dump(const Module& m);

// A deep copy of `e`, positions included.
ExprPtr clone(const Expr& e);

}  // namespace jagtile::ast
