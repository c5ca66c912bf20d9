// Internal interface between the CPU jagged_reduce driver (jagged_reduce.cpp: validation,
// partition, phase 2) and its SIMD worker kernels (reduce_kernels_isa.cpp, compiled once per
// instruction set).
//
// Work model. Item b's rows are cut into chunks of `chunk_rows` rows from the item's first row.
// Each chunk is reduced independently (from the op's identity) into a chunk partial, and an item's
// result is the fold init (+) p0 (+) p1 (+) ... in chunk order. Because the chunk grid is fixed by
// the spec, that fold is the same sequence of fp32 operations for any partition of the chunks
// among workers, which makes the results bitwise identical for any thread count.
//
// Workers own contiguous runs of chunk positions (item, chunk) in lexicographic order, split by
// the worklist the CUDA template uses too (templates/common/partition.h). A worker that owns an
// item's first chunk folds as it goes; one that owns a later run of an item's chunks (the item
// started in an earlier worker) keeps each of its chunk partials so the fold can finish in order
// after all workers are done (phase 2).
#pragma once

#include <cstdint>
#include <vector>

#include "jagtile/dtype.h"
#include "jagtile/reduce.h"
#include "templates/common/partition.h"

namespace jagtile::reduce_detail {

// A chunk position (item, chunk): worker runs are [begin, end) of these.
using partition::Position;

struct ReduceArgs {
  const void* values = nullptr;
  DType in_dtype = DType::f32;
  int64_t num_cols = 1;  // M (1 for 1-D values); also the row stride in elements
  const void* offsets = nullptr;
  bool offsets_i64 = false;
  int64_t num_items = 0;
  const void* counts = nullptr;  // optional feature counts [B]
  bool counts_i64 = false;
  ReduceOp combine = ReduceOp::sum;  // sum, max or min (mean arrives here as sum)
  ReducePost post = ReducePost::identity;
  float init = 0.0f;
  float post_value = 0.0f;
  float masked_value = 0.0f;
  void* out = nullptr;
  DType out_dtype = DType::f32;
  int64_t chunk_rows = 64;
  // Write whole output rows with non-temporal stores (outputs far larger than the caches).
  bool streaming_stores = false;

  partition::OffsetsView offsets_view() const { return {offsets, offsets_i64, num_items}; }
  int64_t offset(int64_t b) const {
    return offsets_i64 ? static_cast<const int64_t*>(offsets)[b]
                       : static_cast<const int32_t*>(offsets)[b];
  }
  int64_t valid_cols(int64_t b) const {
    if (!counts) return num_cols;
    return counts_i64 ? static_cast<const int64_t*>(counts)[b]
                      : static_cast<const int32_t*>(counts)[b];
  }
};

// What a worker leaves for phase 2 about the (at most two) items it shares with other workers.
struct WorkerCarry {
  // The worker's last item, started here but finished by a later worker: its fold so far.
  int64_t head_item = -1;
  std::vector<float> head;
  // The worker's first item, started by an earlier worker: one partial per chunk, in order.
  int64_t tail_item = -1;
  int64_t tail_chunks = 0;
  std::vector<float> tail;
};

// The carry's vectors are filled here, outside the *_isa.cpp files (jagged_reduce.cpp): a
// std::vector member instantiated in one of those would be compiled for its instruction set, and
// the linker may keep that copy for the whole program (an AVX-512 fill then runs, and faults, on
// an AVX2 machine). The SIMD files use no std template that compiles to vector code.
float* carry_tail_zeroed(WorkerCarry& carry, int64_t n);  // tail = n zeros; its data
void carry_set_head(WorkerCarry& carry, const float* values, int64_t n);

// The entry points each instruction-set build provides.
struct KernelTable {
  const char* isa;
  // Reduce every position in [begin, end): flush items wholly owned, fill carry for shared ones.
  void (*run_worker)(const ReduceArgs& args, Position begin, Position end, WorkerCarry& carry);
  // acc (+)= partial over n columns, in place, with the args' combine op.
  void (*fold)(const ReduceArgs& args, float* acc, const float* partial, int64_t n);
  // Apply post and write item b's output row from its folded accumulator.
  void (*flush)(const ReduceArgs& args, int64_t item, const float* acc);
  // Sum of n floats read as fast as this instruction set can: the streaming-read probe that
  // benchmarks use as the machine's limit.
  float (*read_stream)(const float* data, int64_t n);
  // `steps` steps of independent f32 multiply-add chains: the FLOP-peak probe. Returns the
  // floating-point operations done; stores a result to *sink.
  double (*fma_stream)(int64_t steps, float* sink);
};

// The table jagged_reduce runs on this CPU (JAGTILE_CPU_ISA may lower it).
const KernelTable& active_kernels();

}  // namespace jagtile::reduce_detail

namespace jagtile::reduce_detail {

namespace isa_avx512 {
extern const KernelTable kernel_table;
}
namespace isa_avx2 {
extern const KernelTable kernel_table;
}
namespace isa_portable {
extern const KernelTable kernel_table;
}

}  // namespace jagtile::reduce_detail
