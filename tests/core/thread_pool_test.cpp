// Tests for ThreadPool: every logical worker runs exactly once on any pool size, exceptions
// propagate (first wins, others still run), nested and concurrent regions, and the overhead of
// small regions.
#include "jagtile/thread_pool.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_util.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;

void expect_each_worker_once(ThreadPool& pool, int num_workers) {
  std::vector<std::atomic<int>> hits(size_t(num_workers > 0 ? num_workers : 1));
  pool.run(num_workers, [&](int w) { hits[size_t(w)].fetch_add(1); });
  for (int w = 0; w < num_workers; ++w) {
    ASSERT_EQ(hits[size_t(w)].load(), 1) << "worker " << w << " of " << num_workers;
  }
}

TEST(ThreadPoolTest, EveryWorkerRunsExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int workers : {1, 2, threads, threads + 1, 7, 64, 1000}) {
      expect_each_worker_once(pool, workers);
    }
  }
}

TEST(ThreadPoolTest, ZeroWorkersIsANoOp) {
  ThreadPool pool(4);
  bool called = false;
  pool.run(0, [&](int) { called = true; });
  pool.run(-3, [&](int) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadPoolTest, ManyBackToBackRegions) {
  ThreadPool pool(4);
  std::atomic<int64_t> sum{0};
  for (int i = 0; i < 2000; ++i) {
    pool.run(5, [&](int w) { sum.fetch_add(w + 1); });
  }
  EXPECT_EQ(sum.load(), 2000 * 15);
}

TEST(ThreadPoolTest, RegionsAfterHelpersFellAsleep) {
  ThreadPool pool(3);
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // past the spin window
    expect_each_worker_once(pool, 6);
  }
}

TEST(ThreadPoolTest, UsesSeveralThreads) {
  ThreadPool pool(2);  // one helper, so the second thread can only be the caller
  std::mutex mutex;
  std::set<std::thread::id> ids;
  // Workers wait for each other, which only finishes if more than one thread takes part.
  std::atomic<int> arrived{0};
  pool.run(2, [&](int) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ids.insert(std::this_thread::get_id());
    }
    arrived.fetch_add(1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  });
  EXPECT_EQ(arrived.load(), 2);
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_TRUE(ids.count(std::this_thread::get_id()));  // the caller took part
}

TEST(ThreadPoolTest, PoolOfOneRunsOnCallerInOrder) {
  ThreadPool pool(1);
  std::vector<int> order;
  const std::thread::id caller = std::this_thread::get_id();
  pool.run(5, [&](int w) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(w);
  });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(ThreadPoolTest, ExceptionPropagatesAndOthersStillRun) {
  for (int threads : {1, 4}) {
    ThreadPool pool(threads);
    std::atomic<int> ran{0};
    try {
      pool.run(50, [&](int w) {
        ran.fetch_add(1);
        if (w == 17) throw std::runtime_error("worker 17 failed");
      });
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "worker 17 failed");
    }
    EXPECT_EQ(ran.load(), 50);
    expect_each_worker_once(pool, 10);  // the pool still works afterwards
  }
}

TEST(ThreadPoolTest, FirstExceptionWins) {
  ThreadPool pool(1);  // serial, so "first" is well defined
  try {
    pool.run(3, [](int w) { throw std::runtime_error("w" + std::to_string(w)); });
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "w0");
  }
  ThreadPool parallel(4);
  try {
    parallel.run(8, [](int w) { throw std::runtime_error("w" + std::to_string(w)); });
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("w"));  // one of them, exactly one rethrown
  }
}

TEST(ThreadPoolTest, UserErrorKeepsItsType) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run(4,
                        [](int w) {
                          if (w == 3) throw UserError("bad input");
                        }),
               UserError);
}

TEST(ThreadPoolTest, NestedRunExecutesInline) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> hits(8 * 5);
  pool.run(8, [&](int outer) {
    std::thread::id self = std::this_thread::get_id();
    pool.run(5, [&](int inner) {
      EXPECT_EQ(std::this_thread::get_id(), self);  // inline on the same thread
      hits[size_t(outer * 5 + inner)].fetch_add(1);
    });
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  // Nested use of another pool (here the global one) is inline as well.
  std::atomic<int> count{0};
  pool.run(3, [&](int) { ThreadPool::global().run(4, [&](int) { count.fetch_add(1); }); });
  EXPECT_EQ(count.load(), 12);
}

TEST(ThreadPoolTest, ConcurrentCallersAreSerialised) {
  ThreadPool pool(3);
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::atomic<int64_t> total{0};
  auto caller = [&] {
    for (int i = 0; i < 200; ++i) {
      // Regions are serialised, so workers of two regions never run at the same time: count
      // regions in flight from the first worker to start until the last finishes.
      std::atomic<int> started{0}, finished{0};
      pool.run(4, [&](int w) {
        if (started.fetch_add(1) == 0 && inside.fetch_add(1) != 0) overlapped = true;
        total.fetch_add(w);
        if (finished.fetch_add(1) == 3) inside.fetch_sub(1);
      });
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back(caller);
  for (auto& t : threads) t.join();
  EXPECT_FALSE(overlapped.load());
  EXPECT_EQ(total.load(), int64_t(3) * 200 * (0 + 1 + 2 + 3));
}

TEST(ThreadPoolTest, InvalidSizeIsUserError) {
  EXPECT_THAT(test::user_error_text([] { ThreadPool pool(0); }),
              HasSubstr("a thread pool needs at least 1 thread, got 0"));
}

TEST(ThreadPoolTest, DefaultThreadsFromEnvironment) {
  const char* old = std::getenv("JAGTILE_NUM_THREADS");
  std::string saved = old ? old : "";
  setenv("JAGTILE_NUM_THREADS", "3", 1);
  EXPECT_EQ(default_num_threads(), 3);
  int hardware = std::max(1, int(std::thread::hardware_concurrency()));
  for (const char* bad : {"0", "-2", "abc", "4x", ""}) {
    setenv("JAGTILE_NUM_THREADS", bad, 1);
    EXPECT_EQ(default_num_threads(), hardware) << bad;
  }
  unsetenv("JAGTILE_NUM_THREADS");
  EXPECT_EQ(default_num_threads(), hardware);
  if (old) setenv("JAGTILE_NUM_THREADS", saved.c_str(), 1);
  EXPECT_GE(ThreadPool::global().size(), 1);
  EXPECT_EQ(&ThreadPool::global(), &ThreadPool::global());
}

TEST(ThreadPoolTest, SmallRegionOverheadIsLow) {
  ThreadPool pool(2);
  std::atomic<int> sink{0};
  for (int i = 0; i < 100; ++i) pool.run(2, [&](int w) { sink.fetch_add(w); });  // warm up
  const int iterations = 2000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) pool.run(2, [&](int w) { sink.fetch_add(w); });
  double per_region_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
      iterations;
  EXPECT_EQ(sink.load(), 2100);
  // Generous: this machine may be heavily shared. A pool that woke threads through the kernel
  // for every region would be far slower than this on an idle machine.
  EXPECT_LT(per_region_us, 200.0);
  std::printf("[ thread pool ] %.2f us per 2-worker region\n", per_region_us);
}

}  // namespace
}  // namespace jagtile
