// What a Program holds and the steps every call shares (program_state.h): finding a kernel,
// binding arguments by parameter name (with "did you mean" for a misspelt one), the device of
// the tensors, and the bounded specialisation cache keyed by content.
#include "runtime/program_state.h"

#include <algorithm>
#include <sstream>

#include "core/hash.h"
#include "jagtile/names.h"
#include "lang/module_constants.h"
#include "lang/parser.h"
#include "runtime/tune_store.h"

namespace jagtile::runtime {

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

// The parameter closest to `name` (edit distance at most 2), for a "did you mean" hint.
std::string nearest_param(const KernelInfo& k, const std::string& name) {
  std::vector<std::string> names;
  for (const ParamInfo& p : k.params) names.push_back(p.name);
  return closest_name(name, names);
}

std::string param_list(const KernelInfo& k) {
  std::string s;
  for (size_t i = 0; i < k.params.size(); ++i) s += (i ? ", " : "") + k.params[i].name;
  return s.empty() ? "(none)" : s;
}

}  // namespace

std::shared_ptr<const ProgramState> ProgramState::parse(const std::string& source,
                                                        const std::string& file_name) {
  auto impl = std::make_shared<ProgramState>();
  impl->source_hash = hex64(fnv1a64(source));
  impl->file = file_name;
  impl->module = std::make_unique<ast::Module>(lang::parse_module(source, file_name));
  lang::inline_module_constants(*impl->module);
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
    lang::KernelConfig config = lang::decorator_config(*impl->module, *def);
    for (const lang::DecoratorSetting& s : config.settings)
      info.settings.push_back({s.key, s.value, s.effect});
    info.warnings = config.warnings;
    impl->kernels.push_back(std::move(info));
    impl->configs.push_back(std::move(config));
  }
  return impl;
}

// ---- the specialisation cache ----------------------------------------------------------

std::shared_ptr<const Specialisation> SpecialisationCache::find(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  ages_.splice(ages_.begin(), ages_, it->second.age);  // now the most recent
  return it->second.spec;
}

std::shared_ptr<const Specialisation> SpecialisationCache::insert(
    std::shared_ptr<const Specialisation> spec) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(spec->key);
  if (it != entries_.end()) return it->second.spec;
  ages_.push_front(spec->key);
  entries_.emplace(spec->key, Entry{spec, ages_.begin()});
  while (entries_.size() > capacity_) {
    entries_.erase(ages_.back());
    ages_.pop_back();
  }
  return spec;
}

size_t SpecialisationCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

// ---- the program ---------------------------------------------------------------------------

size_t ProgramState::kernel_index(const std::string& name) const {
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

BoundArgs ProgramState::bind(size_t ki, const ArgMap& args) const {
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
  // The device comes from the tensors: all of them must be on one.
  const ir::ParamSpec* first = nullptr;
  for (const ir::ParamSpec& s : b.specs) {
    if (s.kind != ir::ParamKind::tensor) continue;
    if (!first) {
      first = &s;
      b.device = s.device;
    } else if (!(s.device == first->device)) {
      fail("kernel '" + k.name + "' got tensors on several devices: '" + first->name + "' is on " +
               first->device.str() + ", '" + s.name + "' is on " + s.device.str(),
           "move every tensor argument to one device");
    }
  }
  return b;
}

namespace {

// The config in effect: the options' entries over the decorator's (a zero or missing entry
// takes the one below it), and where it came from.
Config effective_config(const lang::KernelConfig& decorator, const Config& given,
                        std::string* origin) {
  Config c = given;
  bool from_decorator = false, from_options = false;
  for (int64_t b : given.block_sizes) from_options |= b > 0;
  from_options |= given.reduce_chunk_rows > 0 || given.reduce_workers > 0;
  if (c.block_sizes.size() < decorator.block_sizes.size())
    c.block_sizes.resize(decorator.block_sizes.size(), 0);
  for (size_t i = 0; i < decorator.block_sizes.size(); ++i)
    if (c.block_sizes[i] <= 0) {
      c.block_sizes[i] = decorator.block_sizes[i];
      from_decorator = true;
    }
  *origin = from_decorator && from_options ? "decorator+options"
            : from_decorator               ? "decorator"
            : from_options                 ? "options"
                                           : "defaults";
  return c;
}

}  // namespace

namespace {

// The autotuner's stored best for this call, when the options give no config of their own and
// stored configs are on. Costs one map lookup unless the kernel has stored entries.
std::shared_ptr<const StoredTuning> stored_config(const ProgramState& program, size_t ki,
                                                  const BoundArgs& b, const Options& options) {
  if (!options.use_tuned_config || !(options.config == Config{}) || !stored_configs_enabled())
    return nullptr;
  TuneStore& store = TuneStore::for_dir(tune_store_dir(options));
  if (!store.has_entries_for(program.source_hash, program.kernels[ki].name)) return nullptr;
  return store.find(call_key_hash(program, ki, b, options));
}

}  // namespace

std::shared_ptr<const Specialisation> ProgramState::specialise(size_t ki, const BoundArgs& b,
                                                               const Options& given) const {
  const std::shared_ptr<const StoredTuning> tuned = stored_config(*this, ki, b, given);
  Options tuned_options;
  if (tuned) {
    tuned_options = given;
    tuned_options.config = tuned->config;
  }
  const Options& options = tuned ? tuned_options : given;
  // The content key: which source, which kernel, which argument types, which config. Built in
  // a per-thread buffer: a call that finds its specialisation allocates nothing here.
  thread_local std::string key;
  key.assign(source_hash);
  auto number = [&](int64_t v) {  // raw bytes: the key is compared, never shown
    key.append(reinterpret_cast<const char*>(&v), sizeof v);
  };
  key += '|';
  number(int64_t(ki));
  for (const ir::ParamSpec& s : b.specs) {
    key += '|';
    number(int(s.kind));
    key += ',';
    number(int(s.dtype));
    key += ',';
    number(s.rank);
    key += ',';
    number(int(s.device.kind));
    key += ':';
    number(s.device.index);
  }
  const lang::KernelConfig& decorated = configs[ki];
  if (!decorated.block_sizes.empty() || !(options.config == Config{})) {
    key += '|';
    for (int64_t v : decorated.block_sizes) number(v), key += ',';
    key += '|';
    key += options.config.str();
  }
  if (tuned) key += "|tuned:" + tuned->key;  // its origin differs from the same config given
  if (std::shared_ptr<const Specialisation> hit = cache.find(key)) return hit;
  std::string origin;
  Config config = effective_config(configs[ki], options.config, &origin);
  if (tuned)
    origin = "stored autotune entry " + tuned->key + ", tuned " + tuned->effort + " for " +
             tuned->shape_bucket + "; JAGTILE_AUTOTUNE=0 ignores it";
  // Lowered outside the cache's lock: two threads racing lower twice and keep the first.
  auto spec = std::make_shared<const Specialisation>(*this, ki, key, b, std::move(config),
                                                     std::move(origin));
  return cache.insert(std::move(spec));
}

}  // namespace jagtile::runtime
