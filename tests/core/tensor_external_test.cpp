// Tensor::from_external: memory owned elsewhere (a numpy array, a torch tensor) wrapped without a
// copy; the release hook runs exactly once, when the last tensor sharing it goes.
#include <gtest/gtest.h>

#include <vector>

#include "jagtile/error.h"
#include "jagtile/tensor.h"

namespace jagtile {
namespace {

TEST(TensorExternalTest, WrapsTheCallersMemoryWithoutCopying) {
  std::vector<float> owner = {1, 2, 3, 4, 5, 6};
  int released = 0;
  {
    Tensor t =
        Tensor::from_external(owner.data(), {2, 3}, DType::f32, Device::cpu(), [&] { ++released; });
    EXPECT_EQ(t.raw_data(), owner.data());
    EXPECT_EQ(t.shape(), (Shape{2, 3}));
    EXPECT_EQ(t.item_as_double(4), 5.0);
    t.set_from_double(0, 10.0);  // writes land in the owner's memory
    EXPECT_EQ(owner[0], 10.0f);
  }
  EXPECT_EQ(released, 1);
}

TEST(TensorExternalTest, ReleaseWaitsForTheLastViewAndCopyOfTheHandle) {
  std::vector<int32_t> owner(12, 7);
  int released = 0;
  Tensor flat;
  {
    Tensor t =
        Tensor::from_external(owner.data(), {3, 4}, DType::i32, Device::cpu(), [&] { ++released; });
    Tensor copy = t;
    flat = t.view({-1});
    EXPECT_TRUE(flat.shares_storage(t));
    EXPECT_TRUE(copy.shares_storage(t));
  }
  EXPECT_EQ(released, 0);  // the view still holds the storage
  EXPECT_EQ(flat.raw_data(), owner.data());
  flat = Tensor();
  EXPECT_EQ(released, 1);
}

TEST(TensorExternalTest, CloneIsADeepCopyThatDoesNotShare) {
  std::vector<float> owner = {1, 2};
  Tensor t = Tensor::from_external(owner.data(), {2}, DType::f32, Device::cpu(), nullptr);
  Tensor c = t.clone();
  EXPECT_FALSE(c.shares_storage(t));
  EXPECT_NE(c.raw_data(), t.raw_data());
  EXPECT_EQ(c.item_as_double(1), 2.0);
}

TEST(TensorExternalTest, EmptyShapeMayHaveNullData) {
  int released = 0;
  {
    Tensor t =
        Tensor::from_external(nullptr, {0, 5}, DType::f32, Device::cpu(), [&] { ++released; });
    EXPECT_EQ(t.numel(), 0);
  }
  EXPECT_EQ(released, 1);
}

TEST(TensorExternalTest, NegativeShapeIsAUserErrorAndNothingIsReleased) {
  float x = 0;
  int released = 0;
  EXPECT_THROW(Tensor::from_external(&x, {-1}, DType::f32, Device::cpu(), [&] { ++released; }),
               UserError);
  EXPECT_EQ(released, 0);  // the caller still owns its reference and drops it itself
}

}  // namespace
}  // namespace jagtile
