// The tile IR: an immutable, typed, SSA-style program for one specialised kernel.
//
// Every operation is a `Node` (one kind list below, JAGTILE_IR_NODE_KINDS), held by
// shared_ptr<const Node>. A `Block` is an ordered list of nodes; loops and ifs own nested blocks
// (their `regions`). A node's operands are nodes placed earlier in the same block or in an
// enclosing block (the verifier checks this), except constants and parameters, which float free.
// Names that change inside a loop or a runtime `if` become variables (var_decl / var_read /
// var_assign); everything else is a plain SSA value.
//
// Types (see `Type`): host scalars (int64 / double / bool, computed once per call or per
// program), host tensors (dtype, rank, device), device values (dtype + shape of tile dims), and
// statements (no value). A device value's shape is a list of `Dim`s: a tile dim (a loop's block
// id), a broadcast dim (size 1) or a full dim (a host-sized range, e.g. from `x[tile_b, :]`).
//
// Mask semantics (DESIGN §2): a tile position is valid when its index is inside its loop's
// range; a jagged position k under parent lanes p is valid when k < extents[p]; a value's mask is
// the conjunction of its dims' masks. Loads give 0 where that mask (and the load's extra_mask)
// is false; stores skip positions where it (or the store's extra_mask) is false; reductions and
// matmul skip positions where their operand's mask is false (identity 0 / -inf / +inf). An
// extra_mask belongs to its load or store only: it does not travel with the loaded value (as in
// Helion, where a masked load reads `other=0`), so `where(m, v, -inf)` is still how a kernel
// keeps extra-masked positions out of a max.
// Floating values are computed in fp32 whatever their nominal dtype (16-bit included) and
// rounded to their dtype only when stored to a tensor; integers are computed in 64 bits.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jagtile/dtype.h"
#include "jagtile/error.h"
#include "jagtile/tensor.h"

namespace jagtile::ir {

// X(name, doc). Operands and attributes of each kind are documented here, once.
#define JAGTILE_IR_NODE_KINDS(X)                                                                 \
  /* ---- leaves ---- */                                                                         \
  X(const_int, "ival")                                                                           \
  X(const_float, "fval")                                                                         \
  X(const_bool, "ival (0/1)")                                                                    \
  X(param, "kernel parameter ival (index into Kernel::params); name")                            \
  /* ---- host values ---- */                                                                    \
  X(size_of, "operands {tensor}; ival = dim (non-negative) -> host int")                         \
  X(numel, "operands {tensor} -> host int")                                                      \
  X(scalar_read, "operands {tensor, index...} (host ints, one per dim) -> host scalar")          \
  X(alloc, "op = zeros|empty|full; operands {size..., [fill]}; dtype attr; device -> tensor")    \
  X(view, "operands {tensor, size...} (one size may be -1) -> tensor sharing storage")           \
  /* ---- scalars and device values ---- */                                                      \
  X(binary, "op; operands {a, b}; ival = compute dtype; host op host -> host, else a value")     \
  X(unary, "op; operands {a}")                                                                   \
  X(where, "operands {cond, a, b}")                                                              \
  X(cast, "operands {a}; the node's dtype is the target")                                        \
  /* ---- device values ---- */                                                                  \
  X(tile_attr, "op = index|begin|end|block_size|id; ival = block id")                            \
  X(iota, "operands {size}: positions 0..size-1 of a full dim, shape [full(size)]")              \
  X(full, "operands {fill} (a scalar); the node's type gives dtype and shape")                   \
  X(unsqueeze, "operands {a}; ival = position of the new broadcast dim")                         \
  X(permute, "operands {a}; ints = perm: dim d of the result is dim ints[d] of a")               \
  X(reduce, "op = sum|amax|amin|mean; operands {a}; ints = reduced dims (ascending)")            \
  X(scan, "op = cumsum; operands {a}; ints = {dim}; the shape of a (valid positions in order)")  \
  X(matmul,                                                                                      \
    "operands {a, b, [acc]}: [..., i, k] x [..., k, j] -> [..., i, j]; ints = {} or a band "     \
    "{mode, row block, column block, offset} (pass_band_matmuls.h)")                             \
  X(load, "operands {tensor, index_0..index_{r-1}, [extra_mask]}; ival = 1 with extra_mask")     \
  X(store,                                                                                       \
    "operands {tensor, index_0..index_{r-1}, value, [extra_mask]}; ival = 1 with "               \
    "extra_mask; type.kind none, type.shape = the access shape, type.dtype = tensor's")          \
  /* ---- control ---- */                                                                        \
  X(tile_loop, "operands {begin, end}; ival = block id; regions {body}")                         \
  X(grid_loop, "operands {begin, end}; ival = block id; regions {body}; index is a scalar")      \
  X(jagged_loop, "operands {extents}; ival = block id; ints = parent block ids; regions {body}") \
  X(if_, "operands {cond}; regions {then, else}")                                                \
  X(var_decl, "operands {init}; name: a mutable variable (its type is the variable's)")          \
  X(var_read, "operands {var_decl}")                                                             \
  X(var_assign, "operands {var_decl, value}")                                                    \
  X(assert_, "operands {cond}; name = message")                                                  \
  X(return_, "operands {tensor...}")

enum class NodeKind : uint8_t {
#define JAGTILE_IR_KIND_ENUM(name, doc) name,
  JAGTILE_IR_NODE_KINDS(JAGTILE_IR_KIND_ENUM)
#undef JAGTILE_IR_KIND_ENUM
};
std::string_view kind_name(NodeKind kind);

// Operation codes for binary / unary / reduce / alloc / tile_attr nodes.
// clang-format off
#define JAGTILE_IR_OPS(X)                                                                      \
  X(none)                                                                                      \
  /* binary */                                                                                 \
  X(add) X(sub) X(mul) X(div) X(floordiv) X(mod) X(pow)                                        \
  X(lt) X(le) X(gt) X(ge) X(eq) X(ne)                                                          \
  X(logical_and) X(logical_or) X(bit_and) X(bit_or) X(bit_xor) X(maximum) X(minimum)           \
  /* unary */                                                                                  \
  X(neg) X(logical_not) X(bit_not) X(exp) X(log) X(sqrt) X(rsqrt) X(abs) X(tanh) X(sigmoid)    \
  X(silu) X(relu) X(gelu) X(floor) X(ceil) X(sin) X(cos)                                             \
  /* reduce */                                                                                 \
  X(sum) X(amax) X(amin) X(mean)                                                               \
  /* scan */                                                                                   \
  X(cumsum)                                                                                    \
  /* alloc */                                                                                  \
  X(zeros) X(empty) X(fill)                                                                    \
  /* tile_attr */                                                                              \
  X(index) X(begin) X(end) X(block_size) X(id)
// clang-format on

enum class Op : uint8_t {
#define JAGTILE_IR_OP_ENUM(name) name,
  JAGTILE_IR_OPS(JAGTILE_IR_OP_ENUM)
#undef JAGTILE_IR_OP_ENUM
};
std::string_view op_name(Op op);
bool op_is_comparison(Op op);
// exp, log, sqrt, rsqrt, tanh, sigmoid, silu, gelu, sin, cos: the unary functions whose result is a
// float whatever the operand (and which cost many instructions per element).
bool op_is_transcendental(Op op);
// "<", "<=", ">", ">=", "==", "!=" for a comparison, else "?".
std::string_view comparison_symbol(Op op);

struct Node;
using NodePtr = std::shared_ptr<const Node>;
using Block = std::vector<NodePtr>;

// One dimension of a device value's shape.
struct Dim {
  enum class Kind : uint8_t { tile, broadcast, full };
  Kind kind = Kind::broadcast;
  int block = -1;  // tile: the loop's block id
  NodePtr size;    // full: host int, the dim's extent

  static Dim tile(int block) { return {Kind::tile, block, nullptr}; }
  static Dim broadcast() { return {}; }
  static Dim full(NodePtr size) { return {Kind::full, -1, std::move(size)}; }
  bool is_broadcast() const { return kind == Kind::broadcast; }
};
bool same_dim(const Dim& a, const Dim& b);
using Shape = std::vector<Dim>;

enum class TypeKind : uint8_t { none, host_int, host_float, host_bool, tensor, value };

struct Type {
  TypeKind kind = TypeKind::none;
  DType dtype = DType::f32;  // tensor, value; host scalars: i64 / f32 / boolean by category
  int rank = 0;              // tensor
  Device device;             // tensor
  Shape shape;               // value

  static Type none() { return {}; }
  static Type host_int() { return {TypeKind::host_int, DType::i64, 0, {}, {}}; }
  static Type host_float() { return {TypeKind::host_float, DType::f32, 0, {}, {}}; }
  static Type host_bool() { return {TypeKind::host_bool, DType::boolean, 0, {}, {}}; }
  static Type tensor(DType dtype, int rank, Device device) {
    return {TypeKind::tensor, dtype, rank, device, {}};
  }
  static Type value(DType dtype, Shape shape) {
    return {TypeKind::value, dtype, 0, {}, std::move(shape)};
  }
  bool is_host_scalar() const {
    return kind == TypeKind::host_int || kind == TypeKind::host_float ||
           kind == TypeKind::host_bool;
  }
  bool is_value() const { return kind == TypeKind::value; }
  bool is_tensor() const { return kind == TypeKind::tensor; }
  // A per-program scalar: a host scalar or a 0-d device value.
  bool is_scalar() const { return is_host_scalar() || (is_value() && shape.empty()); }
};
bool same_type(const Type& a, const Type& b);

struct Loc {
  int line = 0;
  int column = 0;
};

struct Node {
  NodeKind kind = NodeKind::const_int;
  Type type;
  std::vector<NodePtr> operands;
  std::vector<Block> regions;
  Op op = Op::none;
  int64_t ival = 0;
  double fval = 0;
  std::vector<int64_t> ints;
  std::string name;  // parameter / variable / tensor name; assert message
  Loc loc;

  const NodePtr& operand(size_t i) const { return operands.at(i); }
};

// ---- construction ------------------------------------------------------------------------
// Nodes are built mutable, then frozen into a NodePtr; nothing changes them afterwards.
NodePtr make_node(Node node);
NodePtr const_int(int64_t v, Loc loc = {});
NodePtr const_float(double v, Loc loc = {});
NodePtr const_bool(bool v, Loc loc = {});
bool is_const(const Node& n);
inline bool is_const(const NodePtr& n) {
  return n && is_const(*n);
}
// A constant 0 or 0.0 (-0.0 included): a masked where's fill that adds nothing.
bool is_zero_constant(const NodePtr& n);
bool is_loop(NodeKind kind);

// ---- the specialised kernel --------------------------------------------------------------
enum class ParamKind : uint8_t { tensor, none, int_scalar, float_scalar, bool_scalar };

struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::tensor;
  DType dtype = DType::f32;
  int rank = 0;
  Device device;
};

enum class LoopKind : uint8_t { tile, grid, jagged };

struct BlockInfo {
  int id = 0;
  LoopKind kind = LoopKind::tile;
  int64_t block_size = 1;
  // The Config::block_sizes entry this loop takes (tunable loops in program order); -1 for a
  // grid loop or a fixed `block_size=`: the autotuner searches only the loops that have one.
  int config_index = -1;
  std::vector<int> parents;  // jagged: the extents' tile dims (block ids), outermost first
  std::string name;          // the loop variable, for messages ("tile_k")
  Loc loc;
};

struct Kernel {
  std::string name;
  std::string file;
  std::vector<std::string> source_lines;  // for located run-time errors
  std::vector<ParamSpec> params;
  std::vector<BlockInfo> blocks;  // indexed by block id
  Block body;
};

// A UserError located at `loc` in the kernel's source, quoting its line: "kernel 'K': MESSAGE".
// Every run-time error of a kernel (interpreter, host executor, compiled code) is made here.
UserError located_error(const Kernel& kernel, Loc loc, const std::string& message,
                        const std::string& hint = {});

// A short, stable rendering of a type: "i64", "f32[tile_b(0), 1, tile_m(1)]", "tensor<f32, 2>".
std::string type_str(const Type& type, const Kernel* kernel = nullptr);

// The message of a failed assert: "assertion failed", the kernel's text if it gave one, and,
// where the condition compares two host numbers, what it compared: "assertion failed: 4 == 3 is
// false", or "assertion failed: rows differ (4 == 3 is false)". value_text gives an operand's
// value as the executor holds it (empty when unknown); it is asked only for the two sides of a
// comparison. The located error shows the source line.
std::string assert_failure_text(const Node& assert_node,
                                const std::function<std::string(const NodePtr&)>& value_text);
std::string dim_str(const Dim& dim, const Kernel* kernel = nullptr);

// Calls fn(node) for every node of the block, nested regions included, in program order.
template <typename Fn>
void walk(const Block& block, Fn&& fn) {
  for (const NodePtr& n : block) {
    fn(n);
    for (const Block& r : n->regions) walk(r, fn);
  }
}

}  // namespace jagtile::ir
