// What the planning passes share: walking and rewriting expressions and statements, fresh names,
// and the "unit" view of a device function that fusion decisions are made on (a unit is a
// statement of a program-level list: a loop nest, a scalar let, ...; containers such as
// tile_loops and ifs are not units, their bodies are lists of units).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "plan/nest_ir.h"

namespace jagtile::plan {

// Whether environment variable `name` is "0": a planning pass's switch to turn it off (to measure
// it, and for tests that compare code with and without it).
bool pass_turned_off(const char* name);

// ---- expressions ----
// Calls fn on e and every sub-expression, parents first.
void visit(const ExprPtr& e, const std::function<void(const Expr&)>& fn);
bool any_expr(const ExprPtr& e, const std::function<bool(const Expr&)>& pred);
// Rebuilds e bottom-up: fn gets each node with its arguments already rebuilt and returns the
// replacement (or the node itself).
ExprPtr rewrite(const ExprPtr& e, const std::function<ExprPtr(const ExprPtr&)>& fn);
// Replaces variables by name.
ExprPtr substitute(const ExprPtr& e, const std::map<std::string, ExprPtr>& vars);
// A structural key: equal keys, equal expressions.
std::string expr_key(const ExprPtr& e);
// A variable, an immediate or a capture: copied freely instead of bound to a let.
bool is_trivial(const ExprPtr& e);
bool mentions_var(const ExprPtr& e, const std::string& name);
// The expression a variable stands for, through the chain of lets that bind it (e itself when it
// is not a variable bound in lets).
ExprPtr through_lets(ExprPtr e, const std::map<std::string, ExprPtr>& lets);
// e with every let of `lets` substituted, through chains of lets (a let's value may name others).
ExprPtr inline_lets(ExprPtr e, const std::map<std::string, ExprPtr>& lets);

// Whether an IR store is a stream compaction: to a rank-1 tensor, under an extra mask `keep` (a
// bool value), at index `x + torch.cumsum(keep, dim=last) + c` where every other term is the same
// all along the last dim (constants, host values, values broadcast there). Along that dim the kept
// positions then go to consecutive elements, in order, from the first kept one's index on: the
// C++ printer packs them (print_cpp.cpp, compacted_loop), and the bounds-check pass checks only
// the first and last. Returns the cumsum node, or null.
const ir::Node* compaction_cumsum(const ir::Node& store);

// The operator of a binop, or of an IR binary operation computed on its two args; Op::none
// otherwise.
ir::Op binary_op(const ExprPtr& e);
// Whether e is integer arithmetic `op` on int64 values: a binop, or an IR binary computed in int64
// (which the printers emit as plain int64 arithmetic; narrower integers could wrap).
bool int64_op(const ExprPtr& e, ir::Op op);

// e without its int64-to-int64 conversions (the IR's `int64(x)` of an index that already is one).
ExprPtr strip_widening(ExprPtr e);
// A hint's read of the tensor `load` reads, at `indices`: a copy of the load (site -1, never
// checked) read only where every index is in bounds, else 0 of its dtype. For the prefetch
// passes, whose guesses of the next item must never read out of range.
ExprPtr in_bounds_hint(const Expr& load, std::vector<ExprPtr> indices);
// Whether e reads a local or an array named in `names`.
bool mentions_any(const ExprPtr& e, const std::set<std::string>& names);

// ---- statements ----
// A tile loop's own names: what + its block id ("s3", "lim3", "id3", "begin3", "end3").
std::string tile_name(const char* what, const Stmt& tile_loop);
// The end of a tile loop's current tile, s + lim (`tile.end` in the kernel language).
ExprPtr tile_end(const Stmt& tile_loop);
// Every name a statement defines: locals, arrays, loop indices, and a tile loop's start, limit,
// count and bounds.
void defined_names(const StmtPtr& s, std::set<std::string>& out);
// The names the printers define at the top of a function's program: s<b>, end<b>, lim<b>, id<b>;
// with an inner program loop jt_inner_first and jt_inner_last; where the body reads the next
// program (DeviceFunc::next_program) jt_next_s<b> and jt_next_inner.
std::vector<std::string> program_names(const DeviceFunc& f);
// The expressions a statement holds itself (not those of its body).
std::vector<ExprPtr> own_exprs(const Stmt& s);
// A copy of s with its own expressions mapped by fn (bodies untouched).
StmtPtr map_own_exprs(const StmtPtr& s, const std::function<ExprPtr(const ExprPtr&)>& fn);
// Calls fn on s and every statement nested in it.
void visit(const StmtPtr& s, const std::function<void(const Stmt&)>& fn);
bool any_stmt(const StmtPtr& s, const std::function<bool(const Stmt&)>& pred);
// True when a function of the plan has a matmul_block (its file needs the block matmul's text).
bool has_matmul_blocks(const Plan& plan);
// The captures of the tensors that statements read: loads, and matmul operands read in place.
std::set<int64_t> read_tensors(const std::vector<StmtPtr>& body);
// The captures of the tensors that statements store to.
std::set<int64_t> stored_tensors(const std::vector<StmtPtr>& body);
// An if that only fails: a tile size checked before its array is used.
bool is_guard(const StmtPtr& s);
// True when a container kind (its bodies are statement lists).
bool is_container(StmtKind kind);
// The statement with each body list rebuilt by fn.
StmtPtr map_bodies(const StmtPtr& s,
                   const std::function<std::vector<StmtPtr>(const std::vector<StmtPtr>&)>& fn);

// Lets bound to a trivial value (another local, an immediate, a capture) are dropped and their
// uses read the value itself.
std::vector<StmtPtr> propagate_copies(const std::vector<StmtPtr>& stmts);

// Fresh local names that collide with nothing in the function.
class NameGen {
 public:
  explicit NameGen(const DeviceFunc& func);
  std::string fresh(const std::string& prefix);

 private:
  std::unordered_set<std::string> used_;
  std::map<std::string, int> next_;
};
// The letters a name starts with ("a12_0" -> "a", "e7" -> "e").
std::string name_prefix(const std::string& name);

// The statement inside a chain of loops (nests and fors) that each hold one statement, lets
// allowed before it, or null when the chain branches; `indices` gets the fors' names, outer first.
// With past_guards, the chain may also pass scopes and size checks (is_guard), which a pass that
// keeps them where they are can ignore.
const Stmt* innermost(const Stmt& s, std::vector<std::string>* indices, bool past_guards = false);
// The lets of such a chain's bodies, by name (the loop-nest form names every let once).
void innermost_lets(const Stmt& s, std::map<std::string, ExprPtr>& lets);

// A nest read as a chain of loops, each body lets and one statement, down to the statement
// inside: the loops' indices and extents, outer first, the lets by name, and the statement (null
// when the chain branches, or a nest has a top-level let, which could be read after it).
struct LoopChain {
  std::vector<std::string> index;
  std::vector<ExprPtr> extent;
  std::map<std::string, ExprPtr> lets;
  const Stmt* inner = nullptr;
};
LoopChain loop_chain(const Stmt& nest);

// The declaration of array `name` in the function (the last, should a name be declared twice), or
// null.
const Stmt* array_decl_of(const DeviceFunc& f, const std::string& name);

// `root` with the statement `target` (found by address anywhere inside it) replaced by `with`;
// the statements off the path to it are shared, not copied.
StmtPtr replace_stmt(const StmtPtr& root, const Stmt* target, const StmtPtr& with);

// ---- units ----
struct Unit {
  int list = 0;   // which program-level list
  int index = 0;  // position in it
  int order = 0;  // program order over the whole function
  StmtPtr stmt;
  std::set<std::string> reads;       // arrays read (deep)
  std::set<std::string> pinned;      // arrays read as a loop's structure (never inlined)
  std::set<std::string> writes;      // arrays written (deep)
  std::set<const ir::Node*> loads;   // root tensors loaded (deep)
  std::set<const ir::Node*> stores;  // root tensors stored (deep)
};

struct Units {
  std::vector<Unit> units;  // in program order
  // The units (indices into `units`) that read `array`, the producer excluded.
  std::vector<int> readers(const std::string& array, int producer) const;
  // The unit of the nest that fills `array` (role value / reduce / matmul), or -1.
  int producer(const std::string& array) const;
};
Units collect_units(const DeviceFunc& func);

// The tensor behind a view chain (a load or store reads the root's storage).
const ir::Node* root_tensor(const ir::Node* t);
// The IR tensor node of a capture.
const ir::Node* capture_node(const DeviceFunc& func, int64_t capture);

// Whether moving the producer unit p to be evaluated inside unit r (same list, p < r) still
// reads what it read: nothing between writes the tensors it loads or the arrays it reads, and
// r does not store to a tensor p loads.
bool reads_unchanged(const Units& units, int p, int r);

// The function with one program-level list element replaced by a list of statements (empty:
// removed). `list`, `index` as in Unit.
DeviceFunc replace_unit(const DeviceFunc& func, int list, int index,
                        const std::vector<StmtPtr>& with);

}  // namespace jagtile::plan
