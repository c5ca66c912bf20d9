// An hl.grid loop nested directly in the outermost one runs its iterations as programs of their
// own (analysis/inner_programs.h, DeviceFunc::inner_block): which loops qualify, results equal to
// the interpreter's on every path and thread count, an empty inner loop that still runs the outer
// body, and the longest-first order keeping an item's programs together.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "codegen/cpu/backend.h"
#include "codegen_helpers.h"
#include "testing/scoped_env.h"

namespace jagtile::testing {
namespace {

const char* const kOpening = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel()
def per_head(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    H = x.size(1)
)PY";

// Per item and head, the sum of the item's rows (x is [rows, H]), accumulated block by block.
const char* const kPerHeadSums =
    R"PY(    out = torch.zeros([B, H], dtype=torch.float32, device=x.device)
    for i in hl.grid(B):
        first = offsets[i]
        last = offsets[i + 1]
        for h in hl.grid(H):
            acc = hl.zeros([], dtype=torch.float32)
            for tile_k in hl.tile(first, last):
                acc = acc + x[tile_k, h].sum()
            out[i, h] = acc
    return out
)PY";

struct Outcome {
  Tensor out;
  std::string ir;
};

enum class Path { interp, cpu, cuda_emulated };

// The kernel's output on a path; `ir` (the IR, host program and plan) is set before the call,
// so a call that fails still shows how it was split.
Outcome run(const std::string& body, const std::vector<double>& offsets, int64_t heads, Path path,
            int threads = 1, std::string* ir = nullptr) {
  use_shared_cache_dir();
  std::vector<double> x;
  const int64_t rows = int64_t(offsets.back());
  for (int64_t r = 0; r < rows * heads; ++r) x.push_back(double((r * 13) % 17) - 8.25);
  Program p = Program::from_source(std::string(kOpening) + body, "per_head.py");
  const ArgMap args = {
      {"x", Tensor::from_doubles({rows, heads}, x, DType::f32)},
      {"offsets", Tensor::from_doubles({int64_t(offsets.size())}, offsets, DType::i64)}};
  Options o;
  o.backend = path == Path::interp ? Backend::interp
              : path == Path::cpu  ? Backend::cpu
                                   : Backend::cuda;
  o.num_threads = threads;
  ScopedEnv emulation("JAGTILE_CUDA_EMULATION", path == Path::cuda_emulated ? "1" : nullptr);
  Outcome r;
  r.ir = p.specialise("", args, o).ir_text();
  if (ir) *ir = r.ir;
  r.out = p.call("", args, o).outputs.at(0);
  return r;
}

// Whether the host program lets the pairs run as programs (the backend still decides per call).
bool may_split(const Outcome& r) {
  return r.ir.find("programs also over h (0 .. $") != std::string::npos;
}

// One long item and many short ones: on one program per item the long one's heads would all run
// on one thread.
std::vector<double> one_long_item() {
  std::vector<double> offsets = {0, 300};
  for (int i = 0; i < 9; ++i) offsets.push_back(offsets.back() + 1 + i % 4);
  return offsets;
}

// Many items of one length: each worker has plenty without splitting (split_inner_programs).
std::vector<double> many_equal_items() {
  std::vector<double> offsets = {0};
  for (int i = 0; i < 60; ++i) offsets.push_back(offsets.back() + 5);
  return offsets;
}

TEST(InnerPrograms, PairsArePrograms_WithFewerItemsThanWorkersOrHeavyPairsOfALongItem) {
  auto bounds = [](int64_t outer, int64_t per) {
    host::NestBounds b;
    b.end = outer;
    b.programs = outer * per;
    b.per_outer = per;
    return b;
  };
  auto offsets_of = [](const std::vector<double>& o) {
    return Tensor::from_doubles({int64_t(o.size())}, o, DType::i64);
  };
  using codegen::cpu::split_inner_programs;
  const bool heavy = true, light = false;
  const Tensor equal = offsets_of(many_equal_items()), one_long = offsets_of(one_long_item());
  EXPECT_FALSE(split_inner_programs(bounds(60, 5), &equal, heavy, 2));  // 60 items of 5 rows
  EXPECT_TRUE(split_inner_programs(bounds(60, 5), &equal, light, 64));  // fewer than workers
  EXPECT_TRUE(split_inner_programs(bounds(10, 5), &one_long, heavy, 2));
  EXPECT_FALSE(split_inner_programs(bounds(10, 5), &one_long, light, 2));  // pairs are cheap
  EXPECT_FALSE(split_inner_programs(bounds(60, 5), nullptr, heavy, 2));    // not an item loop
  EXPECT_FALSE(split_inner_programs(bounds(60, 5), &equal, heavy, 1));     // one worker
  EXPECT_FALSE(split_inner_programs(bounds(60, 1), &equal, heavy, 64));    // nothing to split
  // The longest of 61 items holds 30 of 330 rows, 1 / 11: split on three workers (at least
  // 1 / 12), not on two (1 / 8).
  std::vector<double> o = many_equal_items();
  o.push_back(o.back() + 30);
  const Tensor eleventh = offsets_of(o);
  EXPECT_FALSE(split_inner_programs(bounds(61, 5), &eleventh, heavy, 2));
  EXPECT_TRUE(split_inner_programs(bounds(61, 5), &eleventh, heavy, 3));
}

TEST(InnerPrograms, PerHeadSumsEqualTheInterpretersOnEveryPathAndThreadCount) {
  const Outcome many = run(kPerHeadSums, many_equal_items(), 5, Path::interp);
  for (int threads : {1, 2, 3}) {  // not split: each item's heads in one program
    const Outcome got = run(kPerHeadSums, many_equal_items(), 5, Path::cpu, threads);
    for (int64_t i = 0; i < many.out.numel(); ++i)
      EXPECT_EQ(got.out.item_as_double(i), many.out.item_as_double(i)) << "element " << i;
  }
  const std::vector<double> offsets = one_long_item();
  const Outcome want = run(kPerHeadSums, offsets, 5, Path::interp);
  // Two and three threads run each item's heads in one program (cheap pairs of ten items:
  // split_inner_programs); sixteen, more than the items, run every (item, head) pair as one.
  std::vector<std::pair<Path, int>> paths = {
      {Path::cpu, 1}, {Path::cpu, 2}, {Path::cpu, 3}, {Path::cpu, 16}};
#ifdef JAGTILE_HAVE_NVRTC
  paths.push_back({Path::cuda_emulated, 1});
#endif
  for (const auto& [path, threads] : paths) {
    const Outcome got = run(kPerHeadSums, offsets, 5, path, threads);
    EXPECT_TRUE(may_split(got)) << got.ir;
    ASSERT_EQ(got.out.numel(), want.out.numel());
    for (int64_t i = 0; i < want.out.numel(); ++i)
      EXPECT_EQ(got.out.item_as_double(i), want.out.item_as_double(i))
          << "element " << i << ", path " << int(path) << ", threads " << threads;
  }
}

TEST(InnerPrograms, NoHeadsStillRunTheOuterBodysLoadsAndFailAsTheInterpreterDoes) {
  // The item loop runs past the offsets: the load of offsets[i + 1] fails for the last item
  // whether or not any head runs after it.
  const std::string past_the_offsets =
      R"PY(    out = torch.zeros([B + 1, H], dtype=torch.float32, device=x.device)
    for i in hl.grid(B + 1):
        last = offsets[i + 1]
        for h in hl.grid(H):
            out[i, h] = x[last - 1, h]
    return out
)PY";
  for (int64_t heads : {int64_t(0), int64_t(2)}) {
    std::string want;
    try {
      run(past_the_offsets, {0, 2, 3}, heads, Path::interp);
    } catch (const UserError& e) {
      want = e.what();
    }
    ASSERT_NE(want.find("offsets"), std::string::npos) << heads << " heads: " << want;
    for (int threads : {1, 2}) {
      std::string got, ir;
      try {
        run(past_the_offsets, {0, 2, 3}, heads, Path::cpu, threads, &ir);
      } catch (const UserError& e) {
        got = e.what();
      }
      EXPECT_EQ(got, want) << heads << " heads, " << threads << " threads";
      EXPECT_NE(ir.find("programs also over h (0 .. $"), std::string::npos) << ir;
    }
  }
}

TEST(InnerPrograms, HeadsThatShareAStoreOrReadWhatTheyStoreStayInOneProgram) {
  const std::vector<double> offsets = {0, 3, 5};
  struct Case {
    const char* why;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"every head adds to the item's one element",
       R"PY(    out = torch.zeros([B], dtype=torch.float32, device=x.device)
    for i in hl.grid(B):
        for h in hl.grid(H):
            out[i] = out[i] + x[offsets[i], h]
    return out
)PY"},
      {"every head writes the item's one element, the last one wins",
       R"PY(    out = torch.zeros([B], dtype=torch.float32, device=x.device)
    for i in hl.grid(B):
        for h in hl.grid(H):
            out[i] = x[offsets[i], h]
    return out
)PY"},
      {"a head reads the element the head before it wrote",
       R"PY(    out = torch.zeros([B, H + 1], dtype=torch.float32, device=x.device)
    for i in hl.grid(B):
        for h in hl.grid(H):
            out[i, h + 1] = out[i, h] + x[offsets[i], h]
    return out
)PY"},
      {"the item loop stores before the head loop",
       R"PY(    out = torch.zeros([B, H], dtype=torch.float32, device=x.device)
    seen = torch.zeros([B], dtype=torch.float32, device=x.device)
    for i in hl.grid(B):
        seen[i] = 1.0
        for h in hl.grid(H):
            out[i, h] = x[offsets[i], h]
    return out
)PY"},
      {"the head loop is not the item loop's last statement",
       R"PY(    out = torch.zeros([B, H + 1], dtype=torch.float32, device=x.device)
    for i in hl.grid(B):
        for h in hl.grid(H):
            out[i, h] = x[offsets[i], h]
        out[i, H] = 1.0
    return out
)PY"},
  };
  for (const Case& c : cases) {
    const Outcome cpu = run(c.body, offsets, 3, Path::cpu, 2);
    EXPECT_FALSE(may_split(cpu)) << c.why << "\n" << cpu.ir;
    const Outcome want = run(c.body, offsets, 3, Path::interp);
    for (int64_t i = 0; i < want.out.numel(); ++i)
      EXPECT_EQ(cpu.out.item_as_double(i), want.out.item_as_double(i)) << c.why << ", " << i;
  }
  EXPECT_TRUE(may_split(run(kPerHeadSums, offsets, 3, Path::cpu, 2)));
}

TEST(InnerPrograms, MoreProgramsThanInt64HoldsIsAUserErrorBeforeAnyRuns) {
  use_shared_cache_dir();
  const std::string src = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel()
def pairs(x: torch.Tensor, n: int, m: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    for i in hl.grid(n):
        for h in hl.grid(m):
            out[i, h] = x[i, h]
    return out
)PY";
  Program p = Program::from_source(src, "pairs.py");
  const ArgMap args = {{"x", Tensor::from_doubles({2, 2}, {1, 2, 3, 4}, DType::f32)},
                       {"n", int64_t(1) << 40},
                       {"m", int64_t(1) << 24}};
  Options o;
  o.backend = Backend::cpu;
  try {
    p.call("", args, o);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the loop runs 1099511627776 iterations of 16777216 inner iterations "
                        "each: more than 2^63 programs"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("pairs.py:"), std::string::npos) << what;
    EXPECT_NE(what.find("split the work over several calls"), std::string::npos) << what;
  }
}

TEST(InnerPrograms, LongestFirstKeepsAnItemsProgramsTogetherInOrder) {
  // Items of lengths 3, 0, 7, two programs each.
  Tensor offsets = Tensor::from_doubles({4}, {0, 3, 3, 10}, DType::i64);
  host::NestBounds bounds;
  bounds.end = 3;
  bounds.per_outer = 2;
  bounds.programs = 6;
  EXPECT_EQ(codegen::cpu::longest_items_first(offsets, bounds, 2),
            (std::vector<int64_t>{4, 5, 0, 1, 2, 3}));
  // The limit of 64 per worker counts items, not programs.
  std::vector<double> many = {0};
  for (int i = 0; i < 100; ++i) many.push_back(many.back() + i % 3);
  bounds.end = 100;
  bounds.per_outer = 4;
  bounds.programs = 400;
  EXPECT_EQ(
      codegen::cpu::longest_items_first(Tensor::from_doubles({101}, many, DType::i64), bounds, 2)
          .size(),
      size_t(400));
}

TEST(InnerPrograms, TheLongestItemsRunAProgramPerChunkTheOthersAWholeItemPerChunk) {
  // Five items of three programs each on two workers: the first two items (the longest, in
  // longest-first order) one program per chunk, then one chunk per item.
  EXPECT_EQ(codegen::cpu::ordered_chunks(15, 3, 2),
            (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 9, 12, 15}));
  // One program per item: one per chunk.
  EXPECT_EQ(codegen::cpu::ordered_chunks(4, 1, 2), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(codegen::cpu::ordered_chunks(0, 3, 2), (std::vector<int64_t>{0}));
}

// The chunks' scheduler: every chunk runs once, and each call's next_position is the first
// position of the chunk its worker runs next (claimed before this one ran), -1 after its last.
TEST(InnerPrograms, EachChunksNextPositionIsTheChunkItsWorkerRunsNext) {
  const std::vector<int64_t> starts = {0, 1, 2, 3, 4, 5, 6, 9, 12, 15, 16, 20};
  const int64_t chunks = int64_t(starts.size()) - 1;
  for (int workers : {1, 2, 3})
    for (int round = 0; round < 20; ++round) {
      SCOPED_TRACE(std::to_string(workers) + " workers, round " + std::to_string(round));
      struct Call {
        int64_t begin, end, next;
      };
      std::mutex lock;
      std::map<int, std::vector<Call>> calls;  // by worker, in the order each ran them
      const JtCaptures captures{};
      codegen::cpu::run_chunks(
          codegen::cpu::pool_for(workers), workers, chunks,
          [&](int64_t c) { return starts[size_t(c)]; },
          [&](int worker, const JtCaptures* mine, int64_t begin, int64_t end) {
            std::lock_guard<std::mutex> hold(lock);
            calls[worker].push_back({begin, end, mine->next_position});
            return false;
          },
          captures);
      std::set<int64_t> begins;
      for (const auto& [worker, list] : calls) {
        for (size_t i = 0; i < list.size(); ++i) {
          EXPECT_TRUE(begins.insert(list[i].begin).second) << "chunk at " << list[i].begin;
          EXPECT_EQ(list[i].next, i + 1 < list.size() ? list[i + 1].begin : -1)
              << "worker " << worker << ", its call " << i;
        }
      }
      EXPECT_EQ(begins, std::set<int64_t>(starts.begin(), starts.end() - 1));
    }
}

// A worker stops at the first chunk that fails; the chunk it had claimed next is not run.
TEST(InnerPrograms, AFailedChunkStopsItsWorker) {
  int runs = 0;
  const JtCaptures captures{};
  codegen::cpu::run_chunks(
      codegen::cpu::pool_for(1), 1, 5, [](int64_t c) { return c; },
      [&](int, const JtCaptures*, int64_t begin, int64_t) {
        ++runs;
        return begin == 2;
      },
      captures);
  EXPECT_EQ(runs, 3);
}

}  // namespace
}  // namespace jagtile::testing
