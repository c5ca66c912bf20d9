// `jagtile run`: call one kernel on the arguments of the command line, print or write its
// outputs, and with --check compare them against the interpreter and the bundled example's
// reference.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "jagtile/error.h"

namespace jagtile::cli {
namespace {

// FILE.npy for one output; FILE_0.npy, FILE_1.npy, ... for several.
std::string output_path(const std::string& out, size_t index, size_t count) {
  if (count == 1) return out;
  std::string stem = out, ext;
  if (out.size() > 4 && out.compare(out.size() - 4, 4, ".npy") == 0) {
    stem = out.substr(0, out.size() - 4);
    ext = ".npy";
  }
  return stem + "_" + std::to_string(index) + ext;
}

std::string preview(const Tensor& t) {
  Tensor host = t.device().is_cpu() ? t : t.to(Device::cpu());
  std::ostringstream os;
  os << dtype_name(t.dtype()) << " " << t.shape_str();
  int64_t n = host.numel();
  os << " [";
  for (int64_t i = 0; i < n && i < 6; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", host.item_as_double(i));
    os << (i ? ", " : "") << buf;
  }
  os << (n > 6 ? ", ...]" : "]");
  return os.str();
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// Compares every output; prints one line per comparison. Returns false on a mismatch.
bool compare_all(const std::string& against, const std::vector<Tensor>& actual,
                 const std::vector<Expected>& expected,
                 const std::function<Tolerance(DType)>& tolerance) {
  if (actual.size() != expected.size()) {
    std::cerr << "error: check against " << against << " failed: the kernel returned "
              << actual.size() << " output(s), " << against << " " << expected.size() << "\n";
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < actual.size(); ++i) {
    Comparison c = compare_tensors(actual[i], expected[i], tolerance(expected[i].value.dtype()));
    std::cout << "check against " << against << ": output " << i << " "
              << (c.ok ? "ok" : "MISMATCH") << " (max abs error " << fmt(c.max_abs_error)
              << ", max rel error " << fmt(c.max_rel_error) << ")\n";
    if (!c.ok) {
      std::cerr << "error: check against " << against << " failed: output " << i << " "
                << c.mismatch << "\n";
      ok = false;
    }
  }
  return ok;
}

}  // namespace

int run_command(const CommandLine& cl) {
  Program program = load_program(cl.file);
  const KernelInfo& kernel = *select_kernels(program, cl, false).front();
  ArgMap args = build_args(kernel, cl);
  const ArgMap device_args = args_on_device(args, cl.device);

  auto start = std::chrono::steady_clock::now();
  CallResult result = program.call(kernel.name, device_args, cl.options);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  result.outputs = tensors_on_host(result.outputs);
  std::cout << kernel.name << ": ran on backend " << backend_name(result.backend_used) << " in "
            << fmt(ms) << " ms" << (cl.device.is_cpu() ? "" : " on " + cl.device.str())
            << " (first call: specialising and compiling included)\n";

  for (size_t i = 0; i < result.outputs.size(); ++i) {
    if (!cl.out.empty()) {
      std::string path = output_path(cl.out, i, result.outputs.size());
      write_npy(path, result.outputs[i]);
      std::cout << "output " << i << ": wrote " << path << " (" << preview(result.outputs[i])
                << ")\n";
    } else {
      std::cout << "output " << i << ": " << preview(result.outputs[i]) << "\n";
    }
  }
  if (!cl.check) return 0;

  const ExampleInfo* ex = example_for(kernel);
  auto tolerance = ex ? ex->tolerance : std::function<Tolerance(DType)>(default_tolerance);
  bool ok = true;
  bool compared = false;
  std::vector<Expected> reference;
  if (ex) reference = ex->reference(args);
  if (result.backend_used != Backend::interp) {
    Options interp = cl.options;
    interp.backend = Backend::interp;
    interp.checked = true;
    CallResult oracle = program.call(kernel.name, args, interp);
    std::vector<Expected> expected;
    for (size_t i = 0; i < oracle.outputs.size(); ++i) {
      expected.push_back(Expected{oracle.outputs[i], {}, {}});
      // The interpreter's sums round too: allow for both sides, as against the reference.
      if (i < reference.size()) {
        expected.back().rows = reference[i].rows;
        expected.back().extra_atol = reference[i].extra_atol;
        for (double& e : expected.back().extra_atol) e *= 2;
      }
    }
    ok = compare_all("interp", result.outputs, expected, tolerance) && ok;
    compared = true;
  }
  if (ex) {
    ok = compare_all("reference", result.outputs, reference, tolerance) && ok;
    compared = true;
  }
  if (!compared) {
    std::cout << "check: nothing to compare against (the backend is the interpreter and '"
              << kernel.name << "' is not a bundled example)\n";
  }
  return ok ? 0 : 1;
}

}  // namespace jagtile::cli
