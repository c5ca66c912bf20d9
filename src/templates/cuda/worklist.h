// Work partition of the CUDA jagged_reduce template: which rows each GPU worker (one warp)
// reduces, where the partial results of items cut between workers go, and how a launch is shaped.
// Plain C++ (JAGTILE_HD marks what the kernels call as well), so all of it is unit tested on a
// machine without a GPU; the kernels in jagged_reduce.cu only follow what these functions say.
//
// The worklist. Item b's rows are cut into chunks of spec.chunk_rows rows (an empty item is one
// chunk of no rows, so that its output is still written). Each item costs `item_overhead` units
// plus one unit per row; laid end to end, item b starts at coordinate
//   coord(b) = (offsets[b] - offsets[0]) + item_overhead * b,
// and its chunk k >= 1 at coord(b) + item_overhead + k * chunk_rows. The total cost C is
// coord(B). Worker w of W owns the chunks whose start coordinate lies in [x_w, x_{w+1}) with
// x_w = floor(w * C / W): a contiguous run of rows, balanced to within one chunk whatever the
// length distribution. Each worker finds its own start with a binary search over the offsets,
// so no worklist array is ever built or copied.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#if defined(__CUDACC__)
#define JAGTILE_HD __host__ __device__ __forceinline__
#else
#define JAGTILE_HD inline
#endif

namespace jagtile::cuda_reduce {

// Offsets of either integer width, read through one view.
struct OffsetsView {
  const void* data = nullptr;
  bool is64 = false;
  int64_t num_items = 0;  // B; data holds B + 1 entries

  JAGTILE_HD int64_t operator[](int64_t i) const {
    return is64 ? static_cast<const int64_t*>(data)[i]
                : int64_t(static_cast<const int32_t*>(data)[i]);
  }
};

// A place in the worklist: chunk `chunk` of item `item`. {num_items, 0} is the end.
struct Position {
  int64_t item = 0;
  int64_t chunk = 0;
};

JAGTILE_HD bool operator<(const Position& a, const Position& b) {
  return a.item < b.item || (a.item == b.item && a.chunk < b.chunk);
}
JAGTILE_HD bool operator==(const Position& a, const Position& b) {
  return a.item == b.item && a.chunk == b.chunk;
}
JAGTILE_HD bool operator<=(const Position& a, const Position& b) {
  return !(b < a);
}

// Chunks of an item of `len` rows: an empty item still has one (empty) chunk.
JAGTILE_HD int64_t num_chunks(int64_t len, int64_t chunk_rows) {
  return len <= 0 ? 1 : (len + chunk_rows - 1) / chunk_rows;
}

JAGTILE_HD int64_t item_coord(const OffsetsView& off, int64_t item, int64_t item_overhead) {
  return (off[item] - off[0]) + item_overhead * item;
}

JAGTILE_HD int64_t total_cost(const OffsetsView& off, int64_t item_overhead) {
  return item_coord(off, off.num_items, item_overhead);
}

// floor(w * total / workers) without overflowing for totals up to 2^62 and workers up to 2^20.
JAGTILE_HD int64_t worker_boundary(int64_t w, int64_t workers, int64_t total) {
  const int64_t q = total / workers;
  const int64_t r = total % workers;
  return q * w + (r * w) / workers;
}

// The first chunk (in worklist order) whose start coordinate is >= x; the end if none.
JAGTILE_HD Position position_at(const OffsetsView& off, int64_t x, int64_t chunk_rows,
                                int64_t item_overhead) {
  const int64_t items = off.num_items;
  if (items == 0 || x <= 0) return Position{0, 0};
  // Largest b in [0, items) with coord(b) <= x (coord(0) == 0 <= x).
  int64_t lo = 0;
  int64_t hi = items - 1;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (item_coord(off, mid, item_overhead) <= x) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const int64_t start = item_coord(off, lo, item_overhead);
  if (start == x) return Position{lo, 0};
  const int64_t past = x - start - item_overhead;  // coordinate past the item's first chunk start
  int64_t k = past <= 0 ? 1 : (past + chunk_rows - 1) / chunk_rows;
  if (k < 1) k = 1;
  if (k < num_chunks(off[lo + 1] - off[lo], chunk_rows)) return Position{lo, k};
  return Position{lo + 1, 0};
}

// First row of the chunk at `pos` (for the end position: offsets[B]).
JAGTILE_HD int64_t position_row(const OffsetsView& off, const Position& pos, int64_t chunk_rows) {
  if (pos.item >= off.num_items) return off[off.num_items];
  return off[pos.item] + pos.chunk * chunk_rows;
}

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

// Every worker's start position (workers + 1 entries, the last being the end): what the plan
// kernel computes on the device, for tests and for host-side checks.
std::vector<Position> plan_positions(const OffsetsView& off, int64_t workers, int64_t chunk_rows,
                                     int64_t item_overhead);

// UserError unless the device (index, product name) is sm_80 or newer: the kernels use cp.async.
void check_compute_capability(int device, const std::string& name, int major, int minor);

}  // namespace jagtile::cuda_reduce
