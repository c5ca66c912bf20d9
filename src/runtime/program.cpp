// The compiler API (jagtile/compiler.h): parse and check a kernel file, describe its kernels,
// bind arguments by parameter name, specialise (with a thread-safe cache), run. The only
// backend so far is the interpreter; `auto` selects it until the generic backend exists.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "codegen/cpu/backend.h"
#include "interp/interp.h"
#include "ir/pipeline.h"
#include "lang/parser.h"
#include "runtime/program_impl.h"
#include "runtime/template_launch.h"

namespace jagtile {

std::optional<Backend> parse_backend(std::string_view name) {
  if (name == "auto") return Backend::auto_select;
  if (name == "template") return Backend::template_lib;
  if (name == "cpu") return Backend::cpu;
  if (name == "cuda") return Backend::cuda;
  if (name == "interp") return Backend::interp;
  return std::nullopt;
}

std::string_view backend_name(Backend backend) {
  switch (backend) {
    case Backend::auto_select:
      return "auto";
    case Backend::template_lib:
      return "template";
    case Backend::cpu:
      return "cpu";
    case Backend::cuda:
      return "cuda";
    case Backend::interp:
      return "interp";
  }
  return "?";
}

namespace {

// `torch.Tensor`, `torch.Tensor | None`, `Optional[torch.Tensor]`, `int`, `float`, `bool`.
ParamKind kind_of_annotation(const ast::Expr* a) {
  if (!a) return ParamKind::untyped;
  switch (a->kind) {
    case ast::ExprKind::name:
      if (a->id == "int") return ParamKind::int_scalar;
      if (a->id == "float") return ParamKind::float_scalar;
      if (a->id == "bool") return ParamKind::bool_scalar;
      if (a->id == "Tensor") return ParamKind::tensor;
      return ParamKind::untyped;
    case ast::ExprKind::attribute:
      return a->id == "Tensor" ? ParamKind::tensor : ParamKind::untyped;
    case ast::ExprKind::binary:
      if (a->binary_op == ast::BinaryOp::bit_or) {
        bool none_l = a->left->kind == ast::ExprKind::none_lit;
        bool none_r = a->right->kind == ast::ExprKind::none_lit;
        const ast::Expr* other = none_l ? a->right.get() : none_r ? a->left.get() : nullptr;
        if (other && kind_of_annotation(other) == ParamKind::tensor)
          return ParamKind::optional_tensor;
      }
      return ParamKind::untyped;
    case ast::ExprKind::subscript:
      if ((a->value->kind == ast::ExprKind::name && a->value->id == "Optional") ||
          (a->value->kind == ast::ExprKind::attribute && a->value->id == "Optional"))
        return kind_of_annotation(a->index.get()) == ParamKind::tensor ? ParamKind::optional_tensor
                                                                       : ParamKind::untyped;
      return ParamKind::untyped;
    case ast::ExprKind::str_lit:
      return ParamKind::untyped;
    default:
      return ParamKind::untyped;
  }
}

std::optional<ArgValue> default_of(const ast::Expr* d) {
  if (!d) return std::nullopt;
  switch (d->kind) {
    case ast::ExprKind::int_lit:
      return ArgValue(int64_t(d->int_value));
    case ast::ExprKind::float_lit:
      return ArgValue(d->float_value);
    case ast::ExprKind::bool_lit:
      return ArgValue(int64_t(d->bool_value ? 1 : 0));
    case ast::ExprKind::none_lit:
      return ArgValue(NoneArg{});
    case ast::ExprKind::unary:
      if (d->unary_op == ast::UnaryOp::neg && d->operand) {
        auto v = default_of(d->operand.get());
        if (v && std::holds_alternative<int64_t>(*v)) return ArgValue(-std::get<int64_t>(*v));
        if (v && std::holds_alternative<double>(*v)) return ArgValue(-std::get<double>(*v));
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string describe(const ArgValue& v) {
  if (auto* t = std::get_if<Tensor>(&v))
    return t->defined()
               ? "a " + std::string(dtype_name(t->dtype())) + " tensor of shape " + t->shape_str()
               : "an undefined tensor";
  if (std::holds_alternative<int64_t>(v))
    return "the integer " + std::to_string(std::get<int64_t>(v));
  if (std::holds_alternative<double>(v)) {
    std::ostringstream os;
    os << "the number " << std::get<double>(v);
    return os.str();
  }
  return "None";
}

// The parameter within edit distance 2 of `name`, for a "did you mean" hint; empty if none.
std::string nearest_param(const KernelInfo& k, const std::string& name) {
  std::string best;
  size_t best_d = 3;
  for (const ParamInfo& p : k.params) {
    const std::string& a = p.name;
    std::vector<size_t> prev(name.size() + 1), cur(name.size() + 1);
    for (size_t j = 0; j <= name.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= name.size(); ++j)
        cur[j] = std::min(
            {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == name[j - 1] ? 0 : 1)});
      std::swap(prev, cur);
    }
    if (prev[name.size()] < best_d) {
      best_d = prev[name.size()];
      best = a;
    }
  }
  return best;
}

std::string param_list(const KernelInfo& k) {
  std::string s;
  for (size_t i = 0; i < k.params.size(); ++i) s += (i ? ", " : "") + k.params[i].name;
  return s.empty() ? "(none)" : s;
}

}  // namespace

size_t Program::Impl::kernel_index(const std::string& name) const {
  if (name.empty()) {
    if (kernels.size() == 1) return 0;
    std::string names;
    for (size_t i = 0; i < kernels.size(); ++i) names += (i ? ", " : "") + kernels[i].name;
    if (kernels.empty())
      throw UserError("'" + file + "' defines no kernel", "a kernel is a top-level `def`",
                      SourceLoc{file, 0, 0});
    throw UserError("'" + file + "' defines several kernels (" + names + "); name the one to run",
                    "pass --kernel NAME", SourceLoc{file, 0, 0});
  }
  for (size_t i = 0; i < kernels.size(); ++i)
    if (kernels[i].name == name) return i;
  std::string names;
  for (size_t i = 0; i < kernels.size(); ++i) names += (i ? ", " : "") + kernels[i].name;
  throw UserError("no kernel named '" + name + "' in '" + file + "'",
                  "its kernels are: " + (names.empty() ? std::string("(none)") : names),
                  SourceLoc{file, 0, 0});
}

BoundArgs Program::Impl::bind(size_t ki, const ArgMap& args) const {
  const KernelInfo& k = kernels[ki];
  const ast::Stmt& def = *defs[ki];
  auto fail = [&](std::string msg, std::string hint) {
    throw ast::error_at(*module, def.pos, std::move(msg), std::move(hint));
  };
  for (const auto& [name, value] : args) {
    bool known = false;
    for (const ParamInfo& p : k.params) known |= p.name == name;
    if (!known) {
      std::string near = nearest_param(k, name);
      fail("kernel '" + k.name + "' has no parameter '" + name + "'",
           (near.empty() ? "" : "did you mean '" + near + "'? ") +
               "its parameters are: " + param_list(k));
    }
  }
  BoundArgs b;
  for (const ParamInfo& p : k.params) {
    auto it = args.find(p.name);
    ArgValue v;
    if (it != args.end()) {
      v = it->second;
    } else if (p.default_value) {
      v = *p.default_value;
    } else {
      fail("missing argument '" + p.name + "' for kernel '" + k.name + "'",
           "pass every parameter without a default: " + param_list(k));
    }
    ir::ParamSpec spec;
    spec.name = p.name;
    auto want = [&](const char* what) {
      fail("argument '" + p.name + "' of kernel '" + k.name + "' must be " + what + "; got " +
               describe(v),
           "check the value passed for '" + p.name + "'");
    };
    bool is_tensor = std::holds_alternative<Tensor>(v);
    bool is_none = std::holds_alternative<NoneArg>(v);
    bool is_int = std::holds_alternative<int64_t>(v);
    bool is_float = std::holds_alternative<double>(v);
    if (is_tensor && !std::get<Tensor>(v).defined()) want("a defined tensor");
    switch (p.kind) {
      case ParamKind::tensor:
        if (!is_tensor) want(is_none ? "a tensor (it is not optional)" : "a tensor");
        break;
      case ParamKind::optional_tensor:
        if (!is_tensor && !is_none) want("a tensor or None");
        break;
      case ParamKind::int_scalar:
        if (!is_int) want("an integer");
        break;
      case ParamKind::float_scalar:
        if (is_int)
          v = double(std::get<int64_t>(v));
        else if (!is_float)
          want("a number");
        is_float = true;
        is_int = false;
        break;
      case ParamKind::bool_scalar:
        if (!is_int || (std::get<int64_t>(v) != 0 && std::get<int64_t>(v) != 1))
          want("a bool (0 or 1)");
        break;
      case ParamKind::untyped:
        break;
    }
    if (std::holds_alternative<Tensor>(v)) {
      const Tensor& t = std::get<Tensor>(v);
      spec.kind = ir::ParamKind::tensor;
      spec.dtype = t.dtype();
      spec.rank = int(t.dim());
      spec.device = t.device();
    } else if (std::holds_alternative<NoneArg>(v)) {
      spec.kind = ir::ParamKind::none;
    } else if (p.kind == ParamKind::bool_scalar) {
      spec.kind = ir::ParamKind::bool_scalar;
    } else if (std::holds_alternative<double>(v)) {
      spec.kind = ir::ParamKind::float_scalar;
    } else {
      spec.kind = ir::ParamKind::int_scalar;
    }
    b.values.push_back(v);
    b.specs.push_back(spec);
  }
  return b;
}

std::shared_ptr<const Specialisation> Program::Impl::specialise(size_t ki, const BoundArgs& b,
                                                                const Options& options) const {
  std::ostringstream key;
  key << kernels[ki].name;
  for (const ir::ParamSpec& s : b.specs)
    key << "|" << int(s.kind) << "," << int(s.dtype) << "," << s.rank << "," << s.device.str();
  (void)options;  // nothing in Options changes the IR yet
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = cache.find(key.str());
    if (it != cache.end()) return it->second;
  }
  ir::LowerOptions lo;
  lo.block_sizes = configs[ki].block_sizes;
  ir::CompiledIR c = ir::compile_ir(*module, *defs[ki], b.specs, lo, /*trace=*/true);
  auto spec = std::make_shared<Specialisation>();
  spec->kernel = std::move(c.kernel);
  spec->ir_trace = std::move(c.trace);
  std::lock_guard<std::mutex> lock(cache_mutex);
  auto [it, inserted] = cache.emplace(key.str(), spec);
  return it->second;
}

Program Program::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw UserError("cannot read kernel file '" + path + "'", "check the path and permissions",
                    SourceLoc{path, 0, 0});
  std::ostringstream ss;
  ss << in.rdbuf();
  return from_source(ss.str(), path);
}

Program Program::from_source(const std::string& source, const std::string& file_name) {
  auto impl = std::make_shared<Impl>();
  impl->file = file_name;
  impl->module = std::make_unique<ast::Module>(lang::parse_module(source, file_name));
  lang::check_module(*impl->module);
  impl->defs = lang::kernel_defs(*impl->module);
  for (const ast::Stmt* def : impl->defs) {
    KernelInfo info;
    info.name = def->name;
    info.line = def->pos.line;
    for (const ast::Param& p : def->params) {
      ParamInfo pi;
      pi.name = p.name;
      pi.kind = kind_of_annotation(p.annotation.get());
      pi.default_value = default_of(p.default_value.get());
      if (pi.kind == ParamKind::untyped && pi.default_value &&
          std::holds_alternative<NoneArg>(*pi.default_value))
        pi.kind = ParamKind::optional_tensor;
      info.params.push_back(std::move(pi));
    }
    impl->kernels.push_back(std::move(info));
    impl->configs.push_back(lang::decorator_config(*impl->module, *def));
  }
  Program p;
  p.impl_ = impl;
  return p;
}

const std::vector<KernelInfo>& Program::kernels() const {
  return impl_->kernels;
}

const KernelInfo& Program::kernel(const std::string& name) const {
  return impl_->kernels[impl_->kernel_index(name)];
}

CallResult Program::call(const std::string& kernel_name, const ArgMap& args,
                         const Options& options) const {
  const Impl& im = *impl_;
  size_t ki = im.kernel_index(kernel_name);
  BoundArgs b = im.bind(ki, args);
  // The template path first (runtime/template_launch.h): it runs a matched kernel under
  // --backend template or auto and returns nullopt for every other case.
  if (std::optional<CallResult> t = route_template(im, ki, b, options)) return std::move(*t);
  Backend backend = options.backend == Backend::auto_select ? Backend::cpu : options.backend;
  if (backend != Backend::interp && backend != Backend::cpu)
    throw UserError("backend '" + std::string(backend_name(backend)) + "' is not available yet",
                    "use --backend cpu, interp (or auto)");
  std::shared_ptr<const Specialisation> spec = im.specialise(ki, b, options);
  if (options.debug_ir) std::cerr << spec->ir_trace;
  CallResult r;
  // Generic CPU backend (codegen/cpu/backend.h); `auto` falls back to the interpreter for the
  // few kernels it cannot compile yet, `--backend cpu` says why.
  if (backend == Backend::cpu) {
    std::string why = codegen::cpu::cpu_unsupported_reason(spec->kernel);
    if (why.empty()) {
      if (options.debug_code || ir::debug_enabled("code"))
        std::cerr << codegen::cpu::generate_cpu_source(spec->kernel, options);
      r.outputs = codegen::cpu::run_generic_cpu(spec, spec->kernel, b.values, options);
      r.backend_used = Backend::cpu;
      return r;
    }
    if (options.backend == Backend::cpu)
      throw UserError(
          "the generic CPU backend cannot run kernel '" + spec->kernel.name + "': " + why,
          "use --backend interp");
  }
  r.outputs = interp::run_kernel(spec->kernel, b.values);
  r.backend_used = Backend::interp;
  return r;
}

DispatchDecision Program::explain(const std::string& kernel_name, const ArgMap& args,
                                  const Options& options, std::string* ir_text,
                                  std::string* code_text) const {
  const Impl& im = *impl_;
  size_t ki = im.kernel_index(kernel_name);
  BoundArgs b = im.bind(ki, args);
  std::shared_ptr<const Specialisation> spec = im.specialise(ki, b, options);
  if (options.debug_ir) std::cerr << spec->ir_trace;
  if (ir_text) *ir_text = spec->ir_trace;
  if (code_text)
    *code_text = codegen::cpu::cpu_unsupported_reason(spec->kernel).empty()
                     ? codegen::cpu::generate_cpu_source(spec->kernel, options)
                     : std::string();
  DispatchDecision d;
  d.kernel = im.kernels[ki].name;
  fill_dispatch_decision(d, spec, options);
  return d;
}

}  // namespace jagtile
