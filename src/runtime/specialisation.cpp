// A specialisation (see specialisation.h): lowering on construction, and the lazily made,
// mutex-guarded caches that hang off it.
#include "runtime/specialisation.h"

#include <chrono>

#include "analysis/fully_written.h"
#include "ir/pipeline.h"
#include "runtime/backend.h"
#include "runtime/program_state.h"

namespace jagtile::runtime {

namespace {

ir::LowerOptions lower_options_for(const Config& config) {
  ir::LowerOptions lo;
  lo.block_sizes = config.block_sizes;
  return lo;
}

}  // namespace

Specialisation::Specialisation(const ProgramState& program_state, size_t index, std::string k,
                               const BoundArgs& bound, Config cfg, std::string origin)
    : program(program_state),
      kernel_index(index),
      key(std::move(k)),
      device(bound.device),
      specs(bound.specs),
      config(std::move(cfg)),
      config_origin(std::move(origin)),
      lower_options(lower_options_for(config)) {
  auto t0 = std::chrono::steady_clock::now();
  ir::CompiledIR c = ir::compile_ir(*program.module, *program.defs[kernel_index], specs,
                                    lower_options, /*trace=*/false);
  kernel = std::move(c.kernel);
  host = host::split_host_device(kernel);
  analysis::WrittenInFull written = analysis::written_in_full(kernel);
  fully_written = std::move(written.always);
  for (const analysis::ItemRowsCover& c : written.by_items) {
    const int offsets_slot = host.param_slots.at(size_t(c.offsets_param));
    if (offsets_slot < 0) continue;
    written_when_items_cover.push_back(
        {c.alloc, offsets_slot, host.slot(c.items), c.row_length ? host.slot(c.row_length) : -1});
  }
  lower_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

const analysis::DispatchResult& Specialisation::dispatch() const {
  std::call_once(dispatch_once_, [&] { dispatch_ = analysis::detect_dispatch(kernel); });
  return *dispatch_;
}

const std::string& Specialisation::why_not(const BackendImpl& backend) const {
  const size_t slot = size_t(backend.id());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (why_not_.at(slot)) return *why_not_[slot];
  }
  // Computed outside the lock (it may run the dispatch detector); pure, so a race computes the
  // same text twice and keeps the first.
  std::string why = backend.why_not(*this);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!why_not_[slot]) why_not_[slot] = std::move(why);
  return *why_not_[slot];
}

std::shared_ptr<const Executable> Specialisation::executable(const BackendImpl& backend,
                                                             const Options& options,
                                                             PrepareStats* stats) const {
  std::string cache_key = std::string(backend.name()) + "|" + backend.code_key(options);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = executables_.find(cache_key);
    if (it != executables_.end()) {
      if (stats) *stats = PrepareStats{PrepareStats::Source::memory, 0};
      return it->second;
    }
  }
  // Prepared outside the lock: a compile takes a second and must not block other backends'
  // calls. Two threads racing both prepare; the first result is kept.
  auto t0 = std::chrono::steady_clock::now();
  PrepareStats local;
  std::shared_ptr<const Executable> exe = backend.prepare(*this, options, &local);
  local.ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (stats) *stats = local;
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = executables_.emplace(cache_key, exe);
  return it->second;
}

std::string Specialisation::ir_trace() const {
  ir::CompiledIR c = ir::compile_ir(*program.module, *program.defs[kernel_index], specs,
                                    lower_options, /*trace=*/true);
  return c.trace + "== host/device split ==\n" + host.to_string();
}

}  // namespace jagtile::runtime
