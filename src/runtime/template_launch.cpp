// Template routing (see template_launch.h): the bridge between a matched ReducePlan and the
// jagged_reduce library call, plus the per-specialisation decision cache, the
// JAGTILE_DISABLE_TEMPLATES switch and the JAGTILE_DEBUG=dispatch log.
#include "runtime/template_launch.h"

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <unordered_map>

#include "interp/interp.h"
#include "ir/pipeline.h"
#include "jagtile/jagged.h"

namespace jagtile {
namespace {

// Keyed by the specialisation's address; the weak pointer tells a live entry from one whose
// specialisation died and whose address was reused. Specialisations are immutable, so an
// entry never goes stale while its owner lives.
struct CacheEntry {
  std::weak_ptr<const Specialisation> owner;
  std::shared_ptr<const analysis::DispatchResult> result;
};

std::mutex cache_mutex;
std::unordered_map<const Specialisation*, CacheEntry>& decision_cache() {
  static auto* cache = new std::unordered_map<const Specialisation*, CacheEntry>();
  return *cache;
}

void log_decision(const std::string& kernel, const std::string& what) {
  if (ir::debug_enabled("dispatch"))
    std::cerr << "jagtile: dispatch " << kernel << ": " << what << "\n";
}

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

}  // namespace

bool templates_disabled() {
  const char* v = std::getenv("JAGTILE_DISABLE_TEMPLATES");
  return v && *v && std::string_view(v) != "0";
}

std::shared_ptr<const analysis::DispatchResult> dispatch_for(
    const std::shared_ptr<const Specialisation>& spec) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = decision_cache().find(spec.get());
    if (it != decision_cache().end() && it->second.owner.lock() == spec) return it->second.result;
  }
  // Detect outside the lock: pure, and two threads racing compute the same answer.
  auto result =
      std::make_shared<const analysis::DispatchResult>(analysis::detect_dispatch(spec->kernel));
  std::lock_guard<std::mutex> lock(cache_mutex);
  auto& cache = decision_cache();
  static size_t sweep_at = 64;
  if (cache.size() >= sweep_at) {  // drop entries of specialisations that no longer exist
    for (auto it = cache.begin(); it != cache.end();)
      it = it->second.owner.expired() ? cache.erase(it) : std::next(it);
    sweep_at = 2 * cache.size() + 64;
  }
  cache[spec.get()] = CacheEntry{spec, result};
  return result;
}

std::vector<Tensor> run_template_plan(const analysis::ReducePlan& plan, const ir::Kernel& kernel,
                                      const std::vector<ArgValue>& values, const Options& options) {
  // The kernel's own host checks first, with the interpreter's exact errors.
  if (plan.host_checks) interp::run_kernel(*plan.host_checks, values);
  const Tensor& x = tensor_arg(kernel, values, plan.data_param, plan.data_name);
  const Tensor& offsets = tensor_arg(kernel, values, plan.offsets_param, plan.offsets_name);
  // jagged_reduce validates the inputs (one pass over the offsets) and names them as the kernel
  // does, so its messages point at the kernel's arguments.
  ReduceSpec spec = plan.spec();
  spec.num_threads = options.num_threads;
  spec.values_name = plan.data_name;
  spec.offsets_name = plan.offsets_name;
  if (plan.has_counts()) {
    spec.feature_counts = tensor_arg(kernel, values, plan.counts_param, plan.counts_name);
    spec.counts_name = plan.counts_name;
  }
  return {jagged_reduce(x, offsets, spec)};
}

std::optional<CallResult> route_template(const Program::Impl& impl, size_t kernel,
                                         const BoundArgs& bound, const Options& options) {
  const Backend want = options.backend;
  const std::string& name = impl.kernels.at(kernel).name;
  if (want != Backend::template_lib && want != Backend::auto_select) {
    log_decision(name, "generic (backend '" + std::string(backend_name(want)) + "' requested)");
    return std::nullopt;
  }
  if (templates_disabled()) {
    if (want == Backend::template_lib)
      throw UserError("kernel '" + name +
                          "' cannot run on the template backend: templates are disabled by "
                          "JAGTILE_DISABLE_TEMPLATES",
                      "unset JAGTILE_DISABLE_TEMPLATES, or use --backend auto or cpu");
    log_decision(name, "generic (reason: templates disabled by JAGTILE_DISABLE_TEMPLATES)");
    return std::nullopt;
  }
  std::shared_ptr<const Specialisation> spec = impl.specialise(kernel, bound, options);
  std::shared_ptr<const analysis::DispatchResult> d = dispatch_for(spec);
  if (!d->matched()) {
    if (want == Backend::template_lib)
      throw UserError(
          "kernel '" + name + "' does not match the jagged_reduce template: " + d->reason,
          "run it with --backend auto or cpu (the generic path); `jagtile explain` "
          "shows the decision");
    log_decision(name, "generic (reason: " + d->reason + ")");
    return std::nullopt;
  }
  log_decision(name, analysis::dispatch_summary(*d));
  if (options.debug_ir) std::cerr << spec->ir_trace;
  CallResult r;
  r.outputs = run_template_plan(*d->plan, spec->kernel, bound.values, options);
  r.backend_used = Backend::template_lib;
  return r;
}

void fill_dispatch_decision(DispatchDecision& decision,
                            const std::shared_ptr<const Specialisation>& spec,
                            const Options& options) {
  decision.plan.clear();
  if (options.backend != Backend::template_lib && options.backend != Backend::auto_select) {
    decision.dispatch = "generic";
    decision.reason = "backend '" + std::string(backend_name(options.backend)) + "' requested";
    return;
  }
  if (templates_disabled()) {
    decision.dispatch = "generic";
    decision.reason = "templates disabled by JAGTILE_DISABLE_TEMPLATES";
    return;
  }
  std::shared_ptr<const analysis::DispatchResult> d = dispatch_for(spec);
  decision.dispatch = analysis::dispatch_summary(*d);
  decision.reason = d->reason;
  if (d->matched()) decision.plan = analysis::plan_to_string(*d->plan);
}

std::optional<TemplateCall> template_call_for(const Program& program, const std::string& kernel,
                                              const ArgMap& args, const Options& options,
                                              std::string* why) {
  const Program::Impl& im = *program.impl();
  size_t ki = im.kernel_index(kernel);
  BoundArgs b = im.bind(ki, args);
  std::shared_ptr<const Specialisation> spec = im.specialise(ki, b, options);
  std::shared_ptr<const analysis::DispatchResult> d = dispatch_for(spec);
  if (!d->matched()) {
    if (why) *why = d->reason;
    return std::nullopt;
  }
  const analysis::ReducePlan& p = *d->plan;
  TemplateCall c;
  c.plan = p;
  c.values = tensor_arg(spec->kernel, b.values, p.data_param, p.data_name);
  c.offsets = tensor_arg(spec->kernel, b.values, p.offsets_param, p.offsets_name);
  c.spec = p.spec();
  c.spec.num_threads = options.num_threads;
  if (p.has_counts())
    c.spec.feature_counts = tensor_arg(spec->kernel, b.values, p.counts_param, p.counts_name);
  return c;
}

}  // namespace jagtile
