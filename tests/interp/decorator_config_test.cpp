// Helion's decorator forms reach the compiled kernel: the config-dict kernels of Helion's
// test_jagged_tile.py (block sizes [32, 1], [1, 4], [1, 1, 4]) run with those block sizes on
// every backend and match plain per-item sums; KernelInfo carries the recorded settings and
// the warnings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "helpers.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;

const char* kRowSum = R"(
@helion.kernel(config={"block_sizes": BLOCKS}, autotune_effort="none")
def jagged_row_sum(x_data: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:
    b = x_offsets.size(0) - 1
    out = torch.zeros([b], dtype=x_data.dtype, device=x_data.device)
    for tile_b in hl.tile(b):
        starts = x_offsets[tile_b]
        ends = x_offsets[tile_b.index + 1]
        nnz = ends - starts
        acc = hl.zeros([tile_b], dtype=x_data.dtype)
        for tile_k in hl.jagged_tile(nnz):
            idx = starts[:, None] + tile_k.index[None, :]
            acc += x_data[idx].sum(dim=1)
        out[tile_b] = acc
    return out
)";

const char* kTwoDimParent = R"(
@helion.kernel(config={"block_sizes": [1, 1, 4]})
def jagged_tile_2d_parent(x_data: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    b1, b2 = offsets.size(0) - 1, offsets.size(1)
    out = torch.zeros([b1, b2], dtype=x_data.dtype, device=x_data.device)
    for tile_b1, tile_b2 in hl.tile([b1, b2]):
        starts = offsets[tile_b1, tile_b2]
        ends = offsets[tile_b1.index + 1, tile_b2]
        nnz = ends - starts
        acc = hl.zeros([tile_b1, tile_b2], dtype=x_data.dtype)
        for tile_k in hl.jagged_tile(nnz):
            idx = starts[:, :, None] + tile_k.index[None, None, :]
            acc += x_data[idx].sum(dim=2)
        out[tile_b1, tile_b2] = acc
    return out
)";

std::string with_blocks(const std::string& blocks) {
  std::string src = kRowSum;
  return src.replace(src.find("BLOCKS"), 6, blocks);
}

TEST(DecoratorConfig, HelionConfigDictBlockSizesReachEveryBackend) {
  const std::vector<double> offs = {0, 3, 4, 8, 10};
  std::vector<double> xs;
  for (int i = 0; i < 10; ++i) xs.push_back(0.25 * i - 1.0);
  for (const char* blocks : {"[32, 1]", "[1, 4]"}) {
    Program p = Program::from_source(kernel_header() + with_blocks(blocks), "t.py");
    ArgMap args = {{"x_data", f32({10}, xs)}, {"x_offsets", i64({5}, offs)}};
    for (Backend b : {Backend::interp, Backend::cpu, Backend::template_lib}) {
      Options o;
      o.backend = b;
      Specialised s = p.specialise("", args, o);
      EXPECT_THAT(s.decision().config, HasSubstr(std::string("block_sizes=") + blocks)) << blocks;
      EXPECT_THAT(s.decision().config, HasSubstr("from decorator"));
      std::vector<double> got = values(p.call("", args, o).outputs.at(0));
      ASSERT_EQ(got.size(), 4u);
      for (size_t i = 0; i < 4; ++i) {
        double want = 0;
        for (int r = int(offs[i]); r < int(offs[i + 1]); ++r) want += xs[size_t(r)];
        EXPECT_NEAR(got[i], want, 1e-5) << blocks << " item " << i;
      }
    }
  }
}

TEST(DecoratorConfig, TwoDimParentWithThreeBlockSizesMatchesPlainSums) {
  Program p = Program::from_source(kernel_header() + kTwoDimParent, "t.py");
  const std::vector<double> offs = {0, 0, 3, 2, 4, 5, 8, 7};  // [[0,0],[3,2],[4,5],[8,7]]
  std::vector<double> xs;
  for (int i = 0; i < 12; ++i) xs.push_back(1.0 + i);
  ArgMap args = {{"x_data", f32({12}, xs)}, {"offsets", i64({4, 2}, offs)}};
  for (Backend b : {Backend::interp, Backend::cpu}) {
    Options o;
    o.backend = b;
    EXPECT_THAT(p.specialise("", args, o).decision().config, HasSubstr("block_sizes=[1, 1, 4]"));
    std::vector<double> got = values(p.call("", args, o).outputs.at(0));
    ASSERT_EQ(got.size(), 6u);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 2; ++j) {
        double want = 0;
        for (int r = int(offs[size_t(i * 2 + j)]); r < int(offs[size_t((i + 1) * 2 + j)]); ++r)
          want += xs[size_t(r)];
        EXPECT_NEAR(got[size_t(i * 2 + j)], want, 1e-5) << i << "," << j;
      }
  }
}

TEST(DecoratorConfig, KernelInfoRecordsSettingsAndWarnings) {
  Program p =
      Program::from_source(kernel_header() +
                               "@helion.kernel(config=helion.Config(block_sizes=[8], num_warps=4), "
                               "static_shapes=True, num_wraps=2)\n"
                               "def k(x: torch.Tensor) -> torch.Tensor:\n    return x\n",
                           "t.py");
  const KernelInfo& k = p.kernels().at(0);
  ASSERT_EQ(k.settings.size(), 3u);
  EXPECT_EQ(k.settings[0].key, "config.block_sizes");
  EXPECT_EQ(k.settings[1].key, "config.num_warps");
  EXPECT_EQ(k.settings[1].value, "4");
  EXPECT_EQ(k.settings[2].key, "static_shapes");
  ASSERT_EQ(k.warnings.size(), 1u);
  EXPECT_THAT(k.warnings[0], HasSubstr("t.py:5:88: warning: unknown kernel setting 'num_wraps'"));
  EXPECT_THAT(k.warnings[0], HasSubstr("'num_warps' is a config key: write config={\"num_warps\""));
}

}  // namespace
}  // namespace jagtile::testing
