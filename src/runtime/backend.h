// The backend interface (in the spirit of ggml's): every way of running a kernel says which
// devices it runs on, whether it supports a specialisation (and why not), prepares an
// executable once per specialisation and code-changing options, and runs it. All backends are
// registered in one list (backend_registry), in the order `auto` tries them; Program::call,
// explain, `jagtile bench` and the tests walk that list and never name a backend's internals.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jagtile/compiler.h"
#include "runtime/specialisation.h"

namespace jagtile::runtime {

class BackendImpl {
 public:
  virtual ~BackendImpl() = default;

  virtual Backend id() const = 0;
  virtual std::string_view name() const = 0;  // what --backend takes
  virtual std::string description() const = 0;
  virtual bool runs_on(Device::Kind device) const = 0;
  // The label benchmarks and explain show for this backend on `device` ("generic-cpu").
  virtual std::string impl_label(Device device) const = 0;

  // Empty when this backend can run the specialisation, else why not (a clause, e.g. "the
  // kernel has no hl.jagged_tile loop"). A pure function of the specialisation: cached on it.
  virtual std::string why_not(const Specialisation& spec) const = 0;
  // Empty when the backend can run a call with these argument values (in parameter order), else
  // why not: the run-time guards a specialisation's decision rests on (a template plan's
  // SizeGuards). Checked on every call, so it must be cheap.
  virtual std::string why_not_call(const Specialisation& spec,
                                   const std::vector<ArgValue>& args) const {
    return {};
  }
  // Why the backend is switched off now by the environment (JAGTILE_DISABLE_TEMPLATES), or "".
  virtual std::string disabled_reason() const { return {}; }

  // The part of the options that changes what prepare() makes ("checked"); "" when none does.
  virtual std::string code_key(const Options& options) const { return {}; }
  // Makes the executable (compiles, loads, matches). `stats` says how (disk, compiled, ...).
  virtual std::shared_ptr<const Executable> prepare(const Specialisation& spec,
                                                    const Options& options,
                                                    PrepareStats* stats) const = 0;
  // Runs it on bound arguments (values in parameter order); returns the kernel's outputs.
  virtual std::vector<Tensor> run(const Specialisation& spec, const Executable& executable,
                                  const std::vector<ArgValue>& args,
                                  const Options& options) const = 0;

  // What explain shows: the generated source ("" when the backend generates none), the
  // planned form after each planning pass ("" when it has none).
  virtual std::string source(const Specialisation& spec, const Options& options) const {
    return {};
  }
  virtual std::string plan_trace(const Specialisation& spec, const Options& options) const {
    return {};
  }
};

// Every backend of this build, in `auto` order: template, cpu, cuda, interp.
const std::vector<const BackendImpl*>& backend_registry();
// The registered backend with this id; nullptr when this build has none.
const BackendImpl* find_backend(Backend id);

// Every guard of the specialisation's dispatch decision, evaluated on these arguments.
std::vector<DispatchGuard> dispatch_guards(const Specialisation& spec,
                                           const std::vector<ArgValue>& args);

// The dispatch decision as explain and the JAGTILE_DEBUG=dispatch log state it: "template
// jagged_reduce(...)" with its plan, or "generic" with the reason (the detector's, the
// environment's, or "backend 'cpu' requested" when the options chose: `forced`).
struct DispatchText {
  std::string dispatch;
  std::string reason;
  std::string plan;
  bool forced = false;
};
DispatchText dispatch_text(const Specialisation& spec, Backend requested);

// The backends' instances (one file each).
const BackendImpl& template_backend();
const BackendImpl& cpu_backend();
const BackendImpl& cuda_backend();
const BackendImpl& interp_backend();

}  // namespace jagtile::runtime
