// The loop-nest form: what the tile IR's device nests become below it (as Halide's Stmt sits
// below its front end), and what every code generator prints. A device function is a tree of
// statements over plain loops, local values, tile arrays and tensor accesses; each device value
// of the tile IR starts as a tile array filled by its own loop nest (build_nests.h), and the
// planning passes (fusion, load reloading, hoisting, bounds checks) rewrite that tree. Nodes are
// immutable and shared; one list of kinds each for expressions and statements, below; a printer
// (nest_printer.h) and a verifier (nest_verifier.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "host/host_program.h"
#include "ir/ir.h"
#include "ir/pass_band_matmuls.h"

namespace jagtile::plan {

// The C type an expression has: what a code generator declares for it.
enum class CType : uint8_t { i64, f32, f64, boolean };
std::string_view ctype_name(CType t);
// The compute type of a dtype (f64 as f64, the other floats as f32, integers as int64).
CType compute_ctype_of(DType dtype);

// X(name, doc): operands and attributes of each expression kind.
#define JAGTILE_PLAN_EXPR_KINDS(X)                                                            \
  X(int_imm, "ival")                                                                          \
  X(float_imm, "fval (a double literal)")                                                     \
  X(bool_imm, "ival (0/1)")                                                                   \
  X(var, "name: a local, a loop index or a program variable (s0, lim0, id0)")                 \
  X(capture, "ival = index into the function's captures: a host value")                       \
  X(tensor_size, "ival = dim; args {capture of a tensor}")                                    \
  X(array_read, "name = the array; args = one index per dim of the array")                    \
  X(load,                                                                                     \
    "node = the IR load; ival = capture of the tensor; args = one index per tensor dim, "     \
    "then the mask when has_mask; site (-1: a hint's load, read only under a select that "    \
    "tests its indices in bounds, never checked)")                                            \
  X(compute, "node = an IR binary / unary / where / cast / full node, computed on args")      \
  X(convert, "args {a}; from = a's dtype, dtype = the target (the IR's conversion rules)")    \
  X(select, "args {cond, a, b}")                                                              \
  X(call, "name = a helper of the generated code (jt_min64, jt_clamp_len, jt_f2i); args")     \
  X(binop,                                                                                    \
    "op: plain int64 / bool arithmetic (add sub mul lt le gt ge eq ne logical_and "           \
    "logical_or bit_or); args {a, b}")                                                        \
  X(not_, "args {a}")                                                                         \
  X(in_bounds, "args {index, extent}: 0 <= index < extent, as one unsigned comparison")       \
  X(tensor_address,                                                                           \
    "ival = capture of a float32 tensor; args = one index per tensor dim: a pointer to that " \
    "element (a matmul operand read in place)")

enum class ExprKind : uint8_t {
#define JAGTILE_PLAN_EXPR_ENUM(name, doc) name,
  JAGTILE_PLAN_EXPR_KINDS(JAGTILE_PLAN_EXPR_ENUM)
#undef JAGTILE_PLAN_EXPR_ENUM
};
std::string_view expr_kind_name(ExprKind kind);

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  ExprKind kind = ExprKind::int_imm;
  CType ctype = CType::i64;
  DType dtype = DType::i64;  // compute dtype (load: the loaded value's; convert: the target)
  DType from = DType::i64;   // convert: the source dtype
  ir::Op op = ir::Op::none;
  int64_t ival = 0;
  double fval = 0;
  std::string name;
  std::vector<ExprPtr> args;
  const ir::Node* node = nullptr;  // load, compute: the tile IR node
  bool has_mask = false;           // load
  int site = -1;                   // load: the failure site of its bounds check
};

// ---- expression constructors ----
ExprPtr int_imm(int64_t v);
ExprPtr float_imm(double v);
ExprPtr bool_imm(bool v);
// A local's value; its dtype is the C type's (f32 for every float32 compute dtype) unless given.
ExprPtr var(std::string name, CType type);
ExprPtr var(std::string name, CType type, DType dtype);
ExprPtr capture(int index, CType type);
ExprPtr tensor_size(ExprPtr tensor, int dim);
// A pointer to element `indices` of the float32 tensor captured as `capture`.
ExprPtr tensor_address(int capture, std::vector<ExprPtr> indices);
ExprPtr array_read(std::string array, CType type, std::vector<ExprPtr> indices);
ExprPtr compute(const ir::Node* node, CType type, std::vector<ExprPtr> args);
ExprPtr convert(ExprPtr a, DType from, DType to);
ExprPtr select(ExprPtr cond, ExprPtr a, ExprPtr b);
ExprPtr call(std::string helper, CType type, std::vector<ExprPtr> args);
ExprPtr binop(ir::Op op, ExprPtr a, ExprPtr b);
ExprPtr not_(ExprPtr a);
ExprPtr in_bounds(ExprPtr index, ExprPtr extent);

// X(name, doc): operands and attributes of each statement kind.
#define JAGTILE_PLAN_STMT_KINDS(X)                                                                \
  X(seq, "body: statements in order")                                                             \
  X(scope, "body: statements in their own block scope")                                           \
  X(comment, "name = text (a source line)")                                                       \
  X(let, "name, ctype, value: a constant local")                                                  \
  X(decl, "name, ctype, value: a mutable local and its first value")                              \
  X(assign, "name, value; update = none | add | amax | amin | bit_or")                            \
  X(array_decl, "name, ctype, extents: a tile array (extents: one expr per dim)")                 \
  X(array_fill, "name, value: every element (update mean: divided by the count array value)")     \
  X(array_store, "name, indices, value; update as for assign")                                    \
  X(tensor_store,                                                                                 \
    "node = the IR store; ival = capture of the tensor; indices (one per tensor "                 \
    "dim); value; mask (may be null); site")                                                      \
  X(for_, "name = index, extent; body; loop = serial | simd | endpoints; reductions")             \
  X(tile_loop,                                                                                    \
    "ival = block id; begin, end; body: the program loop of an inner hl.tile, "                   \
    "hl.grid or hl.jagged_tile")                                                                  \
  X(if_, "value = cond; body = then; orelse = else")                                              \
  X(skip_unless, "value = cond: the rest of the enclosing loop's iteration is skipped if false")  \
  X(fail, "ival = error code (abi.h), site; args {index, extent}; dim")                           \
  X(checked_int,                                                                                  \
    "name, op, value = a, extent = b, site: a host integer op that reports "                      \
    "overflow / division by zero (error codes 4, 6) instead of wrapping")                         \
  X(matmul_block,                                                                                 \
    "name = the output array C; indices {M, N, K, A, a_m, a_k, B, b_k, b_n, C, c_m[, D, d_m, "    \
    "d_n][, P, ready]} where A, B, C, D are array_reads at each block's origin and the rest "     \
    "element strides of its last two dims: C[0:M, 0:N] = A[0:M, 0:K] @ B[0:K, 0:N] (+ D), f32, "  \
    "each sum in k order; P (an array_read) keeps B's packed panels across blocks, packed when "  \
    "`ready` is false (pass_memoize.h); ival = a MatmulInputs: what A and B hold (a tensor-core " \
    "path may use "                                                                               \
    "bf16 or f16 values exactly, in another summation order); dim = an ir::MatmulBand mode and "  \
    "value = its offset (null without a band); mask (may be null): D is added only where it "     \
    "holds")                                                                                      \
  X(prefetch,                                                                                     \
    "ival = capture of a tensor; indices = the first element (one per tensor dim); extent = "     \
    "rows, along tensor dim `dim`; value = elements of each row from there along the last dim: "  \
    "a hint that those elements are read soon (cpu: software prefetches into L2). It reads "      \
    "nothing, writes nothing and never fails, whatever the indices")                              \
  X(nest,                                                                                         \
    "body; ival = nest id; role; name = the array it fills (value, reduce, matmul), "             \
    "node = the IR node it computes")

enum class StmtKind : uint8_t {
#define JAGTILE_PLAN_STMT_ENUM(name, doc) name,
  JAGTILE_PLAN_STMT_KINDS(JAGTILE_PLAN_STMT_ENUM)
#undef JAGTILE_PLAN_STMT_ENUM
};
std::string_view stmt_kind_name(StmtKind kind);

// How an assignment combines with the target: replace, +=, running max / min (NaN sticks), |=,
// or (mean) divide by a count (`value`: the count, or for array_fill the count array).
enum class Update : uint8_t { none, add, amax, amin, bit_or, mean };
enum class LoopKind : uint8_t { serial, simd, endpoints };
// What a loop nest computes: an elementwise value into its tile array, a reduction, a matmul,
// a store to a tensor, a variable's first value or an update of it, the max of a jagged loop's
// extents, or (after the bounds-check pass) a check-only or diagnosing copy of another nest.
enum class NestRole : uint8_t {
  value,
  reduce,
  matmul,
  store,
  var_init,
  var_assign,
  extents,
  check,
  diagnose
};
std::string_view nest_role_name(NestRole role);

struct Stmt;
using StmtPtr = std::shared_ptr<const Stmt>;

struct Reduction {
  std::string var;
  Update op = Update::add;
};

struct Stmt {
  StmtKind kind = StmtKind::seq;
  std::string name;
  CType ctype = CType::i64;
  ExprPtr value;   // let, decl, assign, array_fill, array_store, tensor_store, if_, skip_unless,
                   // checked_int (a)
  ExprPtr extent;  // for_, checked_int (b)
  ExprPtr begin, end;            // tile_loop
  ExprPtr mask;                  // tensor_store
  std::vector<ExprPtr> indices;  // array_store, tensor_store, array_decl (extents), fail args
  std::vector<StmtPtr> body;     // seq, scope, for_, tile_loop, if_ (then), nest
  std::vector<StmtPtr> orelse;   // if_
  Update update = Update::none;
  LoopKind loop = LoopKind::serial;
  std::vector<Reduction> reductions;  // for_ (simd)
  NestRole role = NestRole::value;
  ir::Op op = ir::Op::none;  // checked_int
  int64_t ival = 0;
  int site = -1;
  int dim = 0;  // fail
  const ir::Node* node = nullptr;
};

// ---- statement constructors ----
StmtPtr seq(std::vector<StmtPtr> body);
StmtPtr scope(std::vector<StmtPtr> body);
StmtPtr comment(std::string text);
StmtPtr let(std::string name, CType type, ExprPtr value);
StmtPtr decl(std::string name, CType type, ExprPtr value);
StmtPtr assign(std::string name, ExprPtr value, Update update = Update::none);
StmtPtr array_decl(std::string name, CType type, std::vector<ExprPtr> extents);
StmtPtr array_fill(std::string name, ExprPtr value);
StmtPtr array_store(std::string name, std::vector<ExprPtr> indices, ExprPtr value,
                    Update update = Update::none);
StmtPtr for_(std::string index, ExprPtr extent, std::vector<StmtPtr> body,
             LoopKind loop = LoopKind::serial, std::vector<Reduction> reductions = {});
StmtPtr if_(ExprPtr cond, std::vector<StmtPtr> then_body, std::vector<StmtPtr> else_body = {});
StmtPtr skip_unless(ExprPtr cond);
StmtPtr fail(int code, int site, ExprPtr index, ExprPtr extent, int dim);
// What the operands of a matmul block hold: f32 values, or values typed bf16 (f16), which a
// tensor-core path rounds to that dtype (exact for values loaded from such tensors).
enum class MatmulInputs : uint8_t { f32 = 0, bf16 = 1, f16 = 2 };
// A matmul block's band (ir/pass_band_matmuls.h): position (i, x) of A (zero_a) or of C
// (unused_c) is inside it when x <= i + offset; the offset is computed in the block's scope.
struct MatmulBand {
  ir::MatmulBand mode = ir::MatmulBand::none;
  ExprPtr offset;
};
// One matmul block (see the kind's doc); `operands` as its indices.
StmtPtr matmul_block(std::string c_array, std::vector<ExprPtr> operands,
                     MatmulInputs inputs = MatmulInputs::f32, MatmulBand band = {});
MatmulBand band_of(const Stmt& block);
// A matmul block's operands before the kept panels P, ready (11 without D, 14 with it).
size_t matmul_operand_count(const Stmt& block);
// A prefetch hint (see the kind's doc) of `rows` rows of `elements` each from `first`.
StmtPtr prefetch(int capture, std::vector<ExprPtr> first, int dim, ExprPtr rows, ExprPtr elements);
// The tile array a statement writes (array_store, array_fill, matmul_block), or null.
const std::string* written_array(const Stmt& s);

// A copy with another body (for_, seq, scope, tile_loop, nest, if_ then).
StmtPtr with_body(const StmtPtr& s, std::vector<StmtPtr> body);

// A failure site: where a device access or check can fail, for the located error.
struct Site {
  enum class Kind : uint8_t { load, store, assert_, div_zero, overflow, tile_size };
  Kind kind = Kind::load;
  ir::Loc loc;
  std::string tensor;   // accesses: the tensor's name
  std::string message;  // assert: its message; arithmetic: the operation
};

// One device function: the program body of one outermost loop, with the host values it reads.
struct DeviceFunc {
  std::string name;  // jt_loop<seq>
  const host::DeviceNest* nest = nullptr;
  int block = 0;  // the outermost loop's block id
  int64_t block_size = 1;
  std::vector<StmtPtr> body;  // one program: s<b>, e<b>, lim<b>, id<b> are in scope
  // With an inner program loop (host::DeviceNest::inner_block) a program is one (outer, inner)
  // pair: the printers split its id (jt_program) into id<b> and the inner loop's bounds
  // [jt_inner_first, jt_inner_last), one iteration, or none where the loop is empty.
  int inner_block = -1;
  ExprPtr inner_end;  // the inner loop's extent (it starts at 0), in the program's scope
  // Whether the body reads the program its worker runs next (generated C++;
  // JtCaptures::next_position): jt_next_s<b>, that program's s<b> (-1: none), and jt_next_inner,
  // its inner loop's first iteration (0 without an inner loop). Set by the pass that reads them.
  bool next_program = false;
  // Prefetch statements (StmtKind::prefetch) in the program's scope, evaluated at its top: rows
  // of the worker's next program that the program's matmul blocks fetch a line at a time between
  // their products instead of here (pass_prefetch_operands.h). Empty: no stream.
  std::vector<StmtPtr> operand_prefetches;
};

// Every device function of a kernel and the failure sites they share.
struct Plan {
  const ir::Kernel* kernel = nullptr;
  const host::HostProgram* host = nullptr;
  std::vector<DeviceFunc> funcs;
  std::vector<Site> sites;
  bool checked = true;         // bounds checks requested
  bool matmul_blocks = false;  // float matmuls as matmul_block statements (see planner.h)
};

}  // namespace jagtile::plan
