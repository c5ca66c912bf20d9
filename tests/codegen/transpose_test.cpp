// Dim reordering on device values (.T, .mT, .transpose, .permute) and matmul on them, end to end
// on the interpreter and the generated CPU code against plain loops; block_size=None entries
// leave a dim tunable; contraction sizes of different tensors are checked at run time with a
// located error; misuse of the reorderings is a located error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "codegen_helpers.h"
#include "jagtile/error.h"

namespace jagtile::testing {
namespace {

const char* kKernels = R"PY(import torch
import torch.nn.functional as F
import helion
import helion.language as hl

@helion.kernel()
def scores(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    n, d = q.size(0), q.size(1)
    m = k.size(0)
    out = torch.zeros([n, m], dtype=torch.float32, device=q.device)
    for tq, tk in hl.tile([n, m], block_size=[None, 4]):
        a = q[tq, :]
        b = k[tk, :]
        out[tq, tk] = torch.matmul(a, b.T) + torch.matmul(a, b.transpose(0, 1)) + a @ b.mT
    return out

@helion.kernel()
def swap_heads(x: torch.Tensor) -> torch.Tensor:
    n, h, d = x.size(0), x.size(1), x.size(2)
    out = torch.zeros([h, n, d], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        v = x[t, :, :].permute(1, 0, 2)
        out[:, t, :] = v * 2.0
    return out

@helion.kernel()
def causal_silu_attention(alpha: float, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                          offsets: torch.Tensor) -> torch.Tensor:
    heads = hl.specialize(q.size(1))
    width = hl.specialize(v.size(2))
    out = torch.empty_like(v)
    for seq in hl.grid(offsets.size(0) - 1):
        first = offsets[seq]
        last = offsets[seq + 1]
        for rows in hl.tile(first, last):
            qh = q[rows, :, :].transpose(0, 1)
            total = hl.zeros([heads, rows, width], dtype=torch.float32)
            for cols in hl.tile(first, last):
                kh = k[cols, :, :].transpose(0, 1)
                vh = v[cols, :, :].transpose(0, 1)
                s = F.silu(torch.bmm(qh, kh.transpose(-2, -1)) * alpha)
                keep = rows.index.unsqueeze(1) >= cols.index.unsqueeze(0)
                s = torch.where(keep[None, :, :], s, 0.0)
                total = total + torch.bmm(s, vh)
            out[rows, :, :] = total.transpose(0, 1).to(out.dtype)
    return out
)PY";

class Transpose : public ::testing::TestWithParam<Backend> {};

TEST_P(Transpose, MatmulOfTransposedTilesMatchesLoops) {
  use_shared_cache_dir();
  Program p = Program::from_source(kKernels, "t.py");
  const int n = 5, m = 6, d = 3;
  std::vector<double> qs, ks;
  for (int i = 0; i < n * d; ++i) qs.push_back(0.1 * i - 0.7);
  for (int i = 0; i < m * d; ++i) ks.push_back(0.5 - 0.05 * i);
  Options o;
  o.backend = GetParam();
  Tensor out = p.call("scores",
                      {{"q", Tensor::from_doubles({n, d}, qs, DType::f32)},
                       {"k", Tensor::from_doubles({m, d}, ks, DType::f32)}},
                      o)
                   .outputs.at(0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) {
      double dot = 0;
      for (int x = 0; x < d; ++x) dot += qs[size_t(i * d + x)] * ks[size_t(j * d + x)];
      EXPECT_NEAR(out.item_as_double(i * m + j), 3 * dot, 1e-5) << i << "," << j;
    }
}

TEST_P(Transpose, PermuteMovesHeadsFirst) {
  use_shared_cache_dir();
  Program p = Program::from_source(kKernels, "t.py");
  const int n = 7, h = 2, d = 3;
  std::vector<double> xs;
  for (int i = 0; i < n * h * d; ++i) xs.push_back(i);
  Options o;
  o.backend = GetParam();
  Tensor out = p.call("swap_heads", {{"x", Tensor::from_doubles({n, h, d}, xs, DType::f32)}}, o)
                   .outputs.at(0);
  for (int i = 0; i < n; ++i)
    for (int hh = 0; hh < h; ++hh)
      for (int x = 0; x < d; ++x)
        EXPECT_EQ(out.item_as_double((hh * n + i) * d + x), 2.0 * xs[size_t((i * h + hh) * d + x)]);
}

// Causal SiLU attention over jagged sequences in the shape of Helion's second HSTU example
// (per-sequence grid, heads moved first for bmm, k transposed, a causal where, heads moved back).
TEST_P(Transpose, JaggedCausalSiluAttentionMatchesLoops) {
  use_shared_cache_dir();
  Program p = Program::from_source(kKernels, "t.py");
  const std::vector<double> offs = {0, 3, 3, 8, 9};
  const int L = 9, H = 2, D = 3;
  auto fill = [](int n, double a, double b) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(std::sin(a * i + b));
    return v;
  };
  std::vector<double> q = fill(L * H * D, 0.7, 0.1), k = fill(L * H * D, 1.3, 0.5),
                      v = fill(L * H * D, 0.9, 1.0);
  const double alpha = 0.75;
  Options o;
  o.backend = GetParam();
  Tensor out = p.call("causal_silu_attention",
                      {{"alpha", 0.75},
                       {"q", Tensor::from_doubles({L, H, D}, q, DType::f32)},
                       {"k", Tensor::from_doubles({L, H, D}, k, DType::f32)},
                       {"v", Tensor::from_doubles({L, H, D}, v, DType::f32)},
                       {"offsets", Tensor::from_doubles({5}, offs, DType::i64)}},
                      o)
                   .outputs.at(0);
  auto at = [&](int t, int h, int d) { return size_t((t * H + h) * D + d); };
  for (size_t b = 0; b + 1 < offs.size(); ++b)
    for (int h = 0; h < H; ++h)
      for (int i = int(offs[b]); i < int(offs[b + 1]); ++i)
        for (int d = 0; d < D; ++d) {
          double want = 0;
          for (int j = int(offs[b]); j <= i; ++j) {
            double dot = 0;
            for (int x = 0; x < D; ++x) dot += q[at(i, h, x)] * k[at(j, h, x)];
            const double s = dot * alpha;
            want += s / (1.0 + std::exp(-s)) * v[at(j, h, d)];
          }
          EXPECT_NEAR(out.item_as_double(int64_t(at(i, h, d))), want, 1e-5)
              << "row " << i << " head " << h << " col " << d;
        }
}

INSTANTIATE_TEST_SUITE_P(Backends, Transpose, ::testing::Values(Backend::interp, Backend::cpu),
                         [](const auto& info) {
                           return info.param == Backend::cpu ? "cpu" : "interp";
                         });

TEST(TransposeErrors, ContractionSizesDifferingAtRunTimeIsALocatedError) {
  Program p = Program::from_source(kKernels, "t.py");
  Options o;
  o.backend = Backend::interp;
  try {
    p.call("scores",
           {{"q", Tensor::from_doubles({2, 3}, {1, 2, 3, 4, 5, 6}, DType::f32)},
            {"k", Tensor::from_doubles({2, 2}, {1, 2, 3, 4}, DType::f32)}},
           o);
    ADD_FAILURE() << "no error";
  } catch (const UserError& e) {
    EXPECT_THAT(e.message(), ::testing::HasSubstr("matmul contraction dims"));
    EXPECT_THAT(e.message(), ::testing::HasSubstr("must be equal"));
    EXPECT_EQ(e.loc().line, 14);
  }
}

UserError error_of(const std::string& line) {
  const std::string src = std::string("import torch\nimport helion.language as hl\n\n") +
                          "def k(x: torch.Tensor) -> torch.Tensor:\n"
                          "    out = torch.zeros_like(x)\n"
                          "    for t in hl.tile(x.size(0)):\n" +
                          line + "    return out\n";
  try {
    Program p = Program::from_source(src, "bad.py");
    Options o;
    o.backend = Backend::interp;
    p.call("", {{"x", Tensor::from_doubles({2, 2}, {1, 2, 3, 4}, DType::f32)}}, o);
  } catch (const UserError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for: " << line;
  return UserError("none");
}

TEST(TransposeErrors, MisusedReorderingsAreLocatedErrors) {
  UserError e = error_of("        out[t, :] = x[t, :].transpose(0, 2)\n");
  EXPECT_THAT(e.message(), ::testing::HasSubstr("out of range for a value of rank 2"));
  EXPECT_EQ(e.loc().line, 7);
  e = error_of("        out[t, :] = x[t, :].permute(0, 0)\n");
  EXPECT_THAT(e.message(), ::testing::HasSubstr("must name each of the value's 2 dims once"));
  e = error_of("        out[t, :] = x.T[t, :]\n");
  EXPECT_THAT(e.message(), ::testing::HasSubstr(".T works on device values"));
  EXPECT_FALSE(e.hint().empty());
}

}  // namespace
}  // namespace jagtile::testing
