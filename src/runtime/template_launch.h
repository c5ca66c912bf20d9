// Template routing: runs a kernel that the dispatch detector matched (analysis/dispatch.h)
// through the jagged_reduce library template instead of generic code, with the kernel's exact
// semantics: arguments bound by parameter name, the output allocated as the kernel would (same
// shape, dtype, device, and what its allocation holds where the kernel stores nothing), and
// exactly the kernel's return value.
//
// Program::call asks route_template first; Program::explain asks dispatch_decision. The
// decision per specialisation is computed once and cached.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/dispatch.h"
#include "jagtile/compiler.h"
#include "jagtile/reduce.h"
#include "runtime/program_impl.h"

namespace jagtile {

// The detector's result for one specialisation (cached: computed on first use only).
std::shared_ptr<const analysis::DispatchResult> dispatch_for(
    const std::shared_ptr<const Specialisation>& spec);

// True when JAGTILE_DISABLE_TEMPLATES is set to anything but "" or "0".
bool templates_disabled();

// For Program::call. Backend::template_lib: runs the template, or raises UserError "kernel K
// does not match the jagged_reduce template: REASON". Backend::auto_select: runs the template
// when the kernel matches (and templates are not disabled); otherwise returns nullopt and the
// caller takes its generic path. Any other backend: nullopt. Logs every decision to stderr
// under JAGTILE_DEBUG=dispatch.
std::optional<CallResult> route_template(const Program::Impl& impl, size_t kernel,
                                         const BoundArgs& bound, const Options& options);

// For Program::explain: fills dispatch, reason and plan of `decision` for this specialisation
// and requested backend.
void fill_dispatch_decision(DispatchDecision& decision,
                            const std::shared_ptr<const Specialisation>& spec,
                            const Options& options);

// Runs a matched plan on bound arguments (values in the kernel's parameter order).
std::vector<Tensor> run_template_plan(const analysis::ReducePlan& plan, const ir::Kernel& kernel,
                                      const std::vector<ArgValue>& values, const Options& options);

// ---- for benchmarks (`jagtile bench`) ------------------------------------------------------
// The direct library call the template path makes for a kernel call: time
// `jagged_reduce(call.values, call.offsets, call.spec)` against
// `program.call(kernel, args, {.backend = Backend::template_lib})` to measure what the compiler
// path costs over the library. nullopt (with the reason in *why) when the kernel does not match.
struct TemplateCall {
  analysis::ReducePlan plan;
  Tensor values;
  Tensor offsets;
  ReduceSpec spec;  // feature_counts, num_threads set from the arguments and options
};
std::optional<TemplateCall> template_call_for(const Program& program, const std::string& kernel,
                                              const ArgMap& args, const Options& options = {},
                                              std::string* why = nullptr);

}  // namespace jagtile
