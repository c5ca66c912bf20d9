// The compiler API: compile a kernel file, inspect its kernels, call one on tensors, explain
// how it would run. Every object here is immutable after construction and safe to share across
// threads; no hidden global state beyond caches keyed by content.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "jagtile/tensor.h"

namespace jagtile {

// An argument value: a tensor, an int, a float, or None (an optional tensor left out).
struct NoneArg {};
using ArgValue = std::variant<Tensor, int64_t, double, NoneArg>;
using ArgMap = std::map<std::string, ArgValue>;

enum class Backend : uint8_t { auto_select, template_lib, cpu, cuda, interp };
std::optional<Backend> parse_backend(std::string_view name);  // auto|template|cpu|cuda|interp
std::string_view backend_name(Backend backend);

struct Options {
  Backend backend = Backend::auto_select;
  bool checked = true;      // bounds checks on every device load/store
  int num_threads = 0;      // 0: the default pool's size
  bool debug_ir = false;    // print IR after every pass (also JAGTILE_DEBUG=ir)
  bool debug_code = false;  // print generated code (also JAGTILE_DEBUG=code)
};

enum class ParamKind : uint8_t {
  tensor,
  optional_tensor,
  int_scalar,
  float_scalar,
  bool_scalar,
  untyped
};
struct ParamInfo {
  std::string name;
  ParamKind kind = ParamKind::untyped;
  std::optional<ArgValue> default_value;  // from `= 1e-6` or `= None`
};

struct KernelInfo {
  std::string name;
  int line = 0;
  std::vector<ParamInfo> params;
};

// How a kernel runs for one specialisation.
struct DispatchDecision {
  std::string kernel;
  std::string dispatch;  // "template jagged_reduce(op=sum, items_axis=0, counts=no)" or "generic"
  std::string reason;    // why generic; empty for a template match
  std::string plan;      // the ReducePlan printed, or empty
};

struct CallResult {
  std::vector<Tensor> outputs;  // the kernel's returned tensors, in order
  Backend backend_used = Backend::interp;
};

class Program {
 public:
  // Parses and checks (no argument types needed). Raises UserError with file:line:col.
  static Program from_file(const std::string& path);
  static Program from_source(const std::string& source, const std::string& file_name);

  const std::vector<KernelInfo>& kernels() const;
  // The kernel called name; with name empty, the file's only kernel (UserError if several).
  const KernelInfo& kernel(const std::string& name = {}) const;

  // Specialises on the arguments (dtypes, ranks, devices), lowers, dispatches, runs.
  CallResult call(const std::string& kernel_name, const ArgMap& args,
                  const Options& options = {}) const;

  // Specialises and reports the dispatch decision without running; with ir/code, the text of
  // the IR after each pass / the generated source go into the returned strings.
  DispatchDecision explain(const std::string& kernel_name, const ArgMap& args,
                           const Options& options = {}, std::string* ir_text = nullptr,
                           std::string* code_text = nullptr) const;

  struct Impl;
  std::shared_ptr<const Impl> impl() const { return impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace jagtile
