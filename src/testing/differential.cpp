// Differential execution of one kernel on every backend (see differential.h).
#include "testing/differential.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

#include "codegen/cuda/backend.h"
#include "codegen/cuda/nvrtc.h"
#include "jagtile/cuda.h"
#include "jagtile/error.h"
#include "testing/compare.h"
#include "testing/examples.h"
#include "testing/scoped_env.h"

namespace jagtile::fuzz {

namespace {

// The message without what changes while a kernel is reduced: "FILE:LINE:COL: " prefixes,
// digits, and everything after the first line.
std::string normalise(const std::string& message) {
  std::string first = message.substr(0, message.find('\n'));
  size_t err = first.find("error: ");
  if (err != std::string::npos) first = first.substr(err + 7);
  std::string out;
  for (char ch : first) {
    if (std::isdigit(static_cast<unsigned char>(ch))) {
      if (out.empty() || out.back() != '#') out += '#';
    } else {
      out += ch;
    }
  }
  return out;
}

struct Run {
  std::string label;
  Backend backend;
  bool checked;
  Device device = Device::cpu();  // where the inputs are copied before the call
};

Run run_of(const std::string& label) {
  if (label == "interp") return {label, Backend::interp, true};
  if (label == "cpu") return {label, Backend::cpu, true};
  if (label == "cpu-unchecked") return {label, Backend::cpu, false};
  if (label == "template") return {label, Backend::template_lib, true};
  if (label == "cuda-emulated") {
    if (!codegen::cuda::nvrtc_available())
      throw UserError("backend 'cuda-emulated' needs NVRTC, which this build does not have",
                      "build with the CUDA toolkit installed, or leave cuda-emulated out");
    // The cuda backend runs CPU tensors through its host emulation only when asked; a fuzzing
    // process (or the replay test) asks once, for all of its runs (setenv races with getenv in
    // other threads, so never again while kernels run).
    static std::once_flag emulation_on;
    std::call_once(emulation_on, [] { setenv("JAGTILE_CUDA_EMULATION", "1", 1); });
    return {label, Backend::cuda, true};
  }
  // The generated CUDA on a real GPU. Only where asked for: CUDA is first touched in the process
  // that runs the case (a fuzzing parent that forks must never start it).
  if (label == "cuda") return {label, Backend::cuda, true, Device::cuda(0)};
  throw UserError("unknown backend label '" + label +
                  "' (interp, cpu, cpu-unchecked, template, cuda-emulated, cuda)");
}

}  // namespace

const std::vector<std::string>& all_backend_labels() {
  static const std::vector<std::string> labels = [] {
    std::vector<std::string> l = {"interp", "cpu", "cpu-unchecked", "template"};
    if (codegen::cuda::nvrtc_available()) l.push_back("cuda-emulated");
    return l;
  }();
  return labels;
}

std::string emulation_arch_in_turn(uint64_t n) {
  return codegen::cuda::kVerifiedArchs[n % std::size(codegen::cuda::kVerifiedArchs)];
}

namespace {

// The settings the fuzzer takes in turn: kernel n takes values[(n / period) % size]; "" leaves
// the variable unset (its default).
struct SettingInTurn {
  const char* name;
  std::vector<const char*> values;
  uint64_t period;
};

const std::vector<SettingInTurn>& settings_table() {
  static const std::vector<SettingInTurn> table = {
      // The default 32 MiB, which no generated input reaches; every f32 row store streams; the
      // larger outputs of a case stream, the smaller do not.
      {"JAGTILE_STREAM_MIN_BYTES", {"", "0", "1024"}, 1},
      // The default 64 KiB, which the generator's block sizes never pass; every tile array on
      // the entry's scratch stack (JtHeapArray).
      {"JAGTILE_STACK_ARRAY_BYTES", {"", "0"}, 3},
      // The default 16384 rows, more than any generated input has; 8, so that blocks share
      // the cache's slots and refill them.
      {"JAGTILE_MEMO_ROWS", {"", "8"}, 6},
      // The CPU's own instruction set, then lowered: without AMX (bf16 matmuls on pairs),
      // without AVX512-BF16 too, AVX2, no AVX.
      {"JAGTILE_CPU_ISA", {"", "avx512bf16", "avx512", "avx2", "portable"}, 12},
      // The default width (512 on Intel CPUs with AVX-512, the compiler's choice elsewhere),
      // then each width set.
      {"JAGTILE_VECTOR_WIDTH", {"", "256", "512"}, 5},
      // The default AVX-512 register block of the f32 microkernel (6 x 4 vectors on Intel CPUs,
      // 8 x 2 elsewhere), then each block set.
      {"JAGTILE_REGISTER_BLOCK", {"", "8x2", "6x4"}, 7},
  };
  return table;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> settings_in_turn(uint64_t n) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"JAGTILE_CUDA_EMULATION_ARCHS", emulation_arch_in_turn(n)}};
  for (const SettingInTurn& s : settings_table()) {
    const std::string value = s.values[(n / s.period) % s.values.size()];
    if (!value.empty()) out.emplace_back(s.name, value);
  }
  return out;
}

const std::vector<std::string>& case_setting_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"JAGTILE_CUDA_EMULATION_ARCHS"};
    for (const SettingInTurn& s : settings_table()) n.push_back(s.name);
    return n;
  }();
  return names;
}

std::string CaseFailure::signature() const {
  std::string s = kind + " on " + backend;
  if (kind != "mismatch" && kind != "crash" && kind != "hang") s += ": " + normalise(detail);
  return s;
}

CaseReport run_case(const DiffCase& c, const std::function<void(const std::string&)>& progress) {
  CaseReport report;
  auto fail = [&](std::string kind, std::string backend, int input, std::string detail) {
    report.failures.push_back({std::move(kind), std::move(backend), input, std::move(detail)});
  };
  // The case's settings, set for this run and put back after.
  std::vector<std::unique_ptr<testing::ScopedEnv>> settings;
  for (const auto& [name, value] : c.settings)
    settings.push_back(std::make_unique<testing::ScopedEnv>(name.c_str(), value.c_str()));
  std::optional<Program> program;
  try {
    program = Program::from_source(c.source, "fuzz_kernel.py");
  } catch (const UserError& e) {
    fail("user-error", "compile", -1, e.what());
    return report;
  } catch (const InternalError& e) {
    fail("internal-error", "compile", -1, e.what());
    return report;
  }
  std::vector<std::string> labels = c.backends.empty() ? all_backend_labels() : c.backends;
  if (std::find(labels.begin(), labels.end(), "cuda") != labels.end() && !cuda_available())
    throw UserError("backend 'cuda' needs a CUDA device, and this process sees none",
                    "run on a machine with an NVIDIA GPU, or use cuda-emulated");
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const int input = int(i);
    ArgMap args = make_args(c.inputs[i]);
    std::optional<ArgMap> gpu_args;  // the inputs on cuda:0, copied at the first GPU run
    const int64_t longest = longest_item(args);
    std::vector<Tensor> oracle;
    bool have_oracle = false;
    for (const std::string& label : labels) {
      Run run = run_of(label);
      Options o;
      o.backend = run.backend;
      o.checked = run.checked;
      // Vary what must not change results: the thread count (1..3) and, for the template, the
      // rows per work chunk (small chunks split items across chunks and workers, exercising the
      // in-order combine of partials on small inputs).
      o.num_threads = 1 + input % 3;
      // And the order of the programs: results must not depend on it (Options::reverse_programs).
      o.reverse_programs = label == "cpu-unchecked" && input % 3 == 0;
      static const int64_t chunk_rows[3] = {0, 1, 5};  // 0: the library's default (64)
      if (run.backend == Backend::template_lib) o.config.reduce_chunk_rows = chunk_rows[input % 3];
      if (progress) progress("run " + label + " " + std::to_string(input));
      CallResult result;
      try {
        if (run.device.is_cuda() && !gpu_args) gpu_args = args_copied_to(args, run.device);
        const ArgMap& call_args = run.device.is_cuda() ? *gpu_args : args;
        if (run.backend == Backend::template_lib || run.backend == Backend::cuda) {
          // The template runs only the kernels the dispatch detector routes to it; generated
          // CUDA only the kernels its printer supports (it says why not for the others).
          Options probe;
          probe.backend = Backend::interp;
          if (!program->specialise(kKernelName, call_args, probe).why_not(run.backend).empty())
            continue;
        }
        result = program->call(kKernelName, call_args, o);
        result.outputs = tensors_on_host(result.outputs);
      } catch (const UserError& e) {
        fail("user-error", label, input, e.what());
        continue;
      } catch (const InternalError& e) {
        fail("internal-error", label, input, e.what());
        continue;
      } catch (const std::exception& e) {
        fail("exception", label, input, e.what());
        continue;
      }
      ++report.runs;
      ++report.by_label[label];
      if (label == "interp") {
        oracle = result.outputs;
        have_oracle = true;
        continue;
      }
      if (!have_oracle) continue;
      if (result.outputs.size() != oracle.size()) {
        fail("mismatch", label, input,
             std::to_string(result.outputs.size()) + " outputs, interp returned " +
                 std::to_string(oracle.size()));
        continue;
      }
      for (size_t k = 0; k < oracle.size(); ++k) {
        OutputTolerance ot = k < c.outputs.size() ? c.outputs[k] : OutputTolerance{false, 1e3, 1};
        ElementTolerance et = tolerance_for(ot, oracle[k].dtype(), longest);
        Comparison cmp = compare_tensors(result.outputs[k], oracle[k], Tolerance{et.atol, et.rtol});
        if (!cmp.ok) {
          fail("mismatch", label, input, "output " + std::to_string(k) + ": " + cmp.mismatch);
          break;
        }
      }
    }
  }
  return report;
}

std::string case_text(const DiffCase& c, const std::string& comment) {
  std::ostringstream os;
  std::istringstream lines(comment);
  for (std::string l; std::getline(lines, l);) os << "# " << l << "\n";
  for (const InputRecipe& r : c.inputs) os << "input: " << r.str() << "\n";
  for (const OutputTolerance& t : c.outputs)
    os << "output: exact=" << (t.exact ? 1 : 0) << " bound=" << t.bound << " degree=" << t.degree
       << "\n";
  for (const auto& [name, value] : c.settings) os << "env: " << name << "=" << value << "\n";
  if (!c.backends.empty()) {
    os << "backends:";
    for (const std::string& b : c.backends) os << " " << b;
    os << "\n";
  }
  return os.str();
}

DiffCase parse_case(const std::string& source, const std::string& text) {
  DiffCase c;
  c.source = source;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l.empty() || l[0] == '#') continue;
    if (l.rfind("input:", 0) == 0) {
      c.inputs.push_back(InputRecipe::parse(l.substr(6)));
    } else if (l.rfind("output:", 0) == 0) {
      OutputTolerance t;
      int exact = 1;
      if (std::sscanf(l.c_str(), "output: exact=%d bound=%lf degree=%d", &exact, &t.bound,
                      &t.degree) != 3)
        throw UserError("case file: malformed line '" + l + "'");
      t.exact = exact != 0;
      c.outputs.push_back(t);
    } else if (l.rfind("env:", 0) == 0) {
      const size_t from = l.find_first_not_of(' ', 4);
      const std::string setting = from == std::string::npos ? std::string() : l.substr(from);
      const size_t eq = setting.find('=');
      const std::string name = setting.substr(0, eq);
      const auto& known = case_setting_names();
      if (eq == std::string::npos || std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
        throw UserError("case file: '" + l + "' is not a setting a case may change",
                        "write env: NAME=VALUE with NAME one of " + list);
      }
      c.settings.emplace_back(name, setting.substr(eq + 1));
    } else if (l.rfind("backends:", 0) == 0) {
      std::istringstream b(l.substr(9));
      for (std::string label; b >> label;) {
        (void)run_of(label);  // rejects unknown labels
        c.backends.push_back(label);
      }
    } else {
      throw UserError("case file: unknown line '" + l + "'");
    }
  }
  if (c.inputs.empty()) throw UserError("case file: no 'input:' line");
  return c;
}

}  // namespace jagtile::fuzz
