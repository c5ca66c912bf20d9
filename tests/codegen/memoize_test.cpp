// Tile loads memoised across an outer tile loop (plan/pass_memoize.h): in a causal loop nest,
// `y[tile_k]` inside `for tile_k in hl.tile(first, tile_q.end)` is the same block for every
// query tile, so the generated C++ copies each block once into a direct-mapped cache in front of
// the query loop. These tests pin when it applies, and that it writes what the interpreter writes
// with equal and unequal block sizes (a block first used with fewer rows than later), with more
// blocks than the cache has slots (refills), and that an out-of-bounds load is still the
// interpreter's located error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "causal_kernel.h"
#include "paths.h"
#include "testing/compare.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;

std::string cpu_source(const std::string& source, const ArgMap& args) {
  use_shared_cache_dir();
  Program p = Program::from_source(source, "causal.py");
  return p.specialise("causal", args, cpu_options()).source(Backend::cpu);
}

TEST(Memoize, AKeyBlockLoadIsCachedInFrontOfTheQueryLoop) {
  const std::string src = cpu_source(causal_source("[4, 4]"), causal_args());
  EXPECT_THAT(src, HasSubstr("memo_block0[(id"));
  EXPECT_THAT(src, HasSubstr("memo0"));
}

// Helion's pretuned HSTU bounds its key loop with Python's min: min(last, tile_q.end) is the
// tile's end (tile_q runs to `last`), so the nest is the same as with tile_q.end, memoised.
TEST(Memoize, AKeyLoopBoundedByMinOfTheQueryEndIsTheSameNest) {
  std::string with_min = causal_source("[4, 4]");
  const std::string plain = "hl.tile(first, tile_q.end)";
  with_min.replace(with_min.find(plain), plain.size(), "hl.tile(first, min(last, tile_q.end))");
  std::string other_bound = causal_source("[4, 4]");
  other_bound.replace(other_bound.find(plain), plain.size(), "hl.tile(first, min(B, tile_q.end))");
  const std::string memoised = cpu_source(causal_source("[4, 4]"), causal_args());
  std::string generated = cpu_source(with_min, causal_args());
  EXPECT_THAT(generated, HasSubstr("memo_block0[(id"));
  // The same code but for the source line quoted in a comment.
  const std::string quoted = "min(last, tile_q.end)";
  generated.replace(generated.find(quoted), quoted.size(), "tile_q.end");
  EXPECT_EQ(generated, memoised);
  // min with another bound stays a minimum: the key range is no longer the query block's.
  EXPECT_THAT(cpu_source(other_bound, causal_args()), ::testing::Not(HasSubstr("memo_block")));
}

// A load that depends on the query tile, or of a tensor the kernel stores to, is not cached.
TEST(Memoize, LoadsThatChangeAcrossTheQueryLoopAreNotCached) {
  const std::string moving =
      cpu_source(causal_source("[4, 4]", "y[tile_k, :] + x[tile_q, :].sum(dim=0)"), causal_args());
  EXPECT_THAT(moving, ::testing::Not(HasSubstr("memo_block")));
  std::string stored = causal_source("[4, 4]");
  const std::string store = "            out[tile_q, :] = acc\n";
  stored.insert(stored.find(store) + store.size(), "            y[tile_q, :] = acc\n");
  EXPECT_THAT(cpu_source(stored, causal_args()), ::testing::Not(HasSubstr("memo_block")));
}

class MemoizePaths : public ::testing::TestWithParam<Path> {};

// Equal blocks; query blocks smaller than key blocks (a key block is first used with fewer rows
// than the query tile's end later allows); larger; and, with the cache cut to 16 rows
// (JAGTILE_MEMO_ROWS), blocks of 2 sharing 8 slots: the long item's 300 blocks refill them.
TEST_P(MemoizePaths, WritesWhatTheInterpreterWritesForEveryBlockShape) {
  const ArgMap args = causal_args();
  for (const char* rows : {"", "16"})
    for (const char* blocks : {"[4, 4]", "[3, 2]", "[2, 8]", "[16, 2]", "[64, 64]"}) {
      SCOPED_TRACE(std::string(blocks) + " cache rows " + rows);
      ScopedEnv cache_rows("JAGTILE_MEMO_ROWS", *rows ? rows : nullptr);
      EXPECT_NE(cpu_source(causal_source(blocks), args).find("memo_block0["), std::string::npos)
          << "the key block is not cached";
      const Tensor want = run_on(Path::interp, causal_source(blocks), args).at(0);
      const Tensor got = run_on(GetParam(), causal_source(blocks), args).at(0);
      Comparison cmp = compare_tensors(got, want, Tolerance{});
      EXPECT_TRUE(cmp.ok) << cmp.mismatch;
    }
}

// The reverse nest, as Helion's pretuned HSTU dK / dV kernel writes it: keys from the query tile
// on (`hl.tile(tile_q.begin, last)`). With equal block sizes the key blocks lie on the query
// loop's grid and are cached by their id counted from `first`; with unequal ones they do not,
// and nothing is cached. Both write what the interpreter writes, the long item refilling slots
// when the cache is cut to 16 rows.
TEST_P(MemoizePaths, KeysFromTheQueryTileOnAreCachedOnTheQueryGrid) {
  const ArgMap args = causal_args();
  for (const char* rows : {"", "16"})
    for (const char* blocks : {"[4, 4]", "[64, 64]", "[4, 8]"}) {
      SCOPED_TRACE(std::string(blocks) + " cache rows " + rows);
      ScopedEnv cache_rows("JAGTILE_MEMO_ROWS", *rows ? rows : nullptr);
      std::string src = causal_source(blocks);
      const std::string causal_keys = "hl.tile(first, tile_q.end)";
      src.replace(src.find(causal_keys), causal_keys.size(), "hl.tile(tile_q.begin, last)");
      src.replace(src.find("tile_q.index[:, None] >= tile_k.index[None, :]"), 46,
                  "tile_q.index[:, None] <= tile_k.index[None, :]");
      const bool equal_blocks = std::string(blocks) != "[4, 8]";
      EXPECT_EQ(cpu_source(src, args).find("memo_block0[") != std::string::npos, equal_blocks);
      const Tensor want = run_on(Path::interp, src, args).at(0);
      const Tensor got = run_on(GetParam(), src, args).at(0);
      Comparison cmp = compare_tensors(got, want, Tolerance{});
      EXPECT_TRUE(cmp.ok) << cmp.mismatch;
    }
}

INSTANTIATE_TEST_SUITE_P(Paths, MemoizePaths, ::testing::Values(Path::cpu, Path::cpu_unchecked),
                         [](const ::testing::TestParamInfo<Path>& p) {
                           return path_name(p.param);
                         });

// Rows of 2048 floats: the cache for a 140-row item would take 1.7 MiB, past the 1 MiB that
// stays in L2, so at run time it has one slot, refilled for every block; same results.
TEST_P(MemoizePaths, ACacheTooLargeForL2KeepsOneSlotAndTheSameResults) {
  const int64_t n = 140, d = 2048;
  std::vector<double> x, y;
  for (int64_t i = 0; i < n * d; ++i) {
    x.push_back(double(i % 3) - 1.0);
    y.push_back(double((i * 7) % 5 % 3) - 1.0);
  }
  const ArgMap args = {{"x", Tensor::from_doubles({n, d}, x, DType::f32)},
                       {"y", Tensor::from_doubles({n, d}, y, DType::f32)},
                       {"offsets", Tensor::from_doubles({3}, {0, 3, double(n)}, DType::i64)}};
  const std::string source = causal_source("[16, 16]");
  EXPECT_NE(cpu_source(source, args).find("memo_mask0"), std::string::npos);
  const Tensor want = run_on(Path::interp, source, args).at(0);
  Comparison cmp = compare_tensors(run_on(GetParam(), source, args).at(0), want, Tolerance{});
  EXPECT_TRUE(cmp.ok) << cmp.mismatch;
}

// Offsets past y's end: the cached load's check (on its fill) names the element the interpreter
// names.
TEST(Memoize, AnOutOfBoundsCachedLoadIsTheInterpretersLocatedError) {
  use_shared_cache_dir();
  ArgMap args = causal_args();
  const int64_t rows = std::get<Tensor>(args.at("x")).size(0);
  std::vector<double> short_y(size_t(4 * (rows - 5)), 1.0);
  args["y"] = Tensor::from_doubles({rows - 5, 4}, short_y, DType::f32);
  Program p = Program::from_source(causal_source("[4, 4]"), "causal.py");
  Options interp;
  interp.backend = Backend::interp;
  const std::string want = error_of(p, "causal", args, interp);
  EXPECT_THAT(want, HasSubstr("tensor 'y'"));
  EXPECT_EQ(error_of(p, "causal", args, cpu_options()), want);
}

}  // namespace
}  // namespace jagtile::testing
