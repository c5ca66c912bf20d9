// The Program API on the interpreter: kernel listing (parameter kinds, defaults), argument
// binding by name with its errors, backend selection, explain, the specialisation cache, and
// concurrent calls.
#include <gtest/gtest.h>

#include <thread>

#include "helpers.h"

namespace jagtile::testing {
namespace {

const char* kTwoKernels = R"(
@helion.kernel()
def scale(x: torch.Tensor, bias: torch.Tensor | None, factor: float = 2.0, n: int = 3) -> torch.Tensor:
    out = torch.zeros_like(x)
    for t in hl.tile(x.size(0)):
        v = x[t] * factor + n
        if bias is not None:
            v = v + bias[t]
        out[t] = v
    return out


@helion.kernel()
def copy(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        out[t] = x[t]
    return out
)";

Program two_kernels() {
  return Program::from_source(kernel_header() + kTwoKernels, "two.py");
}

Options interp_options() {
  Options o;
  o.backend = Backend::interp;
  return o;
}

TEST(Program, ListsKernelsWithParameterKindsAndDefaults) {
  Program p = two_kernels();
  ASSERT_EQ(p.kernels().size(), 2u);
  const KernelInfo& k = p.kernel("scale");
  EXPECT_EQ(k.line, 7);
  ASSERT_EQ(k.params.size(), 4u);
  EXPECT_EQ(k.params[0].kind, ParamKind::tensor);
  EXPECT_EQ(k.params[1].kind, ParamKind::optional_tensor);
  EXPECT_EQ(k.params[2].kind, ParamKind::float_scalar);
  EXPECT_EQ(std::get<double>(*k.params[2].default_value), 2.0);
  EXPECT_EQ(k.params[3].kind, ParamKind::int_scalar);
  EXPECT_EQ(std::get<int64_t>(*k.params[3].default_value), 3);
  EXPECT_FALSE(k.params[0].default_value.has_value());
}

TEST(Program, BindsByNameWithDefaultsAndOptionalNone) {
  Program p = two_kernels();
  Tensor x = f32({3}, {1, 2, 3});
  auto out = p.call("scale", {{"x", x}, {"bias", NoneArg{}}}, interp_options()).outputs;
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{5, 7, 9}));
  out =
      p.call(
           "scale",
           {{"bias", f32({3}, {10, 20, 30})}, {"x", x}, {"n", int64_t(0)}, {"factor", int64_t(1)}},
           interp_options())
          .outputs;
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{11, 22, 33}));
}

void expect_user_error(const std::function<void()>& fn, const std::string& message,
                       const std::string& hint = {}) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing: " << message;
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find(message), std::string::npos) << e.what();
    if (!hint.empty()) {
      EXPECT_NE(e.hint().find(hint), std::string::npos) << e.what();
    }
  }
}

TEST(Program, UnknownArgumentNamesTheParameters) {
  Program p = two_kernels();
  expect_user_error(
      [&] {
        p.call("copy", {{"x", f32({1}, {1})}, {"y", f32({1}, {1})}}, interp_options());
      },
      "kernel 'copy' has no parameter 'y'", "its parameters are: x");
}

TEST(Program, UnknownArgumentSuggestsTheNearestParameter) {
  Program p = two_kernels();
  expect_user_error(
      [&] {
        p.call("scale", {{"x", f32({1}, {1})}, {"bais", NoneArg{}}}, interp_options());
      },
      "kernel 'scale' has no parameter 'bais'", "did you mean 'bias'?");
}

TEST(Program, MissingArgumentIsLocatedAtTheKernel) {
  Program p = two_kernels();
  try {
    p.call("scale", {{"bias", NoneArg{}}}, interp_options());
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("missing argument 'x' for kernel 'scale'"), std::string::npos);
    EXPECT_EQ(e.loc().file, "two.py");
    EXPECT_EQ(e.loc().line, 7);
  }
}

TEST(Program, WrongArgumentKinds) {
  Program p = two_kernels();
  expect_user_error(
      [&] {
        p.call("copy", {{"x", int64_t(3)}}, interp_options());
      },
      "argument 'x' of kernel 'copy' must be a tensor; got the integer 3");
  expect_user_error(
      [&] {
        p.call("copy", {{"x", NoneArg{}}}, interp_options());
      },
      "must be a tensor (it is not optional)");
  expect_user_error(
      [&] {
        p.call("scale", {{"x", f32({1}, {1})}, {"bias", NoneArg{}}, {"n", 1.5}}, interp_options());
      },
      "argument 'n' of kernel 'scale' must be an integer");
}

// A float argument outside int64's range is a float like any other (the host executor once
// also converted it to an integer, undefined behaviour that the argument-binding fuzzer found).
TEST(Program, FloatArgumentBeyondTheIntegerRangeIsUsedAsAFloat) {
  Program p = two_kernels();
  Tensor out = p.call("scale", {{"x", f32({2}, {1, -1})}, {"bias", NoneArg{}}, {"factor", -1e308}},
                      interp_options())
                   .outputs.at(0);
  EXPECT_EQ(out.item_as_double(0), double(float(-1e308)) + 3);
  EXPECT_EQ(out.item_as_double(1), double(float(1e308)) + 3);
}

TEST(Program, KernelSelection) {
  Program p = two_kernels();
  expect_user_error([&] { p.kernel(""); }, "defines several kernels (scale, copy)");
  expect_user_error([&] { p.kernel("nope"); }, "no kernel named 'nope'", "scale, copy");
  Program one = Program::from_source(kernel_header() + R"(
@helion.kernel()
def only(x: torch.Tensor) -> torch.Tensor:
    return x
)",
                                     "one.py");
  EXPECT_EQ(one.kernel().name, "only");
}

TEST(Program, BackendNames) {
  Program p = two_kernels();
  CallResult r = p.call("copy", {{"x", f32({1}, {4})}}, interp_options());
  EXPECT_EQ(r.backend_used, Backend::interp);
  EXPECT_EQ(values(r.outputs.at(0)), (std::vector<double>{4}));
  EXPECT_EQ(parse_backend("template"), Backend::template_lib);
  EXPECT_EQ(parse_backend("interp"), Backend::interp);
  EXPECT_FALSE(parse_backend("gpu").has_value());
  EXPECT_EQ(backend_name(Backend::auto_select), "auto");
}

TEST(Program, ExplainReportsGenericWithTheIr) {
  Program p = two_kernels();
  std::string ir;
  DispatchDecision d = p.explain("copy", {{"x", f32({2}, {1, 2})}}, {}, &ir);
  EXPECT_EQ(d.kernel, "copy");
  EXPECT_EQ(d.dispatch.rfind("generic", 0), 0u) << d.dispatch;  // a copy is no reduction
  EXPECT_NE(ir.find("== after lower =="), std::string::npos);
  EXPECT_NE(ir.find("tile_loop"), std::string::npos);
}

TEST(Program, SpecialisesOnDtypesAndRanksNotSizes) {
  Program p = two_kernels();
  auto cache_size = [&] { return p.cached_specialisations(); };
  p.call("copy", {{"x", f32({2}, {1, 2})}}, interp_options());
  p.call("copy", {{"x", f32({5}, {1, 2, 3, 4, 5})}}, interp_options());
  EXPECT_EQ(cache_size(), 1u);
  p.call("copy", {{"x", Tensor::from_doubles({2}, {1, 2}, DType::bf16)}}, interp_options());
  EXPECT_EQ(cache_size(), 2u);
  p.call("copy", {{"x", f32({1, 2}, {1, 2})}}, interp_options());
  EXPECT_EQ(cache_size(), 3u);
}

TEST(Program, ConcurrentCallsShareOneProgram) {
  Program p = two_kernels();
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      Tensor x = f32({3}, {double(i), 1, 2});
      auto out =
          p.call("scale", {{"x", x}, {"bias", NoneArg{}}, {"n", int64_t(i)}}, interp_options());
      ok[size_t(i)] =
          values(out.outputs.at(0)) == std::vector<double>{2.0 * i + i, 2.0 + i, 4.0 + i};
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(ok[size_t(i)]) << i;
}

TEST(Program, MissingFileIsAUserError) {
  expect_user_error([] { Program::from_file("/nonexistent/kernel.py"); },
                    "cannot read kernel file '/nonexistent/kernel.py'");
}

}  // namespace
}  // namespace jagtile::testing
