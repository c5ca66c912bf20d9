// The cpu backend: the planned loop-nest form (src/plan) printed as C++ (src/codegen/cpu),
// compiled by the system compiler, cached on disk and loaded once per specialisation and
// bounds-check setting. The host executor runs the host part; the device nests run here.
#include <cstdlib>
#include <string>

#include "codegen/cpu/backend.h"
#include "codegen/cpu/jit.h"
#include "host/host_exec.h"
#include "plan/planner.h"
#include "runtime/backend.h"

namespace jagtile::runtime {

namespace {

// Float matmuls run on the generated code's register-blocked microkernel, unless
// JAGTILE_CPU_MATMUL=loops asks for the plain element loops (to compare the two).
bool matmul_blocks() {
  const char* mode = std::getenv("JAGTILE_CPU_MATMUL");
  return !(mode && std::string(mode) == "loops");
}

class CpuExecutable : public Executable {
 public:
  codegen::cpu::CompiledCpu compiled;
};

class Runner : public host::NestRunner {
 public:
  Runner(const host::HostProgram& program, const CpuExecutable& exe, ThreadPool& pool, bool reverse)
      : program_(program), exe_(exe), pool_(pool), reverse_(reverse) {}
  void run_nest(const host::DeviceNest& nest, const host::HostEnv& env) override {
    codegen::cpu::run_cpu_nest(exe_.compiled, program_, nest, env, pool_, reverse_);
  }

 private:
  const host::HostProgram& program_;
  const CpuExecutable& exe_;
  ThreadPool& pool_;
  bool reverse_;
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
    return codegen::cpu::unsupported_reason(spec.kernel);
  }
  std::string code_key(const Options& options) const override {
    // Everything the generated code depends on besides the kernel: a process that changes
    // JAGTILE_CPU_MATMUL or JAGTILE_CPU_ISA between calls gets code for each setting.
    return std::string(options.checked ? "checked" : "unchecked") +
           (matmul_blocks() ? "" : "+matmul-loops") + codegen::cpu::isa_flags();
  }

  std::shared_ptr<const Executable> prepare(const Specialisation& spec, const Options& options,
                                            PrepareStats* stats) const override {
    auto exe = std::make_shared<CpuExecutable>();
    if (!spec.host.nests.empty()) {
      plan::Plan plan =
          plan::plan_kernel(spec.kernel, spec.host, options.checked, nullptr, matmul_blocks(),
                            /*cpu_passes=*/true);
      codegen::cpu::JitStats jit;
      exe->compiled =
          codegen::cpu::compile_cpu(plan, codegen::cpu::Jit::for_dir(options.cache_dir), &jit);
      if (stats)
        stats->source = jit.source == codegen::cpu::JitStats::Source::compiled
                            ? PrepareStats::Source::compiled
                            : PrepareStats::Source::disk;
    } else if (stats) {
      stats->source = PrepareStats::Source::none;  // host code only: nothing to compile
    }
    return exe;
  }

  std::vector<Tensor> run(const Specialisation& spec, const Executable& executable,
                          const std::vector<ArgValue>& args,
                          const Options& options) const override {
    const auto& exe = static_cast<const CpuExecutable&>(executable);
    Runner runner(spec.host, exe, codegen::cpu::pool_for(options.num_threads),
                  options.reverse_programs);
    host::ExecOptions exec;
    exec.overwritten = &spec.fully_written;  // outputs written in full: left unfilled
    exec.overwritten_when_items_cover = &spec.written_when_items_cover;
    return host::run_host(spec.host, args, runner, exec);
  }

  std::string source(const Specialisation& spec, const Options& options) const override {
    if (spec.host.nests.empty()) return {};
    return codegen::cpu::print_cpp(plan::plan_kernel(spec.kernel, spec.host, options.checked,
                                                     nullptr, matmul_blocks(),
                                                     /*cpu_passes=*/true))
        .code;
  }
  std::string plan_trace(const Specialisation& spec, const Options& options) const override {
    std::string trace;
    plan::plan_kernel(spec.kernel, spec.host, options.checked, &trace, matmul_blocks(),
                      /*cpu_passes=*/true);
    return trace;
  }
};

}  // namespace

const BackendImpl& cpu_backend() {
  static const CpuBackend backend;
  return backend;
}

}  // namespace jagtile::runtime
