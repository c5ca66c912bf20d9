// Sums of a mask in generated C++: `mask.to(torch.int64).sum(dim=1)` over a row of a bool tile
// array, or of a bool tensor loaded along the row, is printed as a count of the row's set bytes
// (jt_count_true: a byte test and a popcount per 64 bytes on AVX-512) instead of a loop that widens
// every byte to a 64-bit lane. These tests pin that both forms are counted, that other sums are
// not, and that the counts equal the interpreter's for rows around the 64-byte words, on every
// block shape and on the paths with and without bounds checks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "paths.h"
#include "testing/compare.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// BLOCKS and SUM are filled in per test. `keep` is used twice, so it is a tile array; `mask[rows]`
// in SUM is a load along the row.
const char* kCounts = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=BLOCKS))
def counts(mask: torch.Tensor, weights: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    out = torch.zeros([B, 2], dtype=torch.int64, device=mask.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        total = hl.zeros([tile_b], dtype=torch.int64)
        twice = hl.zeros([tile_b], dtype=torch.int64)
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            keep = mask[rows]
            twice = twice + torch.where(keep, 2, 0).sum(dim=1)
            total = total + SUM
        out[tile_b, 0] = total
        out[tile_b, 1] = twice
    return out
)PY";

const char* kArraySum = "keep.to(torch.int64).sum(dim=1)";
const char* kLoadSum = "mask[rows].to(torch.int32).sum(dim=1)";

std::string kernel_source(const std::string& blocks, const std::string& sum) {
  std::string s = kCounts;
  s.replace(s.find("BLOCKS"), 6, blocks);
  s.replace(s.find("SUM"), 3, sum);
  return s;
}

// Rows of lengths around the 64-byte words, one all set, one all clear, the rest a fixed
// pseudo-random half.
ArgMap rows_args() {
  const std::vector<int64_t> lengths = {0, 1, 2, 63, 64, 65, 127, 128, 129, 300, 5, 0, 70};
  std::vector<double> mask, weights, offsets{0};
  uint64_t state = 99;
  for (size_t b = 0; b < lengths.size(); ++b) {
    for (int64_t r = 0; r < lengths[b]; ++r) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      mask.push_back(b == 7 ? 1 : b == 8 ? 0 : double((state >> 33) % 2));
      weights.push_back(double((state >> 40) % 5));
    }
    offsets.push_back(offsets.back() + double(lengths[b]));
  }
  const int64_t n = int64_t(mask.size());
  return {{"mask", Tensor::from_doubles({n}, mask, DType::boolean)},
          {"weights", Tensor::from_doubles({n}, weights, DType::i64)},
          {"offsets", Tensor::from_doubles({int64_t(offsets.size())}, offsets, DType::i64)}};
}

std::string cpu_source(const std::string& source) {
  use_shared_cache_dir();
  Program p = Program::from_source(source, "counts.py");
  return p.specialise("counts", rows_args(), cpu_options()).source(Backend::cpu);
}

TEST(CountedSum, ABoolArrayRowAndABoolTensorRowAreCountedAsBits) {
  for (const char* blocks : {"[1, 64]", "[2, 16]", "[1, 256]"})
    for (const char* sum : {kArraySum, kLoadSum})
      EXPECT_THAT(cpu_source(kernel_source(blocks, sum)), HasSubstr("jt_count_true(&"))
          << blocks << " " << sum;
}

TEST(CountedSum, SumsOfOtherValuesKeepTheirLoop) {
  // Integers that are not 0 / 1, a float sum of the mask, and a select of the mask (2 or 0).
  for (const char* sum :
       {"weights[rows].sum(dim=1)", "keep.to(torch.float32).sum(dim=1).to(torch.int64)",
        "torch.where(keep, 2, 0).sum(dim=1)"})
    EXPECT_THAT(cpu_source(kernel_source("[1, 64]", sum)), Not(HasSubstr("jt_count_true(&")))
        << sum;
}

class CountedSumPaths : public ::testing::TestWithParam<Path> {};

TEST_P(CountedSumPaths, CountsEqualTheInterpretersForEveryRowLengthAndBlockShape) {
  const ArgMap args = rows_args();
  for (const char* blocks : {"[1, 64]", "[2, 16]", "[4, 8]", "[1, 256]"})
    for (const char* sum : {kArraySum, kLoadSum}) {
      SCOPED_TRACE(std::string(blocks) + " " + sum);
      const std::string source = kernel_source(blocks, sum);
      const Tensor want = run_on(Path::interp, source, args).at(0);
      Comparison cmp = compare_tensors(run_on(GetParam(), source, args).at(0), want, Tolerance{});
      EXPECT_TRUE(cmp.ok) << cmp.mismatch;
    }
}

INSTANTIATE_TEST_SUITE_P(Paths, CountedSumPaths, ::testing::Values(Path::cpu, Path::cpu_unchecked),
                         [](const ::testing::TestParamInfo<Path>& p) {
                           return path_name(p.param);
                         });

}  // namespace
}  // namespace jagtile::testing
