// The autotuner's store: one JSON file in the cache folder (autotune.json) holding the best
// config per key (kernel source hash, specialisation, shape bucket, machine, compiler, jagtile
// version). Writers lock a side file, merge their entry into what is on disk and publish with an
// atomic rename, so concurrent tuners all keep their entries and readers never see a partial
// file. Readers (every call without an explicit config) keep the parsed file in memory and look
// at the file's modification time at most twice a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "jagtile/autotune.h"
#include "runtime/specialisation.h"

namespace jagtile::runtime {

struct ProgramState;

// Everything a stored config depends on. Two calls share an entry only when every part matches.
struct TuneKey {
  std::string source_hash;
  std::string kernel;
  std::string specialisation;
  std::string shape_bucket;
  std::string machine;
  std::string compiler;
  std::string version;
  std::string hash() const;  // 16 hex digits over every part
};

// The key of a call: the bound arguments of kernel `ki` under `options`.
TuneKey tune_key(const ProgramState& program, size_t ki, const BoundArgs& bound,
                 const Options& options);
// tune_key(...).hash(), memoised per thread by a digest of what the key is made of: the call
// path's lookup builds the key's strings only for a new argument signature.
std::string call_key_hash(const ProgramState& program, size_t ki, const BoundArgs& bound,
                          const Options& options);
// The parts that need no arguments: source hash, kernel, machine, compiler, version.
TuneKey tune_key_without_args(const ProgramState& program, size_t ki, const Options& options);
// "x_values=[2^18,2^8] x_offsets=[2^10] lengths(x_offsets: max<=2^9, mean/max~0.50)": each size
// rounded up to a power of two, integer scalars too, and for each offsets-like argument (a
// non-decreasing 1-D integer tensor on the CPU) its longest item and mean/max length ratio.
std::string shape_bucket(const std::vector<ir::ParamSpec>& specs,
                         const std::vector<ArgValue>& values);
// The lengths of an offsets-like tensor (a non-decreasing 1-D integer tensor on the CPU with at
// least two elements): its longest item and mean/max ratio. nullopt for any other tensor.
struct LengthStats {
  int64_t longest = 0;
  double mean_over_max = 0;
};
std::optional<LengthStats> length_stats(const Tensor& t);
// The folder of the store under `options` (as the JIT's cache: Options::cache_dir, else
// JAGTILE_CACHE_DIR, else the default).
std::string tune_store_dir(const Options& options);
// False when JAGTILE_AUTOTUNE=0 turns stored configs off.
bool stored_configs_enabled();

class TuneStore {
 public:
  // The process-wide store of a folder (one per folder path).
  static TuneStore& for_dir(const std::string& dir);
  explicit TuneStore(std::string dir);

  const std::string& path() const { return path_; }
  // Whether any entry is for this kernel of this source: the cheap test every call makes
  // before computing its full key.
  bool has_entries_for(const std::string& source_hash, const std::string& kernel);
  // The entry with this key hash (nullptr when none); shared, so a call copies no strings.
  std::shared_ptr<const StoredTuning> find(const std::string& key_hash);
  std::vector<StoredTuning> all();
  // Adds or replaces the entry with its key (locked read-merge-write, atomic publish).
  // Raises UserError when the folder cannot be written.
  void save(const StoredTuning& entry);

 private:
  void refresh_if_due();
  void reload_locked();

  const std::string dir_;
  const std::string path_;
  std::shared_mutex mutex_;
  std::map<std::string, std::shared_ptr<const StoredTuning>> entries_;  // by key hash
  std::map<std::string, int> kernels_;  // "source_hash/kernel" -> entry count
  int64_t loaded_mtime_ns_ = -1;        // of the file parsed into entries_
  std::chrono::steady_clock::time_point next_check_{};
};

// The entry's JSON object and back (nullopt for a malformed entry).
std::string tuning_to_json(const StoredTuning& t);
struct JsonValue;
std::optional<StoredTuning> tuning_from_json(const JsonValue& v);

}  // namespace jagtile::runtime
