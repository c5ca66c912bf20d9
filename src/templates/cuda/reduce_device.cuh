// Device code of the CUDA jagged_reduce template: the cp.async staging ring, the per-warp row
// reduction, the pass that combines items cut between workers, and the plan kernel. The host side
// (jagged_reduce.cu) picks one instantiation per (op, input dtype) and launches them in order:
//   plan     one thread per worker boundary: the worker's first chunk (common/partition.h);
//   rows     one warp per (worker, column tile): streams its contiguous run of rows through a
//            shared-memory ring with cp.async, folds each item in fp32 registers in row order,
//            and writes the item's output, or (for an item cut between workers) its partial;
//   combine  one block per worker that owns the last chunk of a cut item: folds that item's
//            partials in worker order, applies post and writes the row.
// No atomics, no inter-block waiting: every output element is written by exactly one thread.
//
// The same source also compiles as plain C++ against tests/cuda/cuda_emulation.h (which defines
// JAGTILE_CUDA_EMULATION): lanes become host threads and cp.async a deferred copy, so that the
// kernels' indexing, ring and combine logic are tested on machines without a GPU.
#pragma once

#ifndef JAGTILE_CUDA_EMULATION
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#define JAGTILE_DYNAMIC_SMEM(name) extern __shared__ __align__(16) unsigned char name[]
#define JAGTILE_UNROLL _Pragma("unroll")
#endif

#include <cstdint>

#include "jagtile/dtype.h"
#include "jagtile/reduce.h"
#include "templates/cuda/worklist.h"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#error "the CUDA jagged_reduce template needs sm_80 or newer (cp.async)"
#endif

// The emulated build gets its own (inline) namespace: same names in the source, different
// symbols, so a test binary can hold both it and the real kernels' host stubs.
#ifdef JAGTILE_CUDA_EMULATION
#define JAGTILE_REDUCE_KERNELS_NS emulated
#else
#define JAGTILE_REDUCE_KERNELS_NS kernels
#endif

namespace jagtile::cuda_reduce {
inline namespace JAGTILE_REDUCE_KERNELS_NS {

static_assert(kSlotBytes % 16 == 0, "stages must keep 16-byte alignment for cp.async");
static_assert(kStages >= 2, "the ring needs at least two stages to overlap copy and compute");
// sm_80 gives a block up to 163 KB of shared memory and sm_90 227 KB; stay well under so that
// two blocks fit on an A100 multiprocessor and three on an H100.
static_assert(kSmemPerBlock <= 80 * 1024, "shared memory per block over budget");

// Everything a kernel needs, passed by value.
struct KernelParams {
  const unsigned char* values = nullptr;
  OffsetsView offsets;
  const void* counts = nullptr;  // feature_counts or null
  bool counts64 = false;
  void* out = nullptr;
  DType out_dtype = DType::f32;
  float* workspace = nullptr;     // [2 * num_workers, num_cols] fp32 partials
  Position* positions = nullptr;  // [num_workers + 1]
  int64_t num_cols = 0;
  int64_t num_workers = 0;
  int64_t num_tiles = 1;
  int64_t tile_width = 0;
  int64_t row_pitch = 0;
  int64_t rows_per_stage = 0;
  int64_t chunk_rows = 0;
  int64_t item_overhead = 1;
  int col_lanes = 32;
  int row_lanes = 1;
  bool contiguous = true;
  ReducePost post = ReducePost::identity;
  float init = 0.0f;
  float post_value = 0.0f;
  float masked_value = 0.0f;
};

// Kernel parameters for one call (host side; shared by the launcher and the emulated tests).
inline KernelParams make_kernel_params(const LaunchShape& shape, const ReduceSpec& spec,
                                       const void* values, OffsetsView offsets, const void* counts,
                                       bool counts64, void* out, DType out_dtype, float* workspace,
                                       Position* positions) {
  KernelParams p;
  p.values = static_cast<const unsigned char*>(values);
  p.offsets = offsets;
  p.counts = counts;
  p.counts64 = counts64;
  p.out = out;
  p.out_dtype = out_dtype;
  p.workspace = workspace;
  p.positions = positions;
  p.num_cols = shape.num_cols;
  p.num_workers = shape.num_workers;
  p.num_tiles = shape.num_tiles;
  p.tile_width = shape.tile_width;
  p.row_pitch = shape.row_pitch;
  p.rows_per_stage = shape.rows_per_stage;
  p.chunk_rows = spec.chunk_rows;
  p.item_overhead = shape.item_overhead;
  p.col_lanes = shape.col_lanes;
  p.row_lanes = shape.row_lanes;
  p.contiguous = shape.contiguous;
  p.post = spec.effective_post();
  p.init = spec.effective_init();
  p.post_value = spec.post_value;
  p.masked_value = spec.masked_value;
  return p;
}

// ---- small device helpers ---------------------------------------------------------------------

template <ReduceOp kOp>
__device__ __forceinline__ float op_identity() {
  if constexpr (kOp == ReduceOp::max)
    return -__int_as_float(0x7f800000);
  else if constexpr (kOp == ReduceOp::min)
    return __int_as_float(0x7f800000);
  else
    return 0.0f;
}

// Same rule as the CPU reference: a NaN already in the accumulator stays; a NaN input replaces it.
template <ReduceOp kOp>
__device__ __forceinline__ float op_combine(float acc, float x) {
  if constexpr (kOp == ReduceOp::max)
    return (acc > x || acc != acc) ? acc : x;
  else if constexpr (kOp == ReduceOp::min)
    return (acc < x || acc != acc) ? acc : x;
  else
    return acc + x;
}

template <DType kIn>
__device__ __forceinline__ float load_element(const unsigned char* p) {
  if constexpr (kIn == DType::f32)
    return *reinterpret_cast<const float*>(p);
  else if constexpr (kIn == DType::f16)
    return __half2float(*reinterpret_cast<const __half*>(p));
  else
    return __uint_as_float(uint32_t(*reinterpret_cast<const uint16_t*>(p)) << 16);
}

template <DType kIn>
__host__ __device__ constexpr int64_t element_bytes() {
  return kIn == DType::f32 ? 4 : 2;
}

__device__ __forceinline__ void store_output(void* out, DType dtype, int64_t index, float v) {
  if (dtype == DType::f32) {
    static_cast<float*>(out)[index] = v;
  } else if (dtype == DType::f16) {
    static_cast<__half*>(out)[index] = __float2half_rn(v);
  } else {
    static_cast<__nv_bfloat16*>(out)[index] = __float2bfloat16_rn(v);
  }
}

// post(acc) or masked_value, exactly as the CPU reference computes it (IEEE division).
__device__ __forceinline__ float finish_value(const KernelParams& p, float acc, int64_t nnz,
                                              bool masked) {
  if (masked) return p.masked_value;
  if (p.post == ReducePost::identity) return acc;
  if (p.post == ReducePost::divide_or_value && nnz == 0) return p.post_value;
  return __fdiv_rn(acc, float(nnz));
}

__device__ __forceinline__ int64_t valid_columns(const KernelParams& p, int64_t item) {
  if (!p.counts) return p.num_cols;
  return p.counts64 ? static_cast<const int64_t*>(p.counts)[item]
                    : int64_t(static_cast<const int32_t*>(p.counts)[item]);
}

// ---- cp.async -------------------------------------------------------------------------------

// Copies src_bytes (0..16) from a 16-byte aligned global address into 16 aligned bytes of
// shared memory, zero-filling the rest; bypasses L1 (the data is read once).
#ifdef JAGTILE_CUDA_EMULATION
__device__ __forceinline__ void cp_async_16(void* smem_dst, const void* global_src, int src_bytes) {
  ::emu::cp_async_16(smem_dst, global_src, src_bytes);
}
__device__ __forceinline__ void cp_async_commit() {
  ::emu::cp_async_commit();
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  ::emu::cp_async_wait(N);
}
#else
__device__ __forceinline__ void cp_async_16(void* smem_dst, const void* global_src, int src_bytes) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem_dst));
  if (src_bytes == 16) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(global_src)
                 : "memory");
  } else {
    // The PTX ISA asks for src-size < cp-size: only partial blocks use the zero-filling form.
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(global_src),
                 "r"(src_bytes)
                 : "memory");
  }
}

__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}
#endif

// Waits until at most `pending` of this thread's newest copy groups are still in flight.
__device__ __forceinline__ void cp_async_wait_pending(int64_t pending) {
  static_assert(kStages == 4, "extend the cases below with the ring depth");
  if (pending <= 0)
    cp_async_wait<0>();
  else if (pending == 1)
    cp_async_wait<1>();
  else if (pending == 2)
    cp_async_wait<2>();
  else
    cp_async_wait<3>();
}

// ---- the staging ring -----------------------------------------------------------------------

// One warp's ring of kStages shared-memory stages over its run of rows [run_begin, run_end) and
// columns [col_begin, col_end). Stage q holds rows run_begin + q*R .. + R. A stage is the
// 16-byte blocks covering its bytes in global memory, placed so that an address keeps its
// position modulo 16 (so every cp.async is 16 bytes and aligned on both sides whatever M and the
// dtype are). Contiguous mode (one tile spans all columns): a stage is one flat byte range.
// Tiled mode: each row's column slice is its own range, at row_pitch bytes per row.
// A range's first block may start up to 15 bytes before it: those bytes are read and ignored,
// which stays inside the values allocation because its start is 16-byte aligned (cudaMalloc
// gives 256). The last block reads only up to the range's end (cp.async's src-size).
struct StageRing {
  unsigned char* base;
  const unsigned char* values;
  int64_t row_bytes;   // M * element size
  int64_t col_offset;  // col_begin * element size
  int64_t width;       // (col_end - col_begin) * element size
  int64_t pitch;
  int64_t rows;  // R
  int64_t run_begin;
  int64_t run_end;
  bool contiguous;
  int lane;
  int64_t num_stages = 0;
  int64_t issued = 0;    // stages whose copies were issued
  int64_t released = 0;  // stages below this are no longer read: their slots are free
  int64_t waited = -1;   // stages up to this are complete and visible to the warp

  __device__ unsigned char* slot(int64_t stage) const {
    return base + (stage % kStages) * kSlotBytes;
  }

  __device__ void issue(int64_t stage) {
    const int64_t r0 = run_begin + stage * rows;
    const int64_t r1 = min(run_end, r0 + rows);
    unsigned char* dst = slot(stage);
    if (contiguous) {
      const uintptr_t g = reinterpret_cast<uintptr_t>(values + r0 * row_bytes);
      const uintptr_t g_end = reinterpret_cast<uintptr_t>(values + r1 * row_bytes);
      const uintptr_t g_lo = g & ~uintptr_t(15);
      const int64_t blocks = int64_t(g_end - g_lo + 15) >> 4;
      for (int64_t i = lane; i < blocks; i += 32) {
        const uintptr_t src = g_lo + uintptr_t(i) * 16;
        const int bytes = int(min(uintptr_t(16), g_end - src));
        cp_async_16(dst + i * 16, reinterpret_cast<const void*>(src), bytes);
      }
    } else {
      const int64_t blocks_per_row = pitch >> 4;
      const int64_t total = (r1 - r0) * blocks_per_row;
      for (int64_t i = lane; i < total; i += 32) {
        const int64_t ri = i / blocks_per_row;
        const int64_t bi = i - ri * blocks_per_row;
        const uintptr_t g =
            reinterpret_cast<uintptr_t>(values + (r0 + ri) * row_bytes + col_offset);
        const uintptr_t g_end = g + uintptr_t(width);
        const uintptr_t src = (g & ~uintptr_t(15)) + uintptr_t(bi) * 16;
        if (src < g_end) {
          const int bytes = int(min(uintptr_t(16), g_end - src));
          cp_async_16(dst + ri * pitch + bi * 16, reinterpret_cast<const void*>(src), bytes);
        }
      }
    }
  }

  // Issues stages into every free slot. Each lane commits one group per stage (possibly empty),
  // so group counts agree across the warp.
  __device__ void refill() {
    while (issued < num_stages && issued - released < kStages) {
      issue(issued);
      cp_async_commit();
      ++issued;
    }
  }

  __device__ void start() {
    num_stages = (run_end - run_begin + rows - 1) / rows;
    refill();
  }

  // The next rows read lie in stages lo..hi (hi < lo + kStages): free the slots below lo (after
  // every lane is done with them), refill, and wait for stage hi.
  __device__ void need(int64_t lo, int64_t hi) {
    if (lo > released) {
      __syncwarp();
      released = lo;
      refill();
    }
    if (hi > waited) {
      cp_async_wait_pending(issued - 1 - hi);
      __syncwarp();
      waited = hi;
    }
  }

  // Address of (row li of stage `stage`, first column of the range) in shared memory.
  __device__ const unsigned char* row_ptr(int64_t stage, int64_t li) const {
    if (contiguous) {
      const int64_t r0 = run_begin + stage * rows;
      const int64_t shift = int64_t(reinterpret_cast<uintptr_t>(values + r0 * row_bytes) & 15);
      return slot(stage) + shift + li * row_bytes;
    }
    const int64_t r = run_begin + stage * rows + li;
    const int64_t shift =
        int64_t(reinterpret_cast<uintptr_t>(values + r * row_bytes + col_offset) & 15);
    return slot(stage) + li * pitch + shift;
  }

  __device__ void drain() { cp_async_wait<0>(); }
};

// ---- kernels --------------------------------------------------------------------------------

__global__ void plan_kernel(OffsetsView offsets, int64_t workers, int64_t chunk_rows,
                            int64_t item_overhead, Position* positions) {
  const int64_t w = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (w > workers) return;
  positions[w] = worker_start(offsets, w, workers, chunk_rows, item_overhead);
}

// One lane's columns of one item: where its fp32 result goes (a cut item's piece goes to its
// workspace slot; a whole item is finished with post and masking and written out).
template <int kCpl>
__device__ __forceinline__ void store_item(const KernelParams& p, int64_t w, const Position& s,
                                           int64_t item, bool split, int64_t c0, int64_t c1, int t,
                                           const float (&acc)[kCpl]) {
  const int64_t M = p.num_cols;
  if (split) {
    float* partial = p.workspace + partial_slot(w, s, item) * M;
    JAGTILE_UNROLL
    for (int u = 0; u < kCpl; ++u) {
      const int64_t c = c0 + t + int64_t(p.col_lanes) * u;
      if (c < c1) partial[c] = acc[u];
    }
    return;
  }
  const int64_t nnz = p.offsets[item + 1] - p.offsets[item];
  const int64_t valid = valid_columns(p, item);
  JAGTILE_UNROLL
  for (int u = 0; u < kCpl; ++u) {
    const int64_t c = c0 + t + int64_t(p.col_lanes) * u;
    if (c < c1) {
      store_output(p.out, p.out_dtype, item * M + c, finish_value(p, acc[u], nnz, c >= valid));
    }
  }
}

template <ReduceOp kOp, DType kIn, int kCpl>
__device__ __forceinline__ void fold_row(const unsigned char* row, int64_t c0, int64_t c1, int t,
                                         int col_lanes, float (&acc)[kCpl]) {
  constexpr int64_t kElem = element_bytes<kIn>();
  JAGTILE_UNROLL
  for (int u = 0; u < kCpl; ++u) {
    const int64_t c = c0 + t + int64_t(col_lanes) * u;
    if (c < c1) acc[u] = op_combine<kOp>(acc[u], load_element<kIn>(row + (c - c0) * kElem));
  }
}

template <ReduceOp kOp, DType kIn>
__global__ void __launch_bounds__(kWarpsPerBlock * 32) reduce_rows_kernel(const KernelParams p) {
  JAGTILE_DYNAMIC_SMEM(smem);
  constexpr int64_t kElem = element_bytes<kIn>();
  constexpr int kCpl = cols_per_lane(kElem);
  const int warp = int(threadIdx.x >> 5);
  const int lane = int(threadIdx.x & 31);
  const int64_t global_warp = int64_t(blockIdx.x) * kWarpsPerBlock + warp;
  if (global_warp >= p.num_workers * p.num_tiles) return;
  const int64_t w = global_warp / p.num_tiles;
  const int64_t tile = global_warp - w * p.num_tiles;
  const Position s = p.positions[w];
  const Position e = p.positions[w + 1];
  if (!(s < e)) return;

  const int64_t M = p.num_cols;
  const int64_t c0 = tile * p.tile_width;
  const int64_t c1 = min(M, c0 + p.tile_width);
  const int t = lane & (p.col_lanes - 1);  // column lane
  const int j = lane / p.col_lanes;        // lane group
  const int64_t R = p.rows_per_stage;
  const int64_t RL = p.row_lanes;
  const float identity = op_identity<kOp>();

  StageRing ring{smem + int64_t(warp) * kStages * kSlotBytes,
                 p.values,
                 M * kElem,
                 c0 * kElem,
                 (c1 - c0) * kElem,
                 p.row_pitch,
                 R,
                 position_row(p.offsets, s, p.chunk_rows),
                 position_row(p.offsets, e, p.chunk_rows),
                 p.contiguous,
                 lane};
  ring.start();

  int64_t cur = 0;  // rows of the run consumed so far
  const int64_t last = last_item(s, e);
  int64_t b = s.item;
  while (b <= last) {
    if (RL > 1) {
      // Short items: lane group j folds item b + j by itself, in row order, when the batch's
      // rows fit in the ring at once.
      const int64_t count = min(RL, last - b + 1);
      const Segment head = segment_of(p.offsets, s, e, b, p.chunk_rows);
      const int64_t span =
          segment_of(p.offsets, s, e, b + count - 1, p.chunk_rows).row_end - head.row_begin;
      if (count > 1 && span <= (kStages - 1) * R) {
        if (span > 0) ring.need(cur / R, (cur + span - 1) / R);
        if (j < count) {
          const Segment seg = segment_of(p.offsets, s, e, b + j, p.chunk_rows);
          float acc[kCpl];
          JAGTILE_UNROLL
          for (int u = 0; u < kCpl; ++u) acc[u] = seg.split ? identity : p.init;
          const int64_t first = cur + (seg.row_begin - head.row_begin);
          int64_t stage = first / R;
          int64_t li = first - stage * R;
          for (int64_t r = seg.row_begin; r < seg.row_end; ++r) {
            fold_row<kOp, kIn, kCpl>(ring.row_ptr(stage, li), c0, c1, t, p.col_lanes, acc);
            if (++li == R) {
              li = 0;
              ++stage;
            }
          }
          store_item<kCpl>(p, w, s, b + j, seg.split, c0, c1, t, acc);
        }
        cur += span;
        b += count;
        continue;
      }
    }

    // One item at a time: lane group j takes rows j, j + RL, ... of it; a fixed butterfly
    // combines the groups. init enters once (group 0 of a whole item, or the combine pass).
    const Segment seg = segment_of(p.offsets, s, e, b, p.chunk_rows);
    const int64_t n = seg.row_end - seg.row_begin;
    float acc[kCpl];
    JAGTILE_UNROLL
    for (int u = 0; u < kCpl; ++u) acc[u] = (seg.split || j != 0) ? identity : p.init;
    int64_t stage = cur / R;
    int64_t li = cur - stage * R;
    for (int64_t first = 0; first < n; first += RL) {
      const int64_t count = min(RL, n - first);
      ring.need(stage, stage + (li + count - 1 >= R ? 1 : 0));
      if (j < count) {
        int64_t my_stage = stage;
        int64_t my_li = li + j;
        if (my_li >= R) {
          my_li -= R;
          ++my_stage;
        }
        fold_row<kOp, kIn, kCpl>(ring.row_ptr(my_stage, my_li), c0, c1, t, p.col_lanes, acc);
      }
      li += RL;
      if (li >= R) {
        li -= R;
        ++stage;
      }
    }
    cur += n;
    for (int d = p.col_lanes; d < 32; d <<= 1) {
      JAGTILE_UNROLL
      for (int u = 0; u < kCpl; ++u) {
        acc[u] = op_combine<kOp>(acc[u], __shfl_xor_sync(0xffffffffu, acc[u], d));
      }
    }
    if (j == 0) store_item<kCpl>(p, w, s, b, seg.split, c0, c1, t, acc);
    ++b;
  }
  ring.drain();
}

// grid (ceil(num_workers / kCombineLanes), column groups), block (32, kCombineLanes). Lane row k
// looks after worker blockIdx.x * kCombineLanes + k (so the many workers with nothing to combine
// cost one small block between them). A worker that owns the last chunk of a cut item folds that
// item's partials, in worker order, from init: by itself when they are few; together with the
// whole block when they are many (one huge item), lane row r taking every kCombineLanes-th
// partial, the rows then combined in order. Columns: blockIdx.y * 32 + threadIdx.x, stepping by
// gridDim.y * 32.
template <ReduceOp kOp>
__global__ void __launch_bounds__(32 * kCombineLanes) combine_kernel(const KernelParams p) {
  __shared__ int64_t cut_item[kCombineLanes];      // per worker of the block, or -1
  __shared__ int64_t first_worker[kCombineLanes];  // owner of that item's first chunk
  __shared__ float lanes[kCombineLanes][32];
  const int row = int(threadIdx.y);
  const int64_t base = int64_t(blockIdx.x) * kCombineLanes;
  if (threadIdx.x == 0) {
    const int64_t w = base + row;
    int64_t item = -1;
    int64_t first = 0;
    if (w < p.num_workers && combines_item(p.positions[w], p.positions[w + 1])) {
      item = p.positions[w].item;
      first = first_owner(p.positions, p.num_workers, item);
    }
    cut_item[row] = item;
    first_worker[row] = first;
  }
  __syncthreads();
  const int64_t M = p.num_cols;
  const int64_t step = int64_t(gridDim.y) * 32;

  // A few partials: each lane row folds its own worker's item.
  {
    const int64_t item = cut_item[row];
    const int64_t w = base + row;
    if (item >= 0 && w - first_worker[row] < kCombineLanes) {
      const int64_t nnz = p.offsets[item + 1] - p.offsets[item];
      const int64_t valid = valid_columns(p, item);
      for (int64_t c = int64_t(blockIdx.y) * 32 + threadIdx.x; c < M; c += step) {
        float total = p.init;
        for (int64_t v = first_worker[row]; v <= w; ++v) {
          const Position sv = p.positions[v];
          if (sv < p.positions[v + 1]) {
            total = op_combine<kOp>(total, p.workspace[partial_slot(v, sv, item) * M + c]);
          }
        }
        store_output(p.out, p.out_dtype, item * M + c, finish_value(p, total, nnz, c >= valid));
      }
    }
  }

  // Many partials: the whole block folds them.
  for (int k = 0; k < kCombineLanes; ++k) {
    const int64_t item = cut_item[k];  // block-uniform
    const int64_t w = base + k;
    if (item < 0 || w - first_worker[k] < kCombineLanes) continue;
    const int64_t first = first_worker[k];
    const int64_t nnz = p.offsets[item + 1] - p.offsets[item];
    const int64_t valid = valid_columns(p, item);
    for (int64_t c0 = int64_t(blockIdx.y) * 32; c0 < M; c0 += step) {  // block-uniform
      const int64_t c = c0 + threadIdx.x;
      float acc = op_identity<kOp>();
      if (c < M) {
        for (int64_t v = first + row; v <= w; v += kCombineLanes) {
          const Position sv = p.positions[v];
          if (sv < p.positions[v + 1]) {
            acc = op_combine<kOp>(acc, p.workspace[partial_slot(v, sv, item) * M + c]);
          }
        }
      }
      lanes[row][threadIdx.x] = acc;
      __syncthreads();
      if (row == 0 && c < M) {
        float total = p.init;
        JAGTILE_UNROLL
        for (int r = 0; r < kCombineLanes; ++r) {
          total = op_combine<kOp>(total, lanes[r][threadIdx.x]);
        }
        store_output(p.out, p.out_dtype, item * M + c, finish_value(p, total, nnz, c >= valid));
      }
      __syncthreads();  // lanes[] is reused by the next column group
    }
  }
}

}  // namespace JAGTILE_REDUCE_KERNELS_NS
}  // namespace jagtile::cuda_reduce
