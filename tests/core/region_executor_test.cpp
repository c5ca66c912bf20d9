// Tests for RegionExecutor: a pool whose size equals the executor's thread count runs its regions
// on the executor's threads (every logical worker once, exceptions rethrown, nesting inline), a
// pool of another size keeps its own threads, and work an executor leaves undone still runs.
#include <atomic>
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
// the caller and records every thread it ran body on. `skip_body` makes it run nothing at all.
struct FakeExecutor {
  int threads = 3;
  bool skip_body = false;
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
    for (int t = 1; t < threads; ++t) others.emplace_back(record_and_run);
    record_and_run();
    for (std::thread& t : others) t.join();
  }

  RegionExecutor as_executor() {
    RegionExecutor e;
    e.state = this;
    e.num_threads = &FakeExecutor::num_threads;
    e.run_on_threads = &FakeExecutor::run_on_threads;
    return e;
  }
};

class RegionExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override { set_region_executor(executor_.as_executor()); }
  void TearDown() override { set_region_executor(RegionExecutor{}); }
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

}  // namespace
}  // namespace jagtile
