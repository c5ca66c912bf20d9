// Causal attention written as Helion's jagged_hstu_attn_2 writes it (every key block visited,
// the causal mask applied with torch.where) on the interpreter, the generated CPU code and the
// emulated generated CUDA: the results match a double-precision reference on ragged lengths,
// and key blocks wholly above the diagonal are skipped (src/ir/pass_skip_masked_blocks.h), which
// shows as an infinity in such a block's v not reaching earlier rows.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <string>
#include <vector>

#include "codegen_helpers.h"

namespace jagtile::testing {
namespace {

// One head, blocks of 4 so that a handful of rows spans several key blocks.
const char* kCausal = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[4, 4]))
def causal(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, offsets: torch.Tensor,
           scale: float) -> torch.Tensor:
    D = q.size(1)
    out = torch.zeros_like(v)
    for item in hl.grid(offsets.size(0) - 1):
        first = offsets[item]
        last = offsets[item + 1]
        for tq in hl.tile(first, last):
            acc = hl.zeros([tq, D], dtype=torch.float32)
            for tk in hl.tile(first, last):
                s = torch.matmul(q[tq, :], k[tk, :].T) * scale
                keep = tq.index.unsqueeze(1) >= tk.index.unsqueeze(0)
                p = torch.where(keep, s, 0.0)
                acc = acc + torch.matmul(p, v[tk, :])
            out[tq, :] = acc
    return out
)PY";

constexpr int64_t kDim = 3;
constexpr double kScale = 0.5;

struct Inputs {
  std::vector<double> offsets, q, k, v;
  int64_t rows() const { return int64_t(offsets.back()); }
};

Inputs ragged_inputs(const std::vector<int64_t>& lengths) {
  Inputs in;
  in.offsets = {0};
  for (int64_t n : lengths) in.offsets.push_back(in.offsets.back() + double(n));
  for (int64_t i = 0; i < in.rows() * kDim; ++i) {
    in.q.push_back(std::sin(0.7 * double(i)));
    in.k.push_back(std::cos(0.3 * double(i) + 1));
    in.v.push_back(double((i * 7) % 11) - 5);
  }
  return in;
}

// out[i] = sum over j <= i in i's item of (scale * q_i . k_j) * v_j.
std::vector<double> reference(const Inputs& in) {
  std::vector<double> out(size_t(in.rows() * kDim), 0.0);
  for (size_t b = 0; b + 1 < in.offsets.size(); ++b) {
    const int64_t first = int64_t(in.offsets[b]), last = int64_t(in.offsets[b + 1]);
    for (int64_t i = first; i < last; ++i)
      for (int64_t j = first; j <= i; ++j) {
        double s = 0;
        for (int64_t d = 0; d < kDim; ++d)
          s += in.q[size_t(i * kDim + d)] * in.k[size_t(j * kDim + d)];
        for (int64_t d = 0; d < kDim; ++d)
          out[size_t(i * kDim + d)] += kScale * s * in.v[size_t(j * kDim + d)];
      }
  }
  return out;
}

enum class Path { interp, cpu, cuda_emulated };

class MaskedBlockSkip : public ::testing::TestWithParam<Path> {
 protected:
  Tensor run(const Inputs& in) {
    use_shared_cache_dir();
    Options o;
    o.backend = GetParam() == Path::interp ? Backend::interp
                : GetParam() == Path::cpu  ? Backend::cpu
                                           : Backend::cuda;
    if (GetParam() == Path::cuda_emulated) ::setenv("JAGTILE_CUDA_EMULATION", "1", 1);
    const Shape shape{in.rows(), kDim};
    Program p = Program::from_source(kCausal, "causal.py");
    Tensor out = p.call("",
                        {{"q", Tensor::from_doubles(shape, in.q, DType::f32)},
                         {"k", Tensor::from_doubles(shape, in.k, DType::f32)},
                         {"v", Tensor::from_doubles(shape, in.v, DType::f32)},
                         {"offsets", Tensor::from_doubles({int64_t(in.offsets.size())}, in.offsets,
                                                          DType::i64)},
                         {"scale", kScale}},
                        o)
                     .outputs.at(0);
    ::unsetenv("JAGTILE_CUDA_EMULATION");
    return out;
  }
};

TEST_P(MaskedBlockSkip, MatchesTheReferenceOnRaggedLengths) {
  // Empty items, one row, exactly one block, a partial last block, several blocks.
  const Inputs in = ragged_inputs({0, 1, 4, 5, 0, 9, 16, 3});
  const std::vector<double> want = reference(in);
  Tensor out = run(in);
  ASSERT_EQ(out.numel(), int64_t(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(out.item_as_double(int64_t(i)), want[i], 1e-4 * (1 + std::fabs(want[i])))
        << "row " << i / kDim << ", column " << i % kDim;
}

TEST_P(MaskedBlockSkip, InfinityInAKeyBlockAboveTheDiagonalDoesNotReachEarlierRows) {
  // One item of 8 rows: key block 4..7 lies wholly above query block 0..3. Executed, its zeroed
  // scores times v's infinity would make rows 0..3 NaN (0 * inf); skipped, they stay exact.
  Inputs in = ragged_inputs({8, 2});
  for (int64_t d = 0; d < kDim; ++d) in.v[size_t(5 * kDim + d)] = INFINITY;
  const std::vector<double> want = reference(in);
  Tensor out = run(in);
  for (int64_t i = 0; i < 4 * kDim; ++i)
    EXPECT_NEAR(out.item_as_double(i), want[size_t(i)], 1e-4 * (1 + std::fabs(want[size_t(i)])))
        << "row " << i / kDim;
  // Rows 5..7 do attend to row 5: their infinity is the mask's business, not the skip's.
  for (int64_t d = 0; d < kDim; ++d) EXPECT_TRUE(std::isinf(out.item_as_double(6 * kDim + d)));
  // The second item is untouched by the first's infinity.
  for (int64_t i = 8 * kDim; i < 10 * kDim; ++i)
    EXPECT_NEAR(out.item_as_double(i), want[size_t(i)], 1e-4 * (1 + std::fabs(want[size_t(i)])));
}

INSTANTIATE_TEST_SUITE_P(Backends, MaskedBlockSkip,
                         ::testing::Values(Path::interp, Path::cpu
#ifdef JAGTILE_HAVE_NVRTC
                                           ,
                                           Path::cuda_emulated
#endif
                                           ),
                         [](const auto& info) {
                           return info.param == Path::interp ? std::string("interp")
                                  : info.param == Path::cpu  ? std::string("cpu")
                                                             : std::string("cuda_emulated");
                         });

}  // namespace
}  // namespace jagtile::testing
