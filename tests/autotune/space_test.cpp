// The search space: derived from the kernel's tunable loops or from the template's knobs,
// bounded by the argument sizes, with the tile-size constraint and the defaults at its centre.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "autotune_helpers.h"

namespace jagtile::autotune_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> knob_names(const TuneSpace& s) {
  std::vector<std::string> names;
  for (const TuneKnob& k : s.knobs) names.push_back(k.name);
  return names;
}

TEST(TuneSpace, GenericKernelHasOneKnobPerTileLoopWithTheLoweringDefaults) {
  Program p = example_program("jagged_softmax");
  TuneSpace s = tune_space(p, "jagged_softmax", example_args("jagged_softmax"));
  EXPECT_EQ(s.backend, "cpu");
  EXPECT_THAT(knob_names(s),
              ElementsAre("block_sizes[0]", "block_sizes[1]", "block_sizes[2]", "block_sizes[3]"));
  std::vector<int64_t> defaults;
  for (const TuneKnob& k : s.knobs) defaults.push_back(k.default_value);
  EXPECT_THAT(defaults, ElementsAre(1, 256, 32, 32));  // two passes over the rows: one item
  EXPECT_THAT(s.knobs[0].role, HasSubstr("outermost"));
  EXPECT_THAT(s.knobs[2].role, HasSubstr("jagged_tile"));
}

TEST(TuneSpace, TemplateKernelTunesChunkRowsAndWorkersNotBlockSizes) {
  Program p = example_program("jagged_sum");
  Options o;
  o.num_threads = 2;
  TuneSpace s = tune_space(p, "jagged_sum", example_args("jagged_sum"), o);
  EXPECT_EQ(s.backend, "template");
  EXPECT_THAT(knob_names(s), ElementsAre("chunk_rows", "workers"));
  EXPECT_EQ(s.knobs[0].default_value, 64);
  EXPECT_THAT(s.knobs[1].values, ElementsAre(1, 2));
  EXPECT_TRUE(s.knobs[1].keeps_result_bits);
  EXPECT_FALSE(s.knobs[0].keeps_result_bits);
}

TEST(TuneSpace, BlockSizesAreBoundedByTheArgumentSizesExceptTheDefault) {
  JaggedShape tiny;
  tiny.batch = 6, tiny.features = 8, tiny.max_len = 5;
  Program p = example_program("jagged_softmax");
  TuneSpace s = tune_space(p, "jagged_softmax", example_args("jagged_softmax", tiny));
  for (const TuneKnob& k : s.knobs) {
    for (int64_t v : k.values) {
      if (v != k.default_value) {
        EXPECT_LE(v, 64) << k.name;  // largest dim: rows (< 64)
      }
    }
  }
  // The jagged loops are bounded by the longest item (5 -> 8).
  for (int64_t v : s.knobs[2].values) {
    if (v != s.knobs[2].default_value) {
      EXPECT_LE(v, 8);
    }
  }
}

TEST(TuneSpace, NestedTilesLargerThanTheLimitAreNotAdmitted) {
  Program p = example_program("jagged_softmax");
  TuneSpace s = tune_space(p, "jagged_softmax", example_args("jagged_softmax"));
  std::vector<size_t> largest;
  for (const TuneKnob& k : s.knobs) largest.push_back(k.values.size() - 1);
  EXPECT_TRUE(s.admits(s.default_point()));
  int64_t product = 1;
  for (const TuneKnob& k : s.knobs) product *= k.values.back();
  ASSERT_GT(product, s.max_tile_elements);
  EXPECT_FALSE(s.admits(largest));
  EXPECT_THAT(s.str(), HasSubstr("product of the block sizes of a tile value's dims"));
}

// The limit bounds each tile value's own dims: jagged_dense_bmm's loops (items, rows, columns,
// k) all nest, but its arrays are [rows, k], [k, columns] and [rows, columns], so blocks of 256
// on all three (the best on AMX) are admitted, while a [k, columns] block of 1024 x 1024 is not.
TEST(TuneSpace, TheTileLimitBoundsEachArraysOwnDimsNotTheLoopNest) {
  Program p = example_program("jagged_dense_bmm");
  JaggedShape shape;
  shape.batch = 8, shape.features = 1024, shape.max_len = 512;
  TuneSpace s = tune_space(p, "jagged_dense_bmm", example_args("jagged_dense_bmm", shape));
  ASSERT_EQ(s.knobs.size(), 4u);
  auto point = [&](std::vector<int64_t> blocks) {
    std::vector<size_t> pt;
    for (size_t k = 0; k < blocks.size(); ++k) {
      const auto& v = s.knobs[k].values;
      const auto it = std::find(v.begin(), v.end(), blocks[k]);
      EXPECT_NE(it, v.end()) << s.knobs[k].name << " has no " << blocks[k];
      pt.push_back(size_t(it - v.begin()));
    }
    return pt;
  };
  EXPECT_EQ(s.max_tile_elements, int64_t(1) << 19);
  EXPECT_TRUE(s.admits(point({1, 256, 256, 256})));    // nesting product 2^24
  EXPECT_TRUE(s.admits(point({1, 256, 1024, 256})));   // [rows, columns] 2^18
  EXPECT_FALSE(s.admits(point({1, 64, 1024, 1024})));  // [k, columns] 2^20
  EXPECT_FALSE(s.admits(point({4, 256, 1024, 64})));   // [items, rows, columns] 2^20
}

TEST(TuneSpace, DefaultPointGivesTheDefaultsAndOthersAreComplete) {
  Program p = example_program("jagged_softmax");
  TuneSpace s = tune_space(p, "jagged_softmax", example_args("jagged_softmax"));
  EXPECT_EQ(s.config_at(s.default_point()), s.defaults);
  std::vector<size_t> point = s.default_point();
  point[2] = 0;  // the smallest jagged step
  Config c = s.config_at(point);
  ASSERT_EQ(c.block_sizes.size(), 4u);
  EXPECT_EQ(c.block_sizes[0], 1);
  EXPECT_EQ(c.block_sizes[1], 256);
  EXPECT_EQ(c.block_sizes[2], s.knobs[2].values[0]);
  EXPECT_EQ(c.block_sizes[3], 32);
}

TEST(TuneSpace, DecoratorBlockSizesAreTheDefaults) {
  const std::string src =
      "import torch\nimport helion\nimport helion.language as hl\n\n"
      "@helion.kernel(config={\"block_sizes\": [8, 64, 16]})\n"
      "def jagged_sum(x_values: torch.Tensor, x_offsets: torch.Tensor) -> torch.Tensor:\n"
      "    M = x_values.size(1)\n"
      "    num_items = x_offsets.size(0) - 1\n"
      "    out = torch.zeros([num_items, M], dtype=x_values.dtype, device=x_values.device)\n"
      "    for tile_b in hl.tile(num_items):\n"
      "        starts = x_offsets[tile_b]\n"
      "        nnz = x_offsets[tile_b.index + 1] - starts\n"
      "        for tile_m in hl.tile(M):\n"
      "            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)\n"
      "            for tile_k in hl.jagged_tile(nnz):\n"
      "                rows = starts[:, None] + tile_k.index[None, :]\n"
      "                acc = acc + x_values[rows, tile_m].sum(dim=1)\n"
      "            out[tile_b, tile_m] = acc * 2.0\n"
      "    return out\n";
  Program p = Program::from_source(src, "decorated.py");
  TuneSpace s = tune_space(p, "jagged_sum", example_args("jagged_sum"));
  ASSERT_EQ(s.knobs.size(), 3u);
  EXPECT_EQ(s.knobs[0].default_value, 8);
  EXPECT_EQ(s.knobs[1].default_value, 64);
  EXPECT_EQ(s.knobs[2].default_value, 16);
}

TEST(TuneSpace, TextNamesDefaultsConstraintsAndWhatIsNotTunable) {
  Program p = example_program("jagged_softmax");
  std::string text = tune_space(p, "jagged_softmax", example_args("jagged_softmax")).str();
  EXPECT_THAT(text, HasSubstr("block_sizes[0]"));
  EXPECT_THAT(text, HasSubstr("default: 1\n"));
  EXPECT_THAT(text, HasSubstr("constraints:"));
  EXPECT_THAT(text, HasSubstr("not tunable yet:"));
  EXPECT_THAT(text, HasSubstr("loop order"));
  EXPECT_THAT(text, HasSubstr("vector width and unroll"));
  Program sum = example_program("jagged_sum");
  EXPECT_THAT(tune_space(sum, "jagged_sum", example_args("jagged_sum")).str(),
              HasSubstr("prefetch distance"));
}

}  // namespace
}  // namespace jagtile::autotune_test
