// A fixed set of worker threads that runs "logical workers" 0..n-1 of a parallel region.
// Logical workers are decoupled from OS threads: a region may ask for more workers than the pool
// has threads (they are then run in turn), which is what lets the templates partition work by a
// requested worker count and still produce identical bits on any machine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace jagtile {

class ThreadPool {
 public:
  // num_threads counts the calling thread: a pool of 1 runs everything on the caller.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;

  // Runs fn(worker) for every worker in [0, num_workers) and returns when all are done. The
  // first exception thrown by any worker is rethrown here (the others still finish). Safe to call
  // from several threads (regions are serialised) and from inside a worker (runs inline).
  void run(int num_workers, const std::function<void(int worker)>& fn);

  // The process-wide pool, created on first use with default_num_threads() threads.
  static ThreadPool& global();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// JAGTILE_NUM_THREADS when set to a positive integer, else the hardware's thread count.
int default_num_threads();

// A set of threads owned by the host program that jagtile's parallel regions may run on, such as
// PyTorch's intra-op pool in the Python package. A program that already keeps one worker per core
// busy (or spinning, waiting for its next op) loses time when jagtile wakes a second set of
// threads on the same cores; with an executor installed, a pool whose size equals the executor's
// thread count hands its regions to the executor instead. Logical workers are claimed the same
// way on either, so results keep their bits.
struct RegionExecutor {
  void* state = nullptr;
  // The threads run_on_threads uses now (it may change between regions).
  int (*num_threads)(void* state) = nullptr;
  // Calls body(context) once on each of up to `threads` threads, the caller's among them, and
  // returns when every call has returned. body does not throw.
  void (*run_on_threads)(void* state, int threads, void (*body)(void* context),
                         void* context) = nullptr;
  // A region that returns more than this many nanoseconds after its last logical worker finished
  // is late (its threads joined only when the OS got round to them); three late regions in a row
  // drop the executor, and regions go back to the pool's own threads. 0: never dropped.
  int64_t late_after_ns = 0;
  // How long a dropped executor stays dropped before regions try it again (the load that made
  // it late may have gone); 0: until it is installed again.
  int64_t retry_after_ns = 0;
};

// Installs the process-wide executor; one with null functions removes it. Regions that already
// started finish where they are.
void set_region_executor(const RegionExecutor& executor);

// Regions run on an executor so far (tests and benchmarks check that the hand-over happens).
int64_t executor_regions();

// Whether the installed executor is dropped now, after three late regions in a row
// (RegionExecutor::late_after_ns). Regions then run on the pool's own threads until it is tried
// again (retry_after_ns) or an executor is installed again.
bool region_executor_dropped();

}  // namespace jagtile
