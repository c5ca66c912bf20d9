// Stores under an element-wise mask (`hl.store(..., extra_mask=m)`) on every path. Generated C++
// writes a masked scatter without a branch (JT_MASKED_STORE: masked-off elements go to a local on
// the stack), so these tests pin what that must not change: a masked-off element writes nothing,
// whatever its index (negative, past the end), and a kept one lands at its index. A masked store
// to consecutive elements keeps its branch, which the vectorizer makes a masked vector store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "paths.h"

namespace jagtile::testing {
namespace {

const char* kScatterKernels = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[8]))
def scatter_kept(values: torch.Tensor, keep: torch.Tensor, dest: torch.Tensor,
                 size: int) -> torch.Tensor:
    out = torch.full([size], -7.0, dtype=values.dtype, device=values.device)
    for tile in hl.tile(values.size(0)):
        hl.store(out, [dest[tile]], values[tile], extra_mask=keep[tile])
    return out

@helion.kernel(config=helion.Config(block_sizes=[8]))
def copy_kept(values: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    out = torch.full([values.size(0)], -7.0, dtype=values.dtype, device=values.device)
    for tile in hl.tile(values.size(0)):
        hl.store(out, [tile], values[tile], extra_mask=keep[tile])
    return out
)PY";

std::string only_kernel(const std::string& name) {
  const std::string all = kScatterKernels;
  const size_t header_end = all.find("@helion");
  const size_t at = all.find("@helion.kernel(config=helion.Config(block_sizes=[8]))\ndef " + name);
  const size_t next = all.find("@helion", at + 1);
  return all.substr(0, header_end) +
         all.substr(at, next == std::string::npos ? std::string::npos : next - at);
}

class MaskedScatter : public ::testing::TestWithParam<Path> {};

// 37 values (partial last tile of 8), a third kept, kept ones sent to a permutation of [0, 50);
// the masked-off ones carry indices far outside the output (-1000, 10^9, -1): the output holds
// each kept value at its index and -7 everywhere else.
TEST_P(MaskedScatter, KeptValuesLandAtTheirIndexAndMaskedOffOnesWriteNothing) {
  const int64_t n = 37, size = 50;
  std::vector<double> values, keep, dest, want(size_t(size), -7.0);
  for (int64_t i = 0; i < n; ++i) {
    values.push_back(double(i) + 0.25);
    const bool kept = (i * 5 + 1) % 3 == 0;
    keep.push_back(kept ? 1 : 0);
    const int64_t to = (i * 17 + 3) % size;  // distinct for distinct i < 50
    const int64_t garbage[] = {-1000, 1000000000, -1};
    dest.push_back(double(kept ? to : garbage[i % 3]));
    if (kept) want[size_t(to)] = values.back();
  }
  const ArgMap args = {{"values", Tensor::from_doubles({n}, values, DType::f32)},
                       {"keep", Tensor::from_doubles({n}, keep, DType::boolean)},
                       {"dest", Tensor::from_doubles({n}, dest, DType::i64)},
                       {"size", size}};
  Tensor out = run_on(GetParam(), only_kernel("scatter_kept"), args).at(0);
  ASSERT_EQ(out.numel(), size);
  for (int64_t i = 0; i < size; ++i)
    EXPECT_EQ(out.item_as_double(i), want[size_t(i)]) << "element " << i;
}

// The same through a consecutive masked store: kept rows copied, the others left at -7.
TEST_P(MaskedScatter, ConsecutiveMaskedStoreWritesOnlyKeptRows) {
  const int64_t n = 29;
  std::vector<double> values, keep;
  for (int64_t i = 0; i < n; ++i) {
    values.push_back(double(i) - 3.5);
    keep.push_back((i * 7) % 4 < 2 ? 1 : 0);
  }
  const ArgMap args = {{"values", Tensor::from_doubles({n}, values, DType::f32)},
                       {"keep", Tensor::from_doubles({n}, keep, DType::boolean)}};
  Tensor out = run_on(GetParam(), only_kernel("copy_kept"), args).at(0);
  ASSERT_EQ(out.numel(), n);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(out.item_as_double(i), keep[size_t(i)] ? values[size_t(i)] : -7.0) << "row " << i;
}

INSTANTIATE_TEST_SUITE_P(Paths, MaskedScatter, ::testing::ValuesIn(every_path()),
                         [](const ::testing::TestParamInfo<Path>& p) {
                           return path_name(p.param);
                         });

// Which form generated C++ uses in the main (simd) loop, the last one of these one-loop kernels:
// the branch-free macro for the scatter, a branch the vectorizer can mask for the consecutive
// store. (The bounds-check pass's serial replay, which runs only to report an error, uses the
// macro for both.)
std::string main_loop(const std::string& source) {
  const size_t at = source.rfind("#pragma omp simd\n");
  return at == std::string::npos ? std::string() : source.substr(at);
}

TEST(MaskedScatterSource, ScatterIsBranchFreeAndConsecutiveStoreKeepsItsBranch) {
  Program p = Program::from_source(kScatterKernels, "scatter.py");
  const ArgMap scatter_args = {{"values", Tensor::zeros({4}, DType::f32)},
                               {"keep", Tensor::zeros({4}, DType::boolean)},
                               {"dest", Tensor::zeros({4}, DType::i64)},
                               {"size", int64_t(4)}};
  const std::string scatter =
      main_loop(p.specialise("scatter_kept", scatter_args, cpu_options()).source(Backend::cpu));
  EXPECT_THAT(scatter, ::testing::HasSubstr("JT_MASKED_STORE(float, "));
  const ArgMap copy_args = {{"values", Tensor::zeros({4}, DType::f32)},
                            {"keep", Tensor::zeros({4}, DType::boolean)}};
  const std::string copy =
      main_loop(p.specialise("copy_kept", copy_args, cpu_options()).source(Backend::cpu));
  EXPECT_THAT(copy, ::testing::Not(::testing::HasSubstr("JT_MASKED_STORE(")));
  EXPECT_THAT(copy, ::testing::HasSubstr(") ((float*)"));  // `if (mask) ((float*)out.data)[...]`
}

}  // namespace
}  // namespace jagtile::testing
