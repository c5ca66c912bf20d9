// A fixed set of worker threads that runs "logical workers" 0..n-1 of a parallel region.
// Logical workers are decoupled from OS threads: a region may ask for more workers than the pool
// has threads (they are then run in turn), which is what lets the templates partition work by a
// requested worker count and still produce identical bits on any machine.
#pragma once

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

}  // namespace jagtile
