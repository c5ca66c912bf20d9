// Tile attributes (.begin, .end, .index, .id, .block_size) of hl.tile loops, of hl.tile(begin,
// end) loops and of hl.jagged_tile loops, on the interpreter and on the generated CPU code, each
// against values computed by hand from the block sizes fixed in the decorators.
#include <gtest/gtest.h>

#include <algorithm>

#include "codegen_helpers.h"

namespace jagtile::testing {
namespace {

const char* kTileAttrs = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[4]))
def tile_attrs(x: torch.Tensor, first: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    (n,) = x.size()
    out = torch.full([n, 4], -1, dtype=torch.int64, device=x.device)
    mixed = torch.full([n], -1, dtype=torch.int64, device=x.device)
    index = torch.full([n], -1, dtype=torch.int64, device=x.device)
    for t in hl.tile(first, n):
        zero = t.index * 0
        out[t, 0] = zero + t.begin
        out[t, 1] = zero + t.end
        out[t, 2] = zero + t.id
        out[t, 3] = zero + t.block_size
        mixed[t] = zero + t.id * 100 + t.block_size
        index[t] = t.index
    return out, mixed, index

@helion.kernel(config=helion.Config(block_sizes=[2, 2]))
def jagged_attrs(offsets: torch.Tensor) -> torch.Tensor:
    num_items = offsets.size(0) - 1
    rows = offsets[-1].item()
    out = torch.full([rows * 5], -1, dtype=torch.int64, device=offsets.device)
    for tile_b in hl.tile(num_items):
        starts = offsets[tile_b]
        lengths = offsets[tile_b.index + 1] - starts
        for tile_k in hl.jagged_tile(lengths):
            row = starts[:, None] + tile_k.index[None, :]
            zero = row * 0
            hl.store(out, [row * 5], zero + tile_k.begin)
            hl.store(out, [row * 5 + 1], zero + tile_k.end)
            hl.store(out, [row * 5 + 2], zero + tile_k.id)
            hl.store(out, [row * 5 + 3], zero + tile_k.block_size)
            hl.store(out, [row * 5 + 4], zero + tile_k.index[None, :] + tile_b.id * 100)
    return out
)PY";

std::vector<int64_t> ints(const Tensor& t) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(int64_t(t.item_as_double(i)));
  return out;
}

std::vector<Tensor> run_on(Backend backend, const std::string& kernel, const ArgMap& args) {
  return run_source(kTileAttrs, "tile_attrs.py", backend, kernel, args);
}

class TileAttributes : public ::testing::TestWithParam<Backend> {};

// hl.tile(first, n) with tiles of 4: tile j covers [first + 4j, min(first + 4j + 4, n)).
TEST_P(TileAttributes, TileLoopAttributesMatchTheBlocksByHand) {
  for (int64_t first : {0, 3}) {
    SCOPED_TRACE("first = " + std::to_string(first));
    const int64_t n = 10;
    std::vector<Tensor> got =
        run_on(GetParam(), "tile_attrs",
               {{"x", Tensor::from_doubles({n}, std::vector<double>(n, 0.0), DType::f32)},
                {"first", first}});
    std::vector<int64_t> want, want_mixed, want_index;
    for (int64_t i = 0; i < n; ++i) {
      if (i < first) {
        want.insert(want.end(), {-1, -1, -1, -1});
        want_mixed.push_back(-1);
        want_index.push_back(-1);
        continue;
      }
      int64_t id = (i - first) / 4, begin = first + 4 * id;
      want.insert(want.end(), {begin, std::min(begin + 4, n), id, 4});
      want_mixed.push_back(id * 100 + 4);
      want_index.push_back(i);
    }
    EXPECT_EQ(ints(got.at(0)), want);
    EXPECT_EQ(ints(got.at(1)), want_mixed);
    EXPECT_EQ(ints(got.at(2)), want_index);
  }
}

// Items of lengths 3, 0, 5, 1 in item tiles of 2 and row tiles of 2. A jagged_tile's tiles cover
// [0, longest item of the item tile): 3 for items {0, 1}, 5 for items {2, 3}; row k of an item is
// in tile k / 2, which begins at 2 * (k / 2) and ends at min(2 * (k / 2) + 2, longest).
TEST_P(TileAttributes, JaggedTileAttributesMatchTheBlocksByHand) {
  const std::vector<int64_t> lengths = {3, 0, 5, 1};
  std::vector<double> offsets = {0};
  for (int64_t l : lengths) offsets.push_back(offsets.back() + double(l));
  std::vector<Tensor> got = run_on(GetParam(), "jagged_attrs",
                                   {{"offsets", Tensor::from_doubles({5}, offsets, DType::i64)}});
  std::vector<int64_t> want;
  for (size_t b = 0; b < lengths.size(); ++b) {
    int64_t longest = b < 2 ? 3 : 5;
    for (int64_t k = 0; k < lengths[b]; ++k) {
      int64_t begin = 2 * (k / 2);
      want.insert(want.end(),
                  {begin, std::min(begin + 2, longest), k / 2, 2, k + int64_t(b / 2) * 100});
    }
  }
  EXPECT_EQ(ints(got.at(0)), want);
}

INSTANTIATE_TEST_SUITE_P(Backends, TileAttributes, ::testing::Values(Backend::interp, Backend::cpu),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return std::string(info.param == Backend::cpu ? "Cpu" : "Interp");
                         });

}  // namespace
}  // namespace jagtile::testing
