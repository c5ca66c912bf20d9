// Kernels written the way Helion's jagged examples are (host scalar reads with .item(),
// flat views and reshape, explicit extra_mask loads and stores, loops bounded by per-program
// maxima, torch.empty(...).view(-1) chains, optional bias, rebinding a parameter to its view),
// run on the interpreter against plain loops.
#include <gtest/gtest.h>

#include <cmath>

#include "helpers.h"

namespace jagtile::testing {
namespace {

const char* kSoftmaxFlat = R"(
@helion.kernel()
def softmax_flat(x_data: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:
    N = x_offsets[-1].item()
    num_rows, M = x_offsets.size(0) - 1, x_data.size(1)
    out = torch.zeros([N * M], dtype=x_data.dtype, device=x_data.device)
    x_flat = x_data.view(-1)
    for tile_b in hl.tile(num_rows):
        starts = x_offsets[tile_b]
        seqlens = x_offsets[tile_b.index + 1] - starts
        longest = seqlens.amax()
        for tile_m in hl.tile(M):
            run_max = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
            total = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.tile(longest):
                idx = (starts[:, None] + tile_k.index[None, :])[:, :, None] * M + tile_m.index[None, None, :]
                ok = (tile_k.index[None, :] < seqlens[:, None])[:, :, None] & (tile_m.index < M)[None, None, :]
                v = hl.load(x_flat, [idx], extra_mask=ok)
                new_max = torch.maximum(run_max, torch.where(ok, v, float("-inf")).amax(dim=1))
                total = total * torch.exp(run_max - new_max) + torch.exp(torch.where(ok, v - new_max[:, None, :], float("-inf"))).sum(dim=1)
                run_max = new_max
            for tile_k in hl.tile(longest):
                idx = (starts[:, None] + tile_k.index[None, :])[:, :, None] * M + tile_m.index[None, None, :]
                ok = (tile_k.index[None, :] < seqlens[:, None])[:, :, None] & (tile_m.index < M)[None, None, :]
                v = hl.load(x_flat, [idx], extra_mask=ok)
                hl.store(out, [idx], torch.exp(v - run_max[:, None, :]) / total[:, None, :], extra_mask=ok)
    out = out.reshape([N, M])
    return out
)";

TEST(HelionStyle, FlatSoftmaxWithExtraMasks) {
  const int M = 3;
  std::vector<int> offs = {0, 2, 2, 5};
  std::vector<double> xs;
  for (int r = 0; r < 5; ++r)
    for (int m = 0; m < M; ++m) xs.push_back(std::sin(r * 3.0 + m));
  auto out =
      run(kSoftmaxFlat, {{"x_data", f32({5, M}, xs)}, {"x_offsets", i64({4}, {0, 2, 2, 5})}});
  ASSERT_EQ(out.at(0).shape(), (Shape{5, M}));
  std::vector<double> got = values(out.at(0));
  for (int b = 0; b < 3; ++b)
    for (int m = 0; m < M; ++m) {
      double mx = -INFINITY, s = 0;
      for (int r = offs[size_t(b)]; r < offs[size_t(b + 1)]; ++r)
        mx = std::max(mx, xs[size_t(r * M + m)]);
      for (int r = offs[size_t(b)]; r < offs[size_t(b + 1)]; ++r)
        s += std::exp(xs[size_t(r * M + m)] - mx);
      for (int r = offs[size_t(b)]; r < offs[size_t(b + 1)]; ++r)
        EXPECT_NEAR(got[size_t(r * M + m)], std::exp(xs[size_t(r * M + m)] - mx) / s, 1e-6);
    }
}

const char* kBmm = R"(
@helion.kernel()
def bmm(seq_offsets: torch.Tensor, jagged: torch.Tensor, dense: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    L, D = jagged.shape
    B, D, K = dense.shape
    dtype = torch.promote_types(jagged.dtype, dense.dtype)
    device = jagged.device
    jagged = jagged.view(-1)
    output = torch.empty((L, K), dtype=dtype, device=device).view(-1)
    for tile_b in hl.tile(B):
        starts = seq_offsets[tile_b]
        seq_len = seq_offsets[tile_b.index + 1] - starts
        for tile_len in hl.jagged_tile(seq_len):
            rows = starts[:, None] + tile_len.index[None, :]
            for tile_k in hl.tile(0, K):
                acc = hl.zeros([tile_b, tile_len, tile_k], dtype=dtype, device=device)
                for tile_d in hl.tile(0, D):
                    a = hl.load(jagged, [rows[:, :, None] * D + tile_d.index[None, None, :]])
                    w = dense[tile_b, tile_d, tile_k]
                    acc = acc + torch.matmul(a, w)
                if bias is not None:
                    acc = acc + bias[tile_b, tile_k].unsqueeze(1)
                hl.store(output, [rows[:, :, None] * K + tile_k.index[None, None, :]], acc)
    return output.reshape(L, K)
)";

TEST(HelionStyle, BatchedMatmulWithOptionalBias) {
  const int D = 3, K = 2;
  std::vector<int> offs = {0, 1, 1, 4};
  std::vector<double> xs, ws, bs;
  for (int i = 0; i < 4 * D; ++i) xs.push_back((i % 5) - 2);
  for (int i = 0; i < 3 * D * K; ++i) ws.push_back((i % 7) - 3);
  for (int i = 0; i < 3 * K; ++i) bs.push_back(i * 10);
  ArgMap args = {{"seq_offsets", i64({4}, {0, 1, 1, 4})},
                 {"jagged", f32({4, D}, xs)},
                 {"dense", f32({3, D, K}, ws)}};
  for (bool with_bias : {false, true}) {
    args["bias"] = with_bias ? ArgValue(f32({3, K}, bs)) : ArgValue(NoneArg{});
    auto out = run(kBmm, args);
    ASSERT_EQ(out.at(0).shape(), (Shape{4, K}));
    std::vector<double> got = values(out.at(0));
    for (int b = 0; b < 3; ++b)
      for (int r = offs[size_t(b)]; r < offs[size_t(b + 1)]; ++r)
        for (int k = 0; k < K; ++k) {
          double s = with_bias ? bs[size_t(b * K + k)] : 0;
          for (int d = 0; d < D; ++d) s += xs[size_t(r * D + d)] * ws[size_t((b * D + d) * K + k)];
          EXPECT_EQ(got[size_t(r * K + k)], s) << b << " " << r << " " << k;
        }
  }
}

const char* kDenseAdd2d = R"(
@helion.kernel()
def dense_add(x_data: torch.Tensor, x_offsets: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    num_rows = y.size(0)
    assert x_offsets.size(0) == num_rows + 1
    out = torch.zeros_like(y)
    for tile0 in hl.tile(num_rows):
        starts = x_offsets[tile0]
        nnz = x_offsets[tile0.index + 1] - starts
        max_nnz = nnz.amax()
        for tile1 in hl.tile(0, max_nnz):
            x_slice = hl.load(x_data, [starts[:, None] + tile1.index[None, :]], extra_mask=tile1.index[None, :] < nnz[:, None])
            out[tile0, tile1] = y[tile0, tile1] + x_slice
        for tile1 in hl.tile(max_nnz, out.size(1)):
            out[tile0, tile1] = y[tile0, tile1]
    return out
)";

TEST(HelionStyle, DenseAddWithPerProgramBounds) {
  std::vector<double> ys;
  for (int i = 0; i < 12; ++i) ys.push_back(100 * i);
  auto out = run(kDenseAdd2d, {{"x_data", f32({5}, {1, 2, 3, 4, 5})},
                               {"x_offsets", i64({4}, {0, 3, 3, 5})},
                               {"y", f32({3, 4}, ys)}});
  EXPECT_EQ(values(out.at(0)),
            (std::vector<double>{1, 102, 203, 300, 400, 500, 600, 700, 804, 905, 1000, 1100}));
  try {
    run(kDenseAdd2d, {{"x_data", f32({5}, {1, 2, 3, 4, 5})},
                      {"x_offsets", i64({3}, {0, 3, 5})},
                      {"y", f32({3, 4}, ys)}});
    FAIL() << "expected the assert to fail";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("assertion failed"), std::string::npos);
  }
}

TEST(HelionStyle, HostFormsAndMathFunctions) {
  const char* src = R"(
import torch.nn.functional as F

@helion.kernel()
def k(x: torch.Tensor, eps: float = 0.5) -> torch.Tensor:
    (n,) = x.size()
    total = x.numel()
    rows, = x.shape
    out = torch.empty([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(rows):
        v = x[t].to(torch.float32)
        cap = hl.full([t], float("inf"), dtype=x.dtype)
        r = F.silu(v) + torch.sigmoid(v) * torch.tanh(v) + eps + total
        out[t] = torch.minimum(r, cap) + torch.abs(-v) + torch.sqrt(v * v)
    return out
)";
  std::vector<double> xs = {-1.5, 0, 2};
  auto out = run(src, {{"x", f32({3}, xs)}});
  std::vector<double> got = values(out.at(0));
  for (size_t i = 0; i < xs.size(); ++i) {
    double v = xs[i], sig = 1 / (1 + std::exp(-v));
    double expect = v * sig + sig * std::tanh(v) + 0.5 + 3 + 2 * std::fabs(v);
    EXPECT_NEAR(got[i], expect, 1e-5) << i;
  }
}

}  // namespace
}  // namespace jagtile::testing
