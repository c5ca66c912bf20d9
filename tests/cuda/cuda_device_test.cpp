// CUDA device discovery and device tensors: errors for devices that do not exist (checked on every
// machine), and copies in every direction where a GPU is present.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "jagtile/cuda.h"
#include "jagtile/error.h"
#include "jagtile/tensor.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;

#define SKIP_WITHOUT_CUDA() \
  if (!cuda_available()) GTEST_SKIP() << "skipped (no CUDA device)"

TEST(CudaDevice, CountAgreesWithAvailability) {
  EXPECT_EQ(cuda_available(), cuda_device_count() > 0);
  EXPECT_TRUE(device_allocator_registered(Device::Kind::cuda));
  EXPECT_NO_THROW(cuda_synchronize());
}

TEST(CudaDevice, NameOfMissingDeviceIsUserError) {
  const int missing = cuda_device_count();
  try {
    cuda_device_name(missing);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cuda:" + std::to_string(missing) + " does not exist"));
  }
  EXPECT_THROW(cuda_device_name(-1), UserError);
}

TEST(CudaDevice, AllocatingOnMissingDeviceIsUserError) {
  cuda_available();  // registers the allocator
  const int missing = cuda_device_count();
  try {
    Tensor::empty({4}, DType::f32, Device::cuda(missing));
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("allocating 16 bytes"));
    EXPECT_THAT(e.what(), HasSubstr("does not exist"));
  }
}

TEST(CudaDevice, NameIsReported) {
  SKIP_WITHOUT_CUDA();
  EXPECT_FALSE(cuda_device_name(0).empty());
}

TEST(CudaDevice, CopiesRoundTripInEveryDirection) {
  SKIP_WITHOUT_CUDA();
  std::vector<double> data;
  for (int i = 0; i < 1000; ++i) data.push_back(i * 0.25 - 7);
  for (DType dtype : {DType::f32, DType::bf16, DType::i64}) {
    const Tensor host = Tensor::from_doubles({10, 100}, data, dtype);
    const Tensor dev = host.to(Device::cuda(0));
    EXPECT_TRUE(dev.device().is_cuda());
    const Tensor dev2 = dev.clone();  // device to device
    EXPECT_NE(dev2.raw_data(), dev.raw_data());
    const Tensor back = dev2.to(Device::cpu());
    ASSERT_EQ(back.shape(), host.shape());
    for (int64_t i = 0; i < host.numel(); ++i) {
      ASSERT_EQ(back.item_as_double(i), host.item_as_double(i)) << dtype_name(dtype) << " " << i;
    }
  }
  const Tensor empty = Tensor::empty({0, 5}, DType::f32, Device::cuda(0));
  EXPECT_EQ(empty.to(Device::cpu()).numel(), 0);
}

}  // namespace
}  // namespace jagtile
