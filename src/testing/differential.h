// Differential execution of one kernel: every backend that supports it (interp, the oracle; cpu
// with and without bounds checks; the template where the kernel routes to it; the generated CUDA
// in the host emulation where NVRTC is built in) runs every input,
// and each output is compared with the interpreter's within the stated tolerances
// (tolerance_for, docs/fuzzing.md). Used in process by the regression replay test and, inside a
// forked child per kernel, by tools/fuzz_differential.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "testing/kernel_gen.h"

namespace jagtile::fuzz {

// The backends a case runs on, by label: interp, cpu, cpu-unchecked, template, and
// cuda-emulated (the generated CUDA, compiled by NVRTC and run by the host emulation) where this
// build has NVRTC.
const std::vector<std::string>& all_backend_labels();

// The verified CUDA architecture (codegen/cuda/backend.h) whose turn kernel `n` of a fuzzing run
// is: NVRTC checks each kernel for one of them, in turn (for all of them it took 30% of a run).
// The fuzzer gives it to the child as JAGTILE_CUDA_EMULATION_ARCHS.
std::string emulation_arch_in_turn(uint64_t n);

// The settings (name, value) whose turn kernel `n` of a fuzzing run is, so that code paths no
// generated input reaches by its size are fuzzed too: one CUDA architecture
// (emulation_arch_in_turn); a streaming-store threshold (JAGTILE_STREAM_MIN_BYTES: the default,
// 0 or 1024, seed % 3); a limit of the generated C++'s stack arrays (JAGTILE_STACK_ARRAY_BYTES:
// the default or 0, in turns of three kernels); a size of its memoised block caches
// (JAGTILE_MEMO_ROWS: the default or 8, in turns of six); and its instruction set
// (JAGTILE_CPU_ISA: the CPU's own, avx512bf16, avx512, avx2 or portable, in turns of twelve). A
// setting at its default is left out. JAGTILE_CPU_ISA can only lower the CPU's own set; the reduce
// template reads it once per process, so in a process that ran the template before, only the
// generated code follows it.
std::vector<std::pair<std::string, std::string>> settings_in_turn(uint64_t n);

struct CaseFailure {
  // "mismatch", "user-error" (on a kernel the generator claims valid), "internal-error",
  // "exception", "crash", "hang".
  std::string kind;
  std::string backend;  // a label, or "compile" for errors before any backend ran
  int input = -1;       // the recipe's index, -1 when not tied to one
  std::string detail;
  // What stays the same while the case is reduced: the kind, the backend and, for errors, the
  // message with its locations and numbers taken out.
  std::string signature() const;
};

struct CaseReport {
  int runs = 0;                         // backend runs completed
  std::map<std::string, int> by_label;  // the same, per backend label
  std::vector<CaseFailure> failures;
};

// A case: a kernel source, its inputs, how to compare its outputs, which backends to run
// (empty: all of all_backend_labels()), and the settings it runs under: environment variables
// (name, value) among case_setting_names(), which change the code generated, not the results.
struct DiffCase {
  std::string source;
  std::vector<InputRecipe> inputs;
  std::vector<OutputTolerance> outputs;
  std::vector<std::string> backends;
  std::vector<std::pair<std::string, std::string>> settings;
};

// The environment variables a case may set: JAGTILE_STREAM_MIN_BYTES,
// JAGTILE_STACK_ARRAY_BYTES, JAGTILE_MEMO_ROWS, JAGTILE_CPU_ISA and JAGTILE_CUDA_EMULATION_ARCHS.
const std::vector<std::string>& case_setting_names();

// Runs the case, its settings set in this process's environment for the duration (and the
// previous values put back after), so only where no other thread reads the environment: the
// fuzzer's forked child, a test. `progress` (optional) hears "run <label> <input>" before each
// backend run, so a parent process can say which run crashed or hung.
CaseReport run_case(const DiffCase& c,
                    const std::function<void(const std::string&)>& progress = {});

// The case file format of tests/regress/*/case.txt and of saved failures: `input: RECIPE` and
// `output: exact=E bound=B degree=D` lines, `backends: a b c`, `env: NAME=VALUE` (a setting),
// `#` comments.
std::string case_text(const DiffCase& c, const std::string& comment);
DiffCase parse_case(const std::string& source, const std::string& case_file_text);

}  // namespace jagtile::fuzz
