// Host half of the CUDA jagged_reduce work partition: launch shaping (column tiles, lanes, rows
// per shared-memory stage, worker count, workspace size) and the compute-capability check.
// Compiled without nvcc so that it is tested on machines with no GPU.
#include "templates/cuda/worklist.h"

#include <algorithm>

#include "jagtile/error.h"

namespace jagtile::cuda_reduce {

namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

int next_pow2(int64_t v) {
  int p = 1;
  while (p < v) p *= 2;
  return p;
}

// Workers beyond this would leave each with less than a few rows' worth of work.
constexpr int64_t kMinCostPerWorker = 64;
// Upper bound that keeps worker_boundary's arithmetic inside int64.
constexpr int64_t kMaxWorkers = int64_t(1) << 20;

}  // namespace

LaunchShape plan_launch(int64_t num_cols, int64_t elem_bytes, int64_t num_rows, int64_t num_items,
                        int64_t resident_warps) {
  JAGTILE_CHECK(
      num_cols >= 1 && elem_bytes >= 1 && num_rows >= 0 && num_items >= 1 && resident_warps >= 1,
      << "plan_launch(" << num_cols << ", " << elem_bytes << ", " << num_rows << ", " << num_items
      << ", " << resident_warps << ")");
  LaunchShape s;
  s.num_cols = num_cols;
  s.elem_bytes = elem_bytes;
  const int64_t per_lane = cols_per_lane(elem_bytes);
  const int64_t max_tile = 32 * per_lane;
  s.num_tiles = ceil_div(num_cols, max_tile);
  s.tile_width = ceil_div(num_cols, s.num_tiles);
  s.contiguous = s.num_tiles == 1;
  if (s.contiguous) {
    // Narrow rows: lanes left over by the columns form groups that work on other rows.
    s.col_lanes = std::min(32, next_pow2(ceil_div(num_cols, per_lane)));
    s.row_lanes = 32 / s.col_lanes;
    s.row_pitch = num_cols * elem_bytes;
  } else {
    s.col_lanes = 32;
    s.row_lanes = 1;
    // Each staged row keeps its own 16-byte alignment shift, so it gets a spare 16 bytes.
    s.row_pitch = ceil_div(s.tile_width * elem_bytes, 16) * 16 + 16;
  }
  s.rows_per_stage = kStageBytes / s.row_pitch;
  s.rows_per_stage -= s.rows_per_stage % s.row_lanes;
  JAGTILE_CHECK(s.rows_per_stage >= s.row_lanes && s.rows_per_stage >= 1,
                << "a stage of " << kStageBytes << " bytes holds no row of " << s.row_pitch);

  // An item's fixed cost (offset reads, lane combine, post, store) in rows of this width.
  s.item_overhead = std::clamp<int64_t>(256 / (num_cols * elem_bytes), 1, 64);
  const int64_t max_cost = num_rows + s.item_overhead * num_items;
  const int64_t by_work = std::max<int64_t>(1, ceil_div(max_cost, kMinCostPerWorker));
  const int64_t by_device = std::max<int64_t>(1, resident_warps / s.num_tiles);
  s.num_workers = std::min({by_work, by_device, kMaxWorkers});
  s.num_warps = s.num_workers * s.num_tiles;
  s.num_blocks = ceil_div(s.num_warps, kWarpsPerBlock);
  s.workspace_floats = 2 * s.num_workers * num_cols;
  return s;
}

ColumnRange tile_columns(const LaunchShape& shape, int64_t tile) {
  ColumnRange r;
  r.begin = std::min(shape.num_cols, tile * shape.tile_width);
  r.end = std::min(shape.num_cols, r.begin + shape.tile_width);
  return r;
}

void check_compute_capability(int device, const std::string& name, int major, int minor) {
  if (major >= 8) return;
  throw UserError("jagged_reduce (CUDA): cuda:" + std::to_string(device) + " (" + name +
                      ") has compute capability " + std::to_string(major) + "." +
                      std::to_string(minor) +
                      "; the CUDA template needs 8.0 or newer (Ampere, Hopper)",
                  "keep the tensors on the CPU, or run on a newer GPU");
}

}  // namespace jagtile::cuda_reduce
