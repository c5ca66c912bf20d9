// One specialisation of a kernel (argument kinds, dtypes, ranks, devices and the config; never
// sizes): its tile IR, its host/device split, the dispatch detector's result and each backend's
// prepared executable. Immutable after construction except for those lazily made, thread-safe
// caches, which hang off the specialisation itself: nothing is keyed by an address.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "analysis/dispatch.h"
#include "host/host_exec.h"
#include "host/host_program.h"
#include "ir/ir.h"
#include "ir/lower.h"
#include "jagtile/compiler.h"

namespace jagtile::runtime {

class BackendImpl;

// Arguments bound to a kernel's parameters, in declaration order.
struct BoundArgs {
  std::vector<ArgValue> values;      // defaults filled in
  std::vector<ir::ParamSpec> specs;  // what the specialisation depends on
  Device device;                     // of every tensor argument (the CPU when there is none)
};

// What a backend made for one specialisation: compiled code, a matched template plan.
class Executable {
 public:
  virtual ~Executable() = default;
};

struct ProgramState;

class Specialisation {
 public:
  Specialisation(const ProgramState& program, size_t kernel_index, std::string key,
                 const BoundArgs& bound, Config config, std::string config_origin);
  Specialisation(const Specialisation&) = delete;
  Specialisation& operator=(const Specialisation&) = delete;

  const ProgramState& program;
  const size_t kernel_index;
  const std::string key;  // content: source hash, kernel, argument types, config
  const Device device;
  const std::vector<ir::ParamSpec> specs;
  const Config config;              // in effect: the options' over the decorator's
  const std::string config_origin;  // "defaults", "decorator", "options", "decorator+options"
  const ir::LowerOptions lower_options;
  ir::Kernel kernel;
  host::HostProgram host;  // refers to `kernel`
  // The allocations of `kernel` it writes in full, which the generic backends leave unfilled
  // (analysis/fully_written.h).
  std::unordered_set<const ir::Node*> fully_written;
  // Those it writes in full on calls whose offsets cover them, checked per call.
  std::vector<host::ItemCoverCheck> written_when_items_cover;
  double lower_ms = 0;

  // The dispatch detector's result (computed on first use).
  const analysis::DispatchResult& dispatch() const;
  // Empty when `backend` supports this specialisation, else why not (cached per backend).
  const std::string& why_not(const BackendImpl& backend) const;
  // The backend's executable for these options (prepared on first use; `stats` says how).
  std::shared_ptr<const Executable> executable(const BackendImpl& backend, const Options& options,
                                               PrepareStats* stats = nullptr) const;
  // The IR after each lowering pass, recomputed (traces are recorded only when asked).
  std::string ir_trace() const;
  // True for the first caller only: debug output (JAGTILE_DEBUG=ir, =code) is printed once per
  // specialisation, not on every call that reuses it.
  bool first_debug_print() const { return !debug_printed_.exchange(true); }

 private:
  mutable std::atomic<bool> debug_printed_{false};
  mutable std::mutex mutex_;
  mutable std::once_flag dispatch_once_;
  mutable std::optional<analysis::DispatchResult> dispatch_;
  mutable std::array<std::optional<std::string>, 8> why_not_;
  mutable std::map<std::string, std::shared_ptr<const Executable>> executables_;
};

}  // namespace jagtile::runtime
