// Specialised::dry_run: the host part alone gives the shapes and dtypes run() returns, runs no
// device loop, and raises the host part's errors (asserts, offsets checks).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "helpers.h"

namespace jagtile::testing {
namespace {

const char* kScale = R"(
def scale_rows(x: torch.Tensor, offsets: torch.Tensor, factor: float) -> torch.Tensor:
    assert x.size(0) == offsets[-1].item()
    out = torch.full([offsets.size(0) - 1, x.size(1)], 5.0, dtype=torch.float16, device=x.device)
    for tile_b in hl.tile(offsets.size(0) - 1):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(x.size(1)):
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                acc = acc + x[starts[:, None] + tile_k.index[None, :], tile_m].sum(dim=1)
            out[tile_b, tile_m] = acc * factor
    return out, x
)";

TEST(DryRunTest, GivesTheShapesAndDtypesOfRunWithoutRunningTheLoops) {
  Program p = Program::from_source(kScale, "scale.py");
  Tensor x = Tensor::full({6, 3}, 1.0, DType::f32);
  Tensor offsets = Tensor::from_vector<int64_t>({4}, {0, 2, 2, 6}, DType::i32);
  ArgMap args = {{"x", x}, {"offsets", offsets}, {"factor", 2.0}};
  Specialised s = p.specialise("scale_rows", args, Options{.backend = Backend::interp});
  std::vector<Tensor> dry = s.dry_run(args);
  std::vector<Tensor> real = s.run(args).outputs;
  ASSERT_EQ(dry.size(), 2u);
  ASSERT_EQ(real.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(dry[i].shape(), real[i].shape());
    EXPECT_EQ(dry[i].dtype(), real[i].dtype());
  }
  EXPECT_EQ(dry[0].shape(), (Shape{3, 3}));
  EXPECT_EQ(dry[0].dtype(), DType::f16);
  // No device loop ran: the allocation still holds its fill value, where run() wrote sums.
  EXPECT_EQ(dry[0].item_as_double(0), 5.0);
  EXPECT_EQ(real[0].item_as_double(0), 4.0);
  EXPECT_TRUE(dry[1].shares_storage(x));  // a returned argument is the argument
}

TEST(DryRunTest, RaisesTheHostPartsErrors) {
  Program p = Program::from_source(kScale, "scale.py");
  Tensor x = Tensor::full({5, 3}, 1.0, DType::f32);
  Tensor offsets = Tensor::from_vector<int64_t>({4}, {0, 2, 2, 6}, DType::i32);
  ArgMap args = {{"x", x}, {"offsets", offsets}, {"factor", 2.0}};
  Specialised s = p.specialise(
      "scale_rows",
      {{"x", Tensor::full({6, 3}, 1.0, DType::f32)}, {"offsets", offsets}, {"factor", 2.0}});
  try {
    s.dry_run(args);
    FAIL() << "expected the assert to fail";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("scale.py:3:"));
  }
}

}  // namespace
}  // namespace jagtile::testing
