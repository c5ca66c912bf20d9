// ThreadPool: persistent helper threads that run the logical workers of a parallel region.
// Built for small regions: the caller is worker thread 0, helpers spin briefly before sleeping so
// back-to-back regions need no wake-up, and logical workers are claimed with one atomic add. A
// host program's own threads (RegionExecutor) can take the regions instead.
#include "jagtile/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jagtile/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define JAGTILE_CPU_RELAX() _mm_pause()
#else
#define JAGTILE_CPU_RELAX() std::this_thread::yield()
#endif

namespace jagtile {
namespace {

// How long an idle helper keeps spinning for the next region before it sleeps. Long enough to
// bridge the gap between back-to-back kernel calls, short enough not to steal a core for long.
constexpr auto kSpinTime = std::chrono::microseconds(20);

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Non-zero while this thread is running a logical worker of some pool: a run() from there executes
// inline, which avoids deadlock on the region lock and on the pool's own threads.
thread_local int t_worker_depth = 0;

struct DepthGuard {
  DepthGuard() { ++t_worker_depth; }
  ~DepthGuard() { --t_worker_depth; }
};

// Spins, then yields: on an oversubscribed machine the thread we wait for may need our core.
template <typename Predicate>
void spin_until(const Predicate& done) {
  for (int i = 0; !done(); ++i) {
    if (i < 2048) {
      JAGTILE_CPU_RELAX();
    } else {
      std::this_thread::yield();
    }
  }
}

// Runs every worker in turn on this thread; the first exception wins, the rest still run.
void run_inline(int num_workers, const std::function<void(int)>& fn) {
  DepthGuard guard;
  std::exception_ptr first;
  for (int w = 0; w < num_workers; ++w) {
    try {
      fn(w);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

// The installed executor. Replaced copies are kept: a region that loaded the old pointer may
// still be using it (a program installs one once or twice).
std::atomic<const RegionExecutor*> g_executor{nullptr};
std::atomic<int64_t> g_executor_regions{0};

// The logical workers of one region, claimed one at a time by whichever threads take part (the
// pool's own or an executor's); the first exception is kept, the other workers still run.
struct WorkerClaims {
  const std::function<void(int)>* fn = nullptr;
  int num_workers = 0;
  std::atomic<int> next_worker{0};
  std::atomic<int> done_workers{0};
  std::atomic<int64_t> finished_ns{0};  // steady_clock time the last worker finished
  std::mutex error_mutex;
  std::exception_ptr first_error;

  // Set while no thread is claiming (the pool's region is closed, the executor not started).
  void reset(int n, const std::function<void(int)>& f) {
    fn = &f;
    num_workers = n;
    next_worker.store(0, std::memory_order_relaxed);
    done_workers.store(0, std::memory_order_relaxed);
    finished_ns.store(0, std::memory_order_relaxed);
    first_error = nullptr;
  }

  // Claims and runs workers on this thread until none is left.
  void drain() {
    const std::function<void(int)>& f = *fn;
    const int n = num_workers;
    DepthGuard guard;
    for (;;) {
      int w = next_worker.fetch_add(1, std::memory_order_relaxed);
      if (w >= n) break;
      try {
        f(w);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
      }
      if (done_workers.fetch_add(1, std::memory_order_release) + 1 == n)
        finished_ns.store(now_ns(), std::memory_order_relaxed);
    }
  }
};

void drain_claims(void* claims) {
  static_cast<WorkerClaims*>(claims)->drain();
}

// An executor whose threads keep regions waiting long after their work is done is dropped
// (RegionExecutor::late_after_ns): such a region returns only when each of its threads has been
// scheduled, and under other processes' load that can take a scheduler tick or two. torch's
// OpenMP pool (GNU OpenMP's default spinning wait, Linux 6.18, two cores, jagtile's differential
// fuzzer at nice 19 beside it) held every region about 8 ms, torch's own ops and jagtile's alike,
// where jagtile's own threads took 35-56 us (bench/pool_under_load.py, docs/performance.md).
constexpr int kLateRegionsToDrop = 3;
std::atomic<int> g_late_regions{0};
std::atomic<const RegionExecutor*> g_dropped_executor{nullptr};
std::atomic<int64_t> g_dropped_at_ns{0};

// Whether `executor` is dropped now; one dropped longer than its retry_after_ns is taken back.
bool dropped(const RegionExecutor* executor) {
  if (executor != g_dropped_executor.load(std::memory_order_relaxed)) return false;
  if (executor->retry_after_ns <= 0 ||
      now_ns() - g_dropped_at_ns.load(std::memory_order_relaxed) < executor->retry_after_ns)
    return true;
  g_late_regions.store(0, std::memory_order_relaxed);
  g_dropped_executor.store(nullptr, std::memory_order_relaxed);
  return false;
}

void run_on_executor(const RegionExecutor& executor, int threads, int num_workers,
                     const std::function<void(int)>& fn) {
  WorkerClaims claims;
  claims.reset(num_workers, fn);
  executor.run_on_threads(executor.state, std::min(threads, num_workers), &drain_claims, &claims);
  const int64_t returned_ns = now_ns();
  const int64_t finished_ns = claims.finished_ns.load(std::memory_order_relaxed);
  // Whatever the executor left unclaimed (say it ran on no thread at all) runs here, so a
  // region never returns with work undone.
  claims.drain();
  g_executor_regions.fetch_add(1, std::memory_order_relaxed);
  if (executor.late_after_ns > 0 && finished_ns > 0 &&
      returned_ns - finished_ns > executor.late_after_ns) {
    if (g_late_regions.fetch_add(1, std::memory_order_relaxed) + 1 >= kLateRegionsToDrop) {
      g_dropped_at_ns.store(now_ns(), std::memory_order_relaxed);
      g_dropped_executor.store(&executor, std::memory_order_relaxed);
    }
  } else {
    g_late_regions.store(0, std::memory_order_relaxed);
  }
  if (claims.first_error) std::rethrow_exception(claims.first_error);
}

}  // namespace

struct ThreadPool::Impl {
  int num_threads = 1;
  std::vector<std::thread> helpers;

  // Serialises regions started from different threads.
  std::mutex region_mutex;

  // The current region. Fields are written by the caller while region_open is false and read by
  // helpers only after they registered in in_region and saw region_open true; the caller does
  // not close a region until in_region drops to zero, so helpers never see a half-written one.
  WorkerClaims claims;
  std::atomic<bool> region_open{false};
  std::atomic<int> in_region{0};
  std::atomic<uint64_t> generation{0};

  // Sleeping helpers wait here for a new generation.
  std::mutex sleep_mutex;
  std::condition_variable wake;
  std::atomic<int> sleepers{0};
  std::atomic<bool> stopping{false};

  // Waits until the generation differs from `seen` (or stopping); returns the new generation.
  uint64_t wait_for_region(uint64_t seen) {
    auto spin_deadline = std::chrono::steady_clock::now() + kSpinTime;
    for (int i = 0;; ++i) {
      uint64_t g = generation.load(std::memory_order_seq_cst);
      if (g != seen || stopping.load(std::memory_order_relaxed)) return g;
      JAGTILE_CPU_RELAX();
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > spin_deadline) break;
    }
    std::unique_lock<std::mutex> lock(sleep_mutex);
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    uint64_t g = seen;
    wake.wait(lock, [&] {
      g = generation.load(std::memory_order_seq_cst);
      return g != seen || stopping.load(std::memory_order_relaxed);
    });
    sleepers.fetch_sub(1, std::memory_order_relaxed);
    return g;
  }

  void helper_main() {
    uint64_t seen = 0;
    for (;;) {
      seen = wait_for_region(seen);
      if (stopping.load(std::memory_order_acquire)) return;
      in_region.fetch_add(1, std::memory_order_seq_cst);
      if (region_open.load(std::memory_order_seq_cst)) claims.drain();
      in_region.fetch_sub(1, std::memory_order_release);
    }
  }

  void run_region(int n, const std::function<void(int)>& f) {
    std::lock_guard<std::mutex> region_lock(region_mutex);
    claims.reset(n, f);
    region_open.store(true, std::memory_order_seq_cst);
    generation.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) {
      // Taking the lock once orders us after any helper that is between its predicate check and
      // its wait; notifying after unlocking lets woken helpers run without blocking on it.
      { std::lock_guard<std::mutex> lock(sleep_mutex); }
      // Waking more helpers than there are other workers only costs time.
      if (n - 1 >= num_threads - 1) {
        wake.notify_all();
      } else {
        for (int i = 0; i < n - 1; ++i) wake.notify_one();
      }
    }

    claims.drain();

    // Wait for workers other threads claimed (the caller took work until none was left, so this
    // is only the tail), then for helpers still looking at the region.
    spin_until([&] { return claims.done_workers.load(std::memory_order_acquire) >= n; });
    region_open.store(false, std::memory_order_seq_cst);
    spin_until([&] { return in_region.load(std::memory_order_seq_cst) == 0; });

    std::exception_ptr error = claims.first_error;
    claims.first_error = nullptr;
    if (error) std::rethrow_exception(error);
  }
};

ThreadPool::ThreadPool(int num_threads) : impl_(std::make_unique<Impl>()) {
  if (num_threads < 1) {
    throw UserError("a thread pool needs at least 1 thread, got " + std::to_string(num_threads),
                    "pass 1 or more (1 runs everything on the calling thread)");
  }
  impl_->num_threads = num_threads;
  impl_->helpers.reserve(size_t(num_threads - 1));
  for (int i = 1; i < num_threads; ++i) {
    impl_->helpers.emplace_back([impl = impl_.get()] { impl->helper_main(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->sleep_mutex);
    impl_->stopping.store(true, std::memory_order_seq_cst);
    impl_->generation.fetch_add(1, std::memory_order_seq_cst);
  }
  impl_->wake.notify_all();
  for (std::thread& t : impl_->helpers) t.join();
}

int ThreadPool::size() const {
  return impl_->num_threads;
}

void ThreadPool::run(int num_workers, const std::function<void(int worker)>& fn) {
  if (num_workers <= 0) return;
  if (num_workers == 1 || impl_->num_threads == 1 || t_worker_depth > 0) {
    run_inline(num_workers, fn);
    return;
  }
  const RegionExecutor* executor = g_executor.load(std::memory_order_acquire);
  if (executor && !dropped(executor) &&
      executor->num_threads(executor->state) == impl_->num_threads) {
    run_on_executor(*executor, impl_->num_threads, num_workers, fn);
    return;
  }
  impl_->run_region(num_workers, fn);
}

void set_region_executor(const RegionExecutor& executor) {
  // Every installed copy stays alive to the end (a deque keeps their addresses); installing one
  // again reuses its copy, so switching back and forth does not grow the list.
  static std::mutex mutex;
  static std::deque<RegionExecutor> installed;
  std::lock_guard<std::mutex> lock(mutex);
  const RegionExecutor* current = nullptr;
  if (executor.num_threads && executor.run_on_threads) {
    for (const RegionExecutor& e : installed) {
      if (e.state == executor.state && e.num_threads == executor.num_threads &&
          e.run_on_threads == executor.run_on_threads &&
          e.late_after_ns == executor.late_after_ns && e.retry_after_ns == executor.retry_after_ns)
        current = &e;
    }
    if (!current) current = &installed.emplace_back(executor);
  }
  g_late_regions.store(0, std::memory_order_relaxed);
  g_dropped_executor.store(nullptr, std::memory_order_relaxed);
  g_executor.store(current, std::memory_order_release);
}

int64_t executor_regions() {
  return g_executor_regions.load(std::memory_order_relaxed);
}

bool region_executor_dropped() {
  const RegionExecutor* executor = g_executor.load(std::memory_order_acquire);
  return executor && dropped(executor);
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool(default_num_threads());
  return pool;
}

int default_num_threads() {
  if (const char* env = std::getenv("JAGTILE_NUM_THREADS")) {
    char* end = nullptr;
    long value = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && value > 0 && value <= 4096) return int(value);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : int(hw);
}

}  // namespace jagtile
