// The fully-written analysis (analysis/fully_written.h): which torch.zeros / torch.full outputs a
// kernel overwrites completely, so that the generic backends allocate them unfilled. Each case
// names the condition it tests; the positive ones also run on the CPU backend and the emulated
// CUDA backend against the interpreter with JAGTILE_POISON_UNFILLED=1 (set for every test by
// CMake), where an element left unwritten would read as NaN.
#include "analysis/fully_written.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "helpers.h"
#include "testing/compare.h"

namespace jagtile::dispatch_test {
namespace {

// A padded copy: out[b, l, d] = values[offsets[b] + l, d] inside each item, 0 past it. ALLOC is
// the allocation line's right-hand side; STORE the store line; OUTER wraps the loops.
std::string padded(const std::string& alloc = "torch.zeros([B, L, D], dtype=values.dtype)",
                   const std::string& store = "out[tile_b, tile_l, tile_d] = x") {
  return header() +
         "def k(values: torch.Tensor, offsets: torch.Tensor, L: int) -> torch.Tensor:\n"
         "    D = values.size(1)\n"
         "    B = offsets.size(0) - 1\n"
         "    out = " +
         alloc +
         "\n"
         "    for tile_b in hl.tile(B):\n"
         "        starts = offsets[tile_b]\n"
         "        nnz = offsets[tile_b.index + 1] - starts\n"
         "        for tile_l in hl.tile(L):\n"
         "            in_item = tile_l.index[None, :] < nnz[:, None]\n"
         "            rows = starts[:, None] + tile_l.index[None, :]\n"
         "            for tile_d in hl.tile(D):\n"
         "                x = hl.load(values, [rows[:, :, None], tile_d.index[None, None, :]],\n"
         "                            extra_mask=in_item[:, :, None])\n"
         "                " +
         store +
         "\n"
         "    return out\n";
}

ArgMap padded_args() {
  std::vector<double> v;
  for (int i = 0; i < 13 * 3; ++i) v.push_back(0.25 * i - 3);
  return {{"values", Tensor::from_doubles({13, 3}, v, DType::f32)},
          {"offsets", Tensor::from_doubles({5}, {0, 4, 4, 13, 13}, DType::i64)},
          {"L", int64_t(6)}};
}

// The names of the allocations the analysis lists.
std::vector<std::string> fully_written(const std::string& source, const ArgMap& args) {
  ir::Kernel k = lower(source, args);
  std::vector<std::string> names;
  for (const ir::Node* n : analysis::fully_written_allocations(k)) names.push_back(n->name);
  std::sort(names.begin(), names.end());
  return names;
}

const std::vector<std::string> kOut = {"out"};
const std::vector<std::string> kNone = {};

TEST(FullyWritten, ZerosCoveredByOneStoreOverTileLoopsFromZeroToEachSize) {
  EXPECT_EQ(fully_written(padded(), padded_args()), kOut);
}

TEST(FullyWritten, FullIsListedLikeZeros) {
  EXPECT_EQ(fully_written(padded("torch.full([B, L, D], 7.0, dtype=values.dtype)"), padded_args()),
            kOut);
}

TEST(FullyWritten, ReductionOutputStoredAfterItsJaggedLoopIsListed) {
  // The store sits after the jagged loop, inside the item and column loops only.
  EXPECT_EQ(fully_written(direct_sum(), small_args()), kOut);
}

TEST(FullyWritten, EmptyIsNotListedItHasNoFillToDrop) {
  EXPECT_EQ(fully_written(padded("torch.empty([B, L, D], dtype=values.dtype)"), padded_args()),
            kNone);
}

TEST(FullyWritten, StoreWithExtraMaskIsNotACover) {
  EXPECT_EQ(fully_written(padded("torch.zeros([B, L, D], dtype=values.dtype)",
                                 "hl.store(out, [tile_b, tile_l, tile_d], x, "
                                 "extra_mask=in_item[:, :, None])"),
                          padded_args()),
            kNone);
}

TEST(FullyWritten, AnOutputThatIsAlsoReadIsNotListed) {
  EXPECT_EQ(fully_written(padded("torch.zeros([B, L, D], dtype=values.dtype)",
                                 "out[tile_b, tile_l, tile_d] = out[tile_b, tile_l, tile_d] + x"),
                          padded_args()),
            kNone);
}

TEST(FullyWritten, StoreThroughGatheredRowsIsNotACover) {
  // Only the rows of items are written: the first index is a computed row, not a tile index.
  std::string src = header() +
                    "def k(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:\n"
                    "    N, D = values.size()\n"
                    "    B = offsets.size(0) - 1\n"
                    "    out = torch.zeros([N, D], dtype=values.dtype)\n"
                    "    for tile_b in hl.tile(B):\n"
                    "        starts = offsets[tile_b]\n"
                    "        nnz = offsets[tile_b.index + 1] - starts\n"
                    "        for tile_k in hl.jagged_tile(nnz):\n"
                    "            rows = starts[:, None] + tile_k.index[None, :]\n"
                    "            for tile_d in hl.tile(D):\n"
                    "                out[rows, tile_d] = values[rows, tile_d] * 2\n"
                    "    return out\n";
  ArgMap args = padded_args();
  args.erase("L");
  EXPECT_EQ(fully_written(src, args), kNone);
}

// Loops that do not cover, or control around the store that may skip it.
std::string two_d(const std::string& alloc, const std::string& loops, const std::string& store,
                  const std::string& indent) {
  return header() +
         "def k(x: torch.Tensor) -> torch.Tensor:\n"
         "    M, D = x.size()\n"
         "    out = " +
         alloc + "\n" + loops + indent + store + "\n    return out\n";
}

ArgMap two_d_args() {
  return {{"x", Tensor::from_doubles({3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, DType::f32)}};
}

const char* kZeros = "torch.zeros([M, D], dtype=x.dtype)";
const char* kStore = "out[tm, td] = x[tm, td] + 1";

TEST(FullyWritten, TwoDimensionalCoverIsListed) {
  EXPECT_EQ(fully_written(two_d(kZeros, "    for tm, td in hl.tile([M, D]):\n", kStore, "        "),
                          two_d_args()),
            kOut);
}

TEST(FullyWritten, GridLoopIndexCovers) {
  std::string loops = "    for i in hl.grid(M):\n        for td in hl.tile(D):\n";
  EXPECT_EQ(fully_written(two_d(kZeros, loops, "out[i, td] = x[i, td] + 1", "            "),
                          two_d_args()),
            kOut);
}

TEST(FullyWritten, LoopStartingPastZeroIsNotACover) {
  std::string loops = "    for tm in hl.tile(1, M):\n        for td in hl.tile(D):\n";
  EXPECT_EQ(fully_written(two_d(kZeros, loops, kStore, "            "), two_d_args()), kNone);
}

TEST(FullyWritten, LoopOverAnotherSizeIsNotACover) {
  EXPECT_EQ(fully_written(two_d("torch.zeros([M + 1, D], dtype=x.dtype)",
                                "    for tm, td in hl.tile([M, D]):\n", kStore, "        "),
                          two_d_args()),
            kNone);
}

TEST(FullyWritten, StoreUnderABranchIsNotACover) {
  std::string loops = "    for tm, td in hl.tile([M, D]):\n        if D > 1:\n";
  EXPECT_EQ(fully_written(two_d(kZeros, loops, kStore, "            "), two_d_args()), kNone);
}

TEST(FullyWritten, AnotherLoopAroundTheStoreIsNotACover) {
  // A loop the indices do not use could run zero times and skip the store.
  std::string loops = "    for tm, td in hl.tile([M, D]):\n        for tk in hl.tile(M):\n";
  EXPECT_EQ(fully_written(two_d(kZeros, loops, kStore, "            "), two_d_args()), kNone);
}

TEST(FullyWritten, AnOutputReadThroughAViewIsNotListed) {
  // Each element adds its own initial value, read through a flat view of the output.
  std::string src = header() +
                    "def k(x: torch.Tensor) -> torch.Tensor:\n"
                    "    M, D = x.size()\n"
                    "    out = torch.zeros([M, D], dtype=x.dtype)\n"
                    "    flat = out.view(-1)\n"
                    "    for tm, td in hl.tile([M, D]):\n"
                    "        at = tm.index[:, None] * D + td.index[None, :]\n"
                    "        out[tm, td] = x[tm, td] + flat[at]\n"
                    "    return out\n";
  EXPECT_EQ(fully_written(src, two_d_args()), kNone);
}

// The listed output, allocated unfilled (and poisoned with NaN by the test environment), holds
// what the interpreter's zero-filled one does, pad rows included, on the CPU and emulated CUDA.
TEST(FullyWritten, UnfilledOutputMatchesTheInterpreterOnGeneratedBackends) {
  ASSERT_STREQ(std::getenv("JAGTILE_POISON_UNFILLED"), "1") << "CMake sets it for every test";
  Program p = Program::from_source(padded(), "padded.py");
  Options interp;
  interp.backend = Backend::interp;
  const Tensor want = p.call("k", padded_args(), interp).outputs.at(0);
  Options cpu;
  cpu.backend = Backend::cpu;
  Comparison c = compare_tensors(p.call("k", padded_args(), cpu).outputs.at(0), want, {});
  EXPECT_TRUE(c.ok) << "cpu: " << c.mismatch;
  ::setenv("JAGTILE_CUDA_EMULATION", "1", 1);
  Options cuda;
  cuda.backend = Backend::cuda;
  c = compare_tensors(p.call("k", padded_args(), cuda).outputs.at(0), want, {});
  ::unsetenv("JAGTILE_CUDA_EMULATION");
  EXPECT_TRUE(c.ok) << "cuda-emulated: " << c.mismatch;
}

}  // namespace
}  // namespace jagtile::dispatch_test
