// Internal to lowering: the Lowerer (one per specialisation) and the values names are bound to
// while walking the AST. Split over lower.cpp (statements, loops, variables), lower_expr.cpp
// (expressions, indexing) and lower_calls.cpp (functions and methods).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "ir/lower.h"
#include "lang/ast.h"

namespace jagtile::ir::lower_detail {

// The IR operator of a Python binary operator (Op::none for one the IR lacks).
Op binary_op(ast::BinaryOp op);

// What a Python name (or an expression) stands for during lowering.
struct LVal {
  enum class K : uint8_t {
    node,    // an IR value: host scalar, tensor or device value
    var,     // a mutable variable (node = its var_decl); reading emits var_read
    dtype,   // torch.float32 ...
    device,  // x.device
    none,    // None (an optional tensor left out)
    tuple,   // x.shape, (a, b)
    module,  // hl, torch, F ... (text holds the dotted path)
    tile,    // a tile / jagged_tile loop variable (block)
    str,     // a string literal
    dead,    // a name whose value is undefined here (text says why)
  };
  K k = K::none;
  NodePtr node;
  DType dtype = DType::f32;
  Device device;
  std::vector<LVal> elts;
  int block = -1;
  std::string text;

  static LVal of(NodePtr n) { return {K::node, std::move(n), {}, {}, {}, -1, {}}; }
  static LVal of_dtype(DType d) {
    LVal v;
    v.k = K::dtype;
    v.dtype = d;
    return v;
  }
  static LVal of_module(std::string path) {
    LVal v;
    v.k = K::module;
    v.text = std::move(path);
    return v;
  }
};

class Lowerer {
 public:
  Lowerer(const ast::Module& module, const ast::Stmt& fn, const std::vector<ParamSpec>& params,
          const LowerOptions& options);
  Kernel run();

  // ---- errors ----
  [[noreturn]] void fail(ast::Pos pos, std::string message, std::string hint = {}) const;
  static Loc loc_of(ast::Pos p) { return {p.line, p.column}; }

  // ---- statements (lower.cpp) ----
  void stmts(const ast::StmtList& list);
  void stmt(const ast::Stmt& s);
  void assign_target(const ast::Expr& target, const LVal& value, ast::Pos pos);
  void assign_name(const std::string& name, const LVal& value, ast::Pos pos);
  LVal named(const LVal& v, const std::string& name);
  void for_loop(const ast::Stmt& s);
  void if_stmt(const ast::Stmt& s);
  std::set<std::string> make_vars_for(const std::vector<const ast::StmtList*>& bodies,
                                      ast::Pos pos);
  void end_scope(const std::map<std::string, LVal>& before);
  int new_block(LoopKind kind, const std::string& name, ast::Pos pos,
                std::optional<int64_t> explicit_size, std::vector<int> parents = {});
  NodePtr loop_bound(const ast::Expr& e);

  // ---- expressions (lower_expr.cpp) ----
  LVal expr(const ast::Expr& e);
  NodePtr value(const ast::Expr& e);             // an IR node (reads variables)
  NodePtr as_node(const LVal& v, ast::Pos pos);  // LVal -> node, or a located error
  NodePtr emit(Node n);                          // appends to the current block
  NodePtr binary(Op op, NodePtr a, NodePtr b, ast::Pos pos);
  bool tile_attr_within(const NodePtr& attr, const NodePtr& bound, bool is_min) const;
  NodePtr unary(Op op, NodePtr a, ast::Pos pos);
  NodePtr where(NodePtr c, NodePtr a, NodePtr b, ast::Pos pos);
  NodePtr cast(NodePtr a, DType to, ast::Pos pos);
  NodePtr unsqueeze(NodePtr a, int64_t dim, ast::Pos pos);
  // Reorders a device value's dims (transpose, .T, permute); perm may hold negative dims.
  NodePtr permute(NodePtr a, std::vector<int64_t> perm, ast::Pos pos, const char* what);
  NodePtr reduce(Op op, NodePtr a, std::vector<int64_t> dims, ast::Pos pos);
  NodePtr scan(Op op, NodePtr a, int64_t dim, ast::Pos pos);
  NodePtr matmul(NodePtr a, NodePtr b, NodePtr acc, ast::Pos pos);
  NodePtr tile_attr(int block, Op which, ast::Pos pos);
  // The size of a tensor's dim d: the allocation's own size expression when known (so that
  // `out = torch.empty_like(x)` has the very sizes of x), else a size_of node.
  NodePtr size_node(const NodePtr& tensor, int64_t d, ast::Pos pos);
  Shape broadcast(const Shape& a, const Shape& b, ast::Pos pos, const char* what);
  // Two full dims whose sizes are different expressions (k.size(2) against q.size(2)) but may
  // be equal at run time: when both are tensor sizes or constants, adds a host assert that they
  // are equal (checked before any device loop runs) and returns true; false otherwise.
  bool check_sizes_equal_at_run_time(const Dim& a, const Dim& b, ast::Pos pos,
                                     const std::string& what);
  void require_complete(const Shape& shape, ast::Pos pos, const std::string& what);
  LVal subscript(const ast::Expr& e);
  // Device-side indexing of a tensor (load / store addresses): the normalised indices (one per
  // tensor dim, each of rank 0 or of the result's rank) and the result shape.
  struct Access {
    std::vector<NodePtr> indices;
    Shape shape;
  };
  Access access(const NodePtr& tensor, const std::vector<const ast::Expr*>& index_exprs,
                ast::Pos pos);
  NodePtr load(const NodePtr& tensor, const std::vector<const ast::Expr*>& index_exprs,
               NodePtr extra_mask, ast::Pos pos);
  void store(const NodePtr& tensor, const std::vector<const ast::Expr*>& index_exprs, NodePtr value,
             NodePtr extra_mask, ast::Pos pos);
  NodePtr check_mask(NodePtr mask, const Shape& shape, ast::Pos pos);
  std::string shape_text(const Shape& s) const;
  std::string type_text(const Type& t) const;

  // ---- calls (lower_calls.cpp) ----
  LVal call(const ast::Expr& e);
  LVal python_min_max(bool is_min, const ast::Expr& e);
  LVal method(const LVal& self, const std::string& name, const ast::Expr& call);
  LVal attribute(const ast::Expr& e);
  std::string callee_name(const ast::Expr& func) const;  // "hl.tile", "torch.exp", "" if none
  std::optional<DType> dtype_kwarg(const ast::Expr& call, DType fallback);
  LVal creation(const std::string& fn, const ast::Expr& call);
  LVal specialize(const ast::Expr& arg);
  Shape device_shape(const ast::Expr& shape_expr);
  std::vector<NodePtr> host_sizes(const ast::Expr& call, size_t first_arg);
  int64_t const_int_of(const ast::Expr& e, const char* what);
  const ast::Expr* kwarg(const ast::Expr& call, const std::string& name) const;
  const ast::Expr* arg(const ast::Expr& call, size_t i, const std::string& kw) const;

  bool in_device() const { return !loop_stack_.empty(); }

  const ast::Module& module_;
  const ast::Stmt& fn_;
  const LowerOptions& options_;
  Kernel kernel_;
  std::map<std::string, LVal> env_;
  std::vector<Block*> blocks_;   // insertion points, innermost last
  std::vector<int> loop_stack_;  // enclosing loops' block ids
  // A tile loop's bounds, by block id: its tiles' .begin and .end stay within them
  // (binary's minimum / maximum).
  std::map<int, std::pair<NodePtr, NodePtr>> tile_loop_bounds_;
  int tile_blocks_seen_ = 0;         // tile/jagged loops so far (config index)
  std::set<const Node*> vars_read_;  // variables read since their declaration
};

}  // namespace jagtile::ir::lower_detail
