// Shared by the matmul tests of the CPU microkernel (tests/codegen/matmul_blocks_test.cpp) and
// of generated CUDA's block matmul (tests/codegen_cuda/emulated_matmul_test.cpp): the kernels,
// deterministic inputs, the double-precision reference of item_matmul and the tolerance of a
// float sum of products.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <vector>

#include "jagtile/compiler.h"
#include "jagtile/tensor.h"

namespace jagtile::testing {

// item_matmul: out[r] = x[r] @ w[item] + bias[item] through hl.dot(acc=); flat_item_matmul: the
// same through `acc + torch.matmul`, x's rows read from its flattened view (x_flat[row * D +
// col]); scores: q @ k.T over a
// whole head dim (k read transposed); widened_scores: the same with both operands widened to
// f32 first (as the bundled HSTU example writes it); jagged_outer: x_b^T @ y_b summed over each
// item's rows (a contraction over a jagged dim).
inline const char* kMatmulKernels = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel()
def item_matmul(x: torch.Tensor, offsets: torch.Tensor, w: torch.Tensor,
                bias: torch.Tensor) -> torch.Tensor:
    N, D = x.shape
    B, D2, K = w.shape
    out = torch.zeros([N, K], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            for tile_n in hl.tile(K):
                acc = hl.zeros([tile_b, tile_k, tile_n], dtype=torch.float32)
                for tile_d in hl.tile(D):
                    acc = hl.dot(x[rows, tile_d], w[tile_b, tile_d, tile_n], acc=acc)
                acc = acc + bias[tile_b, tile_n].unsqueeze(1)
                out[rows, tile_n] = acc
    return out

@helion.kernel()
def flat_item_matmul(x: torch.Tensor, offsets: torch.Tensor, w: torch.Tensor,
                     bias: torch.Tensor) -> torch.Tensor:
    N, D = x.shape
    B, D2, K = w.shape
    x_flat = x.view(-1)
    out = torch.zeros([N, K], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            for tile_n in hl.tile(K):
                acc = hl.zeros([tile_b, tile_k, tile_n], dtype=torch.float32)
                for tile_d in hl.tile(D):
                    a = hl.load(x_flat, [rows[:, :, None] * D + tile_d.index[None, None, :]])
                    acc = acc + torch.matmul(a, w[tile_b, tile_d, tile_n])
                acc = acc + bias[tile_b, tile_n].unsqueeze(1)
                out[rows, tile_n] = acc
    return out

@helion.kernel()
def item_scale(x: torch.Tensor, offsets: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    N, D = x.shape
    B = offsets.size(0) - 1
    out = torch.zeros([N, D], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            for tile_d in hl.tile(D):
                out[rows, tile_d] = x[rows, tile_d] * w[tile_b, tile_d].unsqueeze(1)
    return out

@helion.kernel()
def scores(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    n = q.size(0)
    m = k.size(0)
    out = torch.zeros([n, m], dtype=torch.float32, device=q.device)
    for tq, tk in hl.tile([n, m]):
        out[tq, tk] = torch.matmul(q[tq, :], k[tk, :].T)
    return out

@helion.kernel()
def jagged_outer(x: torch.Tensor, y: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    N, D = x.shape
    E = y.size(1)
    B = offsets.size(0) - 1
    out = torch.zeros([B, D, E], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_d in hl.tile(D):
            for tile_e in hl.tile(E):
                acc = hl.zeros([tile_b, tile_d, tile_e], dtype=torch.float32)
                for tile_k in hl.jagged_tile(nnz):
                    rows = starts[:, None] + tile_k.index[None, :]
                    a = x[rows, tile_d]
                    c = y[rows, tile_e]
                    acc = acc + torch.matmul(a.transpose(-2, -1), c)
                out[tile_b, tile_d, tile_e] = acc
    return out

@helion.kernel()
def widened_scores(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    n = q.size(0)
    m = k.size(0)
    out = torch.zeros([n, m], dtype=torch.float32, device=q.device)
    for tq, tk in hl.tile([n, m]):
        qf = q[tq, :].to(torch.float32)
        kf = k[tk, :].to(torch.float32)
        out[tq, tk] = torch.matmul(qf, kf.T) * 0.5
    return out
)PY";

// Deterministic values in [-1, 1), rounded to `dtype`.
inline std::vector<double> values(int64_t n, uint64_t seed, DType dtype) {
  std::vector<double> v;
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    v.push_back(double(int64_t(s >> 40) - (int64_t(1) << 23)) / double(int64_t(1) << 23));
  }
  Tensor rounded = Tensor::from_doubles({n}, v, dtype);
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = rounded.item_as_double(i);
  return v;
}

// item_matmul in double: out[r] = x[r] @ w[item] + bias[item].
inline std::vector<double> item_matmul_reference(const std::vector<double>& offs,
                                                 const std::vector<double>& x,
                                                 const std::vector<double>& w,
                                                 const std::vector<double>& bias, int64_t D,
                                                 int64_t K) {
  std::vector<double> want(size_t(int64_t(offs.back()) * K), 0.0);
  for (size_t b = 0; b + 1 < offs.size(); ++b)
    for (int64_t r = int64_t(offs[b]); r < int64_t(offs[b + 1]); ++r)
      for (int64_t n = 0; n < K; ++n) {
        double s = bias[b * size_t(K) + size_t(n)];
        for (int64_t d = 0; d < D; ++d)
          s += x[size_t(r * D + d)] * w[(b * size_t(D) + size_t(d)) * size_t(K) + size_t(n)];
        want[size_t(r * K + n)] = s;
      }
  return want;
}

// Each row |sum| <= sum |a b| <= K: a float sum of K products is within K ulps of that bound.
inline void expect_close(const Tensor& got, const std::vector<double>& want, double terms) {
  ASSERT_EQ(got.numel(), int64_t(want.size()));
  const double tol = 1e-6 * terms * (1 + terms / 64);
  for (int64_t i = 0; i < got.numel(); ++i)
    ASSERT_NEAR(got.item_as_double(i), want[size_t(i)], tol) << "element " << i;
}

// One item_matmul case: the items' lengths, D x K weights, the block sizes (tile_b, tile_k,
// tile_n, tile_d) and the dtype of every float input.
struct ItemCase {
  std::vector<int64_t> lengths;
  int64_t D, K;
  std::vector<int64_t> blocks;  // tile_b, tile_k, tile_n, tile_d
  DType dtype = DType::f32;
};

inline void PrintTo(const ItemCase& c, std::ostream* os) {
  *os << "lengths " << ::testing::PrintToString(c.lengths) << " D=" << c.D << " K=" << c.K
      << " blocks " << ::testing::PrintToString(c.blocks) << " " << dtype_name(c.dtype);
}

// item_matmul's inputs for a case (deterministic), as doubles for the reference and as the
// kernel's arguments.
struct ItemInputs {
  std::vector<double> offs, x, w, bias;
  ArgMap args;
};
inline ItemInputs item_matmul_inputs(const ItemCase& c) {
  ItemInputs in;
  const int64_t B = int64_t(c.lengths.size());
  in.offs = {0};
  for (int64_t l : c.lengths) in.offs.push_back(in.offs.back() + double(l));
  const int64_t N = int64_t(in.offs.back());
  in.x = values(N * c.D, 1, c.dtype);
  in.w = values(B * c.D * c.K, 2, c.dtype);
  in.bias = values(B * c.K, 3, c.dtype);
  in.args = {{"x", Tensor::from_doubles({N, c.D}, in.x, c.dtype)},
             {"offsets", Tensor::from_doubles({B + 1}, in.offs, DType::i64)},
             {"w", Tensor::from_doubles({B, c.D, c.K}, in.w, c.dtype)},
             {"bias", Tensor::from_doubles({B, c.K}, in.bias, c.dtype)}};
  return in;
}

}  // namespace jagtile::testing
