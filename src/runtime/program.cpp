// The compiler API (jagtile/compiler.h): Program (parse, list, specialise, call, explain) and
// Specialised (the handle on one specialisation). Every call is the same four steps, written
// out in Program::call: find the kernel, bind the arguments, find or make the specialisation,
// choose a backend from the registry and run it.
#include <fstream>
#include <iostream>
#include <sstream>

#include "host/host_exec.h"
#include "ir/pipeline.h"
#include "runtime/backend.h"
#include "runtime/program_state.h"

namespace jagtile {

using runtime::BackendImpl;
using runtime::BoundArgs;
using runtime::ProgramState;
using runtime::Specialisation;
using runtime::SpecialisedState;

std::optional<Backend> parse_backend(std::string_view name) {
  if (name == "auto") return Backend::auto_select;
  if (name == "template") return Backend::template_lib;
  if (name == "cpu") return Backend::cpu;
  if (name == "cuda") return Backend::cuda;
  if (name == "interp") return Backend::interp;
  return std::nullopt;
}

std::string_view backend_name(Backend backend) {
  switch (backend) {
    case Backend::auto_select:
      return "auto";
    case Backend::template_lib:
      return "template";
    case Backend::cpu:
      return "cpu";
    case Backend::cuda:
      return "cuda";
    case Backend::interp:
      return "interp";
  }
  return "?";
}

std::string Config::str() const {
  // Part of every call's specialisation key: plain appends, no stream.
  std::string s;
  bool any = false;
  for (int64_t b : block_sizes) any |= b > 0;
  if (any) {
    s += "block_sizes=[";
    for (size_t i = 0; i < block_sizes.size(); ++i)
      s += (i ? ", " : "") + std::to_string(block_sizes[i]);
    s += "]";
  }
  if (reduce_chunk_rows > 0)
    s += (s.empty() ? "" : " ") + ("chunk_rows=" + std::to_string(reduce_chunk_rows));
  if (reduce_workers > 0)
    s += (s.empty() ? "" : " ") + ("workers=" + std::to_string(reduce_workers));
  return s;
}

namespace {

// JAGTILE_DEBUG is read once per call (getenv walks the environment).
bool debug(bool env_set, bool flag, const char* what) {
  return flag || (env_set && ir::debug_enabled(what));
}

// The backend is chosen for the arguments the handle was made with (their guards included);
// run() checks the guards again for each call's own arguments.
std::shared_ptr<const SpecialisedState> make_state(std::shared_ptr<const ProgramState> program,
                                                   std::shared_ptr<const Specialisation> spec,
                                                   const Options& options,
                                                   const std::vector<ArgValue>& args) {
  auto s = std::make_shared<SpecialisedState>();
  s->program = std::move(program);
  s->spec = std::move(spec);
  s->options = options;
  s->guards = runtime::dispatch_guards(*s->spec, args);
  for (const BackendImpl* b : runtime::backend_registry())
    s->why_not_call.emplace_back(b, b->why_not_call(*s->spec, args));
  try {
    s->backend = &runtime::choose_backend(*s->spec, options.backend, &args);
  } catch (const UserError& e) {
    s->backend_error = e.what();
  }
  return s;
}

const BackendImpl& chosen(const SpecialisedState& s) {
  // Raises the choice's error again (it names the backend and why it cannot run the kernel).
  if (!s.backend) return runtime::choose_backend(*s.spec, s.options.backend);
  return *s.backend;
}

}  // namespace

// ---- Program ---------------------------------------------------------------------------------

Program Program::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw UserError("cannot read kernel file '" + path + "'", "check the path and permissions",
                    SourceLoc{path, 0, 0});
  std::ostringstream ss;
  ss << in.rdbuf();
  return from_source(ss.str(), path);
}

Program Program::from_source(const std::string& source, const std::string& file_name) {
  Program p;
  p.state_ = ProgramState::parse(source, file_name);
  return p;
}

const std::vector<KernelInfo>& Program::kernels() const {
  return state_->kernels;
}

const KernelInfo& Program::kernel(const std::string& name) const {
  return state_->kernels[state_->kernel_index(name)];
}

size_t Program::cached_specialisations() const {
  return state_->cache.size();
}

Specialised Program::specialise(const std::string& kernel_name, const ArgMap& args,
                                const Options& options) const {
  size_t ki = state_->kernel_index(kernel_name);
  BoundArgs bound = state_->bind(ki, args);
  return Specialised(
      make_state(state_, state_->specialise(ki, bound, options), options, bound.values));
}

CallResult Program::call(const std::string& kernel_name, const ArgMap& args,
                         const Options& options) const {
  const ProgramState& ps = *state_;
  const size_t ki = ps.kernel_index(kernel_name);
  const BoundArgs bound = ps.bind(ki, args);
  const std::shared_ptr<const Specialisation> spec = ps.specialise(ki, bound, options);
  const bool env_debug = std::getenv("JAGTILE_DEBUG") != nullptr;
  const BackendImpl& backend = runtime::choose_backend(*spec, options.backend, &bound.values);
  const bool want_ir = debug(env_debug, options.debug_ir, "ir");
  const bool want_code = debug(env_debug, options.debug_code, "code");
  if ((want_ir || want_code) && spec->first_debug_print()) {
    if (want_ir) std::cerr << spec->ir_trace();
    if (want_code) std::cerr << backend.source(*spec, options);
  }
  return runtime::run_bound(*spec, backend, bound, options, env_debug);
}

DispatchDecision Program::explain(const std::string& kernel_name, const ArgMap& args,
                                  const Options& options, std::string* ir_text,
                                  std::string* code_text) const {
  Specialised s = specialise(kernel_name, args, options);
  if (ir_text) *ir_text = s.ir_text();
  if (code_text) {
    // The source of the backend asked for (printing needs no device: `--backend cuda --code`
    // shows the CUDA on a machine without a GPU), else of the one that runs the kernel; for a
    // template dispatch, which generates none, the generated CPU code that would run without it.
    const Backend shown = options.backend != Backend::auto_select ? options.backend
                          : s.state().backend                     ? s.state().backend->id()
                                                                  : Backend::cpu;
    *code_text = s.source(shown);
    // CUDA asked for but not printable (its why_not) shows nothing rather than C++ in its place.
    if (code_text->empty() && shown != Backend::cuda) *code_text = s.source(Backend::cpu);
  }
  return s.decision();
}

// ---- Specialised -----------------------------------------------------------------------------

namespace {

// DispatchDecision::parallel_loops: what a program of the nest is on `backend` (the CPU decides
// per call whether an inner program loop's pairs are programs: codegen/cpu/backend.h).
std::string parallel_loop_text(const ir::Kernel& k, const host::DeviceNest& n, Backend backend) {
  const std::string outer = k.blocks.at(size_t(n.block)).name;
  std::string s = "loop over " + outer + " (line " + std::to_string(n.loop->loc.line) + "): ";
  if (n.inner_block >= 0) {
    const std::string pair = "(" + outer + ", " + k.blocks.at(size_t(n.inner_block)).name + ")";
    s += backend == Backend::cuda
             ? "a program per " + pair + " pair"
             : "a program per " + pair + " pair where that balances the threads, else per " + outer;
  } else {
    s += n.block_size > 1 ? "a program per block of " + std::to_string(n.block_size) + " " + outer
                          : "a program per " + outer;
  }
  if (n.item_offsets_slot >= 0 && backend == Backend::cpu) s += "; longest items first";
  return s;
}

}  // namespace

const std::string& Specialised::kernel() const {
  return state_->spec->kernel.name;
}

Device Specialised::device() const {
  return state_->spec->device;
}

Backend Specialised::backend() const {
  return chosen(*state_).id();
}

DispatchDecision Specialised::decision() const {
  const Specialisation& spec = *state_->spec;
  runtime::DispatchText t = runtime::dispatch_text(spec, state_->options.backend);
  DispatchDecision d;
  d.kernel = spec.kernel.name;
  d.dispatch = t.dispatch;
  d.reason = t.reason;
  d.plan = t.plan;
  d.device = spec.device.str();
  d.backend = state_->backend ? std::string(state_->backend->name()) : "none";
  std::string cfg = spec.config.str();
  d.config = (cfg.empty() ? std::string("defaults") : cfg) + " (from " + spec.config_origin + ")";
  d.guards = state_->guards;
  const Backend runs = state_->backend ? state_->backend->id() : Backend::interp;
  if (runs == Backend::cpu || runs == Backend::cuda) {  // the backends of generated code
    for (const ir::NodePtr& n : spec.kernel.body)
      if (spec.fully_written.count(n.get())) d.unfilled_outputs.push_back(n->name);
    for (const host::ItemCoverCheck& c : spec.written_when_items_cover) {
      const std::string offsets = spec.host.slot_nodes.at(size_t(c.offsets_slot))->name;
      d.unfilled_outputs.push_back(c.alloc->name + " (on calls where " + offsets +
                                   " starts at 0 and its items end at the last row)");
    }
    for (const host::DeviceNest& n : spec.host.nests)
      d.parallel_loops.push_back(parallel_loop_text(spec.kernel, n, runs));
  }
  for (const DispatchGuard& g : d.guards) {
    if (g.holds || !t.reason.empty()) continue;
    // The plan matched, but not for these arguments: they run on the generic path.
    d.dispatch = "generic";
    d.reason = "the guard " + g.condition + " does not hold for these arguments (" + g.values +
               "); calls where it holds run on the template";
    break;
  }
  return d;
}

std::string Specialised::ir_text() const {
  const Specialisation& spec = *state_->spec;
  std::string text = spec.ir_trace();
  // The planned loop nests of the backend that runs the kernel; for one that plans nothing (the
  // template), those of the generic CPU code that would run without it.
  std::string plan = state_->backend ? state_->backend->plan_trace(spec, state_->options) : "";
  if (plan.empty() && why_not(Backend::cpu).empty())
    plan = runtime::cpu_backend().plan_trace(spec, state_->options);
  return text + plan;
}

std::string Specialised::why_not(Backend backend) const {
  const Specialisation& spec = *state_->spec;
  const BackendImpl* b = runtime::find_backend(backend);
  if (!b) return "backend '" + std::string(backend_name(backend)) + "' is not in this build";
  if (!b->runs_on(spec.device.kind)) return "it does not run on " + spec.device.str();
  if (std::string off = b->disabled_reason(); !off.empty()) return off;
  if (const std::string& why = spec.why_not(*b); !why.empty()) return why;
  for (const auto& [backend_impl, why] : state_->why_not_call)
    if (backend_impl == b) return why;
  return {};
}

std::string Specialised::source(Backend backend) const {
  const BackendImpl* b = runtime::find_backend(backend);
  // Printing needs no device: a backend's source is shown even where it cannot run.
  if (!b || !state_->spec->why_not(*b).empty()) return {};
  return b->source(*state_->spec, state_->options);
}

PrepareStats Specialised::prepare() const {
  PrepareStats stats;
  state_->spec->executable(chosen(*state_), state_->options, &stats);
  return stats;
}

namespace {

// Binds a later call's arguments and checks that they have the types the handle was made with.
BoundArgs bind_same_types(const SpecialisedState& state, const ArgMap& args) {
  const Specialisation& spec = *state.spec;
  BoundArgs bound = state.program->bind(spec.kernel_index, args);
  for (size_t i = 0; i < bound.specs.size(); ++i) {
    const ir::ParamSpec& got = bound.specs[i];
    const ir::ParamSpec& want = spec.specs[i];
    if (got.kind != want.kind || got.dtype != want.dtype || got.rank != want.rank ||
        !(got.device == want.device))
      throw UserError("argument '" + got.name + "' of kernel '" + spec.kernel.name +
                          "' differs in type from the one this kernel was specialised on",
                      "specialise again for these arguments (Program::specialise or call)");
  }
  return bound;
}

// Skips every device nest: what is left of a run is the host part.
class SkipNests : public host::NestRunner {
 public:
  void run_nest(const host::DeviceNest&, const host::HostEnv&) override {}
};

}  // namespace

CallResult Specialised::run(const ArgMap& args) const {
  const Specialisation& spec = *state_->spec;
  BoundArgs bound = bind_same_types(*state_, args);
  // Chosen again for this call's values: the dispatch's guards are checked per call, as
  // Program::call does (the per-specialisation part of the choice is cached).
  const BackendImpl* backend =
      &runtime::choose_backend(spec, state_->options.backend, &bound.values);
  return runtime::run_bound(spec, *backend, bound, state_->options,
                            std::getenv("JAGTILE_DEBUG") != nullptr);
}

std::vector<Tensor> Specialised::dry_run(const ArgMap& args) const {
  BoundArgs bound = bind_same_types(*state_, args);
  SkipNests skip;
  return host::run_host(state_->spec->host, bound.values, skip);
}

double Specialised::lower_ms() const {
  return state_->spec->lower_ms;
}

}  // namespace jagtile
