// `jagtile explain`: without argument types, list the checked file's kernels and parameters;
// with them, specialise each kernel and print its dispatch decision (text or JSON), optionally
// with the IR after each pass and the generated source.
#include <iostream>
#include <set>
#include <sstream>

#include "cli.h"
#include "jagtile/error.h"

namespace jagtile::cli {
namespace {

const char* kind_text(ParamKind kind) {
  switch (kind) {
    case ParamKind::tensor:
      return "tensor";
    case ParamKind::optional_tensor:
      return "tensor | None";
    case ParamKind::int_scalar:
      return "int";
    case ParamKind::float_scalar:
      return "float";
    case ParamKind::bool_scalar:
      return "bool";
    default:
      return "untyped";
  }
}

std::string value_text(const ArgValue& v) {
  std::ostringstream os;
  if (auto* i = std::get_if<int64_t>(&v))
    os << *i;
  else if (auto* d = std::get_if<double>(&v))
    os << *d;
  else if (std::holds_alternative<NoneArg>(v))
    os << "None";
  else
    os << "<tensor>";
  return os.str();
}

// Every line of text prefixed, each ending in a newline.
std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += prefix + line + "\n";
  return out;
}

void list_kernels(const std::vector<const KernelInfo*>& kernels, const CommandLine& cl) {
  if (cl.json) {
    std::cout << "[";
    for (size_t k = 0; k < kernels.size(); ++k) {
      const KernelInfo& info = *kernels[k];
      std::cout << (k ? ", " : "") << "{\"kernel\": " << json_string(info.name)
                << ", \"line\": " << info.line << ", \"params\": [";
      for (size_t i = 0; i < info.params.size(); ++i) {
        const ParamInfo& p = info.params[i];
        std::cout << (i ? ", " : "") << "{\"name\": " << json_string(p.name)
                  << ", \"kind\": " << json_string(kind_text(p.kind));
        if (p.default_value)
          std::cout << ", \"default\": " << json_string(value_text(*p.default_value));
        std::cout << "}";
      }
      std::cout << "], \"settings\": [";
      for (size_t i = 0; i < info.settings.size(); ++i) {
        const KernelSetting& s = info.settings[i];
        std::cout << (i ? ", " : "") << "{\"key\": " << json_string(s.key)
                  << ", \"value\": " << json_string(s.value)
                  << ", \"effect\": " << json_string(s.effect) << "}";
      }
      std::cout << "]}";
    }
    std::cout << "]\n";
    return;
  }
  std::cout << cl.file << ": ok, " << kernels.size() << " kernel(s)\n";
  for (const KernelInfo* info : kernels) {
    std::cout << "kernel " << info->name << " (line " << info->line << ")";
    if (example_for(*info)) std::cout << "  [bundled example]";
    std::cout << "\n";
    for (const ParamInfo& p : info->params) {
      std::cout << "  " << p.name << ": " << kind_text(p.kind);
      if (p.default_value) std::cout << " = " << value_text(*p.default_value);
      std::cout << "\n";
    }
    for (const KernelSetting& s : info->settings)
      std::cout << "  @" << s.key << " = " << s.value << ": " << s.effect << "\n";
  }
  std::cout << "(give --arg or shape options to see how a kernel is dispatched)\n";
}

}  // namespace

int explain_command(const CommandLine& cl) {
  Program program = load_program(cl.file);
  bool several_allowed = cl.kernel.empty();
  std::vector<const KernelInfo*> kernels = select_kernels(program, cl, true);

  if (!has_inputs(cl)) {
    if (cl.ir || cl.code) {
      throw UsageError("explain",
                       "--ir and --code need argument types: add shape options (bundled "
                       "examples) or --arg NAME=VALUE");
    }
    list_kernels(kernels, cl);
    return 0;
  }

  // With several kernels, each takes the --arg values that name one of its parameters; a name
  // no kernel has is an error.
  for (const auto& [name, _] : cl.raw_args) {
    bool known = false;
    for (const KernelInfo* k : kernels) {
      for (const ParamInfo& p : k->params) known = known || p.name == name;
    }
    if (!known && kernels.size() > 1) {
      throw UserError("no kernel in " + cl.file + " has a parameter '" + name + "'",
                      "check the name given to --arg");
    }
  }

  bool as_list = cl.json && several_allowed && kernels.size() > 1;
  if (as_list) std::cout << "[";
  for (size_t k = 0; k < kernels.size(); ++k) {
    const KernelInfo& kernel = *kernels[k];
    CommandLine mine = cl;
    if (kernels.size() > 1) {
      mine.raw_args.clear();
      for (const auto& arg : cl.raw_args) {
        for (const ParamInfo& p : kernel.params) {
          if (p.name == arg.first) mine.raw_args.push_back(arg);
        }
      }
    }
    ArgMap args = build_args(kernel, mine);
    std::string ir, code;
    DispatchDecision d = program.explain(kernel.name, args, cl.options, cl.ir ? &ir : nullptr,
                                         cl.code ? &code : nullptr);
    if (cl.json) {
      std::cout << (k ? ", " : "") << "{\"kernel\": " << json_string(d.kernel)
                << ", \"dispatch\": " << json_string(d.dispatch)
                << ", \"reason\": " << json_string(d.reason)
                << ", \"plan\": " << json_string(d.plan)
                << ", \"device\": " << json_string(d.device)
                << ", \"backend\": " << json_string(d.backend)
                << ", \"config\": " << json_string(d.config) << ", \"guards\": [";
      for (size_t g = 0; g < d.guards.size(); ++g)
        std::cout << (g ? ", " : "") << "{\"condition\": " << json_string(d.guards[g].condition)
                  << ", \"holds\": " << (d.guards[g].holds ? "true" : "false")
                  << ", \"values\": " << json_string(d.guards[g].values) << "}";
      std::cout << "], \"unfilled_outputs\": [";
      for (size_t i = 0; i < d.unfilled_outputs.size(); ++i)
        std::cout << (i ? ", " : "") << json_string(d.unfilled_outputs[i]);
      std::cout << "], \"parallel_loops\": [";
      for (size_t i = 0; i < d.parallel_loops.size(); ++i)
        std::cout << (i ? ", " : "") << json_string(d.parallel_loops[i]);
      std::cout << "]";
      if (cl.ir) std::cout << ", \"ir\": " << json_string(ir);
      if (cl.code) std::cout << ", \"code\": " << json_string(code);
      std::cout << "}";
      if (!as_list) std::cout << "\n";
      continue;
    }
    std::cout << "kernel " << d.kernel << "\n  dispatch: " << d.dispatch;
    if (!d.reason.empty()) std::cout << " (reason: " << d.reason << ")";
    for (const DispatchGuard& g : d.guards)
      std::cout << "\n  guard: " << g.condition
                << ", checked on every call: " << (g.holds ? "holds" : "does not hold") << " here ("
                << g.values << ")";
    std::cout << "\n  device: " << d.device << "\n  backend: " << d.backend
              << "\n  config: " << d.config << "\n";
    if (!d.unfilled_outputs.empty()) {
      std::cout << "  written in full, so allocated without a fill:";
      for (const std::string& name : d.unfilled_outputs) std::cout << " " << name;
      std::cout << "\n";
    }
    for (const std::string& line : d.parallel_loops) std::cout << "  parallel: " << line << "\n";
    if (!d.plan.empty()) std::cout << "  plan:\n" << indent(d.plan, "    ");
    if (cl.ir) std::cout << "--- IR ---\n" << ir << (ir.empty() || ir.back() == '\n' ? "" : "\n");
    if (cl.code) {
      std::cout << "--- generated code ---\n"
                << (code.empty() ? "(none: this dispatch generates no code)\n" : code)
                << (code.empty() || code.back() == '\n' ? "" : "\n");
    }
  }
  if (as_list) std::cout << "]\n";
  return 0;
}

}  // namespace jagtile::cli
