// libFuzzer target for argument binding (issue 16, item 3): a bundled example kernel called on
// the interpreter with arguments decoded from the input. Any parameter may be missing, misspelt
// or of another kind (tensor, int, float, none); a tensor has any dtype, rank 0 to 3, sizes 0 to
// 6 and values from the bytes, offsets often non-decreasing so that calls get past validation
// and run. A UserError is the expected answer to bad arguments. A finding is anything else
// escaping (an internal error, another exception), a crash, a sanitizer report, or a call that
// changes one of its input tensors.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "jagtile/compiler.h"
#include "jagtile/error.h"
#include "jagtile/tensor.h"
#include "testing/examples.h"

namespace {

using jagtile::ArgMap;
using jagtile::DType;
using jagtile::Program;
using jagtile::Tensor;

struct Example {
  Program program;
  std::string kernel;
  std::vector<jagtile::ParamInfo> params;
};

const std::vector<Example>& examples() {
  static const std::vector<Example> all = [] {
    std::vector<Example> out;
    for (const jagtile::ExampleInfo* e : jagtile::all_examples()) {
      Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + e->file);
      out.push_back({p, e->kernel, p.kernel(e->kernel).params});
    }
    return out;
  }();
  return all;
}

Tensor tensor_from(FuzzedDataProvider& in) {
  static const DType kDTypes[] = {DType::f32, DType::f16, DType::bf16,
                                  DType::i32, DType::i64, DType::boolean};
  const DType dtype = kDTypes[in.ConsumeIntegralInRange(0, 5)];
  const int rank = in.ConsumeIntegralInRange(0, 3);
  jagtile::Shape shape;
  int64_t numel = 1;
  for (int d = 0; d < rank; ++d) {
    shape.push_back(in.ConsumeIntegralInRange<int64_t>(0, 6));
    numel *= shape.back();
  }
  // Integers: small, and as a running sum (non-decreasing, as offsets must be) half the time.
  const bool running_sum = in.ConsumeBool();
  std::vector<double> values;
  double sum = 0;
  for (int64_t i = 0; i < numel; ++i) {
    if (dtype == DType::boolean) {
      values.push_back(in.ConsumeBool() ? 1 : 0);
    } else if (jagtile::dtype_is_int(dtype)) {
      const double v = double(in.ConsumeIntegralInRange<int64_t>(running_sum ? 0 : -3, 8));
      sum = running_sum ? sum + v : v;
      values.push_back(sum);
    } else {
      values.push_back(double(in.ConsumeFloatingPoint<float>()));
    }
  }
  return Tensor::from_doubles(shape, values, dtype);
}

std::string bytes_of(const Tensor& t) {
  return std::string(static_cast<const char*>(t.raw_data()), size_t(t.nbytes()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const std::vector<Example>& all = examples();
  const Example& example = all[in.ConsumeIntegralInRange<size_t>(0, all.size() - 1)];
  ArgMap args;
  for (const jagtile::ParamInfo& param : example.params) {
    switch (in.ConsumeIntegralInRange(0, 9)) {
      case 0:  // missing
        break;
      case 1:
        args[param.name] = in.ConsumeIntegral<int64_t>();
        break;
      case 2:
        args[param.name] = in.ConsumeFloatingPoint<double>();
        break;
      case 3:
        args[param.name] = jagtile::NoneArg{};
        break;
      case 4:  // misspelt
        args[param.name + "s"] = tensor_from(in);
        break;
      default:
        args[param.name] = tensor_from(in);
        break;
    }
  }
  std::vector<std::pair<Tensor, std::string>> inputs;
  for (const auto& [name, value] : args)
    if (const Tensor* t = std::get_if<Tensor>(&value)) inputs.emplace_back(*t, bytes_of(*t));
  jagtile::Options options;
  options.backend = jagtile::Backend::interp;
  options.num_threads = 1;
  try {
    jagtile::CallResult r = example.program.call(example.kernel, args, options);
    (void)r;
  } catch (const jagtile::UserError&) {
  }
  // Inputs are read, never written, whether the call ran or was refused.
  for (const auto& [tensor, before] : inputs)
    if (bytes_of(tensor) != before) std::abort();
  return 0;
}
