// Work partition of the CUDA jagged_reduce template: which rows each GPU worker (one warp)
// reduces, where the partial results of items cut between workers go, and how a launch is shaped.
// Plain C++ (JAGTILE_HD marks what the kernels call as well), so all of it is unit tested on a
// machine without a GPU; the kernels in jagged_reduce.cu only follow what these functions say.
// The worklist itself (positions, worker runs) is the one the CPU template uses:
// templates/common/partition.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "templates/common/partition.h"

namespace jagtile::cuda_reduce {

// The shared worklist (templates/common/partition.h), under the names the kernels use.
using partition::num_chunks;
using partition::OffsetsView;
using partition::Position;
using partition::position_at;
using partition::position_row;
using partition::total_cost;
using partition::worker_boundary;
using partition::worker_start;
using partition::worker_starts;

// Last item a worker with run [s, e) touches (s < e required).
JAGTILE_HD int64_t last_item(const Position& s, const Position& e) {
  return e.chunk > 0 ? e.item : e.item - 1;
}

// The part of item `item` that the worker with run [s, e) reduces.
struct Segment {
  int64_t row_begin = 0;
  int64_t row_end = 0;
  bool split = false;  // the item also has chunks in other workers
};

JAGTILE_HD Segment segment_of(const OffsetsView& off, const Position& s, const Position& e,
                              int64_t item, int64_t chunk_rows) {
  const int64_t begin = off[item];
  const int64_t end = off[item + 1];
  const int64_t chunks = num_chunks(end - begin, chunk_rows);
  const int64_t first = item == s.item ? s.chunk : 0;
  const int64_t stop = item == e.item ? e.chunk : chunks;
  Segment seg;
  seg.row_begin = begin + first * chunk_rows;
  const int64_t stop_row = begin + stop * chunk_rows;
  seg.row_end = stop_row < end ? stop_row : end;
  if (seg.row_end < seg.row_begin) seg.row_end = seg.row_begin;
  seg.split = first > 0 || stop < chunks;
  return seg;
}

// Workspace slot (a row of M floats) holding worker w's partial for a split item: slot 2w for
// the worker's first item, 2w + 1 for its last (when that is another item).
JAGTILE_HD int64_t partial_slot(int64_t w, const Position& s_w, int64_t item) {
  return 2 * w + (s_w.item == item ? 0 : 1);
}

// The worker that owns item `item`'s first chunk: the largest w in [0, workers) with
// positions[w] <= {item, 0}.
JAGTILE_HD int64_t first_owner(const Position* positions, int64_t workers, int64_t item) {
  const Position key{item, 0};
  int64_t lo = 0;
  int64_t hi = workers - 1;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (positions[mid] <= key) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// True when worker w (run [s, e)) owns the last chunk of an item that started in an earlier
// worker: it then combines that item's partials (its first item, s.item) in the second pass.
JAGTILE_HD bool combines_item(const Position& s, const Position& e) {
  return s.chunk > 0 && e.item > s.item;
}

// ---- Host side ------------------------------------------------------------------------------

// Fixed parameters of the kernels (the CUDA side static_asserts its shared memory from these).
inline constexpr int kWarpsPerBlock = 8;
inline constexpr int kStages = 4;                        // ring depth of the staged row tiles
inline constexpr int64_t kStageBytes = 2048;             // data bytes per stage (per warp)
inline constexpr int64_t kSlotBytes = kStageBytes + 16;  // + room for the 16-byte alignment shift
// Columns (fp32 accumulators) per lane: 16 bytes of input per lane and row.
JAGTILE_HD constexpr int cols_per_lane(int64_t elem_bytes) {
  return elem_bytes >= 4 ? 4 : 8;
}
inline constexpr int kCombineLanes = 8;  // partials folded in parallel by the 2nd pass
inline constexpr int64_t kSmemPerBlock = int64_t(kWarpsPerBlock) * kStages * kSlotBytes;

// How one call is laid out on the GPU.
struct LaunchShape {
  int64_t num_cols = 0;        // M
  int64_t elem_bytes = 0;      // input element size
  int64_t num_tiles = 1;       // column tiles; one warp per (row worker, column tile)
  int64_t tile_width = 0;      // columns per tile (the last may be narrower)
  int col_lanes = 32;          // lanes across columns (each with cols_per_lane columns); 2^k
  int row_lanes = 1;           // 32 / col_lanes: lane groups that take several short items at
                               // once, or alternate rows of a long one
  bool contiguous = true;      // one tile spans all columns: a stage is one flat byte range
  int64_t row_pitch = 0;       // bytes between staged rows in shared memory
  int64_t rows_per_stage = 0;  // R
  int64_t item_overhead = 1;   // cost of an item in row units (worklist balance)
  int64_t num_workers = 0;     // row workers W
  int64_t num_warps = 0;       // W * num_tiles
  int64_t num_blocks = 0;
  int64_t workspace_floats = 0;  // 2 * W * M
};

// Shapes a launch. num_rows (N) and num_items (B) bound the work, so that small problems do
// not launch thousands of idle warps; resident_warps is what the device holds at once
// (multiprocessors * blocks per multiprocessor * kWarpsPerBlock).
LaunchShape plan_launch(int64_t num_cols, int64_t elem_bytes, int64_t num_rows, int64_t num_items,
                        int64_t resident_warps);

// Column range [begin, end) of column tile `tile`.
struct ColumnRange {
  int64_t begin = 0;
  int64_t end = 0;
};
ColumnRange tile_columns(const LaunchShape& shape, int64_t tile);

// UserError unless the device (index, product name) is sm_80 or newer: the kernels use cp.async.
void check_compute_capability(int device, const std::string& name, int major, int minor);

}  // namespace jagtile::cuda_reduce
