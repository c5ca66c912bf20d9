// Every bundled example on the interpreter matches its hand-written reference for several tile
// configurations (odd sizes, size 1, sizes larger than the data), on f32 and bf16 inputs with
// empty items: results never depend on tile sizes beyond floating-point reassociation.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "helpers.h"
#include "testing/examples.h"

namespace jagtile::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ExampleBlockSizes : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleBlockSizes, MatchesReference) {
  const ExampleInfo* ex = find_example(GetParam());
  ASSERT_NE(ex, nullptr);
  std::string source = read_file(std::string(JAGTILE_SOURCE_DIR) + "/" + ex->file);
  ASSERT_FALSE(source.empty());
  Program p = Program::from_source(source, ex->file);
  for (std::vector<int64_t> sizes :
       std::vector<std::vector<int64_t>>{{1, 1, 1, 1}, {3, 5, 2, 7}, {64, 64, 64, 64}}) {
    for (DType dtype : {DType::f32, DType::bf16}) {
      JaggedShape shape;
      shape.batch = 7;
      shape.features = 5;
      shape.max_len = 9;
      shape.sparsity = 0.4;
      shape.dist = dtype == DType::f32 ? LengthDist::tiny : LengthDist::uniform;
      shape.seed = 3;
      ArgMap args = ex->make_inputs(shape, dtype, DType::i64);
      Options o;
      o.backend = Backend::interp;
      o.config.block_sizes = sizes;
      std::vector<Tensor> out = p.call(ex->kernel, args, o).outputs;
      std::vector<Expected> ref = ex->reference(args);
      ASSERT_EQ(out.size(), ref.size());
      for (size_t i = 0; i < out.size(); ++i) {
        Comparison c =
            compare_tensors(out[i], ref[i].value, ex->tolerance(ref[i].value.dtype()), ref[i].rows);
        EXPECT_TRUE(c.ok) << ex->kernel << " " << o.config.str() << " " << dtype_name(dtype) << ": "
                          << c.mismatch;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, ExampleBlockSizes,
                         ::testing::Values("jagged_sum", "jagged_mean", "jagged_max",
                                           "jagged_softmax", "jagged_layer_norm",
                                           "jagged_dense_add", "jagged_dense_bmm",
                                           "jagged_hstu_attention"));

}  // namespace
}  // namespace jagtile::testing
