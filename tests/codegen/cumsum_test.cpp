// torch.cumsum / x.cumsum(dim=) on every path (interpreter, generated CPU code checked and
// unchecked, emulated generated CUDA): a running sum along one dim of a tile, in order, over the
// valid positions. Along a jagged tile with a count carried across tiles it compacts each item's
// masked rows (masked_select's placement); along the outer and the inner dim of a 2-D tile and
// along a 1-D tile it equals a reference prefix sum; bool and int values sum as int64; float32
// sums add in order, so the paths agree bit for bit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "paths.h"

namespace jagtile::testing {
namespace {

class Cumsum : public ::testing::TestWithParam<Path> {};

// Each item's kept rows, in order, at out_offsets[b] + (kept rows of the item before them):
// tiles of 4 rows, so items of 0..13 rows span up to four tiles and the carry matters.
TEST_P(Cumsum, PlacesEachItemsMaskedRowsInOrderAcrossTiles) {
  const std::string source = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[2, 4]))
def compact(values: torch.Tensor, mask: torch.Tensor, offsets: torch.Tensor,
            out_offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    out = torch.full([out_offsets[-1].item()], -1.0, dtype=values.dtype, device=values.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        first = out_offsets[tile_b]
        before = hl.zeros([tile_b], dtype=torch.int64)
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            keep = mask[rows]
            upto = torch.cumsum(keep, dim=1)
            hl.store(out, [first[:, None] + before[:, None] + upto - 1], values[rows],
                     extra_mask=keep)
            before = before + keep.to(torch.int64).sum(dim=1)
    return out
)PY";
  const std::vector<int64_t> lengths = {5, 0, 13, 1, 4, 9, 0, 2};
  std::vector<double> offsets = {0}, out_offsets = {0}, values, mask, want;
  for (int64_t n : lengths) {
    double kept = 0;
    for (int64_t r = 0; r < n; ++r) {
      const size_t row = values.size();
      values.push_back(double(row) + 0.5);
      const bool keep = (row * 7 + 3) % 5 < 3;
      mask.push_back(keep ? 1 : 0);
      if (keep) {
        want.push_back(values.back());
        kept += 1;
      }
    }
    offsets.push_back(offsets.back() + double(n));
    out_offsets.push_back(out_offsets.back() + kept);
  }
  const int64_t rows = int64_t(values.size()), items = int64_t(lengths.size());
  const ArgMap args = {{"values", Tensor::from_doubles({rows}, values, DType::f32)},
                       {"mask", Tensor::from_doubles({rows}, mask, DType::boolean)},
                       {"offsets", Tensor::from_doubles({items + 1}, offsets, DType::i64)},
                       {"out_offsets", Tensor::from_doubles({items + 1}, out_offsets, DType::i32)}};
  Tensor out = run_on(GetParam(), source, args).at(0);
  ASSERT_EQ(out.numel(), int64_t(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(out.item_as_double(int64_t(i)), want[i]) << "kept value " << i;
}

// Along dim 0 and dim 1 of a [rows, cols] tile that covers partial blocks (5 x 7 in blocks of
// 4 x 4): each block's running sums, restarting per block as the tile restarts, exactly.
TEST_P(Cumsum, RunsAlongEitherDimOfATileInOrder) {
  const std::string source = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[4, 4]))
def both(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    down = torch.empty_like(x)
    across = torch.empty_like(x)
    for tr in hl.tile(x.size(0)):
        for tc in hl.tile(x.size(1)):
            down[tr, tc] = torch.cumsum(x[tr, tc], dim=0)
            across[tr, tc] = x[tr, tc].cumsum(dim=1)
    return down, across
)PY";
  const int64_t R = 5, C = 7;
  std::vector<double> x;
  for (int64_t i = 0; i < R * C; ++i) x.push_back(std::ldexp(double((i * 37) % 19) - 9, -3));
  std::vector<double> down(x.size()), across(x.size());
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const size_t i = size_t(r * C + c);
      down[i] = x[i] + (r % 4 ? down[i - size_t(C)] : 0.0);
      across[i] = x[i] + (c % 4 ? across[i - 1] : 0.0);
    }
  std::vector<Tensor> out =
      run_on(GetParam(), source, {{"x", Tensor::from_doubles({R, C}, x, DType::f32)}});
  for (size_t i = 0; i < x.size(); ++i) {  // eighths: every partial sum is exact in float32
    EXPECT_EQ(out.at(0).item_as_double(int64_t(i)), down[i]) << "down, element " << i;
    EXPECT_EQ(out.at(1).item_as_double(int64_t(i)), across[i]) << "across, element " << i;
  }
}

// A 1-D tile (the carry is one scalar), int32 values summed as int64 past int32's range.
TEST_P(Cumsum, IntegersSumAsInt64) {
  const std::string source = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[16]))
def running(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=torch.int64, device=x.device)
    for t in hl.tile(x.size(0)):
        out[t] = torch.cumsum(x[t], dim=0)
    return out
)PY";
  std::vector<double> x(10, 2000000000.0);
  x[3] = -7;
  Tensor out = run_on(GetParam(), source, {{"x", Tensor::from_doubles({10}, x, DType::i32)}}).at(0);
  ASSERT_EQ(out.dtype(), DType::i64);
  int64_t sum = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sum += int64_t(x[i]);
    EXPECT_EQ(out.data<int64_t>()[i], sum) << "element " << i;
  }
}

// Integer running sums along the inner dim of 2-D tiles of 128 columns (the generated C++ prints
// them as vectorised scans): rows of 300 values, negatives included, restarting per block, exact.
TEST_P(Cumsum, IntegerRunningSumsOfLongRowsMatchAPrefixSumPerBlock) {
  const std::string source = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[2, 128]))
def running(x: torch.Tensor, keep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    sums = torch.empty([x.size(0), x.size(1)], dtype=torch.int64, device=x.device)
    counts = torch.empty([x.size(0), x.size(1)], dtype=torch.int64, device=x.device)
    for tr in hl.tile(x.size(0)):
        for tc in hl.tile(x.size(1)):
            sums[tr, tc] = torch.cumsum(x[tr, tc], dim=1)
            counts[tr, tc] = torch.cumsum(keep[tr, tc], dim=1)
    return sums, counts
)PY";
  const int64_t R = 3, C = 300;
  std::vector<double> x, keep;
  for (int64_t i = 0; i < R * C; ++i) {
    x.push_back(double((i * 7919) % 2001) - 1000.0);
    keep.push_back((i * 13) % 7 < 3 ? 1 : 0);
  }
  std::vector<Tensor> out = run_on(GetParam(), source,
                                   {{"x", Tensor::from_doubles({R, C}, x, DType::i32)},
                                    {"keep", Tensor::from_doubles({R, C}, keep, DType::boolean)}});
  for (int64_t r = 0; r < R; ++r) {
    int64_t sum = 0, count = 0;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = r * C + c;
      if (c % 128 == 0) sum = count = 0;
      sum += int64_t(x[size_t(i)]);
      count += int64_t(keep[size_t(i)]);
      EXPECT_EQ(out.at(0).data<int64_t>()[i], sum) << "sums, row " << r << " column " << c;
      EXPECT_EQ(out.at(1).data<int64_t>()[i], count) << "counts, row " << r << " column " << c;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, Cumsum, ::testing::ValuesIn(every_path()),
                         [](const auto& info) { return path_name(info.param); });

}  // namespace
}  // namespace jagtile::testing

namespace jagtile::testing {
namespace {

// Integer running sums along a tile's last dim are printed as OpenMP inclusive scans (vectorised;
// integer adds give the same sums in any order); float ones stay serial loops, whose order is
// their rounding.
TEST(CumsumSource, IntegerSumsAlongTheLastDimAreScansFloatSumsStaySerial) {
  use_shared_cache_dir();
  Program p = Program::from_source(R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[2, 64]))
def running(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    ints = torch.empty([x.size(0), x.size(1)], dtype=torch.int64, device=x.device)
    floats = torch.empty_like(y)
    for tr in hl.tile(x.size(0)):
        for tc in hl.tile(x.size(1)):
            ints[tr, tc] = torch.cumsum(x[tr, tc], dim=1)
            floats[tr, tc] = torch.cumsum(y[tr, tc], dim=1)
    return ints, floats
)PY",
                                   "running.py");
  const ArgMap args = {{"x", Tensor::zeros({4, 100}, DType::i32)},
                       {"y", Tensor::zeros({4, 100}, DType::f32)}};
  const std::string src = p.specialise("running", args, cpu_options()).source(Backend::cpu);
  size_t scans = 0;
  for (size_t at = src.find("reduction(inscan, +:"); at != std::string::npos;
       at = src.find("reduction(inscan, +:", at + 1))
    ++scans;
  EXPECT_EQ(scans, 1u) << src;
  EXPECT_THAT(src, ::testing::HasSubstr("#pragma omp scan inclusive("));
}

}  // namespace
}  // namespace jagtile::testing
