// Host-side logic of the CUDA jagged_reduce template (no GPU needed): the segments each worker
// reduces (every row exactly once, never crossing items, empty items), the partial slots and
// combiner choice for items cut between workers, launch shaping, and a host replay of the
// kernels' plan that must reproduce a plain reduction. The worklist itself (positions, balance)
// is tested in tests/templates/partition_test.cpp.
#include "templates/cuda/worklist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../templates/partition_cases.h"
#include "jagtile/error.h"

namespace jagtile::cuda_reduce {
namespace {

using namespace partition_cases;

TEST(CudaWorklist, EveryRowAndItemExactlyOnce) {
  for (const auto& [name, lengths] : length_cases()) {
    for (int64_t start : {int64_t(0), int64_t(11)}) {
      const std::vector<int64_t> off = to_offsets(lengths, start);
      const OffsetsView view = view_of(off);
      const int64_t items = view.num_items;
      for (const Setting& c : settings()) {
        SCOPED_TRACE(describe(name, c) + " start=" + std::to_string(start));
        const auto pos = worker_starts(view, c.workers, c.chunk_rows, c.overhead);
        ASSERT_EQ(pos.size(), size_t(c.workers + 1));
        EXPECT_TRUE(pos.front() == (Position{0, 0}));
        EXPECT_TRUE(pos.back() == (Position{items, 0}));
        std::vector<int> row_seen(static_cast<size_t>(off.back()), 0);
        std::vector<std::vector<int64_t>> visitors(static_cast<size_t>(items));
        for (int64_t w = 0; w < c.workers; ++w) {
          const Position s = pos[size_t(w)];
          const Position e = pos[size_t(w) + 1];
          ASSERT_TRUE(s <= e) << "worker " << w;
          if (s.item < items) {
            ASSERT_LT(s.chunk,
                      num_chunks(off[size_t(s.item) + 1] - off[size_t(s.item)], c.chunk_rows))
                << "worker " << w << " starts past its item's chunks";
          }
          if (!(s < e)) continue;
          // The run is one contiguous range of rows, tiled by the segments in order.
          int64_t next_row = position_row(view, s, c.chunk_rows);
          for (int64_t b = s.item; b <= last_item(s, e); ++b) {
            const Segment seg = segment_of(view, s, e, b, c.chunk_rows);
            EXPECT_EQ(seg.row_begin, next_row) << "item " << b;
            EXPECT_GE(seg.row_begin, off[size_t(b)]);
            EXPECT_LE(seg.row_end, off[size_t(b) + 1]) << "segment crosses out of item " << b;
            EXPECT_EQ((seg.row_begin - off[size_t(b)]) % c.chunk_rows, 0)
                << "segment does not start on a chunk boundary";
            for (int64_t r = seg.row_begin; r < seg.row_end; ++r) ++row_seen[size_t(r)];
            visitors[size_t(b)].push_back(w);
            next_row = seg.row_end;
          }
          EXPECT_EQ(next_row, position_row(view, e, c.chunk_rows));
        }
        for (int64_t start_row = 0; start_row < off.front(); ++start_row) {
          EXPECT_EQ(row_seen[size_t(start_row)], 0) << "row before offsets[0] reduced";
        }
        for (int64_t r = off.front(); r < off.back(); ++r) {
          ASSERT_EQ(row_seen[size_t(r)], 1) << "row " << r;
        }
        for (int64_t b = 0; b < items; ++b) {
          ASSERT_FALSE(visitors[size_t(b)].empty()) << "item " << b << " never visited";
          // Split flag agrees with the number of workers touching the item.
          const int64_t w0 = visitors[size_t(b)].front();
          const Segment seg =
              segment_of(view, pos[size_t(w0)], pos[size_t(w0) + 1], b, c.chunk_rows);
          EXPECT_EQ(seg.split, visitors[size_t(b)].size() > 1) << "item " << b;
        }
      }
    }
  }
}

TEST(CudaWorklist, CutItemsHaveOneCombinerAndDistinctSlots) {
  for (const auto& [name, lengths] : length_cases()) {
    const std::vector<int64_t> off = to_offsets(lengths);
    const OffsetsView view = view_of(off);
    for (const Setting& c : settings()) {
      SCOPED_TRACE(describe(name, c));
      const auto pos = worker_starts(view, c.workers, c.chunk_rows, c.overhead);
      std::map<int64_t, std::vector<int64_t>> writers;  // cut item -> workers writing partials
      std::set<int64_t> slots;
      for (int64_t w = 0; w < c.workers; ++w) {
        const Position s = pos[size_t(w)];
        const Position e = pos[size_t(w) + 1];
        if (!(s < e)) continue;
        for (int64_t b = s.item; b <= last_item(s, e); ++b) {
          if (!segment_of(view, s, e, b, c.chunk_rows).split) continue;
          writers[b].push_back(w);
          const int64_t slot = partial_slot(w, s, b);
          EXPECT_GE(slot, 0);
          EXPECT_LT(slot, 2 * c.workers);
          EXPECT_TRUE(slots.insert(slot).second) << "slot " << slot << " written twice";
        }
      }
      std::map<int64_t, int64_t> combiner;
      for (int64_t w = 0; w < c.workers; ++w) {
        if (!combines_item(pos[size_t(w)], pos[size_t(w) + 1])) continue;
        const int64_t b = pos[size_t(w)].item;
        EXPECT_TRUE(combiner.emplace(b, w).second) << "item " << b << " combined twice";
      }
      ASSERT_EQ(combiner.size(), writers.size());
      for (const auto& [b, ws] : writers) {
        ASSERT_TRUE(combiner.count(b)) << "cut item " << b << " is never combined";
        EXPECT_EQ(combiner[b], ws.back()) << "the combiner owns the item's last chunk";
        const int64_t first = first_owner(pos.data(), c.workers, b);
        EXPECT_EQ(first, ws.front());
        // The combine pass reads exactly the non-empty workers between the two.
        std::vector<int64_t> read;
        for (int64_t v = first; v <= combiner[b]; ++v) {
          if (pos[size_t(v)] < pos[size_t(v) + 1]) read.push_back(v);
        }
        EXPECT_EQ(read, ws);
      }
    }
  }
}

// Replays what the kernels compute (rows in order per worker segment; partials combined in
// kCombineLanes interleaved folds) on the host, against a plain per-item fold.
float replay(const std::vector<int64_t>& off, const std::vector<float>& values, int64_t item,
             const std::vector<Position>& pos, int64_t workers, int64_t cr, bool use_max) {
  const OffsetsView view = view_of(off);
  auto combine = [&](float a, float x) { return use_max ? std::max(a, x) : a + x; };
  const float identity = use_max ? -std::numeric_limits<float>::infinity() : 0.0f;
  const float init = use_max ? identity : 0.5f;
  std::map<int64_t, float> workspace;
  float direct = std::numeric_limits<float>::quiet_NaN();
  bool direct_written = false;
  for (int64_t w = 0; w < workers; ++w) {
    const Position s = pos[size_t(w)];
    const Position e = pos[size_t(w) + 1];
    if (!(s < e) || item < s.item || item > last_item(s, e)) continue;
    const Segment seg = segment_of(view, s, e, item, cr);
    float acc = seg.split ? identity : init;
    for (int64_t r = seg.row_begin; r < seg.row_end; ++r) acc = combine(acc, values[size_t(r)]);
    if (seg.split) {
      workspace[partial_slot(w, s, item)] = acc;
    } else {
      EXPECT_FALSE(direct_written);
      direct = acc;
      direct_written = true;
    }
  }
  if (direct_written) return direct;
  for (int64_t w = 0; w < workers; ++w) {
    if (!combines_item(pos[size_t(w)], pos[size_t(w) + 1]) || pos[size_t(w)].item != item) {
      continue;
    }
    const int64_t first = first_owner(pos.data(), workers, item);
    float lanes[kCombineLanes];
    for (int lane = 0; lane < kCombineLanes; ++lane) {
      lanes[lane] = identity;
      for (int64_t v = first + lane; v <= w; v += kCombineLanes) {
        if (pos[size_t(v)] < pos[size_t(v) + 1]) {
          lanes[lane] = combine(lanes[lane], workspace.at(partial_slot(v, pos[size_t(v)], item)));
        }
      }
    }
    float total = init;
    for (float x : lanes) total = combine(total, x);
    return total;
  }
  ADD_FAILURE() << "item " << item << " has no result";
  return 0;
}

TEST(CudaWorklist, HostReplayMatchesPlainReduction) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const auto& [name, lengths] : length_cases()) {
    const std::vector<int64_t> off = to_offsets(lengths);
    std::vector<float> values(size_t(off.back()));
    for (auto& v : values) v = dist(rng);
    for (const Setting& c : settings()) {
      SCOPED_TRACE(describe(name, c));
      const auto pos = worker_starts(view_of(off), c.workers, c.chunk_rows, c.overhead);
      for (int64_t b = 0; b + 1 < int64_t(off.size()); ++b) {
        double sum = 0.5;
        double abs_sum = 0.5;
        float max = -std::numeric_limits<float>::infinity();
        for (int64_t r = off[size_t(b)]; r < off[size_t(b) + 1]; ++r) {
          sum += values[size_t(r)];
          abs_sum += std::abs(values[size_t(r)]);
          max = std::max(max, values[size_t(r)]);
        }
        const float got_sum = replay(off, values, b, pos, c.workers, c.chunk_rows, false);
        EXPECT_NEAR(got_sum, sum, 1e-6 * abs_sum + 1e-6) << "item " << b;
        const float got_max = replay(off, values, b, pos, c.workers, c.chunk_rows, true);
        EXPECT_EQ(got_max, max) << "item " << b;
      }
    }
  }
}

TEST(CudaWorklist, LaunchShapesFitTheRing) {
  for (int64_t es : {2, 4}) {
    for (int64_t m : {1, 3, 16, 17, 31, 32, 33, 64, 100, 128, 129, 256, 1000, 1024, 4096}) {
      SCOPED_TRACE("M=" + std::to_string(m) + " elem=" + std::to_string(es));
      const LaunchShape s = plan_launch(m, es, 100000, 1000, 132 * 16);
      EXPECT_EQ(s.col_lanes * s.row_lanes, 32);
      EXPECT_EQ(s.col_lanes & (s.col_lanes - 1), 0) << "col_lanes must be a power of two";
      EXPECT_LE(s.tile_width, int64_t(s.col_lanes) * cols_per_lane(es)) << "a column has no lane";
      EXPECT_EQ(s.contiguous, s.num_tiles == 1);
      // Tiles cover [0, M) exactly, in order.
      int64_t next = 0;
      for (int64_t t = 0; t < s.num_tiles; ++t) {
        const ColumnRange r = tile_columns(s, t);
        EXPECT_EQ(r.begin, next);
        EXPECT_GT(r.end, r.begin);
        next = r.end;
      }
      EXPECT_EQ(next, m);
      EXPECT_GE(s.rows_per_stage, s.row_lanes);
      EXPECT_EQ(s.rows_per_stage % s.row_lanes, 0);
      if (s.contiguous) {
        // Worst alignment shift (15 bytes) plus the stage's rows, in 16-byte blocks.
        const int64_t bytes = 15 + s.rows_per_stage * m * es;
        EXPECT_LE((bytes + 15) / 16 * 16, kSlotBytes);
      } else {
        EXPECT_LE(s.rows_per_stage * s.row_pitch, kSlotBytes);
        EXPECT_LE((15 + s.tile_width * es + 15) / 16 * 16, s.row_pitch);
        EXPECT_EQ(s.row_pitch % 16, 0);
      }
      EXPECT_GE(s.num_workers, 1);
      EXPECT_LE(s.num_workers * s.num_tiles, 132 * 16);
      EXPECT_EQ(s.num_warps, s.num_workers * s.num_tiles);
      EXPECT_GE(s.num_blocks * kWarpsPerBlock, s.num_warps);
      EXPECT_LT((s.num_blocks - 1) * kWarpsPerBlock, s.num_warps);
      EXPECT_EQ(s.workspace_floats, 2 * s.num_workers * m);
    }
  }
}

TEST(CudaWorklist, SmallProblemsLaunchFewWorkers) {
  const LaunchShape tiny = plan_launch(16, 4, 10, 3, 132 * 16);
  EXPECT_EQ(tiny.num_workers, 1);
  const LaunchShape big = plan_launch(256, 4, 1 << 22, 4096, 132 * 16);
  EXPECT_EQ(big.num_workers, 132 * 16 / big.num_tiles);
}

TEST(CudaWorklist, OldGpusAreUserErrors) {
  EXPECT_NO_THROW(check_compute_capability(0, "NVIDIA A100", 8, 0));
  EXPECT_NO_THROW(check_compute_capability(0, "NVIDIA H100", 9, 0));
  try {
    check_compute_capability(1, "Tesla T4", 7, 5);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:1 (Tesla T4) has compute capability 7.5; the CUDA "
                                         "template needs 8.0 or newer"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace jagtile::cuda_reduce
