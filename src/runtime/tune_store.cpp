// The autotuner's store (tune_store.h): the key of a call, the shape bucket, and the JSON file
// with its locked read-merge-write.
#include "runtime/tune_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "codegen/cpu/disk_cache.h"
#include "codegen/cpu/jit.h"
#include "core/hash.h"
#include "jagtile/reduce.h"
#include "jagtile/thread_pool.h"
#include "runtime/json_value.h"
#include "runtime/program_state.h"

namespace jagtile::runtime {

namespace {

// ceil(log2(n)); -1 for an empty size.
int pow2_exponent(int64_t n) {
  if (n <= 0) return -1;
  int k = 0;
  while ((int64_t(1) << k) < n && k < 62) ++k;
  return k;
}

// "2^k", or "0" for an empty size.
std::string pow2_bucket(int64_t n) {
  const int k = pow2_exponent(n);
  return k < 0 ? "0" : "2^" + std::to_string(k);
}

// Quarter steps of mean/max: uniform lengths (~0.5), heavy tails (~0.1), all equal (1).
int ratio_quarters(double mean_over_max) {
  return int(std::round(mean_over_max * 4));
}

std::string cpu_model() {
  static const std::string model = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("model name", 0) == 0) {
        size_t colon = line.find(':');
        std::string m = colon == std::string::npos ? line : line.substr(colon + 1);
        while (!m.empty() && m.front() == ' ') m.erase(m.begin());
        return m;
      }
    return std::string("unknown CPU");
  }();
  return model;
}

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

std::string specialisation_text(const std::vector<ir::ParamSpec>& specs, const Options& options) {
  std::string s;
  for (size_t i = 0; i < specs.size(); ++i) {
    const ir::ParamSpec& p = specs[i];
    s += (i ? " " : "") + p.name + ":";
    switch (p.kind) {
      case ir::ParamKind::tensor:
        s +=
            std::string(dtype_name(p.dtype)) + "[" + std::to_string(p.rank) + "]@" + p.device.str();
        break;
      case ir::ParamKind::none:
        s += "none";
        break;
      case ir::ParamKind::int_scalar:
        s += "int";
        break;
      case ir::ParamKind::float_scalar:
        s += "float";
        break;
      case ir::ParamKind::bool_scalar:
        s += "bool";
        break;
    }
  }
  // Not the backend: a config's fields are read only by the backend they tune (block sizes by
  // the generic path, chunk rows and workers by the template), so `bench`'s per-backend rows
  // and an `auto` call share the entry.
  return s + (options.checked ? " | checked" : " | unchecked");
}

}  // namespace

std::optional<LengthStats> length_stats(const Tensor& t) {
  if (t.dim() != 1 || t.numel() < 2 || !t.device().is_cpu()) return std::nullopt;
  if (t.dtype() != DType::i32 && t.dtype() != DType::i64) return std::nullopt;
  int64_t longest = 0;
  const int64_t n = t.numel();
  auto scan = [&](const auto* o) -> bool {
    for (int64_t i = 0; i + 1 < n; ++i) {
      int64_t len = int64_t(o[i + 1]) - int64_t(o[i]);
      if (len < 0) return false;
      longest = std::max(longest, len);
    }
    return true;
  };
  bool ok = t.dtype() == DType::i32 ? scan(static_cast<const int32_t*>(t.raw_data()))
                                    : scan(static_cast<const int64_t*>(t.raw_data()));
  if (!ok) return std::nullopt;
  double total = t.item_as_double(n - 1) - t.item_as_double(0);
  double mean = total / double(n - 1);
  return LengthStats{longest, longest > 0 ? mean / double(longest) : 0.0};
}

std::string TuneKey::hash() const {
  uint64_t h = fnv1a64(source_hash);
  for (const std::string* part :
       {&kernel, &specialisation, &shape_bucket, &machine, &compiler, &version})
    h = fnv1a64(*part, fnv1a64("|", h));
  return hex64(h);
}

std::string shape_bucket(const std::vector<ir::ParamSpec>& specs,
                         const std::vector<ArgValue>& values) {
  std::string s, lengths;
  for (size_t i = 0; i < specs.size() && i < values.size(); ++i) {
    const ArgValue& v = values[i];
    if (const Tensor* t = std::get_if<Tensor>(&v)) {
      s += (s.empty() ? "" : " ") + specs[i].name + "=[";
      for (int64_t d = 0; d < t->dim(); ++d) s += (d ? "," : "") + pow2_bucket(t->size(d));
      s += "]";
      if (auto stats = length_stats(*t)) {
        char ratio[16];
        std::snprintf(ratio, sizeof ratio, "%.2f", ratio_quarters(stats->mean_over_max) / 4.0);
        lengths += (lengths.empty() ? "" : ", ") + specs[i].name +
                   ": max<=" + pow2_bucket(stats->longest) + " mean/max~" + ratio;
      }
    } else if (const int64_t* n = std::get_if<int64_t>(&v)) {
      s += (s.empty() ? "" : " ") + specs[i].name + "=" + pow2_bucket(*n);
    }
  }
  return lengths.empty() ? s : s + " lengths(" + lengths + ")";
}

TuneKey tune_key(const ProgramState& program, size_t ki, const BoundArgs& bound,
                 const Options& options) {
  TuneKey k = tune_key_without_args(program, ki, options);
  k.specialisation = specialisation_text(bound.specs, options);
  k.shape_bucket = shape_bucket(bound.specs, bound.values);
  return k;
}

std::string call_key_hash(const ProgramState& program, size_t ki, const BoundArgs& bound,
                          const Options& options) {
  // A digest of everything the readable key is made of (the shape bucket's exponents, not its
  // text), so that only a new digest builds the key's strings.
  uint64_t h = fnv1a64(program.source_hash);
  auto mix = [&h](int64_t v) {
    h = fnv1a64(std::string_view(reinterpret_cast<const char*>(&v), sizeof v), h);
  };
  mix(int64_t(ki));
  mix(options.checked);
  mix(options.num_threads > 0 ? options.num_threads : ThreadPool::global().size());
  for (size_t i = 0; i < bound.specs.size() && i < bound.values.size(); ++i) {
    const ir::ParamSpec& s = bound.specs[i];
    mix(int64_t(s.kind)), mix(int64_t(s.dtype)), mix(s.rank), mix(int64_t(s.device.kind));
    mix(s.device.index);
    if (const Tensor* t = std::get_if<Tensor>(&bound.values[i])) {
      for (int64_t d = 0; d < t->dim(); ++d) mix(pow2_exponent(t->size(d)));
      if (auto stats = length_stats(*t))
        mix(pow2_exponent(stats->longest)), mix(ratio_quarters(stats->mean_over_max));
      else
        mix(-2);
    } else if (const int64_t* n = std::get_if<int64_t>(&bound.values[i])) {
      mix(pow2_exponent(*n));
    }
  }
  thread_local std::unordered_map<uint64_t, std::string> memo;
  if (auto it = memo.find(h); it != memo.end()) return it->second;
  if (memo.size() >= 1024) memo.clear();  // bounded; recomputing is only slower
  return memo[h] = tune_key(program, ki, bound, options).hash();
}

TuneKey tune_key_without_args(const ProgramState& program, size_t ki, const Options& options) {
  TuneKey k;
  k.source_hash = program.source_hash;
  k.kernel = program.kernels[ki].name;
  const int workers = options.num_threads > 0 ? options.num_threads : ThreadPool::global().size();
  k.machine =
      cpu_model() + " isa=" + std::string(reduce_cpu_isa()) + " workers=" + std::to_string(workers);
  // "c++: c++ (Debian 12.2.0-14) 12.2.0": the command and the first line of its --version.
  static const std::string compiler = [] {
    const std::string id = codegen::cpu::compiler_identity();
    const size_t nl = id.find('\n');
    return nl == std::string::npos ? id : id.substr(0, nl) + ": " + first_line(id.substr(nl + 1));
  }();
  k.compiler = compiler;
  k.version = std::string(kJagtileVersion);
  return k;
}

std::string tune_store_dir(const Options& options) {
  return options.cache_dir.empty() ? codegen::cpu::default_cache_dir() : options.cache_dir;
}

bool stored_configs_enabled() {
  const char* v = std::getenv("JAGTILE_AUTOTUNE");
  return !(v && std::string_view(v) == "0");
}

// ---- JSON -----------------------------------------------------------------------------------

std::string tuning_to_json(const StoredTuning& t) {
  std::string bs;
  for (size_t i = 0; i < t.config.block_sizes.size(); ++i)
    bs += (i ? ", " : "") + std::to_string(t.config.block_sizes[i]);
  return "{\"key\": " + json_quote(t.key) + ", \"kernel\": " + json_quote(t.kernel) +
         ", \"file\": " + json_quote(t.file) + ", \"source_hash\": " + json_quote(t.source_hash) +
         ", \"specialisation\": " + json_quote(t.specialisation) +
         ", \"shape_bucket\": " + json_quote(t.shape_bucket) +
         ", \"machine\": " + json_quote(t.machine) + ", \"compiler\": " + json_quote(t.compiler) +
         ", \"version\": " + json_quote(t.version) + ", \"config\": {\"block_sizes\": [" + bs +
         "], \"chunk_rows\": " + std::to_string(t.config.reduce_chunk_rows) +
         ", \"workers\": " + std::to_string(t.config.reduce_workers) +
         "}, \"effort\": " + json_quote(t.effort) +
         ", \"default_ms\": " + json_number(t.default_ms) +
         ", \"best_ms\": " + json_number(t.best_ms) +
         ", \"candidates\": " + std::to_string(t.candidates) +
         ", \"request\": " + json_quote(t.request) + "}";
}

std::optional<StoredTuning> tuning_from_json(const JsonValue& v) {
  const JsonValue* config = v.find("config");
  if (v.kind != JsonValue::Kind::object || !config || v.str_or("key").empty()) return std::nullopt;
  StoredTuning t;
  t.key = v.str_or("key");
  t.kernel = v.str_or("kernel");
  t.file = v.str_or("file");
  t.source_hash = v.str_or("source_hash");
  t.specialisation = v.str_or("specialisation");
  t.shape_bucket = v.str_or("shape_bucket");
  t.machine = v.str_or("machine");
  t.compiler = v.str_or("compiler");
  t.version = v.str_or("version");
  t.effort = v.str_or("effort");
  t.request = v.str_or("request");
  t.default_ms = v.num_or("default_ms");
  t.best_ms = v.num_or("best_ms");
  t.candidates = int(v.num_or("candidates"));
  if (const JsonValue* bs = config->find("block_sizes")) {
    if (bs->kind != JsonValue::Kind::array) return std::nullopt;
    for (const JsonValue& b : bs->array) {
      if (b.kind != JsonValue::Kind::number || b.number < 0 || b.number > (1 << 20))
        return std::nullopt;
      t.config.block_sizes.push_back(int64_t(b.number));
    }
  }
  t.config.reduce_chunk_rows = int64_t(config->num_or("chunk_rows"));
  t.config.reduce_workers = int(config->num_or("workers"));
  if (t.config.reduce_chunk_rows < 0 || t.config.reduce_workers < 0) return std::nullopt;
  return t;
}

// ---- the file -------------------------------------------------------------------------------

namespace {

int64_t mtime_ns(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// The entries of the file at `path`; a missing file is empty, a corrupt one warns (once per
// version of the file) and reads as empty, so the next save rewrites it whole.
std::vector<StoredTuning> read_store(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  JsonValue doc;
  std::string error;
  const JsonValue* entries = nullptr;
  if (parse_json(ss.str(), &doc, &error)) {
    entries = doc.find("entries");
    if (!entries || entries->kind != JsonValue::Kind::array)
      error = "it has no \"entries\" list", entries = nullptr;
  }
  if (!entries) {
    static std::mutex warned_mutex;
    static std::set<std::string> warned;
    std::lock_guard<std::mutex> lock(warned_mutex);
    if (warned.insert(path + "@" + std::to_string(mtime_ns(path))).second)
      std::cerr << "jagtile: warning: ignoring the autotune store '" << path << "': it is corrupt ("
                << error
                << "); stored configs are not used until the next `jagtile autotune` rewrites "
                   "it\n";
    return {};
  }
  std::vector<StoredTuning> out;
  for (const JsonValue& e : entries->array)
    if (auto t = tuning_from_json(e)) out.push_back(std::move(*t));
  return out;
}

std::string render_store(const std::map<std::string, StoredTuning>& entries) {
  std::string s = "{\"format\": \"jagtile-autotune\", \"version\": 1, \"entries\": [\n";
  bool first = true;
  for (const auto& [key, t] : entries) {
    s += (first ? "  " : ",\n  ") + tuning_to_json(t);
    first = false;
  }
  return s + "\n]}\n";
}

void make_dirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos)
    if (pos == dir.size() || dir[pos] == '/') ::mkdir(dir.substr(0, pos).c_str(), 0755);
}

}  // namespace

TuneStore& TuneStore::for_dir(const std::string& dir) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<TuneStore>> stores;  // by folder path
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = stores[dir];
  if (!slot) slot = std::make_unique<TuneStore>(dir);
  return *slot;
}

TuneStore::TuneStore(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/autotune.json") {}

void TuneStore::reload_locked() {
  entries_.clear();
  kernels_.clear();
  loaded_mtime_ns_ = mtime_ns(path_);
  for (StoredTuning& t : read_store(path_)) {
    ++kernels_[t.source_hash + "/" + t.kernel];
    const std::string key = t.key;
    entries_[key] = std::make_shared<const StoredTuning>(std::move(t));
  }
}

void TuneStore::refresh_if_due() {
  const auto now = std::chrono::steady_clock::now();
  {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    if (now < next_check_) return;
  }
  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (now < next_check_) return;
  next_check_ = now + std::chrono::milliseconds(500);
  if (mtime_ns(path_) != loaded_mtime_ns_) reload_locked();
}

bool TuneStore::has_entries_for(const std::string& source_hash, const std::string& kernel) {
  refresh_if_due();
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return kernels_.count(source_hash + "/" + kernel) > 0;
}

std::shared_ptr<const StoredTuning> TuneStore::find(const std::string& key_hash) {
  refresh_if_due();
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = entries_.find(key_hash);
  return it == entries_.end() ? nullptr : it->second;
}

std::vector<StoredTuning> TuneStore::all() {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  reload_locked();  // a listing is always current
  next_check_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  std::vector<StoredTuning> out;
  for (const auto& [key, t] : entries_) out.push_back(*t);
  return out;
}

void TuneStore::save(const StoredTuning& entry) {
  make_dirs(dir_);
  const std::string lock_path = path_ + ".lock";
  int fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    throw UserError("cannot write the autotune store in '" + dir_ + "'",
                    "make the folder writable, or set JAGTILE_CACHE_DIR to one that is");
  // Held across read, merge and rename: a second tuner waits here and then merges into the
  // file the first one published, so neither entry is lost.
  while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  std::map<std::string, StoredTuning> merged;
  for (StoredTuning& t : read_store(path_)) merged[t.key] = std::move(t);
  merged[entry.key] = entry;
  const std::string text = render_store(merged);
  std::ostringstream tmp_name;
  tmp_name << path_ << ".tmp." << ::getpid() << "." << std::this_thread::get_id();
  const std::string tmp = tmp_name.str();
  bool ok = false;
  if (FILE* f = std::fopen(tmp.c_str(), "wb")) {
    ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = (std::fflush(f) == 0) && ok;
    ok = (::fsync(::fileno(f)) == 0) && ok;
    ok = (std::fclose(f) == 0) && ok;
  }
  ok = ok && ::rename(tmp.c_str(), path_.c_str()) == 0;
  if (!ok) ::unlink(tmp.c_str());
  ::flock(fd, LOCK_UN);
  ::close(fd);
  if (!ok)
    throw UserError("cannot write the autotune store '" + path_ + "'",
                    "make the folder writable, or set JAGTILE_CACHE_DIR to one that is");
  std::unique_lock<std::shared_mutex> lock(mutex_);
  reload_locked();
}

}  // namespace jagtile::runtime

namespace jagtile {

std::string tune_store_path(const std::string& cache_dir) {
  Options o;
  o.cache_dir = cache_dir;
  return runtime::TuneStore::for_dir(runtime::tune_store_dir(o)).path();
}

std::vector<StoredTuning> stored_tunings(const std::string& cache_dir) {
  Options o;
  o.cache_dir = cache_dir;
  return runtime::TuneStore::for_dir(runtime::tune_store_dir(o)).all();
}

}  // namespace jagtile
