// The remaining Helion constructs of issue 11, end to end on the interpreter and the generated CPU
// code against plain loops: a 3-D hl.tile with block_size=[1, 1, None], `[None]` indexing of a
// tile value, and fp32 accumulation of bf16 matmuls (rounded once, where a bf16 tensor is
// written). Misuse of each is a located error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "codegen_helpers.h"
#include "jagtile/error.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;

const char* kKernels = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel()
def scale_3d(x: torch.Tensor) -> torch.Tensor:
    b, h, d = x.size(0), x.size(1), x.size(2)
    out = torch.empty_like(x)
    for tb, th, td in hl.tile([b, h, d], block_size=[1, 1, None]):
        out[tb, th, td] = x[tb, th, td] * (tb.block_size + th.block_size)
    return out

@helion.kernel()
def add_row(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    n, m = x.size(0), x.size(1)
    out = torch.empty_like(x)
    for tn, tm in hl.tile([n, m]):
        row = w[tm]
        out[tn, tm] = x[tn, tm] + row[None]
    return out

@helion.kernel()
def bf16_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    n, k = a.size(0), a.size(1)
    m = b.size(1)
    rounded = torch.zeros([n, m], dtype=torch.bfloat16, device=a.device)
    exact = torch.zeros([n, m], dtype=torch.float32, device=a.device)
    for tn, tm in hl.tile([n, m]):
        rounded[tn, tm] = torch.matmul(a[tn, :], b[:, tm])
        acc = hl.zeros([tn, tm], dtype=torch.float32)
        acc = hl.dot(a[tn, :], b[:, tm], acc=acc)
        exact[tn, tm] = acc
    return rounded, exact

@helion.kernel()
def scores_times_v(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    n, d = q.shape
    out = torch.zeros([n, d], dtype=torch.float32, device=q.device)
    for tq in hl.tile(n):
        acc = hl.zeros([tq, d], dtype=torch.float32)
        for tk in hl.tile(n):
            s = torch.matmul(q[tq, :], q[tk, :].T)
            acc = hl.dot(s, v[tk, :], acc=acc)
        out[tq, :] = acc
    return out
)PY";

class HelionLayout : public ::testing::TestWithParam<Backend> {
 protected:
  Options options() const {
    Options o;
    o.backend = GetParam();
    return o;
  }
};

// Block size 1 on the first two dims: each program sees one (b, h) pair, so the factor is 2.
TEST_P(HelionLayout, ThreeDTileWithBlockSizeListMatchesLoops) {
  use_shared_cache_dir();
  Program p = Program::from_source(kKernels, "layout.py");
  const int b = 3, h = 2, d = 5;
  std::vector<double> xs;
  for (int i = 0; i < b * h * d; ++i) xs.push_back(0.25 * i - 3.0);
  Tensor out =
      p.call("scale_3d", {{"x", Tensor::from_doubles({b, h, d}, xs, DType::f32)}}, options())
          .outputs.at(0);
  for (int i = 0; i < b * h * d; ++i) EXPECT_EQ(out.item_as_double(i), 2.0 * xs[size_t(i)]) << i;
}

TEST_P(HelionLayout, NoneIndexBroadcastsARowOverTheTile) {
  use_shared_cache_dir();
  Program p = Program::from_source(kKernels, "layout.py");
  const int n = 6, m = 7;
  std::vector<double> xs, ws;
  for (int i = 0; i < n * m; ++i) xs.push_back(i);
  for (int j = 0; j < m; ++j) ws.push_back(100.0 * (j + 1));
  Tensor out = p.call("add_row",
                      {{"x", Tensor::from_doubles({n, m}, xs, DType::f32)},
                       {"w", Tensor::from_doubles({m}, ws, DType::f32)}},
                      options())
                   .outputs.at(0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j)
      EXPECT_EQ(out.item_as_double(i * m + j), xs[size_t(i * m + j)] + ws[size_t(j)]);
}

// a = ones [2, 256], b[:, j] = (256, 1, 1, ..., 1): the exact dot is 511. Accumulated in bf16
// (8 significant bits) it would stall at 256, since 256 + 1 rounds back to 256. Accumulated in
// fp32 it is 511, and 16-bit values are rounded only when written to memory (docs/language.md):
// stored into a bf16 tensor it rounds once, to 512; into an fp32 one it stays 511.
TEST_P(HelionLayout, Bf16MatmulAccumulatesInFp32) {
  use_shared_cache_dir();
  Program p = Program::from_source(kKernels, "layout.py");
  const int n = 2, k = 256, m = 3;
  std::vector<double> as(size_t(n * k), 1.0), bs(size_t(k * m), 1.0);
  for (int j = 0; j < m; ++j) bs[size_t(j)] = 256.0;
  std::vector<Tensor> outs = p.call("bf16_matmul",
                                    {{"a", Tensor::from_doubles({n, k}, as, DType::bf16)},
                                     {"b", Tensor::from_doubles({k, m}, bs, DType::bf16)}},
                                    options())
                                 .outputs;
  ASSERT_EQ(outs.size(), 2u);
  for (int i = 0; i < n * m; ++i) {
    EXPECT_EQ(outs[0].item_as_double(i), 512.0) << "torch.matmul stored as bf16 at " << i;
    EXPECT_EQ(outs[1].item_as_double(i), 511.0) << "hl.dot(acc=fp32) at " << i;
  }
}

// acc's width is q.size(1) and the product's is v.size(1): the loop variable keeps its type
// because the host checks the two sizes equal (a mismatch is a located error).
TEST_P(HelionLayout, DotIntoAnAccumulatorSizedByAnotherTensorMatchesLoops) {
  use_shared_cache_dir();
  Program p = Program::from_source(kKernels, "layout.py");
  const int n = 5, d = 3;
  std::vector<double> qs, vs;
  for (int i = 0; i < n * d; ++i) {
    qs.push_back(0.1 * i);
    vs.push_back(1.0 - 0.1 * i);
  }
  Tensor q = Tensor::from_doubles({n, d}, qs, DType::f32);
  Tensor out = p.call("scores_times_v",
                      {{"q", q}, {"v", Tensor::from_doubles({n, d}, vs, DType::f32)}}, options())
                   .outputs.at(0);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < d; ++c) {
      double want = 0;
      for (int j = 0; j < n; ++j) {
        double s = 0;
        for (int x = 0; x < d; ++x) s += qs[size_t(i * d + x)] * qs[size_t(j * d + x)];
        want += s * vs[size_t(j * d + c)];
      }
      EXPECT_NEAR(out.item_as_double(i * d + c), want, 1e-5) << i << "," << c;
    }
  try {
    p.call("scores_times_v", {{"q", q}, {"v", Tensor::zeros({n, d + 1}, DType::f32)}}, options());
    ADD_FAILURE() << "no error for v wider than q";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("layout.py:"));
    EXPECT_THAT(e.what(), HasSubstr("the sizes v.size(1) and q.size(1) must be equal"));
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, HelionLayout, ::testing::Values(Backend::interp, Backend::cpu),
                         [](const auto& info) { return std::string(backend_name(info.param)); });

UserError error_of(const std::string& source) {
  try {
    Program p = Program::from_source(source, "bad_layout.py");
    ArgMap args = {{"x", Tensor::zeros({2, 3, 4}, DType::f32)}};
    p.call("", args);
  } catch (const UserError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << source;
  return UserError("none", "");
}

std::string kernel_with(const std::string& loop_and_body) {
  return "import torch\nimport helion\nimport helion.language as hl\n\n"
         "@helion.kernel()\n"
         "def k(x: torch.Tensor) -> torch.Tensor:\n"
         "    b, h, d = x.size(0), x.size(1), x.size(2)\n"
         "    out = torch.empty_like(x)\n" +
         loop_and_body + "    return out\n";
}

TEST(HelionLayoutErrors, BlockSizeListOfTheWrongLengthIsALocatedError) {
  UserError e =
      error_of(kernel_with("    for tb, th, td in hl.tile([b, h, d], block_size=[1, None]):\n"
                           "        out[tb, th, td] = x[tb, th, td]\n"));
  EXPECT_THAT(e.what(), HasSubstr("bad_layout.py:9"));
  EXPECT_THAT(e.what(), HasSubstr("hl.tile tiles 3 dimension(s) but block_size lists 2"));
  EXPECT_THAT(e.what(), HasSubstr("block_size=[1, 1, None]"));
}

TEST(HelionLayoutErrors, MoreNoneIndicesThanTheRankAllowsIsALocatedError) {
  UserError e =
      error_of(kernel_with("    for tb, th, td in hl.tile([b, h, d], block_size=[1, 1, None]):\n"
                           "        v = x[tb, th, td]\n"
                           "        out[tb, th, td] = v[None, None, None, None, None]\n"));
  EXPECT_THAT(e.what(), HasSubstr("bad_layout.py:11"));
  EXPECT_THAT(e.what(), HasSubstr("cannot store a value of shape [1, 1, 1, 1, 1, tb, th, td]"));
}

}  // namespace
}  // namespace jagtile::testing
