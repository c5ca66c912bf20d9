// Internal to the C++ emitter: the Emitter (one per generated file), split over emit_cpp.cpp
// (host part, statements, loops, assembly of the file), emit_arith.cpp (elementwise C
// expressions and dtype conversions), emit_plan.cpp (which device values are
// fused into their consumers and which become tile arrays), emit_values.cpp (element
// expressions, masked loop nests, loads, stores, reductions, matmul) and emit_prelude.cpp (the
// helper functions pasted at the top of every generated file).
#pragma once

#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "codegen/cpu/emit_cpp.h"

namespace jagtile::codegen::cpu::detail {

using ir::Dim;
using ir::Node;
using ir::NodeKind;
using ir::NodePtr;
using ir::Op;

// The helper functions and ABI definitions every generated file starts with.
std::string prelude();
// The C type a value of this dtype is computed in: float for every float dtype, int64_t for
// integers, bool for booleans.
const char* compute_ctype(DType dtype);
// The C type a tensor of this dtype stores its elements as.
const char* storage_ctype(DType dtype);
// A C++ literal for a double (infinities and NaN included).
std::string double_literal(double v);

// The dtype an operand is computed in (host floats are doubles, treated as float here).
inline DType operand_dtype(const Node& n) {
  switch (n.type.kind) {
    case ir::TypeKind::host_int:
      return DType::i64;
    case ir::TypeKind::host_float:
      return DType::f32;
    case ir::TypeKind::host_bool:
      return DType::boolean;
    default:
      return n.type.dtype;
  }
}

// How a nest body treats bounds checks: only compute indices and accumulate a failure flag
// (check_only: no loads, no writes; vectorises), return the first failure (diagnose: rerun once
// the flag is set), or none at all (unchecked: the pass that computes, once checks passed).
enum class CheckMode : uint8_t { check_only, diagnose, unchecked };

// Text with indentation.
class Writer {
 public:
  void line(const std::string& s) {
    for (int i = 0; i < indent_; ++i) out_ << "  ";
    out_ << s << "\n";
  }
  void open(const std::string& s) {
    line(s);
    ++indent_;
  }
  void close(const std::string& s = "}") {
    --indent_;
    line(s);
  }
  void raw(const std::string& s) { out_ << s; }
  std::string str() const { return out_.str(); }
  int indent() const { return indent_; }
  void set_indent(int i) { indent_ = i; }

 private:
  std::ostringstream out_;
  int indent_ = 0;
};

// What the plan knows about one placed node.
struct NodeFacts {
  int seq = 0;      // program order (a walk of the kernel)
  int end_seq = 0;  // last seq of its nested regions
  const ir::Block* block = nullptr;
  int depth = 0;  // enclosing loops
  std::vector<const Node*> users;
  bool inlined = false;  // fused into its consumers (device values only)
};

// One loop nest's element context: the index expression of each dim of the nest's shape.
struct Elem {
  std::vector<std::string> idx;
};

class Emitter {
 public:
  Emitter(const ir::Kernel& kernel, const EmitOptions& options);
  CpuSource run();

  // ---- plan (emit_plan.cpp) ----
  void plan();
  bool fusing_consumer(const Node& u) const;
  bool reads_unchanged(const Node& n, const Node& ep, const std::vector<const Node*>& order) const;
  bool rematerialise_load(const Node& n, const std::vector<const Node*>& order,
                          const std::unordered_set<const Node*>& cheap,
                          std::unordered_map<const Node*, const Node*>& eval_point);
  bool is_device_value(const Node& n) const;  // a non-scalar device value
  bool inlined(const Node& n) const;
  const NodeFacts& facts(const Node& n) const;

  // ---- statements (emit_cpp.cpp) ----
  void block(const ir::Block& b, Writer& w);
  void stmt(const NodePtr& n, Writer& w);
  void host_value(const Node& n, Writer& w);
  void loop(const Node& n, Writer& w);
  void top_level_loop(const Node& n, Writer& w);
  void loop_body(const Node& n, Writer& w);  // per-iteration locals, then the body
  void source_comment(const Node& n, Writer& w);
  std::string fail_return(int code, int site, const std::string& index = "0",
                          const std::string& extent = "0", const std::string& dim = "0");
  int add_site(Site::Kind kind, const Node& n, std::string tensor = {}, std::string message = {});

  // ---- names and scalars ----
  std::string name(const Node& n) const;     // the variable holding a placed node's value
  std::string scalar(const NodePtr& n);      // a C expression for a host or 0-d value
  std::string tensor_ref(const NodePtr& n);  // a JtTensor expression
  bool is_host_level(const Node& n) const { return facts(n).depth == 0; }

  // ---- device values (emit_values.cpp) ----
  // Extents as C expressions (block sizes are literals; full dims read their host size).
  std::vector<std::string> extents(const ir::Shape& s);
  std::string numel(const ir::Shape& s);
  std::string flat(const ir::Shape& s, const std::vector<std::string>& idx);
  // Index expressions of an operand of shape `from` broadcast into a position `idx` of `to`.
  std::vector<std::string> map_idx(const ir::Shape& from, const ir::Shape& to,
                                   const std::vector<std::string>& idx) const;
  // The value of node n at position idx of its own shape (emitting locals into w as needed).
  std::string at(const NodePtr& n, const std::vector<std::string>& idx, Writer& w);
  std::string at_inline(const Node& n, const std::vector<std::string>& idx, Writer& w);
  std::string load_elem(const Node& n, const std::vector<std::string>& idx, Writer& w);
  // Emits a loop nest over the valid positions of `shape`; body(w, idx) writes the innermost
  // statements. `simd_reductions` lists extra reduction clauses of the innermost loop.
  void nest(const ir::Shape& shape, Writer& w,
            const std::function<void(Writer&, const std::vector<std::string>&)>& body,
            const std::string& simd_reductions = {}, bool simd = true);
  // Runs a nest whose body may check bounds: fast pass, then a diagnosing rerun on failure.
  void checked_nest(const ir::Shape& shape, Writer& w,
                    const std::function<void(Writer&, const std::vector<std::string>&)>& body,
                    const std::string& simd_reductions = {}, bool simd = true);
  std::string mask_cond(const ir::Shape& shape, const std::vector<std::string>& idx);
  std::string jagged_extent_at(int block, const ir::Shape& shape,
                               const std::vector<std::string>& idx);
  void materialise(const Node& n, Writer& w);  // a non-scalar device value into vN[]
  void ensure_array(const NodePtr& n, Writer& w);
  void reduce(const Node& n, Writer& w);
  void matmul(const Node& n, Writer& w);
  void store(const Node& n, Writer& w);
  void var_decl(const Node& n, Writer& w);
  void var_assign(const Node& n, Writer& w);
  std::string elementwise(const Node& n, const std::vector<std::string>& ops) const;
  std::string convert(const std::string& e, DType from, DType to) const;
  std::string array_decl(const std::string& ctype, const std::string& name,
                         const std::string& count) const;
  std::string to_storage(const std::string& e, DType compute, DType storage) const;
  std::string from_storage(const std::string& e, DType storage) const;

  const ir::Kernel& k_;
  EmitOptions options_;
  std::unordered_map<const Node*, NodeFacts> facts_;
  std::unordered_map<int, const Node*> jagged_extents_;  // jagged block -> its extents
  std::vector<Site> sites_;
  std::vector<std::string> frame_fields_;
  std::vector<std::string> functions_;  // per top-level loop
  int temp_ = 0;
  const Node* current_ = nullptr;  // the statement being emitted (for located errors)
  int last_comment_line_ = -1;
  CheckMode mode_ = CheckMode::unchecked;
  bool used_check_ = false;  // the current nest body contains a bounds check
  std::map<std::string, std::string>* memo_ = nullptr;  // per nest body: (node, idx) -> local
  std::unordered_set<const Node*> arrays_;              // non-scalar values held in vN[]
  // Loop-invariant hoisting out of a nest's innermost loop: where invariant values go, and the
  // innermost loop's index variable (values whose position does not use it are invariant).
  Writer* hoist_ = nullptr;
  std::string inner_var_;
  bool has_load(const Node& n);
  // Bounds checks of one access (load or store) at position idx of its shape, per mode_.
  // Returns the access's in-bounds condition (with its mask) in check_only mode.
  std::string check_access(const Node& access, const std::vector<std::string>& idx,
                           const std::string& tensor, const std::vector<std::string>& index,
                           const std::string& mask, int site, Writer& w);
  // Endpoint checks: a check pass's innermost loop visits only its first and last position
  // when every index it checks is a non-decreasing function of that loop's position (then
  // both ends in bounds means every position is). An access that is not clears the flag.
  bool monotone_in(const Node& n, int dim) const;
  bool endpoint_ok_ = true;
  // > 0 while an access's indices or mask are emitted. The check pass computes no values, but
  // a load feeding an index (a gather) must load, or the index it feeds is never checked.
  int index_depth_ = 0;
  std::unordered_map<const Node*, std::string> temp_arrays_;
};

}  // namespace jagtile::codegen::cpu::detail
