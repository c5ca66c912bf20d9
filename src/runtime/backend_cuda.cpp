// The cuda backend: the planned loop-nest form (src/plan) printed as CUDA (src/codegen/cuda),
// compiled by NVRTC for the device's architecture (cubins cached on disk), launched with the
// driver API. The host executor runs the host part; the device nests run on the GPU.
//
// With JAGTILE_CUDA_EMULATION=1 it also runs kernels whose tensors are on the CPU, through the
// host emulation of the same generated source (slow; for tests on machines without a GPU), after
// NVRTC has compiled that source for sm_80 and sm_90a. It never does so for `auto`, which takes
// the cpu backend first.
#include <cstdlib>

#include "codegen/cuda/backend.h"
#include "host/host_exec.h"
#include "plan/planner.h"
#include "runtime/backend.h"

namespace jagtile::runtime {

namespace {

bool emulation_requested() {
  const char* e = std::getenv("JAGTILE_CUDA_EMULATION");
  return e && *e && std::string(e) != "0";
}

class CudaExecutable : public Executable {
 public:
  codegen::cuda::CompiledCuda compiled;
};

class Runner : public host::NestRunner {
 public:
  Runner(const host::HostProgram& program, const CudaExecutable& exe)
      : program_(program), exe_(exe) {}
  void run_nest(const host::DeviceNest& nest, const host::HostEnv& env) override {
    codegen::cuda::run_cuda_nest(exe_.compiled, program_, nest, env);
  }

 private:
  const host::HostProgram& program_;
  const CudaExecutable& exe_;
};

// Every float matmul is a matmul block: the block's warps run it on tensor cores where its
// operands are bf16 or f16 and the device has them (codegen/cuda/cuda_matmul.cpp).
plan::Plan plan_for_cuda(const Specialisation& spec, bool checked, std::string* trace = nullptr) {
  return plan::plan_kernel(spec.kernel, spec.host, checked, trace, /*matmul_blocks=*/true);
}

class CudaBackend : public BackendImpl {
 public:
  Backend id() const override { return Backend::cuda; }
  std::string_view name() const override { return "cuda"; }
  std::string description() const override {
    return "generated CUDA for every kernel, compiled by NVRTC and launched with the driver API";
  }
  bool runs_on(Device::Kind device) const override {
    return device == Device::Kind::cuda || (device == Device::Kind::cpu && emulation_requested());
  }
  std::string impl_label(Device device) const override {
    return device.is_cpu() && emulation_requested() ? "cuda-emulated" : "generic-cuda";
  }
  std::string why_not(const Specialisation& spec) const override {
    if (spec.host.nests.empty()) return {};
    return codegen::cuda::unsupported_reason(plan_for_cuda(spec, true));
  }
  std::string code_key(const Options& options) const override {
    return options.checked ? "checked" : "unchecked";
  }

  std::shared_ptr<const Executable> prepare(const Specialisation& spec, const Options& options,
                                            PrepareStats* stats) const override {
    auto exe = std::make_shared<CudaExecutable>();
    if (spec.host.nests.empty()) {
      if (stats) stats->source = PrepareStats::Source::none;
      return exe;
    }
    plan::Plan plan = plan_for_cuda(spec, options.checked);
    bool compiled = false;
    if (spec.device.is_cpu()) {
      codegen::cpu::JitStats jit;
      exe->compiled = codegen::cuda::compile_cuda_emulated(
          plan, codegen::cpu::Jit::for_dir(options.cache_dir), options.cache_dir, &jit);
      compiled = jit.source == codegen::cpu::JitStats::Source::compiled;
    } else {
      codegen::cuda::CubinStats cubin;
      exe->compiled =
          codegen::cuda::compile_cuda(plan, spec.device.index, options.cache_dir, &cubin);
      compiled = cubin.compiled;
    }
    if (stats)
      stats->source = compiled ? PrepareStats::Source::compiled : PrepareStats::Source::disk;
    return exe;
  }

  std::vector<Tensor> run(const Specialisation& spec, const Executable& executable,
                          const std::vector<ArgValue>& args,
                          const Options& options) const override {
    Runner runner(spec.host, static_cast<const CudaExecutable&>(executable));
    host::ExecOptions exec;
    exec.overwritten = &spec.fully_written;  // outputs written in full: left unfilled
    exec.overwritten_when_items_cover = &spec.written_when_items_cover;
    return host::run_host(spec.host, args, runner, exec);
  }

  std::string source(const Specialisation& spec, const Options& options) const override {
    if (spec.host.nests.empty()) return {};
    return codegen::cuda::print_cuda(plan_for_cuda(spec, options.checked)).code;
  }
  std::string plan_trace(const Specialisation& spec, const Options& options) const override {
    std::string trace;
    plan_for_cuda(spec, options.checked, &trace);
    return trace;
  }
};

}  // namespace

const BackendImpl& cuda_backend() {
  static const CudaBackend backend;
  return backend;
}

}  // namespace jagtile::runtime
