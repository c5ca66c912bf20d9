// The host emulation of the CUDA features generated kernels use (emulation.h). The header text
// below is prepended to a generated file, which then compiles with the CPU backend's JIT.
//
// Model: blocks run one after another (so a `__shared__` array, a function-local static here, is
// one block's); the threads of a block are host threads that take turns, one at a time, from the
// highest index down in every phase between barriers: runs are deterministic, and a race (a
// thread reading in one phase what another writes in it) reads the late value and shows. A
// thread that arrives at a barrier after another thread of its block has returned is a
// divergence bug of the generated code (a real GPU may hang or skip the barrier): the launch
// reports it instead of hiding it.
#include "codegen/cuda/emulation.h"

namespace jagtile::codegen::cuda {

namespace {

const char* kEmulationHeader =
    R"JT(// ---- jagtile CUDA host emulation (src/codegen/cuda/emulation.cpp) ----
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

// After the first #include: the JIT's precompiled prelude starts there and must hold it.
#define JAGTILE_CUDA_EMULATION 1
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};

namespace jt_emu {

// One block's threads, run one at a time: in each phase (the code between two barriers) the
// threads take turns from the highest index down, each running until its next barrier or its
// return. So a run is deterministic, and code whose threads race (one reads what another
// writes in the same phase) reads the late value, whatever the order it was written for.
// Barriers OR a predicate (__syncthreads_or). A thread reaching a barrier after another thread
// of its block returned, or returning while others wait, is a divergence.
class Block {
 public:
  explicit Block(int threads)
      : live_(size_t(threads), true),
        arrived_(size_t(threads), false),
        wake_(size_t(threads)),
        turn_(threads - 1) {}
  void start(int t) {
    std::unique_lock<std::mutex> lock(m_);
    wake_[size_t(t)].wait(lock, [&] { return turn_ == t; });
  }
  int barrier(int t, int predicate) {
    std::unique_lock<std::mutex> lock(m_);
    if (exited_ > 0) diverged_ = true;
    acc_ |= predicate != 0;
    arrived_[size_t(t)] = true;
    const unsigned long gen = generation_;
    pass_turn(t);
    wake_[size_t(t)].wait(lock, [&] { return generation_ != gen && turn_ == t; });
    return result_;
  }
  void exit(int t) {
    std::unique_lock<std::mutex> lock(m_);
    live_[size_t(t)] = false;
    ++exited_;
    for (bool a : arrived_) diverged_ = diverged_ || a;  // others wait at a barrier
    pass_turn(t);
  }
  bool diverged() const { return diverged_; }

 private:
  // The next live thread below `t` that has not reached the barrier runs; when there is none,
  // the phase ends and the highest live thread starts the next one. Only that thread is woken:
  // waking every thread at each turn made a phase of T threads cost T^2 wake-ups.
  void pass_turn(int t) {
    next_turn(t);
    if (turn_ >= 0) wake_[size_t(turn_)].notify_one();
  }
  void next_turn(int t) {
    for (int u = t - 1; u >= 0; --u) {
      if (live_[size_t(u)] && !arrived_[size_t(u)]) {
        turn_ = u;
        return;
      }
    }
    bool any = false;
    for (size_t u = 0; u < arrived_.size(); ++u) {
      any = any || arrived_[u];
      arrived_[u] = false;
    }
    if (any) {
      result_ = acc_;
      acc_ = 0;
      ++generation_;
    }
    turn_ = -1;
    for (int u = int(live_.size()) - 1; u >= 0 && turn_ < 0; --u)
      if (live_[size_t(u)]) turn_ = u;
  }
  std::mutex m_;
  std::vector<bool> live_, arrived_;
  std::vector<std::condition_variable> wake_;  // one per thread: its turn has come
  int turn_;
  int exited_ = 0;
  int acc_ = 0;
  int result_ = 0;
  unsigned long generation_ = 0;
  bool diverged_ = false;
};

inline thread_local dim3 thread_index;
inline thread_local dim3 block_index;
inline thread_local Block* current_block = nullptr;
inline dim3 grid_dim;
inline dim3 block_dim;

// Runs `kernel` on `blocks` blocks of `threads` threads; non-zero when a barrier diverged.
template <typename Kernel>
int launch(int blocks, int threads, const Kernel& kernel) {
  grid_dim = dim3{unsigned(blocks), 1, 1};
  block_dim = dim3{unsigned(threads), 1, 1};
  bool diverged = false;
  for (int b = 0; b < blocks; ++b) {
    Block block(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        thread_index = dim3{unsigned(t), 0, 0};
        block_index = dim3{unsigned(b), 0, 0};
        current_block = &block;
        block.start(t);
        kernel();
        block.exit(t);
      });
    }
    for (std::thread& th : pool) th.join();
    diverged = diverged || block.diverged();
  }
  return diverged ? 2 : 0;
}

}  // namespace jt_emu

#define threadIdx (::jt_emu::thread_index)
#define blockIdx (::jt_emu::block_index)
#define blockDim (::jt_emu::block_dim)
#define gridDim (::jt_emu::grid_dim)

inline void __syncthreads() { jt_emu::current_block->barrier(int(threadIdx.x), 0); }
inline int __syncthreads_or(int predicate) {
  return jt_emu::current_block->barrier(int(threadIdx.x), predicate);
}
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL);
}
inline int atomicCAS(int* p, int expected, int desired) {
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  return expected;
}
inline int atomicExch(int* p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline float __uint_as_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
inline float __int_as_float(int32_t u) { float f; memcpy(&f, &u, 4); return f; }
inline uint32_t __float_as_uint(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
// ---- end of the emulation header ----
)JT";

}  // namespace

std::string emulation_source(const std::string& cuda_source) {
  // The generated file's opening comment lines (the kernel's name, its blocks) go first: what
  // follows up to the first device nest is then the same for every kernel of a flavour, and the
  // JIT precompiles it once (cpu::Jit::with_precompiled_prelude).
  size_t body = 0;
  while (cuda_source.compare(body, 2, "//") == 0) {
    const size_t eol = cuda_source.find('\n', body);
    if (eol == std::string::npos) break;
    body = eol + 1;
  }
  return cuda_source.substr(0, body) + kEmulationHeader + cuda_source.substr(body);
}

}  // namespace jagtile::codegen::cuda
