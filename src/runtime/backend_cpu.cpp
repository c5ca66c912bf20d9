// The cpu backend: generated C++ (src/codegen/cpu), compiled by the system compiler, cached on
// disk and loaded once per specialisation and bounds-check setting.
#include "codegen/cpu/backend.h"
#include "runtime/backend.h"

namespace jagtile::runtime {

namespace {

class CpuExecutable : public Executable {
 public:
  codegen::cpu::CompiledCpu compiled;
};

class CpuBackend : public BackendImpl {
 public:
  Backend id() const override { return Backend::cpu; }
  std::string_view name() const override { return "cpu"; }
  std::string description() const override {
    return "generated C++ for every kernel, compiled by the system compiler and cached on disk";
  }
  bool runs_on(Device::Kind device) const override { return device == Device::Kind::cpu; }
  std::string impl_label(Device) const override { return "generic-cpu"; }
  std::string why_not(const Specialisation& spec) const override {
    return codegen::cpu::cpu_unsupported_reason(spec.kernel);
  }
  std::string code_key(const Options& options) const override {
    return options.checked ? "checked" : "unchecked";
  }

  std::shared_ptr<const Executable> prepare(const Specialisation& spec, const Options& options,
                                            PrepareStats* stats) const override {
    auto exe = std::make_shared<CpuExecutable>();
    codegen::cpu::JitStats jit;
    exe->compiled = codegen::cpu::compile_cpu(
        spec.kernel, options.checked, codegen::cpu::Jit::for_dir(options.cache_dir), &jit);
    if (stats)
      stats->source = jit.source == codegen::cpu::JitStats::Source::compiled
                          ? PrepareStats::Source::compiled
                          : PrepareStats::Source::disk;
    return exe;
  }

  std::vector<Tensor> run(const Specialisation& spec, const Executable& executable,
                          const std::vector<ArgValue>& args,
                          const Options& options) const override {
    const auto& exe = static_cast<const CpuExecutable&>(executable);
    return codegen::cpu::run_compiled_cpu(exe.compiled, spec.kernel, args, options.num_threads);
  }

  std::string source(const Specialisation& spec, const Options& options) const override {
    return codegen::cpu::generate_cpu_source(spec.kernel, options);
  }
};

}  // namespace

const BackendImpl& cpu_backend() {
  static const CpuBackend backend;
  return backend;
}

}  // namespace jagtile::runtime
