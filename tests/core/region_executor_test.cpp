// Tests for RegionExecutor: a pool whose size equals the executor's thread count runs its regions
// on the executor's threads (every logical worker once, exceptions rethrown, nesting inline), a
// pool of another size keeps its own threads, work an executor leaves undone still runs, and an
// executor whose regions keep returning late is dropped.
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "jagtile/thread_pool.h"
#include "test_util.h"

namespace jagtile {
namespace {

// Stands in for a host program's pool: each region starts `threads - 1` fresh threads next to
// the caller and records every thread it ran body on. `skip_body` makes it run nothing at all,
// `caller_only` runs body on the caller alone, and `late_ms` makes it return that long after the
// body (a thread that joins late).
struct FakeExecutor {
  int threads = 3;
  bool skip_body = false;
  bool caller_only = false;
  int late_ms = 0;
  int64_t late_after_ns = 0;
  int64_t retry_after_ns = 0;
  std::atomic<int> regions{0};
  std::mutex mutex;
  std::set<std::thread::id> thread_ids;

  static int num_threads(void* state) { return static_cast<FakeExecutor*>(state)->threads; }

  static void run_on_threads(void* state, int threads, void (*body)(void*), void* context) {
    auto& self = *static_cast<FakeExecutor*>(state);
    self.regions.fetch_add(1);
    if (self.skip_body) return;
    auto record_and_run = [&] {
      {
        std::lock_guard<std::mutex> lock(self.mutex);
        self.thread_ids.insert(std::this_thread::get_id());
      }
      body(context);
    };
    std::vector<std::thread> others;
    for (int t = 1; t < (self.caller_only ? 1 : threads); ++t) others.emplace_back(record_and_run);
    record_and_run();
    for (std::thread& t : others) t.join();
    if (self.late_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(self.late_ms));
  }

  RegionExecutor as_executor() {
    RegionExecutor e;
    e.state = this;
    e.num_threads = &FakeExecutor::num_threads;
    e.run_on_threads = &FakeExecutor::run_on_threads;
    e.late_after_ns = late_after_ns;
    e.retry_after_ns = retry_after_ns;
    return e;
  }
};

class RegionExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override { set_region_executor(executor_.as_executor()); }
  void TearDown() override { set_region_executor(RegionExecutor{}); }
  // Installs the executor with a limit of 20 ms, its regions on the caller alone (so a loaded
  // machine adds far less than that) and each returning 40 ms after its work.
  void install_late_executor(int64_t retry_after_ns = 0) {
    executor_.caller_only = true;
    executor_.late_ms = 40;
    executor_.late_after_ns = 20000000;
    executor_.retry_after_ns = retry_after_ns;
    set_region_executor(executor_.as_executor());
  }
  FakeExecutor executor_;
};

// Logical worker -> thread that ran it, after checking that each ran exactly once.
std::vector<std::thread::id> run_and_record(ThreadPool& pool, int num_workers) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(num_workers));
  std::vector<std::thread::id> ran_on(static_cast<size_t>(num_workers));
  pool.run(num_workers, [&](int w) {
    hits[size_t(w)].fetch_add(1);
    ran_on[size_t(w)] = std::this_thread::get_id();
  });
  for (int w = 0; w < num_workers; ++w) EXPECT_EQ(hits[size_t(w)].load(), 1) << "worker " << w;
  return ran_on;
}

TEST_F(RegionExecutorTest, APoolOfTheExecutorsSizeRunsOnItsThreads) {
  ThreadPool pool(3);
  const int64_t before = executor_regions();
  for (int workers : {2, 3, 7, 100}) {
    for (std::thread::id id : run_and_record(pool, workers)) {
      EXPECT_TRUE(executor_.thread_ids.count(id)) << "a worker ran off the executor's threads";
    }
  }
  EXPECT_EQ(executor_.regions.load(), 4);
  EXPECT_EQ(executor_regions() - before, 4);
}

TEST_F(RegionExecutorTest, APoolOfAnotherSizeKeepsItsOwnThreads) {
  ThreadPool pool(2);
  run_and_record(pool, 16);
  EXPECT_EQ(executor_.regions.load(), 0);
}

TEST_F(RegionExecutorTest, SingleWorkerRegionsStayOnTheCaller) {
  ThreadPool pool(3);
  const std::vector<std::thread::id> ran_on = run_and_record(pool, 1);
  EXPECT_EQ(ran_on[0], std::this_thread::get_id());
  EXPECT_EQ(executor_.regions.load(), 0);
}

TEST_F(RegionExecutorTest, WorkTheExecutorLeavesRunsOnTheCaller) {
  executor_.skip_body = true;
  ThreadPool pool(3);
  for (std::thread::id id : run_and_record(pool, 9)) EXPECT_EQ(id, std::this_thread::get_id());
  EXPECT_EQ(executor_.regions.load(), 1);
}

TEST_F(RegionExecutorTest, AnExceptionIsRethrownAndTheOtherWorkersStillRun) {
  ThreadPool pool(3);
  std::atomic<int> ran{0};
  try {
    pool.run(40, [&](int w) {
      ran.fetch_add(1);
      if (w == 11) throw UserError("worker 11 failed");
    });
    FAIL() << "no exception";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("worker 11 failed"));
  }
  EXPECT_EQ(ran.load(), 40);
}

TEST_F(RegionExecutorTest, NestedRegionsRunInlineOnTheWorkersThread) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(6 * 4);
  pool.run(6, [&](int outer) {
    const std::thread::id self = std::this_thread::get_id();
    pool.run(4, [&](int inner) {
      EXPECT_EQ(std::this_thread::get_id(), self);
      hits[size_t(outer * 4 + inner)].fetch_add(1);
    });
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  EXPECT_EQ(executor_.regions.load(), 1);  // the inner regions never reached it
}

TEST_F(RegionExecutorTest, RemovingTheExecutorRestoresThePoolsThreads) {
  set_region_executor(RegionExecutor{});
  ThreadPool pool(3);
  run_and_record(pool, 12);
  EXPECT_EQ(executor_.regions.load(), 0);
}

// Three regions in a row that return 40 ms after their work is done (a limit of 20 ms, far above
// what a loaded machine adds to a region that runs on the caller alone): the next regions run on
// the pool's own threads, with the same results, until the executor is installed again.
TEST_F(RegionExecutorTest, AnExecutorThatKeepsReturningLateIsDropped) {
  install_late_executor();
  ThreadPool pool(3);
  for (int r = 0; r < 3; ++r) {
    EXPECT_FALSE(region_executor_dropped()) << "dropped after " << r << " late regions";
    run_and_record(pool, 6);
  }
  EXPECT_TRUE(region_executor_dropped());
  EXPECT_EQ(executor_.regions.load(), 3);
  run_and_record(pool, 6);
  EXPECT_EQ(executor_.regions.load(), 3) << "a region went to the dropped executor";
  set_region_executor(executor_.as_executor());
  EXPECT_FALSE(region_executor_dropped());
  run_and_record(pool, 6);
  EXPECT_EQ(executor_.regions.load(), 4);
}

// With a retry time, a dropped executor is taken back once that time has passed; a region that
// is late again then starts a new count.
TEST_F(RegionExecutorTest, ADroppedExecutorIsTriedAgainAfterItsRetryTime) {
  install_late_executor(300000000);  // tried again after 0.3 s
  ThreadPool pool(3);
  for (int r = 0; r < 3; ++r) run_and_record(pool, 6);
  ASSERT_TRUE(region_executor_dropped());
  run_and_record(pool, 6);
  EXPECT_EQ(executor_.regions.load(), 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_FALSE(region_executor_dropped());
  executor_.late_ms = 0;
  run_and_record(pool, 6);
  EXPECT_EQ(executor_.regions.load(), 4);
  EXPECT_FALSE(region_executor_dropped());
}

// One region in time between late ones starts the count again; an executor without a limit is
// never dropped however late it is.
TEST_F(RegionExecutorTest, OnlyLateRegionsInARowDropTheExecutor) {
  install_late_executor();
  ThreadPool pool(3);
  for (int late : {40, 40, 0, 40, 40, 0}) {
    executor_.late_ms = late;
    run_and_record(pool, 6);
  }
  EXPECT_FALSE(region_executor_dropped());
  set_region_executor(RegionExecutor{});
  executor_.late_after_ns = 0;
  set_region_executor(executor_.as_executor());
  executor_.late_ms = 40;
  for (int r = 0; r < 4; ++r) run_and_record(pool, 6);
  EXPECT_FALSE(region_executor_dropped());
  EXPECT_EQ(executor_.regions.load(), 10);
}

}  // namespace
}  // namespace jagtile
