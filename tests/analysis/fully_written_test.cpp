// The fully-written analysis (analysis/fully_written.h): which torch.zeros / torch.full outputs a
// kernel overwrites completely, so that the generic backends allocate them unfilled. Each case
// names the condition it tests; the positive ones also run on the CPU backend and the emulated
// CUDA backend against the interpreter with JAGTILE_POISON_UNFILLED=1 (set for every test by
// CMake), where an element left unwritten would read as NaN.
#include "analysis/fully_written.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "helpers.h"
#include "host/host_exec.h"
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

// Two stores that split the columns at a value m, as Helion's jagged_dense_add writes them: the
// item's own columns [0, m) with the jagged values added, then y alone from m on. SECOND_LOOP
// is the second loop's range.
std::string split_columns(const std::string& second_loop = "hl.tile(m, out.size(1))") {
  return header() +
         "def k(x: torch.Tensor, offsets: torch.Tensor, y: torch.Tensor) -> torch.Tensor:\n"
         "    B = y.size(0)\n"
         "    out = torch.zeros_like(y)\n"
         "    for tile_b in hl.tile(B):\n"
         "        starts = offsets[tile_b]\n"
         "        nnz = offsets[tile_b.index + 1] - starts\n"
         "        m = nnz.amax()\n"
         "        for tile_c in hl.tile(0, m):\n"
         "            xs = hl.load(x, [starts[:, None] + tile_c.index[None, :]],\n"
         "                         extra_mask=tile_c.index[None, :] < nnz[:, None])\n"
         "            out[tile_b, tile_c] = y[tile_b, tile_c] + xs\n"
         "        for tile_c in " +
         second_loop +
         ":\n"
         "            out[tile_b, tile_c] = y[tile_b, tile_c]\n"
         "    return out\n";
}

ArgMap split_args() {
  std::vector<double> x, y;
  for (int i = 0; i < 9; ++i) x.push_back(0.5 * i - 1);
  for (int i = 0; i < 4 * 5; ++i) y.push_back(i - 7.25);
  return {{"x", Tensor::from_doubles({9}, x, DType::f32)},
          {"offsets", Tensor::from_doubles({5}, {0, 3, 3, 8, 9}, DType::i64)},
          {"y", Tensor::from_doubles({4, 5}, y, DType::f32)}};
}

TEST(FullyWritten, TwoStoresSplittingTheColumnsAtOneValueCoverTogether) {
  EXPECT_EQ(fully_written(split_columns(), split_args()), kOut);
  EXPECT_EQ(fully_written(split_columns("hl.tile(m, y.size(1))"), split_args()), kOut);
}

TEST(FullyWritten, TwoStoresLeavingAGapOrStoppingShortAreNoCover) {
  EXPECT_EQ(fully_written(split_columns("hl.tile(m + 1, out.size(1))"), split_args()), kNone);
  EXPECT_EQ(fully_written(split_columns("hl.tile(m, out.size(1) - 1)"), split_args()), kNone);
}

TEST(FullyWritten, SplitColumnsOutputMatchesTheInterpreterOnGeneratedBackends) {
  Program p = Program::from_source(split_columns(), "split.py");
  Options interp;
  interp.backend = Backend::interp;
  const Tensor want = p.call("k", split_args(), interp).outputs.at(0);
  for (Backend b : {Backend::cpu, Backend::cuda}) {
    if (b == Backend::cuda) ::setenv("JAGTILE_CUDA_EMULATION", "1", 1);
    Options o;
    o.backend = b;
    Comparison c = compare_tensors(p.call("k", split_args(), o).outputs.at(0), want, {});
    ::unsetenv("JAGTILE_CUDA_EMULATION");
    EXPECT_TRUE(c.ok) << backend_name(b) << ": " << c.mismatch;
  }
}

// A jagged output: rows [offsets[b], offsets[b + 1]) of each item, written through a flat view
// (`(starts + k) * M + m`, as Helion's jagged_softmax writes it) or by row (`out[rows, tile_m]`).
// ALLOC and the lines before it are replaced by the negative cases.
std::string item_rows(const std::string& store = "hl.store(out, [at], hl.load(flat, [at]) * 2)",
                      const std::string& alloc = "torch.zeros(N * M, dtype=values.dtype)",
                      const std::string& item_loop = "hl.tile(B)") {
  return header() +
         "def k(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:\n"
         "    N = int(offsets[-1].item())\n"
         "    B = offsets.size(0) - 1\n"
         "    M = values.size(1)\n"
         "    out = " +
         alloc +
         "\n"
         "    flat = values.view(-1)\n"
         "    for tile_b in " +
         item_loop +
         ":\n"
         "        starts = offsets[tile_b]\n"
         "        nnz = offsets[tile_b.index + 1] - starts\n"
         "        for tile_m in hl.tile(M):\n"
         "            for tile_k in hl.jagged_tile(nnz):\n"
         "                rows = starts[:, None] + tile_k.index[None, :]\n"
         "                at = rows[:, :, None] * M + tile_m.index[None, None, :]\n"
         "                " +
         store +
         "\n"
         "    return out.reshape(-1, M)\n";
}

const char* kByRow = "out[rows, tile_m] = values[rows, tile_m] * 2";
const char* kRowsAlloc = "torch.zeros([N, M], dtype=values.dtype)";

// "out: x_offsets, rows of S" per allocation the item analysis lists.
std::vector<std::string> item_covered(const std::string& source, const ArgMap& args) {
  ir::Kernel k = lower(source, args);
  std::vector<std::string> out;
  for (const analysis::ItemRowsCover& c : analysis::item_covered_allocations(k))
    out.push_back(c.alloc->name + ": " + k.params.at(size_t(c.offsets_param)).name +
                  (c.row_length ? ", rows of " + c.row_length->name : ""));
  return out;
}

ArgMap item_args(std::vector<double> offsets = {0, 4, 4, 13, 13}) {
  ArgMap args = padded_args();
  args.erase("L");
  args["offsets"] = Tensor::from_doubles({int64_t(offsets.size())}, offsets, DType::i64);
  return args;
}

TEST(FullyWrittenByItems, FlatStoreOfEveryItemsRowsIsListedWithItsRowLength) {
  EXPECT_EQ(item_covered(item_rows(), item_args()),
            std::vector<std::string>{"out: offsets, rows of M"});
  EXPECT_EQ(fully_written(item_rows(), item_args()), kNone) << "not unconditionally";
}

TEST(FullyWrittenByItems, StoreByRowIsListedWithoutARowLength) {
  EXPECT_EQ(item_covered(item_rows(kByRow, kRowsAlloc), item_args()),
            std::vector<std::string>{"out: offsets"});
}

TEST(FullyWrittenByItems, ItemLoopStartingPastZeroIsNotACover) {
  EXPECT_EQ(item_covered(item_rows(kByRow, kRowsAlloc, "hl.tile(1, B)"), item_args()), kNone);
}

TEST(FullyWrittenByItems, StoreWithExtraMaskIsNotACover) {
  EXPECT_EQ(item_covered(item_rows("hl.store(out, [rows, tile_m], values[rows, tile_m], "
                                   "extra_mask=(rows > 2)[:, :, None])",
                                   kRowsAlloc),
                         item_args()),
            kNone);
}

TEST(FullyWrittenByItems, FlatStoreWithAnotherRowStrideIsNotACover) {
  EXPECT_EQ(item_covered(item_rows("hl.store(out, [rows[:, :, None] * (M + 1) + "
                                   "tile_m.index[None, None, :]], values[rows, tile_m])",
                                   "torch.zeros(N * (M + 1), dtype=values.dtype)"),
                         item_args()),
            kNone);
}

TEST(FullyWrittenByItems, ColumnLoopOverAnotherSizeIsNotACover) {
  EXPECT_EQ(
      item_covered(item_rows(kByRow, "torch.zeros([N, M + 1], dtype=values.dtype)"), item_args()),
      kNone);
}

TEST(FullyWrittenByItems, AnOutputThatIsAlsoReadIsNotListed) {
  EXPECT_EQ(
      item_covered(item_rows("out[rows, tile_m] = out[rows, tile_m] + 1", kRowsAlloc), item_args()),
      kNone);
}

TEST(FullyWrittenByItems, ItemCountComputedAfterTheAllocationIsNotListed) {
  // The executor decides at the allocation, so the loop's end must be known by then.
  std::string src = item_rows(kByRow, kRowsAlloc, "hl.tile(C)");
  src.replace(src.find("    flat ="), 0, "    C = offsets.size(0) - 1\n");
  EXPECT_EQ(item_covered(src, item_args()), kNone);
}

// Runs only the host part of `source` (no device nest) as the CPU backend does: an output left
// unfilled reads as the test environment's NaN poison, a filled one as zeros.
Tensor host_part_only(const std::string& source, const ArgMap& args) {
  Program p = Program::from_source(source, "items.py");
  const runtime::ProgramState& ps = p.state();
  runtime::BoundArgs bound = ps.bind(0, args);
  std::shared_ptr<const runtime::Specialisation> spec = ps.specialise(0, bound, Options{});
  struct Skip : host::NestRunner {
    void run_nest(const host::DeviceNest&, const host::HostEnv&) override {}
  } skip;
  host::ExecOptions exec;
  exec.overwritten = &spec->fully_written;
  exec.overwritten_when_items_cover = &spec->written_when_items_cover;
  return host::run_host(spec->host, bound.values, skip, exec).at(0);
}

TEST(FullyWrittenByItems, FillIsSkippedOnlyOnCallsWhoseOffsetsCoverTheOutput) {
  ASSERT_STREQ(std::getenv("JAGTILE_POISON_UNFILLED"), "1") << "CMake sets it for every test";
  for (const char* store : {"hl.store(out, [at], hl.load(flat, [at]) * 2)", kByRow}) {
    const std::string alloc =
        store == kByRow ? kRowsAlloc : "torch.zeros(N * M, dtype=values.dtype)";
    const std::string src = item_rows(store, alloc);
    EXPECT_TRUE(std::isnan(host_part_only(src, item_args()).item_as_double(0))) << store;
    // Rows before offsets[0]: the store misses them, so the zeros stay.
    EXPECT_EQ(host_part_only(src, item_args({2, 4, 4, 13, 13})).item_as_double(0), 0) << store;
  }
  // Rows past the last offset (the output sized by the values, not the offsets).
  const std::string by_values =
      item_rows(kByRow, "torch.zeros([values.size(0), M], dtype=values.dtype)");
  EXPECT_TRUE(std::isnan(host_part_only(by_values, item_args()).item_as_double(0)));
  EXPECT_EQ(host_part_only(by_values, item_args({0, 4, 4, 11, 11})).item_as_double(0), 0);
}

// Every case above, run in full: the generated backends' output equals the interpreter's.
TEST(FullyWrittenByItems, OutputsMatchTheInterpreterOnGeneratedBackendsForEveryOffsets) {
  const std::string by_values =
      item_rows(kByRow, "torch.zeros([values.size(0), M], dtype=values.dtype)");
  for (const std::string& src : {item_rows(), item_rows(kByRow, kRowsAlloc), by_values}) {
    Program p = Program::from_source(src, "items.py");
    for (std::vector<double> offsets : std::vector<std::vector<double>>{
             {0, 4, 4, 13, 13}, {2, 4, 4, 13, 13}, {0, 4, 4, 11, 11}, {0}}) {
      const ArgMap args = item_args(offsets);
      Options interp;
      interp.backend = Backend::interp;
      const Tensor want = p.call("k", args, interp).outputs.at(0);
      for (Backend b : {Backend::cpu, Backend::cuda}) {
        if (b == Backend::cuda) ::setenv("JAGTILE_CUDA_EMULATION", "1", 1);
        Options o;
        o.backend = b;
        Comparison c = compare_tensors(p.call("k", args, o).outputs.at(0), want, {});
        ::unsetenv("JAGTILE_CUDA_EMULATION");
        EXPECT_TRUE(c.ok) << backend_name(b) << " offsets[0] " << offsets[0] << ": " << c.mismatch;
      }
    }
  }
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
