// Tests for the CPU block cache behind tensor storage: large freed blocks are reused, small
// ones never cached, the byte limit holds with the oldest block evicted first, a limit of 0
// turns it off, near sizes share a block within 1/8, alignment, and concurrent use.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "jagtile/tensor.h"

namespace jagtile {
namespace {

constexpr int64_t kMiB = int64_t(1) << 20;

// Each test starts from an empty cache with a known limit and puts the old limit back.
class HostCache : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_limit_ = host_cache_stats().limit_bytes;
    clear_host_cache();
    set_host_cache_limit(64 * kMiB);
  }
  void TearDown() override {
    clear_host_cache();
    set_host_cache_limit(saved_limit_);
  }
  int64_t saved_limit_ = 0;
};

TEST_F(HostCache, FreedLargeBlockIsReusedForTheSameSize) {
  void* a = host_allocate(4 * kMiB);
  std::memset(a, 1, size_t(4 * kMiB));
  host_release(a);
  EXPECT_EQ(host_cache_stats().cached_bytes, 4 * kMiB);
  HostCacheStats before = host_cache_stats();
  void* b = host_allocate(4 * kMiB);
  EXPECT_EQ(b, a);
  EXPECT_EQ(host_cache_stats().hits, before.hits + 1);
  EXPECT_EQ(host_cache_stats().cached_bytes, 0);
  host_release(b);
}

TEST_F(HostCache, TensorsGoThroughTheCache) {
  void* first = nullptr;
  {
    Tensor t = Tensor::empty({2 * kMiB}, DType::f32);
    first = t.raw_data();
  }
  Tensor again = Tensor::empty({2 * kMiB}, DType::f32);
  EXPECT_EQ(again.raw_data(), first);
}

TEST_F(HostCache, SmallBlocksAreNotCached) {
  void* p = host_allocate(1000);
  host_release(p);
  EXPECT_EQ(host_cache_stats().cached_bytes, 0);
}

TEST_F(HostCache, LimitEvictsTheOldestBlockFirst) {
  set_host_cache_limit(10 * kMiB);
  void* a = host_allocate(4 * kMiB);
  void* b = host_allocate(5 * kMiB);
  void* c = host_allocate(3 * kMiB);
  host_release(a);
  host_release(b);
  EXPECT_EQ(host_cache_stats().cached_bytes, 9 * kMiB);
  host_release(c);  // 12 MiB would exceed the limit: a (the oldest) goes
  EXPECT_EQ(host_cache_stats().cached_bytes, 8 * kMiB);
  HostCacheStats before = host_cache_stats();
  void* b2 = host_allocate(5 * kMiB);
  EXPECT_EQ(b2, b);
  EXPECT_EQ(host_cache_stats().hits, before.hits + 1);
  void* a2 = host_allocate(4 * kMiB);  // no 4 MiB block left (5 MiB is out, 3 MiB too small)
  EXPECT_EQ(host_cache_stats().misses, before.misses + 1);
  host_release(a2);
  host_release(b2);
  // Lowering the limit evicts down to it.
  set_host_cache_limit(4 * kMiB);
  EXPECT_LE(host_cache_stats().cached_bytes, 4 * kMiB);
}

TEST_F(HostCache, LimitZeroTurnsCachingOff) {
  set_host_cache_limit(0);
  void* a = host_allocate(4 * kMiB);
  host_release(a);
  EXPECT_EQ(host_cache_stats().cached_bytes, 0);
  HostCacheStats before = host_cache_stats();
  void* b = host_allocate(4 * kMiB);
  EXPECT_EQ(host_cache_stats().misses, before.misses + 1);
  host_release(b);
}

TEST_F(HostCache, NearSizesShareABlockWithinAnEighth) {
  void* a = host_allocate(8 * kMiB);
  host_release(a);
  void* smaller = host_allocate(6 * kMiB);  // 8 MiB is more than 1/8 above: not used
  EXPECT_NE(smaller, a);
  void* near = host_allocate(8 * kMiB - 512 * 1024);
  EXPECT_EQ(near, a);
  host_release(smaller);
  host_release(near);
}

TEST_F(HostCache, Alignment) {
  for (int64_t bytes : {int64_t(1), int64_t(4096), 3 * kMiB + 5, 9 * kMiB}) {
    void* p = host_allocate(bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << bytes;
    if (bytes >= 8 * kMiB) EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (2 * kMiB), 0u) << bytes;
    host_release(p);
  }
}

TEST_F(HostCache, ConcurrentUseKeepsEveryBlockIntact) {
  set_host_cache_limit(24 * kMiB);
  auto worker = [](int seed, int* failures) {
    std::mt19937 gen{uint32_t(seed)};
    for (int i = 0; i < 60; ++i) {
      int64_t bytes = int64_t(1 + gen() % 6) * kMiB + int64_t(gen() % 4096);
      auto* p = static_cast<unsigned char*>(host_allocate(bytes));
      unsigned char tag = static_cast<unsigned char>(seed * 31 + i);
      std::memset(p, tag, size_t(bytes));
      std::this_thread::yield();
      if (p[0] != tag || p[bytes / 2] != tag || p[bytes - 1] != tag) ++*failures;
      host_release(p);
    }
  };
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker, t + 1, &failures[size_t(t)]);
  for (std::thread& t : threads) t.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  HostCacheStats s = host_cache_stats();
  EXPECT_LE(s.cached_bytes, 24 * kMiB);
  EXPECT_GT(s.hits, 0);
}

}  // namespace
}  // namespace jagtile
