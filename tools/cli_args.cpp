// Command-line parsing and help for the `jagtile` tool. Options are accepted as `--name value`
// or `--name=value`; each command accepts its own subset, and anything else is a usage error.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>

#include "cli.h"
#include "jagtile/names.h"

namespace jagtile::cli {
namespace {

// "cpu", "cuda" (cuda:0) or "cuda:N".
std::optional<Device> parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) != 0 || text.size() == 5 || text.size() > 9) return std::nullopt;
  for (size_t i = 5; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  return Device::cuda(std::stoi(text.substr(5)));
}

const char* kShapeHelp =
    "Shape options (bundled examples only; they generate every input):\n"
    "  --batch B            number of items (default 48)\n"
    "  --features M         columns per row (default 24)\n"
    "  --max-len L          longest item (default 40)\n"
    "  --sparsity S         in [0, 1]; average length L*(1-S) (default 0.5)\n"
    "  --dist D             uniform|zipf|empty|one-huge|tiny (default uniform)\n"
    "  --dtype T            values: f32|f64|bf16|f16 (default f32)\n"
    "  --offsets I          offsets: i32|i64 (default i32)\n"
    "  --seed N             random seed (default 0)\n"
    "  --heads H            attention heads, for jagged_hstu_attention (default 2)\n"
    "  --head-dim D         columns per head, for jagged_hstu_attention (default 16)\n";

const char* kArgHelp =
    "Arguments:\n"
    "  --kernel NAME        the kernel to use when the file defines several\n"
    "  --arg NAME=VALUE     a kernel argument: FILE.npy (a tensor), an integer, a float,\n"
    "                       true/false, or none (an optional tensor left out); repeatable.\n"
    "                       Parameters with defaults may be omitted. For a bundled example,\n"
    "                       --arg values replace the generated ones.\n";

enum class OptionKind { flag, value };
struct OptionSpec {
  OptionKind kind;
  std::set<std::string> commands;
};

const std::map<std::string, OptionSpec>& option_table() {
  static const std::map<std::string, OptionSpec> table = {
      {"--help", {OptionKind::flag, {"run", "explain", "bench", "autotune"}}},
      {"--kernel", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--arg", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--out", {OptionKind::value, {"run"}}},
      {"--batch", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--features", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--max-len", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--sparsity", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--dist", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--dtype", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--offsets", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--seed", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--heads", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--head-dim", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--backend", {OptionKind::value, {"run", "explain", "bench", "autotune"}}},
      {"--check", {OptionKind::flag, {"run", "bench"}}},
      {"--unchecked", {OptionKind::flag, {"run", "bench", "autotune"}}},
      {"--threads", {OptionKind::value, {"run", "bench", "autotune"}}},
      {"--device", {OptionKind::value, {"run", "bench"}}},
      {"--ir", {OptionKind::flag, {"explain"}}},
      {"--code", {OptionKind::flag, {"explain"}}},
      {"--json", {OptionKind::flag, {"explain", "bench", "autotune"}}},
      {"--repeat", {OptionKind::value, {"bench"}}},
      {"--effort", {OptionKind::value, {"autotune"}}},
      {"--budget", {OptionKind::value, {"autotune"}}},
      {"--show", {OptionKind::flag, {"autotune"}}},
      {"--space", {OptionKind::flag, {"autotune"}}},
      {"--retune", {OptionKind::flag, {"autotune"}}},
  };
  return table;
}

int64_t parse_int(const std::string& command, const std::string& option, const std::string& text,
                  int64_t min_value) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || v < min_value) {
    throw UsageError(command, option + " expects an integer >= " + std::to_string(min_value) +
                                  ", got '" + text + "'");
  }
  return v;
}

double parse_double(const std::string& command, const std::string& option,
                    const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') {
    throw UsageError(command, option + " expects a number, got '" + text + "'");
  }
  return v;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

void apply_value(CommandLine& cl, const std::string& option, const std::string& value) {
  const std::string& cmd = cl.command;
  if (option == "--kernel") {
    cl.kernel = value;
  } else if (option == "--arg") {
    size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
      throw UsageError(
          cmd, "--arg expects NAME=VALUE (VALUE: FILE.npy, a number or none), got '" + value + "'");
    }
    std::string name = value.substr(0, eq);
    if (!is_identifier(name)) {
      throw UsageError(cmd, "--arg " + value + ": '" + name + "' is not a parameter name");
    }
    for (const auto& [prev, _] : cl.raw_args) {
      if (prev == name) throw UsageError(cmd, "--arg " + name + " is given twice");
    }
    std::string text = value.substr(eq + 1);
    if (!arg_text_is_valid(text)) {
      throw UsageError(cmd, "--arg " + value + ": '" + text +
                                "' is not a .npy file, a number, true/false or none");
    }
    cl.raw_args.emplace_back(name, text);
  } else if (option == "--out") {
    cl.out = value;
  } else if (option == "--batch") {
    cl.shape.batch = parse_int(cmd, option, value, 0);
  } else if (option == "--features") {
    cl.shape.features = parse_int(cmd, option, value, 0);
  } else if (option == "--max-len") {
    cl.shape.max_len = parse_int(cmd, option, value, 0);
  } else if (option == "--sparsity") {
    double s = parse_double(cmd, option, value);
    if (!(s >= 0.0 && s <= 1.0)) {
      throw UsageError(cmd, "--sparsity expects a number in [0, 1], got '" + value + "'");
    }
    cl.shape.sparsity = s;
  } else if (option == "--dist") {
    auto d = parse_length_dist(value);
    if (!d) {
      throw UsageError(cmd, "--dist expects uniform|zipf|empty|one-huge|tiny, got '" + value + "'");
    }
    cl.shape.dist = *d;
  } else if (option == "--dtype") {
    auto t = parse_dtype(value);
    if (!t || !dtype_is_float(*t)) {
      throw UsageError(cmd, "--dtype expects f32|f64|bf16|f16, got '" + value + "'");
    }
    cl.dtype = *t;
  } else if (option == "--offsets") {
    auto t = parse_dtype(value);
    if (!t || (*t != DType::i32 && *t != DType::i64)) {
      throw UsageError(cmd, "--offsets expects i32|i64, got '" + value + "'");
    }
    cl.offsets_dtype = *t;
  } else if (option == "--seed") {
    cl.shape.seed = uint64_t(parse_int(cmd, option, value, 0));
  } else if (option == "--heads") {
    cl.shape.heads = parse_int(cmd, option, value, 1);
  } else if (option == "--head-dim") {
    cl.shape.head_dim = parse_int(cmd, option, value, 1);
  } else if (option == "--backend") {
    auto b = parse_backend(value);
    if (!b) {
      throw UsageError(cmd, "--backend expects auto|template|cpu|cuda|interp, got '" + value + "'");
    }
    cl.options.backend = *b;
  } else if (option == "--threads") {
    cl.options.num_threads = int(parse_int(cmd, option, value, 0));
  } else if (option == "--device") {
    auto d = parse_device(value);
    if (!d) throw UsageError(cmd, "--device expects cpu, cuda or cuda:N, got '" + value + "'");
    cl.device = *d;
  } else if (option == "--repeat") {
    cl.repeat = int(parse_int(cmd, option, value, 1));
  } else if (option == "--effort") {
    auto e = parse_tune_effort(value);
    if (!e) throw UsageError(cmd, "--effort expects quick|full, got '" + value + "'");
    cl.effort = *e;
  } else if (option == "--budget") {
    char* end = nullptr;
    double s = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(s > 0) || s > 86400)
      throw UsageError(cmd,
                       "--budget expects a number of seconds in (0, 86400], got '" + value + "'");
    cl.budget_s = s;
  }
}

std::string unknown_option_message(const std::string& command, const std::string& option) {
  std::vector<std::string> names;
  for (const auto& [name, spec] : option_table()) {
    if (spec.commands.count(command)) names.push_back(name);
  }
  std::string guess = closest(option, names);
  return "unknown option '" + option + "'" +
         (guess.empty() ? "" : " (did you mean " + guess + "?)");
}

const std::set<std::string> kShapeOptions = {"--batch", "--features", "--max-len", "--sparsity",
                                             "--dist",  "--dtype",    "--offsets", "--seed",
                                             "--heads", "--head-dim"};

}  // namespace

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  NameMatch rule;
  rule.fold_case_and_dashes = true;
  return closest_name(word, candidates, rule);
}

std::string usage_line(const std::string& command) {
  if (command == "run") {
    return "usage: jagtile run KERNEL_FILE [--kernel NAME] [--arg NAME=VALUE ...] [--out "
           "FILE.npy]\n"
           "                   [shape options] [--backend B] [--device D] [--check] [--unchecked]\n"
           "                   [--threads N]";
  }
  if (command == "explain") {
    return "usage: jagtile explain KERNEL_FILE [--kernel NAME] [--arg NAME=VALUE ...]\n"
           "                       [shape options] [--backend B] [--ir] [--code] [--json]";
  }
  if (command == "bench") {
    return "usage: jagtile bench KERNEL_FILE [--kernel NAME] [--arg NAME=VALUE ...] [shape "
           "options]\n"
           "                     [--backend B] [--device D] [--json] [--repeat N] [--threads N]\n"
           "                     [--unchecked]";
  }
  if (command == "autotune") {
    return "usage: jagtile autotune KERNEL_FILE [--kernel NAME] [--arg NAME=VALUE ...] [shape "
           "options]\n"
           "                        [--effort quick|full] [--budget S] [--retune] [--json]\n"
           "                        [--space] [--threads N] [--backend B] [--unchecked]\n"
           "       jagtile autotune --show [KERNEL_FILE] [--json]";
  }
  return "usage: jagtile {run|explain|bench|autotune} KERNEL_FILE [options]   (jagtile --help)";
}

std::string help_text(const std::string& command) {
  std::string text = usage_line(command) + "\n\n";
  if (command == "run") {
    return text + "Runs a kernel and prints its outputs (or writes them with --out).\n\n" +
           kArgHelp +
           "  --out FILE.npy       write the output there; a kernel returning several tensors\n"
           "                       writes FILE_0.npy, FILE_1.npy, ...\n\n" +
           kShapeHelp +
           "\nExecution:\n"
           "  --backend B          auto|template|cpu|cuda|interp (default auto)\n"
           "  --check              compare with the interpreter and, for a bundled example, its\n"
           "                       reference; print the errors; exit 1 on a mismatch\n"
           "  --unchecked          drop the bounds checks on device loads and stores\n"
           "  --threads N          worker threads (default: all cores)\n"
           "  --device D           cpu (default), cuda or cuda:N: the tensor arguments are\n"
           "                       copied there first (outputs are copied back to print or\n"
           "                       write; --check runs the interpreter on the CPU copies)\n";
  }
  if (command == "explain") {
    return text +
           "Without arguments: parses and checks the file and lists its kernels and parameters.\n"
           "With arguments (--arg or shape options): specialises each kernel and prints how it\n"
           "would run: 'dispatch: template ...' or 'dispatch: generic (reason: ...)'.\n\n" +
           kArgHelp + "\n" + kShapeHelp +
           "\nOutput:\n"
           "  --backend B          the backend to plan for (default auto)\n"
           "  --ir                 print the IR after each pass\n"
           "  --code               print the generated source\n"
           "  --json               one JSON object {kernel, dispatch, reason, plan} per kernel\n"
           "                       (a list when the file has several and --kernel is not given)\n";
  }
  if (command == "bench") {
    return text +
           "Times every implementation of a kernel on the same inputs, each checked against the\n"
           "bundled example's reference first (exit 1 on a mismatch): template (when the kernel\n"
           "matches it), generic-cpu, interp (inputs up to 2M elements), reference, and library\n"
           "(jagged_reduce called directly). Rounds are interleaved; the table shows medians,\n"
           "effective bandwidth (minimum traffic / time) and its share of a streaming read of\n"
           "the input measured in the same run; then the generic path's cold compile and warm\n"
           "load, and the time of one call on a tiny input (B=4).\n\n" +
           kArgHelp + "\n" + kShapeHelp +
           "\nOptions:\n"
           "  --backend B          auto (every row, default) or one of template|cpu|interp\n"
           "  --repeat N           timed rounds (default 11; interp and reference: at most 3)\n"
           "  --threads N          worker threads (default: all cores)\n"
           "  --unchecked          drop the bounds checks of the generic path\n"
           "  --device D           cpu (default), cuda or cuda:N: time the implementations\n"
           "                       that run there (generic-cuda, the CUDA template) on copies\n"
           "                       of the inputs on that GPU, next to the GPU's streaming read\n"
           "  --json               one JSON object: kernel, shape, bytes, peak_read_gbps, results\n"
           "                       [{impl, median_ms, min_ms, gbps, pct_of_peak,\n"
           "                       speedup_vs_reference}], compile, tiny_call_us\n";
  }
  if (command == "autotune") {
    return text +
           "Searches the kernel's configs (block sizes of its tile loops, or the template's chunk\n"
           "rows and workers) for these inputs on this machine: a seeded pattern search from the\n"
           "defaults and the previous best (plus random restarts with --effort full), each\n"
           "candidate compiled ahead of the measurements, checked against the default config's\n"
           "outputs, and raced against the best so far in interleaved rounds. The best config is\n"
           "stored in the cache folder (JAGTILE_CACHE_DIR) and used by later runs, benches and\n"
           "calls with inputs of the same shape bucket (JAGTILE_AUTOTUNE=0 ignores it). Ctrl-C\n"
           "stops the search and keeps the best found so far.\n\n" +
           kArgHelp + "\n" + kShapeHelp +
           "\nOptions:\n"
           "  --effort E           quick (default; at most 7 s of search) or full\n"
           "  --budget S           seconds for the search (full: default 60; quick: at most 7)\n"
           "  --retune             search again even when a stored config answers\n"
           "  --space              print the search space, its defaults and constraints\n"
           "  --show               list the stored configs (of KERNEL_FILE's kernels, if given)\n"
           "  --json               one JSON object: kernel, config, default_ms, best_ms, speedup,\n"
           "                       candidates, seconds, from_cache (and rejected, key, effort)\n"
           "  --threads N          worker threads (default: all cores)\n"
           "  --backend B          the backend to tune for (default auto)\n"
           "  --unchecked          tune the generic path without bounds checks\n";
  }
  return text +
         "jagtile compiles and runs jagged-tensor kernels written in the Helion-style kernel\n"
         "language.\n\n"
         "Commands:\n"
         "  run        run a kernel on .npy inputs or generated inputs, optionally checked\n"
         "  explain    check a kernel file, or show how a kernel would be dispatched\n"
         "  bench      time a kernel's implementations against the machine's read peak\n"
         "  autotune   find and store the fastest config of a kernel for a shape\n\n"
         "'jagtile COMMAND --help' describes each command. Bundled examples (examples/*.py):\n  " +
         example_names() +
         "\n\nExit status: 0 success, 1 error in the kernel or its inputs (or a failed --check),\n"
         "2 malformed command line, 3 internal error.\n";
}

CommandLine parse_command_line(const std::string& command, const std::vector<std::string>& argv) {
  CommandLine cl;
  cl.command = command;
  std::vector<std::string> positional;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& word = argv[i];
    if (word.size() < 2 || word.compare(0, 2, "--") != 0) {
      if (word.size() >= 2 && word[0] == '-' &&
          !std::isdigit(static_cast<unsigned char>(word[1]))) {
        throw UsageError(command, "unknown option '" + word + "'");
      }
      positional.push_back(word);
      continue;
    }
    std::string option = word, value;
    bool has_inline = false;
    if (size_t eq = word.find('='); eq != std::string::npos) {
      option = word.substr(0, eq);
      value = word.substr(eq + 1);
      has_inline = true;
    }
    auto it = option_table().find(option);
    if (it == option_table().end())
      throw UsageError(command, unknown_option_message(command, option));
    if (!it->second.commands.count(command)) {
      throw UsageError(command,
                       "option " + option + " does not apply to 'jagtile " + command + "'");
    }
    if (it->second.kind == OptionKind::flag) {
      if (has_inline) throw UsageError(command, "option " + option + " takes no value");
      if (option == "--help") cl.help = true;
      if (option == "--check") cl.check = true;
      if (option == "--unchecked") cl.options.checked = false;
      if (option == "--ir") cl.ir = true;
      if (option == "--code") cl.code = true;
      if (option == "--json") cl.json = true;
      if (option == "--show") cl.show = true;
      if (option == "--space") cl.space = true;
      if (option == "--retune") cl.retune = true;
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= argv.size()) throw UsageError(command, "option " + option + " needs a value");
      value = argv[++i];
    }
    apply_value(cl, option, value);
    if (kShapeOptions.count(option)) cl.shape_flags.push_back(option);
  }
  if (cl.help) return cl;
  if (cl.show && cl.space) throw UsageError(command, "--show and --space exclude each other");
  if (cl.show && positional.empty()) return cl;  // every stored entry
  if (positional.empty()) throw UsageError(command, "missing KERNEL_FILE");
  if (positional.size() > 1) {
    throw UsageError(command, "unexpected argument '" + positional[1] +
                                  "' (one KERNEL_FILE; kernel arguments go in --arg NAME=VALUE)");
  }
  cl.file = positional[0];
  return cl;
}

}  // namespace jagtile::cli
