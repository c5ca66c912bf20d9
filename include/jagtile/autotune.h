// The autotuner: for one kernel, its argument types and a shape bucket, the config (Config) that
// runs fastest on this machine, found by a seeded search over a space derived from the kernel's
// IR and its backend, checked against the default config's outputs, and stored as JSON in the
// cache folder so that later calls (Program::call, `jagtile run/bench`, Python) use it without
// being asked. See docs/autotune.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jagtile/compiler.h"

namespace jagtile {

// The jagtile version every stored entry is keyed on (a new version tunes again).
inline constexpr std::string_view kJagtileVersion = "0.1.0";

// ---- the space ---------------------------------------------------------------------------

// One tunable: the Config field it sets and the values the search may give it (ascending).
struct TuneKnob {
  enum class Field : uint8_t { block_size, chunk_rows, workers };
  Field field = Field::block_size;
  size_t block_index = 0;  // for Field::block_size: which Config::block_sizes entry
  std::string name;        // "block_sizes[1]", "chunk_rows", "workers"
  std::string role;        // "tile_m: hl.tile over the columns", for --space
  std::vector<int64_t> values;
  int64_t default_value = 0;
  // True when the value never changes the order of floating-point operations (the template's
  // worker count), so a candidate must match the default's outputs bit for bit.
  bool keeps_result_bits = false;

  // The knob's value in a config (0: unset there, the default applies) and its setter.
  int64_t value_in(const Config& config) const;
  void set_in(Config& config, int64_t value) const;
};

struct TuneSpace {
  std::string kernel;
  std::string backend;  // the backend the search measures: "cpu", "template"
  std::vector<TuneKnob> knobs;
  Config defaults;  // the config a call uses without a stored entry (decorator's or defaults)
  // Limits a point must satisfy besides its knobs' value lists, in words.
  std::vector<std::string> constraints;
  // Tunables of the design that this backend does not honour yet, with why (for --space).
  std::vector<std::string> not_tunable;
  // Largest product of the block sizes of a tile value's dims (a tile array's element count):
  // the constraint above, enforced by admits() over tile_shapes.
  int64_t max_tile_elements = 0;
  // The knobs of each distinct tile value's tiled dims (a kernel's arrays: an operand's
  // [items, rows, columns], an accumulator's), from the kernel's IR.
  std::vector<std::vector<size_t>> tile_shapes;

  // The config at a point (one value index per knob).
  Config config_at(const std::vector<size_t>& point) const;
  // The point of the defaults.
  std::vector<size_t> default_point() const;
  // False when a point breaks a constraint.
  bool admits(const std::vector<size_t>& point) const;
  // Points in the space (before constraints).
  double size() const;
  // Human-readable: knobs with values and defaults, constraints, what is not tunable.
  std::string str() const;

  // Loop nesting, for the knobs' roles (an outermost tile has none): for each knob, the knobs of
  // enclosing loops. The tile-size constraint reads tile_shapes instead.
  std::vector<std::vector<size_t>> enclosing;
};

// The space for `kernel` called with `args` under `options` (its backend and decorator config).
// Raises UserError like Program::specialise.
TuneSpace tune_space(const Program& program, const std::string& kernel, const ArgMap& args,
                     const Options& options = {});

// ---- the search --------------------------------------------------------------------------

enum class TuneEffort : uint8_t { quick, full };
std::optional<TuneEffort> parse_tune_effort(std::string_view name);  // quick|full
std::string_view tune_effort_name(TuneEffort effort);

// Where a search stands, reported after every candidate.
struct TuneProgress {
  int done = 0;             // candidates measured (or rejected) so far
  int total = 0;            // the search's estimate of how many it will measure
  double default_ms = 0;    // the default config's time
  double best_ms = 0;       // the best so far
  double elapsed_s = 0;     // since the search started (compiles included)
  double eta_s = 0;         // estimated time left
  std::string last;         // the candidate just measured, and its outcome
  std::string best_config;  // Config::str of the best so far ("" for the defaults)
};

// Output check: |candidate - default| <= atol + rtol * |default|, element by element.
struct TuneTolerance {
  double atol = 0;
  double rtol = 0;
};

struct TuneOptions {
  TuneEffort effort = TuneEffort::quick;
  // Wall-clock budget in seconds for the search, compiles included. 0: 7 s for quick (the
  // quick effort never takes more), 60 s for full.
  double budget_s = 0;
  uint64_t seed = 0;  // restart points and tie order; the same seed tries the same points
  // Use a stored entry for this key without searching (for quick; a full search starts from a
  // quick entry instead). false: search and store again.
  bool use_stored = true;
  bool store = true;  // write the best config into the cache folder
  // Tolerance per output dtype for candidates whose knobs may reorder arithmetic; empty: the
  // built-in one (f32: 1e-4 absolute and relative; 16-bit: 1e-2).
  std::function<TuneTolerance(DType output)> tolerance;
  // Called after every candidate (from the measuring thread).
  std::function<void(const TuneProgress&)> progress;
  // How the caller made the arguments, when that determines them completely (the CLI: the
  // bundled example's shape options). Stored with the entry, so that stored_result() can answer
  // a later request without making the arguments.
  std::string request;
  // Set (e.g. by a SIGINT handler) to end the search early: the best config so far is kept,
  // stored and returned, with TuneResult::interrupted set.
  const std::atomic<bool>* stop = nullptr;
};

struct TuneResult {
  std::string kernel;
  Config config;          // the best found (the defaults when nothing beat them)
  Config default_config;  // what the search compared against
  double default_ms = 0;  // median, from the final interleaved comparison
  double best_ms = 0;
  double speedup = 1;       // default_ms / best_ms
  int candidates = 0;       // configs measured (the default included)
  int rejected = 0;         // of those: failed to compile or run, or whose outputs differed
  double seconds = 0;       // wall time of autotune()
  bool from_cache = false;  // a stored entry answered; nothing was measured
  bool interrupted = false;
  std::string key;               // the store key (a hash; see docs/autotune.md)
  std::string store_path;        // where the entry is stored ("" when not stored)
  std::vector<std::string> log;  // one line per candidate: config, time, outcome
};

// Searches the space of `kernel` for `args` and returns the best config (see TuneOptions).
// Raises UserError for bad arguments, a non-positive budget, or a kernel no backend can run.
TuneResult autotune(const Program& program, const std::string& kernel, const ArgMap& args,
                    const Options& options = {}, const TuneOptions& tune = {});

// The stored result autotune() would return for `kernel` and a TuneOptions::request, found
// without the arguments (same source, kernel, machine, compiler, version and checks; the request
// standing for the argument types and shape bucket); nullopt when there is none.
std::optional<TuneResult> stored_result(const Program& program, const std::string& kernel,
                                        const std::string& request, const Options& options = {},
                                        TuneEffort effort = TuneEffort::quick);

// ---- the store ---------------------------------------------------------------------------

// One stored entry, as `jagtile autotune --show` lists it.
struct StoredTuning {
  std::string key;             // hash of every part below
  std::string kernel;          // name
  std::string file;            // kernel file when tuned (informative; the key uses its hash)
  std::string source_hash;     // of the kernel file's source
  std::string specialisation;  // argument types, backend and checks: "x:f32[2] o:i32[1] | ..."
  std::string shape_bucket;    // "x=[2^18,2^8] o=[2^10] lengths(max<=2^9 mean/max~0.50)"
  std::string machine;         // CPU model, ISA, worker count
  std::string compiler;        // the JIT's compiler identity
  std::string version;         // jagtile version
  Config config;
  std::string effort;
  double default_ms = 0, best_ms = 0;
  int candidates = 0;
  std::string request;  // TuneOptions::request of the search ("" when none was given)
};

// The store file in `cache_dir` (empty: Options::cache_dir's default, as the JIT's cache).
std::string tune_store_path(const std::string& cache_dir = {});
// Every entry of the store (empty when there is none; a corrupt file warns and lists nothing).
std::vector<StoredTuning> stored_tunings(const std::string& cache_dir = {});

}  // namespace jagtile
