// Reads a kernel's decorator as configuration. Helion kernels carry their tuning in the
// decorator (config dicts, helion.Config, settings such as autotune_effort); jagtile honours
// the block sizes and records the rest, so a Helion kernel compiles with its decorator as is.
#include "lang/decorator.h"

#include <algorithm>
#include <string_view>

#include "jagtile/error.h"
#include "jagtile/names.h"

namespace jagtile::lang {

using ast::Expr;
using ast::ExprKind;
using ast::Pos;

namespace {

constexpr const char* kLaunchOnly =
    "recorded; a GPU launch or Triton setting with no effect on jagtile's backends yet";
constexpr const char* kAutotune =
    "recorded; jagtile tunes only when asked (`jagtile autotune`, jagtile.autotune) and otherwise "
    "uses a stored autotune entry, the decorator's or the default config";
constexpr const char* kNoEffect = "recorded; no effect in jagtile";

}  // namespace

const std::vector<KnownDecoratorKey>& known_config_keys() {
  static const std::vector<KnownDecoratorKey> keys = {
      {"block_sizes",
       "honoured: the tile sizes, in order of first appearance of each tile "
       "dimension (Helion's order)"},
      {"num_warps", kLaunchOnly},
      {"num_stages", kLaunchOnly},
      {"num_threads", kLaunchOnly},
      {"maxnreg", kLaunchOnly},
      {"num_sm_multiplier", kLaunchOnly},
      {"pid_type", kLaunchOnly},
      {"indexing", kLaunchOnly},
      {"atomic_indexing", kLaunchOnly},
      {"l2_groupings", kLaunchOnly},
      {"loop_orders", "recorded; jagtile runs tile loops in source order"},
      {"flatten_loops", kLaunchOnly},
      {"reduction_loops", "recorded; the planner decides how a reduction is looped"},
      {"range_unroll_factors", kLaunchOnly},
      {"range_warp_specializes", kLaunchOnly},
      {"range_num_stages", kLaunchOnly},
      {"range_multi_buffers", kLaunchOnly},
      {"range_flattens", kLaunchOnly},
      {"static_ranges", kLaunchOnly},
      {"load_eviction_policies", kLaunchOnly},
      {"load_cache_modifiers", kLaunchOnly},
      {"store_cache_modifiers", kLaunchOnly},
      {"pallas_load_buffer_count", kLaunchOnly},
      {"pallas_loop_type", kLaunchOnly},
      {"pallas_worklist_grouping", kLaunchOnly},
      {"pallas_indirect_access_mode", kLaunchOnly},
      {"pallas_pre_broadcast", kLaunchOnly},
      {"advanced_controls_file", kLaunchOnly},
      {"epilogue_subtile", kLaunchOnly},
      {"xcd_remap", kLaunchOnly},
  };
  return keys;
}

const std::vector<KnownDecoratorKey>& known_kernel_settings() {
  static const std::vector<KnownDecoratorKey> keys = {
      {"key", "recorded; jagtile's specialisation key already covers every argument"},
      {"batched", "recorded (helion.aot_kernel); jagtile specialises per call shape"},
      {"collect_fn", "recorded (helion.aot_kernel); jagtile has no AOT heuristics to collect"},
      {"measure_fn", "recorded (helion.aot_kernel); jagtile has no AOT heuristics to measure"},
      {"backend", "recorded; choose jagtile's backend with Options::backend or --backend"},
      {"static_shapes", "recorded; jagtile specialises on argument dtypes and ranks either way"},
      {"index_dtype", "recorded; generated code indexes with int64"},
      {"dot_precision", "recorded; jagtile accumulates in fp32"},
      {"fast_math", kNoEffect},
      {"ignore_warnings", kNoEffect},
      {"print_output_code", "recorded; use jagtile explain --code or JAGTILE_DEBUG=code"},
      {"print_repro", kNoEffect},
      {"output_origin_lines", kNoEffect},
      {"persistent_reserved_sms", kLaunchOnly},
      {"allow_warp_specialize", kLaunchOnly},
      {"debug_dtype_asserts", kNoEffect},
      {"ref_mode", "recorded; run the reference with --backend interp"},
      {"distributed", kNoEffect},
      {"torch_compile_fusion", kNoEffect},
      {"triton_do_not_specialize", kLaunchOnly},
      {"pallas_collective_id", kLaunchOnly},
      {"pallas_interpret", kLaunchOnly},
      {"pallas_topk_recall_target", kLaunchOnly},
      {"force_autotune", kAutotune},
      {"autotune_effort", kAutotune},
      {"autotune_force_persistent", kAutotune},
      {"autotune_log_level", kAutotune},
      {"autotune_log", kAutotune},
      {"autotune_log_details", kAutotune},
      {"autotune_compile_timeout", kAutotune},
      {"autotune_benchmark_subprocess", kAutotune},
      {"autotune_benchmark_timeout", kAutotune},
      {"autotune_precompile", kAutotune},
      {"autotune_precompile_jobs", kAutotune},
      {"autotune_random_seed", kAutotune},
      {"autotune_best_of_k", kAutotune},
      {"autotune_accuracy_check", kAutotune},
      {"autotune_rebenchmark_threshold", kAutotune},
      {"autotune_suspicious_rebenchmark_ratio", kAutotune},
      {"autotune_search_acf", kAutotune},
      {"autotune_progress_bar", kAutotune},
      {"autotune_max_generations", kAutotune},
      {"autotune_budget_seconds", kAutotune},
      {"autotune_ignore_errors", kAutotune},
      {"autotune_adaptive_timeout", kAutotune},
      {"autotune_config_overrides", kAutotune},
      {"autotune_seed_configs", kAutotune},
      {"disable_autotuner_heuristics", kAutotune},
      {"autotune_cache", kAutotune},
      {"autotuner_fn", kAutotune},
      {"autotune_baseline_fn", kAutotune},
      {"autotune_baseline_atol", kAutotune},
      {"autotune_baseline_rtol", kAutotune},
      {"autotune_baseline_accuracy_check_fn", kAutotune},
      {"autotune_benchmark_fn", kAutotune},
      {"autotune_best_available_max_configs", kAutotune},
      {"autotune_best_available_max_cache_scan", kAutotune},
      {"autotune_initial_population_strategy", kAutotune},
      {"autotune_with_torch_compile_fusion", kAutotune},
      {"autotune_config_filter", kAutotune},
      {"autotune_log_search_space", kAutotune},
      {"autotune_log_search_space_verbose", kAutotune},
      {"autotune_log_search_space_path", kAutotune},
  };
  return keys;
}

namespace {

const KnownDecoratorKey* find_key(const std::vector<KnownDecoratorKey>& table,
                                  std::string_view name) {
  for (const KnownDecoratorKey& k : table)
    if (name == k.name) return &k;
  return nullptr;
}

std::vector<std::string> names_of(const std::vector<KnownDecoratorKey>& table) {
  std::vector<std::string> out;
  for (const KnownDecoratorKey& k : table) out.push_back(k.name);
  return out;
}

// Helion's singular spellings of list-valued config keys ({"block_size": 16} means
// block_sizes=[16]).
bool is_singular_alias(std::string_view key) {
  static const char* const kSingular[] = {
      "block_size",         "loop_order",          "reduction_loop",        "l2_grouping",
      "flatten_loop",       "range_unroll_factor", "range_warp_specialize", "range_num_stage",
      "range_multi_buffer", "range_flatten",       "static_range"};
  return std::find(std::begin(kSingular), std::end(kSingular), key) != std::end(kSingular);
}

// The last component of a dotted callee: "helion.Config" -> "Config".
std::string callee_last(const Expr& call) {
  const Expr* f = call.func.get();
  if (!f) return "";
  if (f->kind == ExprKind::name) return f->id;
  if (f->kind == ExprKind::attribute) return f->id;
  return "";
}

class DecoratorReader {
 public:
  explicit DecoratorReader(const ast::Module& m) : m_(m) {}

  KernelConfig read(const ast::Stmt& def) {
    for (const auto& d : def.decorators) {
      if (d->kind != ExprKind::call) continue;  // a bare @helion.kernel
      for (const ast::Keyword& k : d->keywords) keyword(k);
    }
    if (tpu_backend_) drop_tpu_block_sizes();
    return std::move(cfg_);
  }

 private:
  [[noreturn]] void fail(Pos pos, std::string msg, std::string hint) {
    throw ast::error_at(m_, pos, std::move(msg), std::move(hint));
  }

  void warn(Pos pos, std::string msg, std::string hint) {
    std::string line;
    if (pos.line >= 1 && size_t(pos.line) <= m_.lines.size()) line = m_.lines[size_t(pos.line - 1)];
    cfg_.warnings.push_back(
        render_warning(msg, hint, SourceLoc{m_.file, pos.line, pos.column}, line));
  }

  void record(std::string key, const Expr& value, const char* effect) {
    cfg_.settings.push_back({std::move(key), ast::dump(value), effect, value.pos.line});
  }

  void keyword(const ast::Keyword& k) {
    const Expr& v = *k.value;
    if (k.name == "block_sizes") {  // jagtile's shorthand: @jagtile.kernel(block_sizes=[...])
      read_block_sizes(v);
      record("block_sizes", v, find_key(known_config_keys(), "block_sizes")->effect);
    } else if (k.name == "config") {
      read_config(v, "config", /*honour=*/true);
    } else if (k.name == "configs") {
      // Helion autotunes over the listed configs; without an autotuner jagtile uses the first.
      if (v.kind != ExprKind::list && v.kind != ExprKind::tuple)
        fail(v.pos, "configs must be a list of configs, like configs=[helion.Config(...), ...]",
             "write each config as a dict {...} or helion.Config(...)");
      for (size_t i = 0; i < v.elts.size(); ++i)
        read_config(*v.elts[i], "configs[" + std::to_string(i) + "]", i == 0);
    } else if (const KnownDecoratorKey* s = find_key(known_kernel_settings(), k.name)) {
      if (v.kind == ExprKind::dict) no_dict_here(v, k.name);
      record(k.name, v, s->effect);
      if (k.name == "backend" && v.kind == ExprKind::str_lit && v.str_value == "pallas")
        tpu_backend_ = true;
    } else if (std::string key = closest_name(k.name, names_of(known_config_keys()));
               !key.empty() && closest_name(k.name, names_of(known_kernel_settings())).empty()) {
      // A config key written as a kernel setting (Helion rejects it too).
      warn(k.pos, "unknown kernel setting '" + k.name + "' (ignored)",
           "'" + key + "' is a config key: write config={\"" + key + "\": ...}");
    } else {
      unknown(k.pos, "kernel setting", k.name, names_of(known_kernel_settings()));
    }
  }

  void read_config(const Expr& e, const std::string& where, bool honour) {
    if (e.kind == ExprKind::dict) {
      for (size_t i = 0; i < e.keys.size(); ++i) {
        const Expr& key = *e.keys[i];
        if (key.kind != ExprKind::str_lit)
          fail(key.pos, "config keys must be strings, like {\"block_sizes\": [32, 1]}",
               "quote the key");
        entry(key.str_value, key.pos, *e.elts[i], where, honour);
      }
      return;
    }
    if (e.kind == ExprKind::call && callee_last(e) == "Config") {
      if (!e.args.empty())
        fail(e.args.front()->pos, "helion.Config takes keyword arguments only",
             "write helion.Config(block_sizes=[32, 1], num_warps=4)");
      for (const ast::Keyword& k : e.keywords) entry(k.name, k.pos, *k.value, where, honour);
      return;
    }
    fail(e.pos, where + " must be written in the decorator as a dict or a helion.Config(...)",
         "write " + where + "={\"block_sizes\": [32, 1]} or " + where +
             "=helion.Config(block_sizes=[32, 1])");
  }

  void entry(const std::string& written, Pos pos, const Expr& value, const std::string& where,
             bool honour) {
    std::string key = written;
    if (is_singular_alias(key)) key += "s";  // Helion: {"block_size": 16} is block_sizes=[16]
    const KnownDecoratorKey* known = find_key(known_config_keys(), key);
    if (!known) {
      unknown(pos, "config key", written, names_of(known_config_keys()));
      return;
    }
    if (value.kind == ExprKind::dict) no_dict_here(value, written);
    if (key == "block_sizes") {
      if (key != written) {
        if (value.kind != ExprKind::int_lit || value.int_value <= 0)
          fail(value.pos, "block_size must be a positive integer, like \"block_size\": 32",
               "write the tile size as an integer literal");
        if (honour) cfg_.block_sizes = {value.int_value};
      } else if (honour) {
        read_block_sizes(value);
      }
    }
    record(where + "." + written, value,
           honour || key != "block_sizes" ? known->effect
                                          : "recorded; only the first of configs is used");
  }

  void read_block_sizes(const Expr& list) {
    const char* msg = "block_sizes must be a list of positive integers, like block_sizes=[32, 64]";
    const char* hint = "write the tile sizes as integer literals";
    if (list.kind != ExprKind::list && list.kind != ExprKind::tuple) fail(list.pos, msg, hint);
    cfg_.block_sizes.clear();
    for (const auto& e : list.elts) {
      if (e->kind != ExprKind::int_lit || e->int_value <= 0) fail(e->pos, msg, hint);
      cfg_.block_sizes.push_back(e->int_value);
    }
  }

  // A kernel written for Helion's Pallas backend carries tile sizes for a TPU (512 x 512
  // blocks in VMEM for the pretuned HSTU kernels); on a CPU those ran 1.6x slower than
  // jagtile's defaults (docs/helion.md), so they are recorded, not honoured.
  void drop_tpu_block_sizes() {
    if (cfg_.block_sizes.empty()) return;
    cfg_.block_sizes.clear();
    for (DecoratorSetting& s : cfg_.settings)
      if (s.key.find("block_size") != std::string::npos)  // also config.block_size, configs[i]
        s.effect =
            "recorded; sized for TPU tiles (backend=\"pallas\"): jagtile uses its own defaults "
            "or a stored autotune entry";
  }

  [[noreturn]] void no_dict_here(const Expr& v, const std::string& key) {
    fail(v.pos, "a dict display has no meaning as the value of '" + key + "'",
         "dicts are read only as config={...} or as entries of configs=[...]");
  }

  void unknown(Pos pos, const char* what, const std::string& name,
               const std::vector<std::string>& names) {
    std::string near = closest_name(name, names);
    warn(pos, std::string("unknown ") + what + " '" + name + "' (ignored)",
         near.empty() ? "docs/language.md lists the keys jagtile accepts"
                      : "did you mean '" + near + "'?");
  }

  const ast::Module& m_;
  KernelConfig cfg_;
  bool tpu_backend_ = false;  // backend="pallas"
};

}  // namespace

KernelConfig decorator_config(const ast::Module& m, const ast::Stmt& def) {
  return DecoratorReader(m).read(def);
}

KernelConfig decorator_config(const ast::Stmt& def) {
  ast::Module empty;
  return decorator_config(empty, def);
}

}  // namespace jagtile::lang
