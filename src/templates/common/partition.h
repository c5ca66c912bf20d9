// The work partition of the jagged_reduce templates, shared by the CPU driver and the CUDA
// kernels: positions (item, chunk) on the chunk grid and their split into balanced contiguous
// worker runs. Plain C++; JAGTILE_HD marks what CUDA device code calls as well.
//
// The worklist. Item b's rows are cut into chunks of `chunk_rows` rows from its first row (an
// empty item is one chunk of no rows, so that its output is still written). Each item costs
// `item_overhead` units (its offsets, combine, post and store, in rows' worth of work) plus one
// unit per row. Laid end to end, item b starts at coordinate
//   coord(b) = (offsets[b] - offsets[0]) + item_overhead * b,
// its chunk 0 covers the overhead and the first chunk_rows rows, and its chunk k >= 1 starts at
// coord(b) + item_overhead + k * chunk_rows. The total cost C is coord(B). Worker w of W owns
// the chunks whose start coordinate lies in [x_w, x_{w+1}) with x_w = floor(w * C / W): a
// contiguous run of chunks, balanced to within one chunk whatever the length distribution.
// Each worker's start is a binary search over the offsets, so no worklist is ever built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#if defined(__CUDACC__)
#define JAGTILE_HD __host__ __device__ __forceinline__
#else
#define JAGTILE_HD inline
#endif

namespace jagtile::partition {

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

// A place in the worklist: chunk `chunk` of item `item` (its first row is
// offsets[item] + chunk * chunk_rows). {num_items, 0} is the end.
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

// Where worker w of `workers` starts (w == workers: the end). Worker w's run is
// [worker_start(w), worker_start(w + 1)); runs of neighbouring workers may be empty.
JAGTILE_HD Position worker_start(const OffsetsView& off, int64_t w, int64_t workers,
                                 int64_t chunk_rows, int64_t item_overhead) {
  return position_at(off, worker_boundary(w, workers, total_cost(off, item_overhead)), chunk_rows,
                     item_overhead);
}

// First row of the chunk at `pos` (for the end position: offsets[B]).
JAGTILE_HD int64_t position_row(const OffsetsView& off, const Position& pos, int64_t chunk_rows) {
  if (pos.item >= off.num_items) return off[off.num_items];
  return off[pos.item] + pos.chunk * chunk_rows;
}

// Every worker's start, workers + 1 entries (the last is the end), computed on the host: what
// the CPU driver runs and the CUDA plan kernel computes one thread per entry. Requires
// workers >= 1, chunk_rows >= 1 and item_overhead >= 1.
inline std::vector<Position> worker_starts(const OffsetsView& off, int64_t workers,
                                           int64_t chunk_rows, int64_t item_overhead) {
  std::vector<Position> starts(static_cast<size_t>(workers) + 1);
  for (int64_t w = 0; w <= workers; ++w) {
    starts[static_cast<size_t>(w)] = worker_start(off, w, workers, chunk_rows, item_overhead);
  }
  return starts;
}

}  // namespace jagtile::partition
