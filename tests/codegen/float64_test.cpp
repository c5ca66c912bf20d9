// float64 values are computed in double on every path (interpreter, generated CPU code checked
// and unchecked, emulated generated CUDA): sums, transcendentals and matmuls keep what float32
// would round away and agree with a double reference to a few units in the last place; a host
// float scalar is not rounded to float32 first; f32 with f64 promotes to f64; and a double
// narrowed to bfloat16 / float16 is rounded once (not through float32, which rounds twice).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "paths.h"

namespace jagtile::testing {
namespace {

// |got - want| within `ulps` units in the last place of a double, relative to want.
void expect_double_close(const Tensor& got, const std::vector<double>& want, double ulps) {
  ASSERT_EQ(got.dtype(), DType::f64);
  ASSERT_EQ(got.numel(), int64_t(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = ulps * std::ldexp(1.0, -52) * std::max(1.0, std::fabs(want[i]));
    EXPECT_NEAR(got.data<double>()[i], want[i], tol) << "element " << i;
  }
}

class Float64 : public ::testing::TestWithParam<Path> {};

// A jagged sum whose accumulator takes the values' dtype: rows of 1 + i * 1e-9 (float32's
// spacing at 1 is 1.2e-7, so in float32 every row would be 1 and each item's sum an integer).
TEST_P(Float64, JaggedSumKeepsWhatFloat32WouldRoundAway) {
  const std::string source = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[2, 4, 4]))
def jagged_sum(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:
    M = x_values.size(1)
    num_items = x_offsets.size(0) - 1
    out = torch.zeros([num_items, M], dtype=x_values.dtype, device=x_values.device)
    x_flat = x_values.view(-1)
    for tile_b in hl.tile(num_items):
        starts = x_offsets[tile_b]
        nnz = x_offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.promote_types(x_values.dtype, torch.float32))
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                flat = rows[:, :, None] * M + tile_m.index[None, None, :]
                acc = acc + hl.load(x_flat, [flat]).sum(dim=1)
            out[tile_b, tile_m] = acc
    return out
)PY";
  const std::vector<double> offsets = {0, 3, 3, 12, 13, 30};
  const int64_t rows = 30, cols = 3;
  std::vector<double> x(size_t(rows * cols));
  for (size_t i = 0; i < x.size(); ++i) x[i] = 1.0 + double(i) * 1e-9;
  std::vector<double> want;
  for (size_t b = 0; b + 1 < offsets.size(); ++b)
    for (int64_t c = 0; c < cols; ++c) {
      double s = 0;
      for (int64_t r = int64_t(offsets[b]); r < int64_t(offsets[b + 1]); ++r)
        s += x[size_t(r * cols + c)];
      want.push_back(s);
    }
  const ArgMap args = {{"x_values", Tensor::from_doubles({rows, cols}, x, DType::f64)},
                       {"x_offsets", Tensor::from_doubles({6}, offsets, DType::i64)}};
  // Up to 17 addends in any order: each addition is off by at most half an ulp of the sum.
  expect_double_close(run_on(GetParam(), source, args).at(0), want, 32);
}

// exp, log, tanh, sigmoid, silu, rsqrt and pow, each in double, and a host float scale that
// stays 0.1 (not float32's 0.100000001).
TEST_P(Float64, TranscendentalsAndAHostScaleComputeInDouble) {
  const std::string source = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[8]))
def math(x: torch.Tensor, scale: float) -> torch.Tensor:
    out = torch.empty([7, x.size(0)], dtype=x.dtype, device=x.device)
    for t in hl.tile(x.size(0)):
        v = x[t]
        out[0, t] = torch.exp(v)
        out[1, t] = torch.log(v + 2.0)
        out[2, t] = torch.tanh(v)
        out[3, t] = torch.sigmoid(v)
        out[4, t] = torch.nn.functional.silu(v)
        out[5, t] = torch.rsqrt(v + 2.0)
        out[6, t] = v * scale
    return out
)PY";
  std::vector<double> x;
  for (int i = 0; i < 21; ++i) x.push_back(-1.5 + 0.1371 * i);
  std::vector<double> want;
  for (double v : x) want.push_back(std::exp(v));
  for (double v : x) want.push_back(std::log(v + 2.0));
  for (double v : x) want.push_back(std::tanh(v));
  for (double v : x) want.push_back(1.0 / (1.0 + std::exp(-v)));
  for (double v : x) want.push_back(v / (1.0 + std::exp(-v)));
  for (double v : x) want.push_back(1.0 / std::sqrt(v + 2.0));
  for (double v : x) want.push_back(v * 0.1);
  const ArgMap args = {{"x", Tensor::from_doubles({21}, x, DType::f64)}, {"scale", 0.1}};
  Tensor out = run_on(GetParam(), source, args).at(0);
  // libm's double functions are within 1-2 ulp; a vectorised libm within 4.
  expect_double_close(out, want, 8);
  for (size_t i = 0; i < x.size(); ++i)  // one multiplication: exact to the bit
    EXPECT_EQ(out.data<double>()[6 * x.size() + i], x[i] * 0.1) << "element " << i;
}

// A float32 tensor plus a float64 tensor is float64, as in torch; and a matmul of float64 tiles
// sums its products in double.
TEST_P(Float64, Float32WithFloat64PromotesAndMatmulSumsInDouble) {
  const std::string source = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[4, 4]))
def mixed(a: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    n, k = a.size(0), a.size(1)
    out = torch.empty([n, w.size(1)], dtype=torch.promote_types(a.dtype, b.dtype), device=a.device)
    for tn in hl.tile(n):
        for tm in hl.tile(w.size(1)):
            out[tn, tm] = torch.matmul(a[tn, :] + b[tn, :], w[:, tm])
    return out
)PY";
  const int64_t n = 6, k = 5, m = 7;
  std::vector<double> a, b, w;
  for (int64_t i = 0; i < n * k; ++i) {
    a.push_back(double(float(std::sin(0.3 * double(i)))));  // exactly float32 values
    b.push_back(1e-9 * double(i + 1));                      // below float32's resolution at 1
  }
  for (int64_t i = 0; i < k * m; ++i) w.push_back(1.0 + 1e-10 * double(i));
  std::vector<double> want(size_t(n * m), 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c)
      for (int64_t j = 0; j < k; ++j)
        want[size_t(r * m + c)] +=
            (a[size_t(r * k + j)] + b[size_t(r * k + j)]) * w[size_t(j * m + c)];
  const ArgMap args = {{"a", Tensor::from_doubles({n, k}, a, DType::f32)},
                       {"b", Tensor::from_doubles({n, k}, b, DType::f64)},
                       {"w", Tensor::from_doubles({k, m}, w, DType::f64)}};
  expect_double_close(run_on(GetParam(), source, args).at(0), want, 16);
}

// 1 + 2^-8 + 2^-40 lies just above the halfway point between the bfloat16 neighbours 1 and
// 1 + 2^-7, so it rounds up; through float32 it would first become the halfway point exactly
// (2^-40 is below float32's resolution) and then round to even, down. The same for float16
// with 1 + 2^-11 + 2^-40 between 1 and 1 + 2^-10.
TEST_P(Float64, NarrowingToSixteenBitFloatsRoundsOnce) {
  const std::string source = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[4]))
def narrow(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    bf = torch.empty([x.size(0)], dtype=torch.bfloat16, device=x.device)
    h = torch.empty([x.size(0)], dtype=torch.float16, device=x.device)
    stored = torch.empty([x.size(0)], dtype=torch.bfloat16, device=x.device)
    for t in hl.tile(x.size(0)):
        bf[t] = x[t].to(torch.bfloat16)
        h[t] = x[t].to(torch.float16)
        stored[t] = x[t] * 1.0
    return bf, h, stored
)PY";
  const double tiny = std::ldexp(1.0, -40);
  const std::vector<double> x = {1 + std::ldexp(1.0, -8) + tiny, 1 + std::ldexp(1.0, -11) + tiny,
                                 -(1 + std::ldexp(1.0, -8) + tiny), 1 + std::ldexp(1.0, -8)};
  const ArgMap args = {{"x", Tensor::from_doubles({4}, x, DType::f64)}};
  std::vector<Tensor> out = run_on(GetParam(), source, args);
  ASSERT_EQ(out.size(), 3u);
  const uint16_t* bf = out[0].data<uint16_t>();
  EXPECT_EQ(bf[0], 0x3f81);  // up, past the tie
  EXPECT_EQ(bf[2], 0xbf81);
  EXPECT_EQ(bf[3], 0x3f80);  // an exact tie: to even
  const uint16_t* h = out[1].data<uint16_t>();
  EXPECT_EQ(h[1], 0x3c01);  // 1 + 2^-10
  // A double stored into a bfloat16 tensor without a cast is rounded once too.
  EXPECT_EQ(out[2].data<uint16_t>()[0], 0x3f81);
  EXPECT_EQ(out[2].data<uint16_t>()[2], 0xbf81);
}

INSTANTIATE_TEST_SUITE_P(Paths, Float64, ::testing::ValuesIn(every_path()),
                         [](const auto& info) { return path_name(info.param); });

}  // namespace
}  // namespace jagtile::testing
