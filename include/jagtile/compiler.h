// The compiler API: compile a kernel file, inspect its kernels, specialise one on argument types,
// see how it would run (dispatch decision, IR, generated source), prepare and run it. Every
// object here is immutable after construction and safe to share across threads; the only state
// is each Program's specialisation cache, keyed by content (see docs/architecture.md).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jagtile/reduce.h"
#include "jagtile/tensor.h"

namespace jagtile {

namespace runtime {  // the implementation behind Program and Specialised (not public)
struct ProgramState;
struct SpecialisedState;
}  // namespace runtime

// An argument value: a tensor, an int, a float, or None (an optional tensor left out).
struct NoneArg {};
using ArgValue = std::variant<Tensor, int64_t, double, NoneArg>;
using ArgMap = std::map<std::string, ArgValue>;

// Which backend runs a kernel. The device is not part of this choice: it comes from the
// tensors, and each backend says which devices it runs on (see backends()).
enum class Backend : uint8_t { auto_select, template_lib, cpu, cuda, interp };
std::optional<Backend> parse_backend(std::string_view name);  // auto|template|cpu|cuda|interp
std::string_view backend_name(Backend backend);

// A backend of this build, in the order `auto` tries them.
struct BackendInfo {
  Backend id = Backend::interp;
  std::string name;         // what --backend takes: "template", "cpu", "interp"
  std::string description;  // one line
  std::vector<Device::Kind> devices;
};
std::vector<BackendInfo> backends();
// The implementation label benchmarks and explain use for a backend on a device:
// "template", "cuda-template", "generic-cpu", "interp".
std::string impl_label(Backend backend, Device device);

// Every tunable of a kernel's compilation. Filled from the decorator (`config=`, `block_sizes=`)
// unless set here; zero or missing entries take the defaults. Part of the specialisation key.
struct Config {
  // Block size of the i-th hl.tile / hl.jagged_tile loop in program order (hl.grid takes
  // none), as Helion's block_sizes.
  std::vector<int64_t> block_sizes;
  // The jagged_reduce template: rows per work chunk (0: the library's 64) and worker count
  // (0: the thread pool's size).
  int64_t reduce_chunk_rows = 0;
  int reduce_workers = 0;

  bool operator==(const Config&) const = default;
  std::string str() const;  // "block_sizes=[16, 256] chunk_rows=64"; "" for all defaults
};

struct Options {
  Backend backend = Backend::auto_select;
  bool checked = true;  // bounds checks on every device load/store
  int num_threads = 0;  // 0: the default pool's size
  Config config;        // overrides the decorator's config where set
  // With no config set here, use the autotuner's stored best for this kernel, shape bucket and
  // machine when there is one (jagtile/autotune.h); JAGTILE_AUTOTUNE=0 ignores stored entries.
  bool use_tuned_config = true;
  std::string cache_dir;    // compiled-code cache folder; empty: JAGTILE_CACHE_DIR or the default
  bool debug_ir = false;    // print IR after every pass (also JAGTILE_DEBUG=ir)
  bool debug_code = false;  // print generated code (also JAGTILE_DEBUG=code)
  // A testing aid for the cpu backend: run each device nest's programs one at a time, last to
  // first, on the calling thread, an inner program loop's pairs always as programs of their own.
  // Programs are independent (the outermost loop's iterations by the language's rule, an inner
  // program loop's by proof: docs/architecture.md), so results must not change; the
  // differential fuzzer runs some cases this way. Where several programs fail, the error
  // reported may be another one's than in program order.
  bool reverse_programs = false;
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

// A decorator entry jagtile accepted (Helion config keys and kernel settings; see
// docs/language.md), with what jagtile does with it.
struct KernelSetting {
  std::string key;     // "config.block_sizes", "config.num_warps", "autotune_effort", ...
  std::string value;   // as written
  std::string effect;  // "honoured: ..." or "recorded; ..."
};

struct KernelInfo {
  std::string name;
  int line = 0;
  std::vector<ParamInfo> params;
  std::vector<KernelSetting> settings;  // from the decorator, in source order
  // Located warnings about the definition ("FILE:LINE:COL: warning: unknown config key ..."),
  // rendered; the library never prints them, the CLI does.
  std::vector<std::string> warnings;
};

// How a kernel runs for one specialisation.
// A run-time condition of a template dispatch: the template runs a call only where it holds; the
// generic path runs the others (e.g. Helion's jagged_mean: "max_M == x_data.size(1)").
struct DispatchGuard {
  std::string condition;  // "max_M == x_data.size(1)"
  bool holds = false;     // for the arguments the decision was made with
  std::string values;     // what they were: "max_M = 6, x_data.size(1) = 6"
};

struct DispatchDecision {
  std::string kernel;
  std::string dispatch;  // "template jagged_reduce(op=sum, items_axis=0, counts=no)" or "generic"
  std::string reason;    // why generic; empty for a template match
  std::string plan;      // the ReducePlan printed, or empty
  std::string device;    // where the tensors are: "cpu", "cuda:0"
  std::string backend;   // the backend that runs it: "template", "cpu", "interp"
  std::string config;    // the config in effect (Config::str) and where it came from
  std::vector<DispatchGuard> guards;  // the template plan's run-time guards, evaluated
  // Outputs the kernel writes in full, which the generated code's backends allocate without
  // filling them first (torch.zeros / torch.full whose fill nothing could read).
  std::vector<std::string> unfilled_outputs;
  // How each device loop runs in parallel on the generated code's backends, one line per loop:
  // "loop over seq (line 33): a program per (seq, head) pair where that balances the threads,
  // else per seq; longest items first".
  std::vector<std::string> parallel_loops;
};

struct CallResult {
  std::vector<Tensor> outputs;  // the kernel's returned tensors, in order
  Backend backend_used = Backend::interp;
};

// How prepare() obtained a backend's executable.
struct PrepareStats {
  enum class Source : uint8_t { none, memory, disk, compiled } source = Source::none;
  double ms = 0;  // wall time of the preparation (compile included)
};

// The direct jagged_reduce call the template backend makes for a call (for benchmarks that
// measure what the compiler path costs over the library).
struct LibraryCall {
  Tensor values;
  Tensor offsets;
  ReduceSpec spec;
};

class Program;

// One kernel specialised on argument types (dtypes, ranks, devices; never sizes) and a config:
// the lowered IR, the dispatch decision and each backend's prepared executable. Cheap to copy
// (a shared handle); keeps its Program alive.
class Specialised {
 public:
  const std::string& kernel() const;
  Device device() const;
  // The backend run() uses for the arguments the handle was made with (the options' backend, or
  // the first that supports the kernel); run() chooses again for arguments whose dispatch
  // guards differ (see DispatchGuard).
  Backend backend() const;
  DispatchDecision decision() const;
  // The IR after each pass (tile IR, host/device split, planned loop nests); computed on demand.
  std::string ir_text() const;
  // Empty when `backend` can run this specialisation (its device included) with the arguments
  // it was made with (their dispatch guards included), else why not.
  std::string why_not(Backend backend) const;
  // What `backend` generates for this kernel ("" when it generates no source).
  std::string source(Backend backend) const;
  // Prepares the chosen backend's executable (compiles, loads, matches) if not done yet.
  PrepareStats prepare() const;
  // Runs on arguments of the same types (UserError otherwise).
  CallResult run(const ArgMap& args) const;
  // The host part alone (sizes, asserts, `.item()` reads, allocations, offsets checks), no
  // device loop: the returned tensors have the shapes and dtypes run() would return, with
  // unspecified contents. What a framework's shape function needs (the Python package's torch
  // fake implementation); an output whose shape comes from an `.item()` read depends on the
  // data given.
  std::vector<Tensor> dry_run(const ArgMap& args) const;
  // Milliseconds spent lowering the kernel (parse excluded) when this specialisation was made.
  double lower_ms() const;
  // The template backend's library call for these arguments; nullopt when the kernel does not
  // match the template (with the reason in *why).
  std::optional<LibraryCall> library_call(const ArgMap& args, std::string* why = nullptr) const;

  explicit Specialised(std::shared_ptr<const runtime::SpecialisedState> state)
      : state_(std::move(state)) {}
  const runtime::SpecialisedState& state() const { return *state_; }

 private:
  std::shared_ptr<const runtime::SpecialisedState> state_;
};

class Program {
 public:
  // Parses and checks (no argument types needed). Raises UserError with file:line:col.
  static Program from_file(const std::string& path);
  static Program from_source(const std::string& source, const std::string& file_name);

  const std::vector<KernelInfo>& kernels() const;
  // The kernel called name; with name empty, the file's only kernel (UserError if several).
  const KernelInfo& kernel(const std::string& name = {}) const;

  // Binds the arguments by parameter name and specialises (cached per argument types and
  // config). Raises UserError for bad arguments or a kernel that does not type-check.
  Specialised specialise(const std::string& kernel_name, const ArgMap& args,
                         const Options& options = {}) const;

  // specialise(...).run(args).
  CallResult call(const std::string& kernel_name, const ArgMap& args,
                  const Options& options = {}) const;

  // The dispatch decision without running; with ir/code, the IR after each pass / the
  // generated source of the backend that would run.
  DispatchDecision explain(const std::string& kernel_name, const ArgMap& args,
                           const Options& options = {}, std::string* ir_text = nullptr,
                           std::string* code_text = nullptr) const;

  // How many specialisations this Program holds now (bounded: see docs/architecture.md).
  size_t cached_specialisations() const;

  const runtime::ProgramState& state() const { return *state_; }

 private:
  std::shared_ptr<const runtime::ProgramState> state_;
};

}  // namespace jagtile
