// A small host emulation of the CUDA features the jagged_reduce kernels use, so that their
// indexing, cp.async ring and combine logic run (slowly) in tests on machines without a GPU.
// Each thread of a block is a host thread; blocks run one after another. __syncwarp and
// __shfl_xor_sync are barriers over the warp's 32 lanes, __syncthreads over the block.
// cp.async is emulated strictly: at issue the destination is poisoned (NaN bytes) and the data
// lands only when the issuing lane waits for its group, so a read before the wait, or a refill
// of a slot that another lane still reads, shows up as NaN in the results.
//
// Include this before src/templates/cuda/reduce_device.cuh; it defines JAGTILE_CUDA_EMULATION.
#pragma once

#define JAGTILE_CUDA_EMULATION 1

#include <barrier>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "jagtile/dtype.h"

#define __global__ inline
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define JAGTILE_DYNAMIC_SMEM(name) unsigned char* name = ::emu::dynamic_smem()
#define JAGTILE_UNROLL

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  dim3() = default;
  dim3(unsigned x_, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

struct __half {
  uint16_t bits;
};
struct __nv_bfloat16 {
  uint16_t bits;
};

namespace emu {

struct Warp {
  std::barrier<> barrier{32};
  float exchange[32] = {};
};

struct Block {
  std::unique_ptr<std::barrier<>> barrier;
  std::vector<std::unique_ptr<Warp>> warps;
  std::vector<unsigned char> smem;
};

struct Copy {
  unsigned char* dst;
  const unsigned char* src;
  int bytes;
};

inline thread_local dim3 thread_index;
inline thread_local dim3 block_index;
inline thread_local Block* block = nullptr;
inline thread_local std::vector<Copy> open_group;
inline thread_local std::deque<std::vector<Copy>> groups;
inline dim3 grid_dim;
inline dim3 block_dim;

inline int linear_thread() {
  return int(thread_index.x + thread_index.y * block_dim.x);
}
inline Warp& warp() {
  return *block->warps[size_t(linear_thread() / 32)];
}
inline unsigned char* dynamic_smem() {
  return block->smem.data();
}

inline void cp_async_16(void* dst, const void* src, int bytes) {
  std::memset(dst, 0xff, 16);
  open_group.push_back(
      Copy{static_cast<unsigned char*>(dst), static_cast<const unsigned char*>(src), bytes});
}
inline void cp_async_commit() {
  groups.push_back(std::move(open_group));
  open_group.clear();
}
inline void cp_async_wait(int pending) {
  while (int(groups.size()) > pending) {
    for (const Copy& c : groups.front()) {
      std::memcpy(c.dst, c.src, size_t(c.bytes));
      std::memset(c.dst + c.bytes, 0, size_t(16 - c.bytes));
    }
    groups.pop_front();
  }
}

// Runs `kernel` over the grid: blocks one after another (a `__shared__` array is one static
// array), each block's threads concurrently. One host thread per thread of a block serves every
// block in turn.
inline void launch(dim3 grid, dim3 block_shape, size_t smem_bytes,
                   const std::function<void()>& kernel) {
  grid_dim = grid;
  block_dim = block_shape;
  const int threads = int(block_shape.x * block_shape.y);
  std::vector<std::unique_ptr<Block>> blocks;
  for (unsigned i = 0; i < grid.x * grid.y; ++i) {
    auto b = std::make_unique<Block>();
    b->barrier = std::make_unique<std::barrier<>>(threads);
    for (int w = 0; w < (threads + 31) / 32; ++w) b->warps.push_back(std::make_unique<Warp>());
    b->smem.assign(smem_bytes + 16, 0xff);  // poisoned: unwritten shared memory reads as NaN
    blocks.push_back(std::move(b));
  }
  std::barrier<> between_blocks(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      thread_index = dim3(unsigned(t) % block_shape.x, unsigned(t) / block_shape.x);
      for (unsigned i = 0; i < grid.x * grid.y; ++i) {
        block_index = dim3(i % grid.x, i / grid.x);
        block = blocks[i].get();
        open_group.clear();
        groups.clear();
        kernel();
        cp_async_wait(0);  // the hardware finishes copies a kernel left in flight
        warp().barrier.arrive_and_drop();
        block->barrier->arrive_and_drop();
        between_blocks.arrive_and_wait();
      }
    });
  }
  for (auto& th : pool) th.join();
}

}  // namespace emu

#define threadIdx (::emu::thread_index)
#define blockIdx (::emu::block_index)
#define blockDim (::emu::block_dim)
#define gridDim (::emu::grid_dim)

inline void __syncwarp(unsigned = 0xffffffffu) {
  emu::warp().barrier.arrive_and_wait();
}
inline void __syncthreads() {
  emu::block->barrier->arrive_and_wait();
}
inline float __shfl_xor_sync(unsigned, float v, int lane_mask) {
  emu::Warp& w = emu::warp();
  const int lane = emu::linear_thread() % 32;
  w.exchange[lane] = v;
  w.barrier.arrive_and_wait();
  const float other = w.exchange[lane ^ lane_mask];
  w.barrier.arrive_and_wait();
  return other;
}

template <typename T>
inline T min(T a, T b) {
  return b < a ? b : a;
}
inline float __int_as_float(int v) {
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}
inline float __uint_as_float(unsigned v) {
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}
inline float __fdiv_rn(float a, float b) {
  return a / b;
}
inline float __half2float(__half h) {
  return jagtile::f16_bits_to_f32(h.bits);
}
inline __half __float2half_rn(float f) {
  return __half{jagtile::f32_to_f16_bits(f)};
}
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  return __nv_bfloat16{jagtile::f32_to_bf16_bits(f)};
}
