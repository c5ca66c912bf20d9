// The template backend: a kernel the dispatch detector matched (analysis/dispatch.h) runs its
// one device nest as a jagged_reduce library call, on the CPU or (when built) a CUDA device.
// The host executor runs the kernel's host part as for every backend (its asserts, its sizes,
// its output allocation, which the template then overwrites completely, so it is allocated
// unfilled); the plan binds the call's tensors by parameter name.
#include <cstdlib>
#include <unordered_set>

#include "host/host_exec.h"
#include "runtime/backend.h"
#include "runtime/program_state.h"

namespace jagtile::runtime {

namespace {

class TemplateExecutable : public Executable {
 public:
  analysis::ReducePlan plan;
  ReduceSpec spec;  // the plan's, with the kernel's names and the config's tunables
  std::unordered_set<const ir::Node*> overwritten;  // the output allocation
  std::unordered_set<int> offsets_validated;        // jagged_reduce validates the plan's offsets
  int out_slot = -1;
};

const Tensor& tensor_arg(const ir::Kernel& kernel, const std::vector<ArgValue>& values, int param,
                         const std::string& name) {
  JAGTILE_CHECK(param >= 0 && size_t(param) < values.size() && size_t(param) < kernel.params.size(),
                << "plan parameter " << param << " out of range");
  JAGTILE_CHECK(kernel.params[size_t(param)].name == name, << "plan parameter " << param << " is '"
                                                           << kernel.params[size_t(param)].name
                                                           << "', not '" << name << "'");
  const Tensor* t = std::get_if<Tensor>(&values[size_t(param)]);
  JAGTILE_CHECK(t && t->defined(), << "argument '" << name << "' is not a tensor");
  return *t;
}

// A guard evaluated on a call's values. A scalar or tensor that is missing or of the wrong kind
// (binding checked the types already) fails the guard rather than crashing.
DispatchGuard evaluate(const analysis::SizeGuard& g, const std::vector<ArgValue>& values) {
  DispatchGuard r;
  r.condition = g.str();
  const int64_t* scalar = size_t(g.scalar_param) < values.size()
                              ? std::get_if<int64_t>(&values[size_t(g.scalar_param)])
                              : nullptr;
  const Tensor* tensor = size_t(g.tensor_param) < values.size()
                             ? std::get_if<Tensor>(&values[size_t(g.tensor_param)])
                             : nullptr;
  if (!scalar || !tensor || !tensor->defined() || g.dim >= tensor->dim()) {
    r.values = g.scalar_name + " or " + g.tensor_name + " is missing";
    return r;
  }
  const int64_t size = tensor->size(g.dim);
  r.holds = *scalar == size;
  r.values = g.scalar_name + " = " + std::to_string(*scalar) + ", " + g.tensor_name + ".size(" +
             std::to_string(g.dim) + ") = " + std::to_string(size);
  return r;
}

}  // namespace

std::vector<DispatchGuard> dispatch_guards(const Specialisation& spec,
                                           const std::vector<ArgValue>& args) {
  std::vector<DispatchGuard> out;
  const analysis::DispatchResult& d = spec.dispatch();
  if (d.matched())
    for (const analysis::SizeGuard& g : d.plan->guards) out.push_back(evaluate(g, args));
  return out;
}

// The library call for a plan on bound arguments: tensors by name, the spec with its names (so
// the library's validation messages name the kernel's arguments) and the config's tunables.
// The spec every call of a plan shares: the plan's op, init and post, the kernel's tensor names
// (so the library's validation messages name the kernel's arguments), the config's tunables.
ReduceSpec library_call_base(const Specialisation& spec, const analysis::ReducePlan& plan) {
  ReduceSpec s = plan.spec();
  s.num_threads = spec.config.reduce_workers;
  if (spec.config.reduce_chunk_rows > 0) s.chunk_rows = spec.config.reduce_chunk_rows;
  s.values_name = plan.data_name;
  s.offsets_name = plan.offsets_name;
  if (plan.has_counts()) s.counts_name = plan.counts_name;
  return s;
}

LibraryCall library_call_for(const Specialisation& spec, const analysis::ReducePlan& plan,
                             const std::vector<ArgValue>& values, const Options& options) {
  LibraryCall c;
  c.values = tensor_arg(spec.kernel, values, plan.data_param, plan.data_name);
  c.offsets = tensor_arg(spec.kernel, values, plan.offsets_param, plan.offsets_name);
  c.spec = library_call_base(spec, plan);
  if (spec.config.reduce_workers <= 0) c.spec.num_threads = options.num_threads;
  if (plan.has_counts())
    c.spec.feature_counts = tensor_arg(spec.kernel, values, plan.counts_param, plan.counts_name);
  return c;
}

namespace {

class Runner : public host::NestRunner {
 public:
  Runner(const Specialisation& spec, const TemplateExecutable& exe,
         const std::vector<ArgValue>& args, const Options& options)
      : spec_(spec), exe_(exe), args_(args), options_(options) {}

  void run_nest(const host::DeviceNest& nest, const host::HostEnv& env) override {
    JAGTILE_CHECK(nest.index == 0, << "the template runs a kernel's single device nest");
    const analysis::ReducePlan& p = exe_.plan;
    const Tensor& values = tensor_arg(spec_.kernel, args_, p.data_param, p.data_name);
    const Tensor& offsets = tensor_arg(spec_.kernel, args_, p.offsets_param, p.offsets_name);
    Tensor out = env.slots.at(size_t(exe_.out_slot)).t;
    if (!p.has_counts() && options_.num_threads == exe_.spec.num_threads)
      return jagged_reduce_into(values, offsets, exe_.spec, out);
    ReduceSpec rs = exe_.spec;
    if (spec_.config.reduce_workers <= 0) rs.num_threads = options_.num_threads;
    if (p.has_counts())
      rs.feature_counts = tensor_arg(spec_.kernel, args_, p.counts_param, p.counts_name);
    jagged_reduce_into(values, offsets, rs, out);
  }

 private:
  const Specialisation& spec_;
  const TemplateExecutable& exe_;
  const std::vector<ArgValue>& args_;
  const Options& options_;
};

class TemplateBackend : public BackendImpl {
 public:
  Backend id() const override { return Backend::template_lib; }
  std::string_view name() const override { return "template"; }
  std::string description() const override {
    return "per-item reductions over the jagged axis on the jagged_reduce library template";
  }
  bool runs_on(Device::Kind device) const override {
#ifdef JAGTILE_HAVE_CUDA
    return true;
#else
    return device == Device::Kind::cpu;
#endif
  }
  std::string impl_label(Device device) const override {
    return device.is_cpu() ? "template" : "cuda-template";
  }
  std::string why_not(const Specialisation& spec) const override {
    const analysis::DispatchResult& d = spec.dispatch();
    return d.matched() ? std::string() : d.reason;
  }
  std::string why_not_call(const Specialisation& spec,
                           const std::vector<ArgValue>& args) const override {
    const analysis::DispatchResult& d = spec.dispatch();
    if (!d.matched()) return {};
    for (const analysis::SizeGuard& g : d.plan->guards) {
      DispatchGuard r = evaluate(g, args);
      if (!r.holds)
        return "the guard " + r.condition + " does not hold for these arguments (" + r.values + ")";
    }
    return {};
  }
  std::string disabled_reason() const override {
    const char* v = std::getenv("JAGTILE_DISABLE_TEMPLATES");
    return v && *v && std::string_view(v) != "0"
               ? "templates are disabled by JAGTILE_DISABLE_TEMPLATES"
               : std::string();
  }

  std::shared_ptr<const Executable> prepare(const Specialisation& spec, const Options&,
                                            PrepareStats* stats) const override {
    const analysis::DispatchResult& d = spec.dispatch();
    JAGTILE_CHECK(d.matched(), << "template backend prepared for an unmatched kernel");
    auto exe = std::make_shared<TemplateExecutable>();
    exe->plan = *d.plan;
    JAGTILE_CHECK(exe->plan.out_node, << "plan without its output allocation");
    exe->overwritten.insert(exe->plan.out_node);
    exe->offsets_validated.insert(exe->plan.offsets_param);
    exe->out_slot = spec.host.slot(exe->plan.out_node);
    exe->spec = library_call_base(spec, exe->plan);
    if (stats) stats->source = PrepareStats::Source::none;
    return exe;
  }

  std::vector<Tensor> run(const Specialisation& spec, const Executable& executable,
                          const std::vector<ArgValue>& args,
                          const Options& options) const override {
    const auto& exe = static_cast<const TemplateExecutable&>(executable);
    Runner runner(spec, exe, args, options);
    host::ExecOptions exec;
    exec.overwritten = &exe.overwritten;
    exec.offsets_validated_by_backend = &exe.offsets_validated;
    return host::run_host(spec.host, args, runner, exec);
  }
};

}  // namespace

const BackendImpl& template_backend() {
  static const TemplateBackend backend;
  return backend;
}

}  // namespace jagtile::runtime

namespace jagtile {

std::optional<LibraryCall> Specialised::library_call(const ArgMap& args, std::string* why) const {
  const runtime::Specialisation& spec = *state().spec;
  const analysis::DispatchResult& d = spec.dispatch();
  if (!d.matched()) {
    if (why) *why = d.reason;
    return std::nullopt;
  }
  runtime::BoundArgs bound = state().program->bind(spec.kernel_index, args);
  if (std::string call = runtime::template_backend().why_not_call(spec, bound.values);
      !call.empty()) {
    if (why) *why = call;
    return std::nullopt;
  }
  return runtime::library_call_for(spec, *d.plan, bound.values, state().options);
}

}  // namespace jagtile
