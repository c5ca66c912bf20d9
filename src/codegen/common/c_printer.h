// The part of printing the planned loop-nest form (plan/nest_ir.h) that C++ and CUDA share: every
// expression, and every statement whose text is the same in both dialects. A dialect derives from
// NestPrinter and overrides the statements it prints differently (tile arrays, loops, failures);
// codegen/cpu/print_cpp.cpp and codegen/cuda/print_cuda.cpp are the two.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "codegen/common/c_text.h"
#include "plan/nest_ir.h"

namespace jagtile::codegen {

// The C type of a planned-form type.
const char* c_type(plan::CType t);
// `name` with every character outside [A-Za-z0-9_] replaced by '_'.
std::string sanitize(const std::string& name);

class NestPrinter {
 public:
  NestPrinter(const plan::Plan& plan, const plan::DeviceFunc& func);
  virtual ~NestPrinter() = default;

 protected:
  // ---- captures: the frame struct `F` of host values ----
  // The frame field of a capture: p<param> for parameters, h<slot> for other host values.
  static std::string field(const host::Capture& c);
  // The C type of a capture's frame field.
  static const char* capture_ctype(const host::Capture& c);
  virtual std::string capture(int64_t i) const;
  DType tensor_dtype(int64_t capture) const;

  // ---- expressions ----
  std::string expr(const plan::ExprPtr& e) const;
  std::string index_literal(const plan::ExprPtr& e) const;
  // An element of a tile array, as an expression: array[flat offset] unless the dialect keeps
  // the array in another form.
  virtual std::string array_element(const std::string& array,
                                    const std::vector<plan::ExprPtr>& idx) const;
  // The flat offset of `idx` in a declared tile array, and its element count.
  std::string flat(const std::string& array, const std::vector<plan::ExprPtr>& idx) const;
  std::string count(const std::string& array) const;
  // The flat element offset of `idx` in a captured tensor.
  std::string address(int64_t tensor, const std::vector<plan::ExprPtr>& idx) const;
  // `target op= value` for assignments and array stores.
  static std::string update(const std::string& target, plan::Update u, const std::string& value,
                            plan::CType type);

  // ---- the program ----
  // The program function's id parameter: id<b>, or jt_program where a program may be one
  // (outer, inner) pair (plan::DeviceFunc::inner_block); then program_ids prints its split,
  // which happens where `split` (a C expression) is non-zero; else the program is one outer
  // iteration and its inner loop runs whole. With plan::DeviceFunc::next_program it also splits
  // jt_next_program, a parameter of the generated C++'s program function.
  std::string program_param() const;
  void program_ids(Writer& w, const std::string& split) const;

  // ---- statements ----
  void stmts(const std::vector<plan::StmtPtr>& list, Writer& w);
  // Prints one statement: the shared kinds here, the dialect's through the hooks below.
  virtual void stmt(const plan::Stmt& s, Writer& w);
  // A source-line comment in front of a statement that starts a new line of the kernel.
  void comment(const plan::Stmt& s, Writer& w);

  // The dialect's statements.
  virtual void array_decl(const plan::Stmt& s, Writer& w) = 0;
  virtual void array_fill(const plan::Stmt& s, Writer& w) = 0;
  virtual void for_loop(const plan::Stmt& s, Writer& w) = 0;
  virtual void array_store(const plan::Stmt& s, Writer& w);
  virtual void tensor_store(const plan::Stmt& s, Writer& w);
  // Only a dialect with a block matmul plans matmul blocks (plan_kernel's matmul_blocks).
  virtual void matmul_block(const plan::Stmt& s, Writer& w);
  // A prefetch hint: nothing, in a dialect without one (only the cpu passes plan them).
  virtual void prefetch(const plan::Stmt&, Writer&) {}
  // `JtMatmul{...}` (matmul_struct()) for a matmul block's operands.
  // With `prefetch` (a JtPrefetch pointer, generated C++): the blocks fetch its rows too.
  std::string matmul_operands(const plan::Stmt& s, const std::string& prefetch = "") const;
  void tile_loop(const plan::Stmt& s, Writer& w);
  // The statement that records a failure (`call`: jt_fail(...)) and leaves the program.
  virtual std::string fail(const std::string& call) const { return "return " + call + ";"; }
  // The start of that call, up to its code argument: the recorder and where it records.
  virtual std::string fail_record() const { return "jt_fail(F.err, "; }
  // The overflow-checking primitive for a host integer op (add, sub, mul).
  virtual std::string overflow_builtin(ir::Op op) const = 0;

  // The text of a tensor store (without its mask).
  std::string tensor_store_text(const plan::Stmt& s) const;
  // The body of a `for_` (the header is the dialect's).
  void loop_body(const plan::Stmt& s, Writer& w) { stmts(s.body, w); }

  const plan::Plan& plan_;
  const ir::Kernel& k_;
  const plan::DeviceFunc& func_;
  std::map<std::string, std::vector<plan::ExprPtr>> arrays_;
  int last_line_ = -1;
};

}  // namespace jagtile::codegen
