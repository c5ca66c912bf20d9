// What a Program holds (the parsed file, its kernels, their decorator configs) and the steps
// every call shares: bind the arguments by parameter name, find or make the specialisation in
// the Program's one bounded cache, pick the backend. Internal to the runtime (and its tests).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "jagtile/compiler.h"
#include "lang/ast.h"
#include "lang/check.h"
#include "runtime/specialisation.h"

namespace jagtile::runtime {

// Specialisations by content key, least recently used evicted first beyond `capacity`. A
// handle (Specialised) keeps an evicted entry alive while it is used.
class SpecialisationCache {
 public:
  static constexpr size_t kDefaultCapacity = 256;
  explicit SpecialisationCache(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  std::shared_ptr<const Specialisation> find(const std::string& key) const;
  // Inserts unless the key is present (two threads racing: the first one wins); returns the
  // entry now cached.
  std::shared_ptr<const Specialisation> insert(std::shared_ptr<const Specialisation> spec) const;
  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const Specialisation> spec;
    std::list<std::string>::iterator age;
  };
  const size_t capacity_;
  mutable std::mutex mutex_;
  mutable std::list<std::string> ages_;  // most recent first
  mutable std::unordered_map<std::string, Entry> entries_;
};

struct ProgramState {
  std::string file;
  std::string source_hash;  // of the whole file: part of every specialisation key
  std::unique_ptr<ast::Module> module;
  std::vector<const ast::Stmt*> defs;  // parallel to kernels
  std::vector<KernelInfo> kernels;
  std::vector<lang::KernelConfig> configs;
  SpecialisationCache cache;

  // Parses and checks a kernel file's source (UserError with file:line:col).
  static std::shared_ptr<const ProgramState> parse(const std::string& source,
                                                   const std::string& file_name);

  size_t kernel_index(const std::string& name) const;  // UserError when unknown / ambiguous
  BoundArgs bind(size_t kernel, const ArgMap& args) const;
  // The specialisation for these bound arguments and options (made on first use).
  std::shared_ptr<const Specialisation> specialise(size_t kernel, const BoundArgs& bound,
                                                   const Options& options) const;
};

// The backend that runs `spec` under `requested`: that backend (UserError saying why when it
// cannot), or for `auto` the first registered backend that supports the kernel and its device.
// With `args` (a call's values), each backend's per-call guards are checked too (why_not_call);
// without, the choice holds for the specialisation's argument types.
const BackendImpl& choose_backend(const Specialisation& spec, Backend requested,
                                  const std::vector<ArgValue>* args = nullptr);

// Runs a bound call on the chosen backend (prepares its executable on first use). With
// `debug_env` (JAGTILE_DEBUG is set), logs the dispatch when it asks for that.
CallResult run_bound(const Specialisation& spec, const BackendImpl& backend, const BoundArgs& bound,
                     const Options& options, bool debug_env);

// The state behind a Specialised handle.
struct SpecialisedState {
  std::shared_ptr<const ProgramState> program;
  std::shared_ptr<const Specialisation> spec;
  Options options;
  const BackendImpl* backend = nullptr;  // nullptr: none can run it (run() raises why)
  std::string backend_error;
  std::vector<DispatchGuard> guards;  // the dispatch's guards on the handle's arguments
  // Each backend's why_not_call on the handle's arguments ("" where it can run them).
  std::vector<std::pair<const BackendImpl*, std::string>> why_not_call;
};

}  // namespace jagtile::runtime
