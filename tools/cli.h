// Shared pieces of the `jagtile` command-line tool: the parsed command line, the usage-error
// channel (exit 2), argument building from --arg and shape options, and output helpers.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "jagtile/autotune.h"
#include "jagtile/compiler.h"
#include "testing/compare.h"
#include "testing/datagen.h"
#include "testing/examples.h"

namespace jagtile::cli {

// A malformed command line (unknown option, missing or malformed value). main() prints the
// message with the command's usage line and exits with status 2.
class UsageError : public std::runtime_error {
 public:
  UsageError(std::string command, const std::string& message)
      : std::runtime_error(message), command_(std::move(command)) {}
  const std::string& command() const { return command_; }

 private:
  std::string command_;
};

struct CommandLine {
  std::string command;  // run, explain, bench, autotune
  std::string file;
  std::string kernel;                                         // --kernel; empty: the only one
  std::vector<std::pair<std::string, std::string>> raw_args;  // --arg NAME=VALUE, in order
  std::string out;                                            // --out
  JaggedShape shape;
  DType dtype = DType::f32;
  DType offsets_dtype = DType::i32;
  std::vector<std::string> shape_flags;  // the shape options given, for messages
  Options options;
  Device device = Device::cpu();  // --device: where the tensor arguments are copied first
  bool check = false;
  bool ir = false, code = false, json = false;
  int repeat = 0;
  bool help = false;
  // autotune
  TuneEffort effort = TuneEffort::quick;
  double budget_s = 0;  // 0: the effort's default
  bool show = false, space = false, retune = false;
};

// The one-line usage and the full help of each command ("" for the tool itself).
std::string usage_line(const std::string& command);
std::string help_text(const std::string& command);

// The candidate closest to `word` (edit distance <= 2, case and '_' / '-' folded; jagtile/names.h),
// or "" if none is.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

// Parses argv[2..] for `command`. Raises UsageError.
CommandLine parse_command_line(const std::string& command, const std::vector<std::string>& argv);

// A value written after --arg NAME=: a .npy file, an integer, a float, true/false or none.
// arg_text_is_valid checks the form only; parse_arg_value reads the file (UserError).
bool arg_text_is_valid(const std::string& text);
ArgValue parse_arg_value(const std::string& text);

// Loads the kernel file (UserError when missing or invalid).
Program load_program(const std::string& path);
// The kernels a command applies to: the one named by --kernel, or every kernel of the file
// (all_allowed) or the file's only kernel.
std::vector<const KernelInfo*> select_kernels(const Program& program, const CommandLine& cl,
                                              bool all_allowed);

// The bundled example a kernel is, when its name and parameters are the example's.
const ExampleInfo* example_for(const KernelInfo& kernel);

// The arguments for one kernel: the example's recipe (with shape options, or when a parameter
// is not given) overridden by --arg values. Raises UserError naming the kernel and parameter.
ArgMap build_args(const KernelInfo& kernel, const CommandLine& cl);
// The arguments with every tensor copied to `device` (unchanged when it is the CPU). UserError
// when the device does not exist, naming the option.
ArgMap args_on_device(const ArgMap& args, Device device);
// True when the command line gives any argument types (--arg or shape options).
bool has_inputs(const CommandLine& cl);

// Writes a JSON string literal.
std::string json_string(const std::string& text);

int run_command(const CommandLine& cl);
int explain_command(const CommandLine& cl);
int bench_command(const CommandLine& cl);
int autotune_command(const CommandLine& cl);

}  // namespace jagtile::cli
