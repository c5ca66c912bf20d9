// How the `jagtile` tool turns a command line into kernel arguments: --arg values (tensors
// from .npy files, scalars, none), bundled examples' generated inputs for shape options, and
// the user errors when something is missing or does not fit the kernel's parameters.
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "cli.h"
#include "jagtile/cuda.h"
#include "jagtile/error.h"

namespace jagtile::cli {
namespace {

enum class ArgForm { none, boolean, integer, floating, npy, invalid };

ArgForm classify(const std::string& text) {
  if (text == "none" || text == "None") return ArgForm::none;
  if (text == "true" || text == "false" || text == "True" || text == "False") {
    return ArgForm::boolean;
  }
  if (text.empty()) return ArgForm::invalid;
  size_t digits = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (digits < text.size() && text.find_first_not_of("0123456789", digits) == std::string::npos) {
    return ArgForm::integer;
  }
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  if (*end == '\0') return ArgForm::floating;
  if (text.size() > 4 && text.compare(text.size() - 4, 4, ".npy") == 0) return ArgForm::npy;
  return ArgForm::invalid;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> param_names(const KernelInfo& kernel) {
  std::vector<std::string> names;
  for (const auto& p : kernel.params) names.push_back(p.name);
  return names;
}

const char* param_kind_word(ParamKind kind) {
  switch (kind) {
    case ParamKind::tensor:
      return "a tensor";
    case ParamKind::optional_tensor:
      return "a tensor or none";
    case ParamKind::int_scalar:
      return "an integer";
    case ParamKind::float_scalar:
      return "a float";
    case ParamKind::bool_scalar:
      return "true or false";
    default:
      return "a value";
  }
}

const char* param_kind_example(ParamKind kind) {
  switch (kind) {
    case ParamKind::int_scalar:
      return "=3";
    case ParamKind::float_scalar:
      return "=1e-6";
    case ParamKind::bool_scalar:
      return "=true";
    case ParamKind::optional_tensor:
      return "=FILE.npy (or =none)";
    default:
      return "=FILE.npy";
  }
}

SourceLoc kernel_loc(const CommandLine& cl, const KernelInfo& kernel) {
  return SourceLoc{cl.file, kernel.line, 0};
}

}  // namespace

bool arg_text_is_valid(const std::string& text) {
  return classify(text) != ArgForm::invalid;
}

ArgValue parse_arg_value(const std::string& text) {
  switch (classify(text)) {
    case ArgForm::none:
      return NoneArg{};
    case ArgForm::boolean:
      return int64_t(text == "true" || text == "True" ? 1 : 0);
    case ArgForm::integer: {
      errno = 0;
      long long v = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) {
        throw UserError("--arg value " + text + " does not fit in a 64-bit integer",
                        "write it as a float (" + text + ".0) if that is what the kernel takes");
      }
      return int64_t(v);
    }
    case ArgForm::floating:
      return std::strtod(text.c_str(), nullptr);
    case ArgForm::npy:
      return read_npy(text);
    case ArgForm::invalid:
      break;
  }
  throw UserError("--arg value '" + text + "' is not a .npy file, a number, true/false or none",
                  "write --arg NAME=FILE.npy, --arg NAME=3, --arg NAME=1e-6 or --arg NAME=none");
}

Program load_program(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw UserError("cannot open kernel file '" + path + "': no such file",
                    "check the path; the bundled examples are in examples/");
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw UserError("'" + path + "' is a directory, not a kernel file",
                    "give a .py file holding @helion.kernel / @jagtile.kernel definitions");
  }
  Program program = Program::from_file(path);
  // Decorator warnings (unknown config keys, ...) once per file, on stderr.
  for (const KernelInfo& k : program.kernels())
    for (const std::string& w : k.warnings) std::cerr << w << "\n";
  return program;
}

std::vector<const KernelInfo*> select_kernels(const Program& program, const CommandLine& cl,
                                              bool all_allowed) {
  const auto& kernels = program.kernels();
  std::vector<std::string> names;
  for (const auto& k : kernels) names.push_back(k.name);
  if (!cl.kernel.empty()) {
    for (const auto& k : kernels) {
      if (k.name == cl.kernel) return {&k};
    }
    std::string guess = closest(cl.kernel, names);
    throw UserError("no kernel named '" + cl.kernel + "' in " + cl.file,
                    names.empty() ? std::string("the file defines no kernel")
                    : guess.empty()
                        ? "the file defines: " + join(names)
                        : "did you mean '" + guess + "'? The file defines: " + join(names));
  }
  if (kernels.empty()) {
    throw UserError(cl.file + " defines no kernel",
                    "a kernel is a function definition decorated with @helion.kernel()");
  }
  if (kernels.size() > 1 && !all_allowed) {
    throw UserError(cl.file + " defines several kernels (" + join(names) + ")",
                    "choose one with --kernel NAME");
  }
  std::vector<const KernelInfo*> out;
  for (const auto& k : kernels) out.push_back(&k);
  return out;
}

const ExampleInfo* example_for(const KernelInfo& kernel) {
  const ExampleInfo* ex = find_example(kernel.name);
  if (!ex || param_names(kernel) != ex->params) return nullptr;
  return ex;
}

ArgMap args_on_device(const ArgMap& args, Device device) {
  if (device.is_cpu()) return args;
  // cuda_available() also registers the CUDA allocator that Tensor::to needs.
  if (!cuda_available() || device.index >= cuda_device_count()) {
    const int count = cuda_device_count();
    throw UserError("--device " + device.str() + ": " +
                        (count == 0 ? std::string("no CUDA device is visible to this process")
                                    : "this process sees " + std::to_string(count) +
                                          " CUDA device" + (count == 1 ? "" : "s")),
                    count == 0 ? "run on a machine with an NVIDIA GPU (check nvidia-smi and "
                                 "CUDA_VISIBLE_DEVICES), or leave --device out"
                               : "use cuda:0 to cuda:" + std::to_string(count - 1));
  }
  return args_copied_to(args, device);
}

bool has_inputs(const CommandLine& cl) {
  return !cl.raw_args.empty() || !cl.shape_flags.empty();
}

ArgMap build_args(const KernelInfo& kernel, const CommandLine& cl) {
  const ExampleInfo* ex = example_for(kernel);
  auto given = [&](const std::string& name) {
    for (const auto& [n, _] : cl.raw_args) {
      if (n == name) return true;
    }
    return false;
  };
  for (const auto& [name, _] : cl.raw_args) {
    bool known = false;
    for (const auto& p : kernel.params) known = known || p.name == name;
    if (!known) {
      std::string guess = closest(name, param_names(kernel));
      throw UserError("kernel '" + kernel.name + "' has no parameter '" + name + "'",
                      (guess.empty() ? "" : "did you mean '" + guess + "'? ") +
                          "its parameters are: " + join(param_names(kernel)),
                      kernel_loc(cl, kernel));
    }
  }
  std::vector<const ParamInfo*> missing;
  for (const auto& p : kernel.params) {
    if (!given(p.name) && !p.default_value) missing.push_back(&p);
  }

  if (!cl.shape_flags.empty() && !ex) {
    const ExampleInfo* same_name = find_example(kernel.name);
    std::string why = same_name ? "its parameters (" + join(param_names(kernel)) +
                                      ") differ from the bundled example's (" +
                                      join(same_name->params) + ")"
                                : "it is not a bundled example (" + example_names() + ")";
    throw UserError("shape options (" + join(cl.shape_flags) +
                        ") cannot generate the inputs of kernel '" + kernel.name + "': " + why,
                    "pass its inputs with --arg NAME=FILE.npy|NUMBER|none; its parameters are: " +
                        join(param_names(kernel)),
                    kernel_loc(cl, kernel));
  }

  ArgMap args;
  if (ex && (!cl.shape_flags.empty() || !missing.empty())) {
    args = ex->make_inputs(cl.shape, cl.dtype, cl.offsets_dtype);
  } else if (!missing.empty()) {
    const ParamInfo& p = *missing.front();
    std::string all;
    for (const ParamInfo* m : missing) all += (all.empty() ? "" : ", ") + m->name;
    throw UserError("kernel '" + kernel.name + "' needs argument '" + p.name + "' (" +
                        param_kind_word(p.kind) + "); missing: " + all,
                    "pass it with --arg " + p.name + param_kind_example(p.kind),
                    kernel_loc(cl, kernel));
  }
  for (const auto& [name, text] : cl.raw_args) {
    ArgValue value = parse_arg_value(text);
    for (const auto& p : kernel.params) {
      // `--arg eps=1` means the float 1.0 for a float parameter.
      if (p.name == name && p.kind == ParamKind::float_scalar &&
          std::holds_alternative<int64_t>(value)) {
        value = double(std::get<int64_t>(value));
      }
    }
    args[name] = std::move(value);
  }
  return args;
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace jagtile::cli
