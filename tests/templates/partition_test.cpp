// The jagged_reduce worklist shared by the CPU and CUDA templates (templates/common/partition.h):
// worker runs cover every chunk exactly once, in order, start on a valid chunk, are balanced to
// within one chunk, and the position search and boundary arithmetic hold at their edges.
#include "templates/common/partition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "partition_cases.h"

namespace jagtile::partition {
namespace {

using namespace partition_cases;

// The chunk after `p` in worklist order.
Position next_chunk(const std::vector<int64_t>& off, Position p, int64_t chunk_rows) {
  const int64_t chunks = num_chunks(off[size_t(p.item) + 1] - off[size_t(p.item)], chunk_rows);
  return p.chunk + 1 < chunks ? Position{p.item, p.chunk + 1} : Position{p.item + 1, 0};
}

TEST(Partition, RunsCoverEveryChunkOnceInOrder) {
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
        // Walking the chunks of every run in turn visits the whole worklist once.
        Position expected{0, 0};
        for (int64_t w = 0; w < c.workers; ++w) {
          const Position s = pos[size_t(w)];
          const Position e = pos[size_t(w) + 1];
          ASSERT_TRUE(s == expected)
              << "worker " << w << " does not start where " << w - 1 << " stopped";
          ASSERT_TRUE(s <= e) << "worker " << w;
          if (s.item < items) {
            ASSERT_LT(s.chunk,
                      num_chunks(off[size_t(s.item) + 1] - off[size_t(s.item)], c.chunk_rows))
                << "worker " << w << " starts past its item's chunks";
            EXPECT_LE(position_row(view, s, c.chunk_rows), off[size_t(s.item) + 1]);
          }
          // Chunk by chunk from s, the walk lands exactly on e.
          Position p = s;
          while (p < e) p = next_chunk(off, p, c.chunk_rows);
          ASSERT_TRUE(p == e) << "worker " << w << " ends inside a chunk";
          expected = e;
        }
        EXPECT_TRUE(expected == (Position{items, 0}));
      }
    }
  }
}

TEST(Partition, WorkerStartIsThePositionAtItsBoundary) {
  const std::vector<int64_t> off = to_offsets({10, 0, 130, 4});
  const OffsetsView view = view_of(off);
  const int64_t total = total_cost(view, 3);
  for (int64_t w = 0; w <= 5; ++w) {
    EXPECT_TRUE(worker_start(view, w, 5, 8, 3) ==
                position_at(view, worker_boundary(w, 5, total), 8, 3))
        << w;
  }
}

// Cost of one chunk in the worklist's units.
int64_t chunk_cost(const OffsetsView& off, int64_t item, int64_t chunk, int64_t cr, int64_t ovh) {
  const int64_t len = off[item + 1] - off[item];
  const int64_t rows = std::min(cr, len - chunk * cr);
  return (chunk == 0 ? ovh : 0) + std::max<int64_t>(rows, 0);
}

TEST(Partition, BalancedToWithinOneChunk) {
  for (const auto& [name, lengths] : length_cases()) {
    const std::vector<int64_t> off = to_offsets(lengths);
    const OffsetsView view = view_of(off);
    for (const Setting& c : settings()) {
      SCOPED_TRACE(describe(name, c));
      const auto pos = worker_starts(view, c.workers, c.chunk_rows, c.overhead);
      const int64_t total = total_cost(view, c.overhead);
      const int64_t max_chunk = c.overhead + c.chunk_rows;
      int64_t sum = 0;
      for (int64_t w = 0; w < c.workers; ++w) {
        int64_t cost = 0;
        for (Position p = pos[size_t(w)]; p < pos[size_t(w) + 1];) {
          cost += chunk_cost(view, p.item, p.chunk, c.chunk_rows, c.overhead);
          const int64_t chunks =
              num_chunks(off[size_t(p.item) + 1] - off[size_t(p.item)], c.chunk_rows);
          p = p.chunk + 1 < chunks ? Position{p.item, p.chunk + 1} : Position{p.item + 1, 0};
        }
        const int64_t share =
            worker_boundary(w + 1, c.workers, total) - worker_boundary(w, c.workers, total);
        EXPECT_LE(cost, share + max_chunk) << "worker " << w;
        sum += cost;
      }
      EXPECT_EQ(sum, total);
    }
  }
}

TEST(Partition, PositionEdgeCases) {
  const std::vector<int64_t> none{0};
  EXPECT_TRUE(position_at(view_of(none), 0, 64, 1) == (Position{0, 0}));
  EXPECT_TRUE(position_at(view_of(none), 5, 64, 1) == (Position{0, 0}));
  const std::vector<int64_t> off = to_offsets({10, 0, 130});
  const OffsetsView view = view_of(off);
  // coord: item 0 at 0, item 1 at 12, item 2 at 14; item 2's chunks start at 14, 16+64, 16+128.
  EXPECT_TRUE(position_at(view, 0, 64, 2) == (Position{0, 0}));
  EXPECT_TRUE(position_at(view, 1, 64, 2) == (Position{1, 0}));
  EXPECT_TRUE(position_at(view, 12, 64, 2) == (Position{1, 0}));
  EXPECT_TRUE(position_at(view, 13, 64, 2) == (Position{2, 0}));
  EXPECT_TRUE(position_at(view, 15, 64, 2) == (Position{2, 1}));
  EXPECT_TRUE(position_at(view, 80, 64, 2) == (Position{2, 1}));
  EXPECT_TRUE(position_at(view, 81, 64, 2) == (Position{2, 2}));
  EXPECT_TRUE(position_at(view, 145, 64, 2) == (Position{3, 0}));
  EXPECT_TRUE(position_at(view, total_cost(view, 2), 64, 2) == (Position{3, 0}));
  EXPECT_EQ(position_row(view, Position{2, 1}, 64), 10 + 64);
  EXPECT_EQ(position_row(view, Position{3, 0}, 64), 140);

  // i32 offsets read the same.
  const std::vector<int32_t> off32{0, 10, 10, 140};
  const OffsetsView view32{off32.data(), false, 3};
  for (int64_t x = 0; x <= total_cost(view, 2); ++x) {
    EXPECT_TRUE(position_at(view32, x, 64, 2) == position_at(view, x, 64, 2)) << x;
  }
}

TEST(Partition, BoundariesDoNotOverflow) {
  const int64_t total = (int64_t(1) << 62) + 12345;
  const int64_t workers = int64_t(1) << 20;
  int64_t prev = worker_boundary(0, workers, total);
  EXPECT_EQ(prev, 0);
  for (int64_t w = 1; w <= workers; w += 4099) {
    const int64_t x = worker_boundary(w, workers, total);
    EXPECT_GE(x, prev);
    prev = x;
  }
  EXPECT_EQ(worker_boundary(workers, workers, total), total);
  EXPECT_EQ(worker_boundary(1, 3, 10), 3);
  EXPECT_EQ(worker_boundary(2, 3, 10), 6);
}

}  // namespace
}  // namespace jagtile::partition
