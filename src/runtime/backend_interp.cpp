// The interp backend: the reference interpreter (src/interp) on the device nests, the host
// executor on the rest. Runs every valid kernel on CPU tensors; the oracle the others are
// checked against.
#include "host/host_exec.h"
#include "interp/interp.h"
#include "runtime/backend.h"

namespace jagtile::runtime {

namespace {

class InterpExecutable : public Executable {};

class Runner : public host::NestRunner {
 public:
  Runner(const host::HostProgram& program, const std::vector<ArgValue>& args)
      : program_(program), args_(args) {}
  void run_nest(const host::DeviceNest& nest, const host::HostEnv& env) override {
    interp::run_nest(program_, nest, env, args_);
  }

 private:
  const host::HostProgram& program_;
  const std::vector<ArgValue>& args_;
};

class InterpBackend : public BackendImpl {
 public:
  Backend id() const override { return Backend::interp; }
  std::string_view name() const override { return "interp"; }
  std::string description() const override {
    return "the reference interpreter: slow, simple, every load and store bounds-checked";
  }
  bool runs_on(Device::Kind device) const override { return device == Device::Kind::cpu; }
  std::string impl_label(Device) const override { return "interp"; }
  std::string why_not(const Specialisation&) const override { return {}; }

  std::shared_ptr<const Executable> prepare(const Specialisation&, const Options&,
                                            PrepareStats* stats) const override {
    if (stats) stats->source = PrepareStats::Source::none;
    return std::make_shared<InterpExecutable>();
  }

  std::vector<Tensor> run(const Specialisation& spec, const Executable&,
                          const std::vector<ArgValue>& args, const Options&) const override {
    Runner runner(spec.host, args);
    host::ExecOptions exec;
    exec.zero_fill_empty = true;  // results never depend on uninitialised memory
    return host::run_host(spec.host, args, runner, exec);
  }
};

}  // namespace

const BackendImpl& interp_backend() {
  static const InterpBackend backend;
  return backend;
}

}  // namespace jagtile::runtime
