// Language features beyond the bundled examples on the generic CPU backend, each against the
// interpreter: full dimensions (`x[t]` of a 2-D tensor), grid loops with per-program `if`,
// integer arithmetic (Python floor division and modulo, exact), reductions to a scalar,
// 16-bit outputs, and host integer overflow reported like the interpreter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "codegen_helpers.h"
#include "jagtile/error.h"
#include "testing/examples.h"

namespace jagtile::testing {
namespace {

const char* kFeatures = R"PY(import torch
import helion.language as hl

def rows2d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for t in hl.tile(x.size(0)):
        out[t] = x[t] * 2.0 + 1.0
    return out

def grid_if(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.zeros([n], dtype=torch.float32, device=x.device)
    for i in hl.grid(n):
        v = x[i]
        if i < 3:
            out[i] = v + 1.0
        else:
            out[i] = torch.where(v > 0, v, -v)
    return out

def ints(a: torch.Tensor, d: int) -> torch.Tensor:
    (n,) = a.size()
    out = torch.zeros([n], dtype=torch.int64, device=a.device)
    for t in hl.tile(n):
        v = a[t]
        out[t] = (v // d) * 100 + v % d + (v > 0).to(torch.int64)
    return out

def total(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.zeros([1], dtype=torch.float32, device=x.device)
    for g in hl.grid(1):
        acc = hl.zeros([], dtype=torch.float32)
        for t in hl.tile(n):
            acc = acc + x[t].sum()
        out[g] = acc
    return out

def half_out(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty([n], dtype=torch.bfloat16, device=x.device)
    for t in hl.tile(n):
        out[t] = (torch.exp(x[t]) / 3.0).to(torch.bfloat16)
    return out

def to_bf16(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty([n], dtype=torch.bfloat16, device=x.device)
    for t in hl.tile(n):
        out[t] = x[t].to(torch.bfloat16)
    return out

def dot_acc(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = a.shape
    k2, n = b.shape
    out = torch.empty([m, n], dtype=torch.float32, device=a.device)
    for tm, tn in hl.tile([m, n]):
        acc = hl.zeros([tm, tn], dtype=torch.float32)
        for tk in hl.tile(k):
            acc = hl.dot(a[tm, tk], b[tk, tn], acc=acc)
        out[tm, tn] = acc
    return out

def reload_after_store(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        v = x[t]
        w = v * 3.0
        x[t] = w
        out[t] = v + w
    return out

def reload_twice(x: torch.Tensor) -> torch.Tensor:
    (n, m) = x.shape
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        v = x[t, :]
        out[t] = (v - v.amax(dim=1)[:, None]).sum(dim=1) + v.sum(dim=1)
    return out

def overflow(x: torch.Tensor, n: int) -> torch.Tensor:
    big = n * n * n
    out = torch.zeros([big], dtype=torch.float32, device=x.device)
    return out
)PY";

Tensor seq(const Shape& shape, DType dtype, double start, double step) {
  std::vector<double> v;
  for (int64_t i = 0; i < shape_numel(shape); ++i) v.push_back(start + step * double(i));
  return Tensor::from_doubles(shape, v, dtype);
}

void expect_same(const std::string& kernel, const ArgMap& args, Tolerance tol = {}) {
  use_shared_cache_dir();
  Program p = Program::from_source(kFeatures, "features.py");
  Options interp;
  interp.backend = Backend::interp;
  std::vector<Tensor> want = p.call(kernel, args, interp).outputs;
  for (int threads : {1, 2}) {
    std::vector<Tensor> got = p.call(kernel, args, cpu_options(true, threads)).outputs;
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      Comparison c = compare_tensors(got[i], want[i], tol);
      EXPECT_TRUE(c.ok) << kernel << " output " << i << ": " << c.mismatch;
    }
  }
}

TEST(CpuFeatures, FullDimensionOfA2DTensor) {
  expect_same("rows2d", {{"x", seq({37, 5}, DType::f32, -3, 0.25)}});
  expect_same("rows2d", {{"x", seq({0, 5}, DType::f32, 0, 1)}});
}

TEST(CpuFeatures, GridLoopWithPerProgramIf) {
  expect_same("grid_if", {{"x", seq({9}, DType::f32, -4, 1)}});
}

TEST(CpuFeatures, IntegerFloorDivisionAndModuloAreExact) {
  expect_same("ints", {{"a", seq({41}, DType::i32, -20, 1)}, {"d", int64_t(7)}});
  expect_same("ints", {{"a", seq({41}, DType::i64, -20, 1)}, {"d", int64_t(-3)}});
}

TEST(CpuFeatures, ReductionToAScalarAcrossTiles) {
  expect_same("total", {{"x", seq({1000}, DType::f32, -1, 0.003)}}, Tolerance{1e-4, 1e-5});
}

// Storing fp32 values to bfloat16 rounds to nearest, ties to even: exactly halfway values go to
// the even neighbour (down for 0x3F808000, up for 0x3F818000), values past halfway go up.
TEST(CpuFeatures, SixteenBitOutputRoundsToNearestEven) {
  use_shared_cache_dir();
  Program p = Program::from_source(kFeatures, "features.py");
  const std::vector<uint32_t> in = {0x3F808000u, 0x3F818000u, 0x3F80C000u, 0x3F807FFFu,
                                    0xBF808000u, 0x7F7FFFFFu, 0x00008000u, 0x3F800000u};
  const std::vector<uint16_t> want = {0x3F80, 0x3F82, 0x3F81, 0x3F80,
                                      0xBF80, 0x7F80, 0x0000, 0x3F80};
  Tensor x = Tensor::empty({int64_t(in.size())}, DType::f32);
  std::memcpy(x.raw_data(), in.data(), in.size() * 4);
  Tensor out = p.call("to_bf16", {{"x", x}}, cpu_options()).outputs.at(0);
  for (size_t i = 0; i < in.size(); ++i)
    EXPECT_EQ(out.data<uint16_t>()[i], want[i]) << std::hex << "input 0x" << in[i];
  // The same rounding through the arithmetic path, against the interpreter.
  expect_same("half_out", {{"x", seq({77}, DType::f32, -5, 0.13)}});
}

TEST(CpuFeatures, DotWithAccumulatorOverPartialTiles) {
  expect_same(
      "dot_acc",
      {{"a", seq({37, 45}, DType::f32, -1, 0.001)}, {"b", seq({45, 29}, DType::bf16, 1, -0.002)}},
      Tolerance{1e-4, 1e-4});
}

// Load reloading (tests/plan: ReloadLoads) keeps results: a load read twice with a store to its
// tensor between (the second read must not see 3v) and one read three times.
TEST(CpuFeatures, ReloadedLoadsComputeWhatTheInterpreterDoes) {
  use_shared_cache_dir();
  Program p = Program::from_source(kFeatures, "features.py");
  Options interp;
  interp.backend = Backend::interp;
  Tensor x = seq({45}, DType::f32, -3, 0.5);
  Tensor want = p.call("reload_after_store", {{"x", x.clone()}}, interp).outputs[0];
  EXPECT_EQ(want.data<float>()[0], -12.0f);  // 4 * x[0], every element read before the store
  Tensor got = p.call("reload_after_store", {{"x", x.clone()}}, cpu_options()).outputs[0];
  Comparison c = compare_tensors(got, want, {});
  EXPECT_TRUE(c.ok) << c.mismatch;
  expect_same("reload_twice", {{"x", seq({29, 7}, DType::f32, -2, 0.37)}}, Tolerance{1e-5, 1e-5});
}

TEST(CpuFeatures, HostIntegerOverflowIsTheInterpretersError) {
  use_shared_cache_dir();
  Program p = Program::from_source(kFeatures, "features.py");
  ArgMap args{{"x", seq({1}, DType::f32, 0, 1)}, {"n", int64_t(1) << 40}};
  auto message = [&](Backend b) {
    Options o;
    o.backend = b;
    try {
      p.call("overflow", args, o);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  std::string cpu = message(Backend::cpu);
  EXPECT_THAT(cpu, ::testing::HasSubstr("integer overflow in host arithmetic"));
  EXPECT_EQ(cpu, message(Backend::interp));
}

}  // namespace
}  // namespace jagtile::testing
