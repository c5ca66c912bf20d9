// The host emulation of the CUDA features generated kernels use (emulation.h). The header text
// below is prepended to a generated file, which then compiles with the CPU backend's JIT.
//
// Model: blocks run one after another (so a `__shared__` array, a function-local static here, is
// one block's); the threads of a block are host threads. __syncthreads and __syncthreads_or are
// a barrier over the block's live threads. A thread that arrives at a barrier after another
// thread of its block has returned is a divergence bug of the generated code (a real GPU may
// hang or skip the barrier): the launch reports it instead of hiding it.
#include "codegen/cuda/emulation.h"

namespace jagtile::codegen::cuda {

namespace {

const char* kEmulationHeader =
    R"JT(// ---- jagtile CUDA host emulation (src/codegen/cuda/emulation.cpp) ----
#define JAGTILE_CUDA_EMULATION 1
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};

namespace jt_emu {

// A barrier over the live threads of one block that also ORs a predicate (__syncthreads_or).
class Barrier {
 public:
  explicit Barrier(int threads) : live_(threads) {}
  int arrive_and_wait(int predicate) {
    std::unique_lock<std::mutex> lock(m_);
    if (exited_ > 0) diverged_ = true;
    acc_ |= predicate != 0;
    const unsigned long gen = generation_;
    if (++arrived_ == live_) {
      publish();
    } else {
      cv_.wait(lock, [&] { return generation_ != gen; });
    }
    return result_;
  }
  // A thread returned from the kernel.
  void exit() {
    std::lock_guard<std::mutex> lock(m_);
    --live_;
    ++exited_;
    if (arrived_ > 0) {
      diverged_ = true;  // others wait at a barrier this thread never reaches
      if (arrived_ == live_) publish();
    }
  }
  bool diverged() const { return diverged_; }

 private:
  void publish() {
    result_ = acc_;
    acc_ = 0;
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
  }
  std::mutex m_;
  std::condition_variable cv_;
  int live_;
  int exited_ = 0;
  int arrived_ = 0;
  int acc_ = 0;
  int result_ = 0;
  unsigned long generation_ = 0;
  bool diverged_ = false;
};

inline thread_local dim3 thread_index;
inline thread_local dim3 block_index;
inline thread_local Barrier* block_barrier = nullptr;
inline dim3 grid_dim;
inline dim3 block_dim;

// Runs `kernel` on `blocks` blocks of `threads` threads; non-zero when a barrier diverged.
template <typename Kernel>
int launch(int blocks, int threads, const Kernel& kernel) {
  grid_dim = dim3{unsigned(blocks), 1, 1};
  block_dim = dim3{unsigned(threads), 1, 1};
  bool diverged = false;
  for (int b = 0; b < blocks; ++b) {
    Barrier barrier(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        thread_index = dim3{unsigned(t), 0, 0};
        block_index = dim3{unsigned(b), 0, 0};
        block_barrier = &barrier;
        kernel();
        barrier.exit();
      });
    }
    for (std::thread& th : pool) th.join();
    diverged = diverged || barrier.diverged();
  }
  return diverged ? 2 : 0;
}

}  // namespace jt_emu

#define threadIdx (::jt_emu::thread_index)
#define blockIdx (::jt_emu::block_index)
#define blockDim (::jt_emu::block_dim)
#define gridDim (::jt_emu::grid_dim)

inline void __syncthreads() { jt_emu::block_barrier->arrive_and_wait(0); }
inline int __syncthreads_or(int predicate) {
  return jt_emu::block_barrier->arrive_and_wait(predicate);
}
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL);
}
inline int atomicCAS(int* p, int expected, int desired) {
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  return expected;
}
inline float __uint_as_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
inline float __int_as_float(int32_t u) { float f; memcpy(&f, &u, 4); return f; }
inline uint32_t __float_as_uint(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
// ---- end of the emulation header ----
)JT";

}  // namespace

std::string emulation_source(const std::string& cuda_source) {
  return std::string(kEmulationHeader) + cuda_source;
}

}  // namespace jagtile::codegen::cuda
