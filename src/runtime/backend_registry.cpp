// The backend registry (backend.h) and the two steps of a call that walk it: choosing the
// backend for a specialisation, and running a bound call on it. The public backends() and
// impl_label() read the same list.
#include <cstdlib>
#include <iostream>

#include "ir/pipeline.h"
#include "runtime/backend.h"
#include "runtime/program_state.h"

namespace jagtile::runtime {

const std::vector<const BackendImpl*>& backend_registry() {
  // `auto` takes the first that supports a kernel: the template (a hand-pipelined library
  // kernel) where the dispatch detector matches, else generated code for the tensors' device
  // (cpu runs only on the CPU, cuda on GPUs), else the interpreter.
  static const std::vector<const BackendImpl*> registry = {&template_backend(), &cpu_backend(),
                                                           &cuda_backend(), &interp_backend()};
  return registry;
}

const BackendImpl* find_backend(Backend id) {
  for (const BackendImpl* b : backend_registry())
    if (b->id() == id) return b;
  return nullptr;
}

namespace {

std::string registered_names() {
  std::string names;
  for (const BackendImpl* b : backend_registry())
    names += (names.empty() ? "" : ", ") + std::string(b->name());
  return names;
}

void log_dispatch(const Specialisation& spec, Backend requested) {
  if (!ir::debug_enabled("dispatch")) return;
  DispatchText t = dispatch_text(spec, requested);
  std::string why = t.reason.empty() ? ""
                    : t.forced       ? " (" + t.reason + ")"
                                     : " (reason: " + t.reason + ")";
  std::cerr << "jagtile: dispatch " << spec.kernel.name << ": " << t.dispatch << why << "\n";
}

}  // namespace

DispatchText dispatch_text(const Specialisation& spec, Backend requested) {
  DispatchText t;
  t.dispatch = "generic";
  if (requested != Backend::auto_select && requested != Backend::template_lib) {
    t.reason = "backend '" + std::string(backend_name(requested)) + "' requested";
    t.forced = true;
    return t;
  }
  if (std::string off = template_backend().disabled_reason(); !off.empty()) {
    t.reason = off;
    return t;
  }
  const analysis::DispatchResult& d = spec.dispatch();
  t.dispatch = analysis::dispatch_summary(d);
  t.reason = d.reason;
  if (d.matched()) t.plan = analysis::plan_to_string(*d.plan);
  return t;
}

const BackendImpl& choose_backend(const Specialisation& spec, Backend requested,
                                  const std::vector<ArgValue>* args) {
  const std::string& kernel = spec.kernel.name;
  if (requested != Backend::auto_select) {
    const BackendImpl* b = find_backend(requested);
    if (!b)
      throw UserError(
          "backend '" + std::string(backend_name(requested)) + "' is not available in this build",
          "the backends are: " + registered_names() + " (or auto)");
    if (!b->runs_on(spec.device.kind))
      throw UserError("kernel '" + kernel + "' cannot run on backend '" + std::string(b->name()) +
                          "': its tensors are on " + spec.device.str() + " and backend '" +
                          std::string(b->name()) + "' does not run there",
                      "move the tensors, or use --backend auto");
    if (std::string off = b->disabled_reason(); !off.empty())
      throw UserError("kernel '" + kernel + "' cannot run on the " + std::string(b->name()) +
                          " backend: " + off,
                      "unset it, or use --backend auto or another backend");
    const std::string& why = spec.why_not(*b);
    if (!why.empty()) {
      if (b->id() == Backend::template_lib)
        throw UserError("kernel '" + kernel + "' does not match the jagged_reduce template: " + why,
                        "run it with --backend auto or cpu (the generic path); `jagtile explain` "
                        "shows the decision");
      throw UserError("kernel '" + kernel + "' cannot run on the " + std::string(b->name()) +
                          " backend: " + why,
                      "use --backend auto, or another backend");
    }
    if (args) {
      if (std::string call = b->why_not_call(spec, *args); !call.empty())
        throw UserError("kernel '" + kernel + "' cannot run on the " + std::string(b->name()) +
                            " backend with these arguments: " + call,
                        "use --backend auto (it runs such calls on the generic path), or pass "
                        "arguments for which the guard holds");
    }
    return *b;
  }
  std::string reasons;
  for (const BackendImpl* b : backend_registry()) {
    std::string why = !b->runs_on(spec.device.kind) ? "does not run on " + spec.device.str()
                                                    : b->disabled_reason();
    if (why.empty()) why = spec.why_not(*b);
    if (why.empty() && args) why = b->why_not_call(spec, *args);
    if (why.empty()) return *b;
    reasons += "; " + std::string(b->name()) + ": " + why;
  }
  throw UserError(
      "no backend can run kernel '" + kernel + "' on " + spec.device.str() + reasons.substr(1),
      "move the tensors to the CPU, or see `jagtile explain`");
}

CallResult run_bound(const Specialisation& spec, const BackendImpl& backend, const BoundArgs& bound,
                     const Options& options, bool debug_env) {
  if (debug_env) log_dispatch(spec, options.backend);
  std::shared_ptr<const Executable> exe = spec.executable(backend, options);
  CallResult r;
  r.outputs = backend.run(spec, *exe, bound.values, options);
  r.backend_used = backend.id();
  return r;
}

}  // namespace jagtile::runtime

namespace jagtile {

std::vector<BackendInfo> backends() {
  std::vector<BackendInfo> out;
  for (const runtime::BackendImpl* b : runtime::backend_registry()) {
    BackendInfo info;
    info.id = b->id();
    info.name = std::string(b->name());
    info.description = b->description();
    for (Device::Kind k : {Device::Kind::cpu, Device::Kind::cuda})
      if (b->runs_on(k)) info.devices.push_back(k);
    out.push_back(std::move(info));
  }
  return out;
}

std::string impl_label(Backend backend, Device device) {
  const runtime::BackendImpl* b = runtime::find_backend(backend);
  return b ? b->impl_label(device) : std::string(backend_name(backend));
}

}  // namespace jagtile
