// Tests for Tensor and Storage: construction, shapes, views, copies, dtype conversion, element
// access, device handling without CUDA, and the allocator registry.
#include "jagtile/tensor.h"

#include <cmath>
#include <cstdint>

#include "test_util.h"

namespace jagtile {
namespace {

using test::user_error_text;
using ::testing::HasSubstr;

TEST(DeviceTest, Names) {
  EXPECT_EQ(Device::cpu().str(), "cpu");
  EXPECT_EQ(Device::cuda().str(), "cuda:0");
  EXPECT_EQ(Device::cuda(3).str(), "cuda:3");
  EXPECT_TRUE(Device::cpu().is_cpu());
  EXPECT_TRUE(Device::cuda(1).is_cuda());
  EXPECT_NE(Device::cuda(0), Device::cuda(1));
}

TEST(TensorTest, UndefinedByDefault) {
  Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_EQ(t.raw_data(), nullptr);
  EXPECT_THAT(user_error_text([&] { t.view({1}); }), HasSubstr("undefined tensor"));
}

TEST(TensorTest, EmptyShapeAndAlignment) {
  Tensor t = Tensor::empty({3, 4, 5}, DType::f16);
  EXPECT_TRUE(t.defined());
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.numel(), 60);
  EXPECT_EQ(t.nbytes(), 120);
  EXPECT_EQ(t.dtype(), DType::f16);
  EXPECT_TRUE(t.device().is_cpu());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  EXPECT_EQ(t.shape_str(), "[3, 4, 5]");
}

TEST(TensorTest, ZeroSizeAndScalarShapes) {
  Tensor z = Tensor::zeros({0, 7}, DType::f32);
  EXPECT_EQ(z.numel(), 0);
  EXPECT_EQ(z.nbytes(), 0);
  EXPECT_NE(z.raw_data(), nullptr);
  EXPECT_EQ(z.shape_str(), "[0, 7]");
  EXPECT_EQ(z.clone().shape(), (Shape{0, 7}));
  Tensor s = Tensor::full({}, 2.5, DType::f32);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item_as_double(0), 2.5);
  EXPECT_EQ(s.shape_str(), "[]");
}

TEST(TensorTest, NegativeShapeIsUserError) {
  EXPECT_THAT(user_error_text([] {
                Tensor::empty({2, -3}, DType::f32);
              }),
              HasSubstr("shape [2, -3] has a negative dimension"));
}

TEST(TensorTest, OverflowingShapeIsUserError) {
  const int64_t big = int64_t(1) << 32;
  EXPECT_THAT(user_error_text([&] {
                Tensor::empty({big, big}, DType::f32);
              }),
              HasSubstr("shape [4294967296, 4294967296] of float32 is too large"));
  EXPECT_THAT(user_error_text([&] { Tensor::empty({int64_t(1) << 62}, DType::i64); }),
              HasSubstr("overflows 64 bits"));
  EXPECT_THAT(user_error_text([&] { Tensor::empty({int64_t(1) << 50}, DType::boolean); }),
              HasSubstr("out of host memory allocating 1125899906842624 bytes"));
}

TEST(TensorTest, SizeWithNegativeDims) {
  Tensor t = Tensor::empty({2, 3, 4}, DType::i32);
  EXPECT_EQ(t.size(0), 2);
  EXPECT_EQ(t.size(2), 4);
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.size(-3), 2);
  EXPECT_THAT(user_error_text([&] { t.size(3); }),
              HasSubstr("dimension 3 is out of range for a tensor of shape [2, 3, 4] (rank 3)"));
  EXPECT_THAT(user_error_text([&] { t.size(-4); }), HasSubstr("dimension -4 is out of range"));
  Tensor s = Tensor::empty({}, DType::f32);
  EXPECT_THAT(user_error_text([&] { s.size(0); }), HasSubstr("(rank 0)"));
}

TEST(TensorTest, ZerosFullAndFromDoubles) {
  for (DType dtype :
       {DType::f32, DType::f16, DType::bf16, DType::i32, DType::i64, DType::boolean}) {
    Tensor z = Tensor::zeros({5}, dtype);
    Tensor f = Tensor::full({2, 3}, 1.0, dtype);
    for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(z.item_as_double(i), 0.0) << dtype_name(dtype);
    for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(f.item_as_double(i), 1.0) << dtype_name(dtype);
  }
  Tensor t = Tensor::from_doubles({2, 2}, {1.5, -2.0, 3.25, 1e6}, DType::f32);
  EXPECT_EQ(t.data<float>()[0], 1.5f);
  EXPECT_EQ(t.data<float>()[3], 1e6f);
  Tensor i = Tensor::from_vector<int>({3}, {7, -8, 9}, DType::i64);
  EXPECT_EQ(i.data<int64_t>()[1], -8);
  EXPECT_THAT(user_error_text([] {
                Tensor::from_doubles({2, 2}, {1, 2, 3}, DType::f32);
              }),
              HasSubstr("shape [2, 2] has 4 elements but 3 values were given"));
}

TEST(TensorTest, ViewSharesStorageAndInfersOneDim) {
  Tensor t = Tensor::from_doubles({2, 3}, {0, 1, 2, 3, 4, 5}, DType::f32);
  Tensor v = t.view({-1});
  EXPECT_EQ(v.shape(), (Shape{6}));
  EXPECT_EQ(v.raw_data(), t.raw_data());
  v.set_from_double(4, 40);
  EXPECT_EQ(t.item_as_double(4), 40.0);
  EXPECT_EQ(t.view({3, -1}).shape(), (Shape{3, 2}));
  EXPECT_EQ(t.reshape({1, 6, 1}).shape(), (Shape{1, 6, 1}));
  EXPECT_EQ(Tensor::empty({0, 4}, DType::f32).view({4, 0}).shape(), (Shape{4, 0}));
}

TEST(TensorTest, ViewErrorsNameBothShapes) {
  Tensor t = Tensor::empty({2, 3}, DType::f32);
  EXPECT_THAT(user_error_text([&] { t.view({4}); }),
              HasSubstr("cannot view a tensor of shape [2, 3] (6 elements) as [4] (4 elements)"));
  EXPECT_THAT(user_error_text([&] {
                t.view({-1, -1});
              }),
              HasSubstr("as [-1, -1]: only one dimension may be -1"));
  EXPECT_THAT(user_error_text([&] {
                t.view({4, -1});
              }),
              HasSubstr("as [4, -1]: the -1 dimension cannot be inferred"));
  EXPECT_THAT(user_error_text([&] {
                t.view({0, -1});
              }),
              HasSubstr("the -1 dimension cannot be inferred"));
  EXPECT_THAT(user_error_text([&] { t.view({-2, -3}); }), HasSubstr("dimension 0 is -2"));
}

TEST(TensorTest, CloneIsDeep) {
  Tensor t = Tensor::from_doubles({3}, {1, 2, 3}, DType::i32);
  Tensor c = t.clone();
  EXPECT_NE(c.raw_data(), t.raw_data());
  c.set_from_double(0, 100);
  EXPECT_EQ(t.item_as_double(0), 1.0);
  EXPECT_EQ(c.item_as_double(0), 100.0);
  EXPECT_EQ(c.item_as_double(2), 3.0);
}

TEST(TensorTest, ToSameDeviceSharesAndToDtypeConverts) {
  Tensor t = Tensor::from_doubles({4}, {1.5, -2.5, 3.75, 0}, DType::f32);
  EXPECT_EQ(t.to(Device::cpu()).raw_data(), t.raw_data());
  Tensor h = t.to_dtype(DType::f16);
  EXPECT_EQ(h.dtype(), DType::f16);
  EXPECT_EQ(h.item_as_double(2), 3.75);
  Tensor i = t.to_dtype(DType::i32);  // truncates toward zero, like numpy's astype
  EXPECT_EQ(i.data<int32_t>()[0], 1);
  EXPECT_EQ(i.data<int32_t>()[1], -2);
  Tensor b = t.to_dtype(DType::boolean);
  EXPECT_EQ(b.data<uint8_t>()[0], 1);
  EXPECT_EQ(b.data<uint8_t>()[3], 0);
  Tensor same = t.to_dtype(DType::f32);
  EXPECT_NE(same.raw_data(), t.raw_data());  // always a new tensor
  EXPECT_EQ(same.item_as_double(1), -2.5);
}

TEST(TensorTest, ToDtypeMatchesElementwiseConversionForEveryPair) {
  const std::vector<double> values = {0,    1,   -2,    3.5,   65504, -0.25,
                                      1e-8, 1e5, -7.75, 1e-30, 2049,  -65519};
  const DType all[] = {DType::f32, DType::f16, DType::bf16, DType::i32, DType::i64, DType::boolean};
  for (DType from : all) {
    Tensor src = Tensor::from_doubles({3, 4}, values, from);
    for (DType to : all) {
      Tensor converted = src.to_dtype(to);
      ASSERT_EQ(converted.dtype(), to);
      ASSERT_EQ(converted.shape(), src.shape());
      // Reference: each exactly-read source element stored through the slow path.
      std::vector<double> exact;
      for (int64_t i = 0; i < src.numel(); ++i) exact.push_back(src.item_as_double(i));
      Tensor expected = Tensor::from_doubles({3, 4}, exact, to);
      EXPECT_EQ(std::memcmp(converted.raw_data(), expected.raw_data(), size_t(expected.nbytes())),
                0)
          << dtype_name(from) << " -> " << dtype_name(to);
    }
  }
}

TEST(TensorTest, Int64ToInt32WrapsLikeNumpy) {
  Tensor t = Tensor::empty({2}, DType::i64);
  t.data<int64_t>()[0] = (int64_t(1) << 32) + 5;
  t.data<int64_t>()[1] = -1;
  Tensor n = t.to_dtype(DType::i32);
  EXPECT_EQ(n.data<int32_t>()[0], 5);
  EXPECT_EQ(n.data<int32_t>()[1], -1);
}

TEST(TensorTest, LargeInt64SurvivesIntegerConversion) {
  const int64_t big = (int64_t(1) << 53) + 1;  // not representable in a double
  Tensor t = Tensor::empty({2}, DType::i64);
  t.data<int64_t>()[0] = big;
  t.data<int64_t>()[1] = -5;
  Tensor c = t.to_dtype(DType::i64);
  EXPECT_EQ(c.data<int64_t>()[0], big);
  Tensor n = Tensor::from_doubles({2}, {-5, 6}, DType::i32).to_dtype(DType::i64);
  EXPECT_EQ(n.data<int64_t>()[0], -5);
  EXPECT_EQ(n.data<int64_t>()[1], 6);
}

TEST(TensorTest, FloatToIntSaturatesAndNaNIsZero) {
  Tensor t = Tensor::from_doubles({3}, {1e20, -1e20, NAN}, DType::f32).to_dtype(DType::i32);
  EXPECT_EQ(t.data<int32_t>()[0], INT32_MAX);
  EXPECT_EQ(t.data<int32_t>()[1], INT32_MIN);
  EXPECT_EQ(t.data<int32_t>()[2], 0);
}

TEST(TensorTest, SetFromDoubleRounds16BitFloats) {
  Tensor t = Tensor::zeros({2}, DType::f16);
  t.set_from_double(0, 1.0 + std::ldexp(1.0, -11));  // tie: to even
  t.set_from_double(1, 70000.0);                     // overflow
  EXPECT_EQ(t.data<uint16_t>()[0], 0x3c00);
  EXPECT_TRUE(std::isinf(t.item_as_double(1)));
  Tensor b = Tensor::zeros({1}, DType::bf16);
  b.set_from_double(0, 3.14159265);
  EXPECT_EQ(b.item_as_double(0), 3.140625);
}

TEST(TensorTest, ElementAccessErrors) {
  Tensor t = Tensor::zeros({2, 2}, DType::f32);
  EXPECT_THAT(user_error_text([&] { t.item_as_double(4); }),
              HasSubstr("index 4 is out of range for a tensor of shape [2, 2] (4 elements)"));
  EXPECT_THAT(user_error_text([&] { t.set_from_double(-1, 0); }),
              HasSubstr("set_from_double: index -1 is out of range"));
}

TEST(TensorTest, CudaWithoutBackendIsClearError) {
  if (device_allocator_registered(Device::Kind::cuda)) GTEST_SKIP() << "CUDA backend present";
  EXPECT_THAT(user_error_text([] { Tensor::empty({4}, DType::f32, Device::cuda()); }),
              HasSubstr("no CUDA support in this build"));
  Tensor t = Tensor::zeros({4}, DType::f32);
  EXPECT_THAT(user_error_text([&] { t.to(Device::cuda(0)); }),
              HasSubstr("no CUDA support in this build"));
}

TEST(StorageTest, CpuAllocatorAlignmentAndZeroBytes) {
  EXPECT_TRUE(device_allocator_registered(Device::Kind::cpu));
  for (int64_t bytes : {0, 1, 63, 64, 65, 1000}) {
    Storage s(bytes, Device::cpu());
    EXPECT_NE(s.data(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s.data()) % 64, 0u);
    EXPECT_EQ(s.bytes(), bytes);
  }
}

TEST(ShapeTest, Helpers) {
  EXPECT_EQ(shape_numel({}), 1);
  EXPECT_EQ(shape_numel({3, 0, 2}), 0);
  EXPECT_EQ(shape_numel({int64_t(1) << 20, int64_t(1) << 20}), int64_t(1) << 40);
  EXPECT_EQ(shape_to_string({}), "[]");
  EXPECT_EQ(shape_to_string({5}), "[5]");
}

}  // namespace
}  // namespace jagtile

namespace jagtile {
namespace {

TEST(TensorTest, CopiesThroughRegisteredDeviceAllocator) {
  test::FakeCudaAllocator fake_cuda;
  if (!fake_cuda.installed()) GTEST_SKIP() << "a real CUDA backend is registered";
  ASSERT_TRUE(device_allocator_registered(Device::Kind::cuda));
  auto& counters = test::fake_device_counters();
  int allocations = counters.allocations, releases = counters.releases;
  {
    Tensor host = Tensor::from_doubles({3}, {1, 2, 3}, DType::f32);
    Tensor dev = host.to(Device::cuda(1));
    EXPECT_EQ(dev.device(), Device::cuda(1));
    EXPECT_EQ(counters.allocations, allocations + 1);
    Tensor dev_copy = dev.clone();
    EXPECT_EQ(dev_copy.device(), Device::cuda(1));
    Tensor back = dev_copy.to(Device::cpu());
    EXPECT_EQ(back.item_as_double(2), 3.0);
    EXPECT_EQ(dev.to_dtype(DType::i32).data<int32_t>()[1], 2);
    EXPECT_THAT(test::user_error_text([&] { dev.item_as_double(0); }),
                HasSubstr("needs a CPU tensor, got one on cuda:1"));
    Tensor z = Tensor::zeros({2}, DType::i64, Device::cuda(0));
    EXPECT_EQ(z.to(Device::cpu()).data<int64_t>()[1], 0);
  }
  // Every device buffer was given back to the allocator.
  EXPECT_EQ(counters.allocations - allocations, counters.releases - releases);
}

TEST(TensorTest, UnregisteredBackendIsGoneAgain) {
  {
    test::FakeCudaAllocator fake_cuda;
    if (!fake_cuda.installed()) GTEST_SKIP() << "a real CUDA backend is registered";
    EXPECT_TRUE(device_allocator_registered(Device::Kind::cuda));
  }
  EXPECT_FALSE(device_allocator_registered(Device::Kind::cuda));
  EXPECT_THAT(test::user_error_text([] { Tensor::zeros({1}, DType::f32, Device::cuda()); }),
              HasSubstr("no CUDA support in this build"));
  EXPECT_THROW(unregister_device_allocator(Device::Kind::cpu), InternalError);
}

}  // namespace
}  // namespace jagtile
