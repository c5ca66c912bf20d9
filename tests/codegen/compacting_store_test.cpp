// Stream compaction in generated C++: a masked store at `x + torch.cumsum(keep) + c` under the
// mask `keep` sends the kept values of a row to consecutive elements, which the printer writes by
// packing them (jt_compact_store: a compress and a masked store per vector on AVX-512, a
// permutation table on AVX2, a branch-free loop otherwise) instead of one masked scatter per
// element, and the checked path bounds by the first and last kept index only. Values loaded
// along a tensor's row are packed straight from it (jt_compact_store_row), and a running count
// read only there and by the checks is kept as the mask's bits (a counted scan) instead of being
// filled in. These tests pin that each form is chosen exactly for its shape, and that it writes
// what the interpreter writes for every storage size (the vector paths take 8- and 4-byte
// values, the loop the rest), every row length around the vector widths and the 64-value chunks,
// all / none / some kept, several block shapes, and that the checked path still reports an
// out-of-bounds kept element as the interpreter does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "paths.h"
#include "testing/compare.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;

// `BLOCKS`, `INDEX` and `SLACK` are filled in per test. The output is SLACK (3 unless a test says)
// longer than the kept values and starts at -7, so shifted destinations and untouched elements
// both show.
const char* kCompact = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=BLOCKS))
def compact(values: torch.Tensor, mask: torch.Tensor, other: torch.Tensor, offsets: torch.Tensor,
            out_offsets: torch.Tensor, shift: int) -> torch.Tensor:
    B = offsets.size(0) - 1
    total = out_offsets[-1].item()
    out = torch.full([total + SLACK], -7, dtype=values.dtype, device=values.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        first = out_offsets[tile_b]
        before = hl.zeros([tile_b], dtype=torch.int64)
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            keep = mask[rows]
            upto = torch.cumsum(keep, dim=1)
            dest = INDEX
            hl.store(out, [dest], VALUE, extra_mask=keep)
            before = before + keep.to(torch.int64).sum(dim=1)
    return out
)PY";

const char* kCompactIndex = "first[:, None] + before[:, None] + upto + shift";
// The kept values loaded along their row, and the same values computed (a select of two loads).
const char* kRowValue = "values[rows]";
const char* kComputedValue = "torch.where(keep, values[rows], values[rows])";

std::string kernel_source(const std::string& blocks, const std::string& index = kCompactIndex,
                          const std::string& slack = "3", const std::string& value = kRowValue) {
  std::string s = kCompact;
  s.replace(s.find("BLOCKS"), 6, blocks);
  s.replace(s.find("INDEX"), 5, index);
  s.replace(s.find("SLACK"), 5, slack);
  s.replace(s.find("VALUE"), 5, value);
  return s;
}

// Rows of lengths around the vector widths (4, 8) and the 64-value chunks, one kept entirely, one
// not at all, the rest about half, in a fixed pseudo-random pattern.
struct Rows {
  std::vector<int64_t> lengths = {0, 1, 3, 4, 5, 7, 8, 9, 31, 63, 64, 65, 100, 130, 300, 2, 0, 17};
  std::vector<double> mask, other;
  std::vector<int64_t> offsets{0}, out_offsets{0};

  Rows() {
    uint64_t state = 12345;
    for (size_t b = 0; b < lengths.size(); ++b) {
      int64_t kept = 0;
      for (int64_t r = 0; r < lengths[b]; ++r) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const bool k = b == 9 ? true : b == 10 ? false : (state >> 33) % 2 == 1;
        mask.push_back(k ? 1 : 0);
        other.push_back((state >> 40) % 3 == 0 ? 1 : 0);
        kept += k;
      }
      offsets.push_back(offsets.back() + lengths[b]);
      out_offsets.push_back(out_offsets.back() + kept);
    }
  }
  int64_t n() const { return offsets.back(); }

  ArgMap args(DType dtype, int64_t shift) const {
    std::vector<double> values;
    for (int64_t i = 0; i < n(); ++i) values.push_back(double((i * 37) % 101) - 40.5);
    std::vector<double> offs(offsets.begin(), offsets.end()),
        outs(out_offsets.begin(), out_offsets.end());
    return {{"values", Tensor::from_doubles({n()}, values, dtype)},
            {"mask", Tensor::from_doubles({n()}, mask, DType::boolean)},
            {"other", Tensor::from_doubles({n()}, other, DType::boolean)},
            {"offsets", Tensor::from_doubles({int64_t(offs.size())}, offs, DType::i64)},
            {"out_offsets", Tensor::from_doubles({int64_t(outs.size())}, outs, DType::i64)},
            {"shift", shift}};
  }
};

// The generated C++ of the kernel's main store loop.
std::string cpu_source(const std::string& source, const ArgMap& args) {
  use_shared_cache_dir();
  Program p = Program::from_source(source, "compact.py");
  return p.specialise("compact", args, cpu_options()).source(Backend::cpu);
}

TEST(CompactingStore, ACumsumIndexUnderItsOwnMaskIsPacked) {
  const Rows rows;
  for (const char* blocks : {"[1, 64]", "[2, 16]", "[4, 8]", "[1, 128]"}) {
    EXPECT_THAT(cpu_source(kernel_source(blocks), rows.args(DType::f32, -1)),
                HasSubstr("jt_compact_store_row(&(("))
        << blocks;
    EXPECT_THAT(cpu_source(kernel_source(blocks, kCompactIndex, "3", kComputedValue),
                           rows.args(DType::f32, -1)),
                HasSubstr("jt_compact_store(&(("))
        << blocks;
  }
}

// Values loaded along their row are packed from the tensor (no chunk array of values); computed
// ones go through the chunk array.
TEST(CompactingStore, KeptValuesLoadedAlongTheirRowArePackedFromTheTensor) {
  const Rows rows;
  const std::string row = cpu_source(kernel_source("[1, 64]"), rows.args(DType::i64, -1));
  EXPECT_THAT(row, HasSubstr("jt_compact_store_row(&(("));
  EXPECT_THAT(row, ::testing::Not(HasSubstr("alignas(64) int64_t jt_v")));
  const std::string computed = cpu_source(
      kernel_source("[1, 64]", kCompactIndex, "3", kComputedValue), rows.args(DType::i64, -1));
  EXPECT_THAT(computed, ::testing::Not(HasSubstr("jt_compact_store_row(&((")));
  EXPECT_THAT(computed, HasSubstr("alignas(64) int64_t jt_v"));
}

// The mask `keep` is a bool tile array: each chunk's mask bytes are read where the array holds
// them, and with the values from their row too, no per-element chunk loop is left.
TEST(CompactingStore, AMaskThatIsATileArrayIsReadInPlace) {
  const Rows rows;
  const std::string row = cpu_source(kernel_source("[1, 64]"), rows.args(DType::i64, -1));
  EXPECT_THAT(row, HasSubstr("the chunk's mask bytes: a run of"));
  EXPECT_THAT(row, ::testing::Not(HasSubstr("alignas(64) uint8_t jt_k")));
  EXPECT_THAT(row, HasSubstr("= jt_kept(jt_k"));
}

// The running count that only the compaction and its checks read is kept as bits; one that is
// also read elsewhere (here stored to a second output) is filled in by the scan.
TEST(CompactingStore, ARunningCountReadOnlyByTheCompactionIsKeptAsBits) {
  const Rows rows;
  for (const char* blocks : {"[1, 64]", "[2, 16]", "[1, 128]"}) {
    const std::string src = cpu_source(kernel_source(blocks), rows.args(DType::f32, -1));
    EXPECT_THAT(src, HasSubstr("counted scan into")) << blocks;
    EXPECT_THAT(src, ::testing::Not(HasSubstr("omp scan"))) << blocks;
  }
  std::string also_stored = kernel_source("[1, 64]");
  also_stored.replace(also_stored.find("            before = before +"), 0,
                      "            counts[rows] = upto\n");
  also_stored.replace(also_stored.find("    for tile_b in hl.tile(B):"), 0,
                      "    counts = torch.zeros([values.size(0)], dtype=torch.int64, "
                      "device=values.device)\n");
  also_stored.replace(also_stored.find("    return out"), 14, "    return out, counts");
  const std::string src = cpu_source(also_stored, rows.args(DType::f32, -1));
  EXPECT_THAT(src, ::testing::Not(HasSubstr("counted scan into")));
  EXPECT_THAT(src, HasSubstr("omp scan"));
  for (Path path : {Path::cpu, Path::cpu_unchecked}) {
    const ArgMap args = rows.args(DType::f32, -1);
    const std::vector<Tensor> want = run_on(Path::interp, also_stored, args);
    const std::vector<Tensor> got = run_on(path, also_stored, args);
    ASSERT_EQ(got.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      Comparison cmp = compare_tensors(got[i], want[i], Tolerance{});
      EXPECT_TRUE(cmp.ok) << path_name(path) << " output " << i << ": " << cmp.mismatch;
    }
  }
}

TEST(CompactingStore, OtherMaskedScattersKeepTheElementwiseStore) {
  const Rows rows;
  // Twice the count, the count of another mask, the count subtracted: not consecutive in order.
  for (const char* index :
       {"first[:, None] + 2 * upto - 1", "first[:, None] + torch.cumsum(other[rows], dim=1) - 1",
        "first[:, None] - upto + 40"}) {
    const std::string src = cpu_source(kernel_source("[1, 64]", index), rows.args(DType::f32, 0));
    EXPECT_THAT(src, ::testing::Not(HasSubstr("jt_compact_store(&((")));
    EXPECT_THAT(src, HasSubstr("JT_MASKED_STORE("));
  }
}

class CompactingStorePaths : public ::testing::TestWithParam<Path> {};

TEST_P(CompactingStorePaths, WritesWhatTheInterpreterWritesForEveryDtypeAndBlockShape) {
  const Rows rows;
  for (const char* blocks : {"[1, 64]", "[2, 16]", "[4, 8]", "[1, 128]"}) {
    for (DType dtype : {DType::f32, DType::f64, DType::i64, DType::i32, DType::bf16, DType::f16,
                        DType::boolean}) {
      for (int64_t shift : {int64_t(-1), int64_t(2)}) {
        // The row path everywhere; the chunk array's path once per block shape and dtype.
        const char* value = shift == 2 ? kComputedValue : kRowValue;
        SCOPED_TRACE(std::string(blocks) + " " + std::string(dtype_name(dtype)) + " shift " +
                     std::to_string(shift) + " value " + value);
        const std::string source = kernel_source(blocks, kCompactIndex, "3", value);
        const ArgMap args = rows.args(dtype, shift);
        const Tensor want = run_on(Path::interp, source, args).at(0);
        const Tensor got = run_on(GetParam(), source, args).at(0);
        Comparison cmp = compare_tensors(got, want, Tolerance{});
        EXPECT_TRUE(cmp.ok) << cmp.mismatch;
      }
    }
  }
}

// The generated C++ with and without bounds checks (the CUDA printer has no packed form; its
// masked scatters are covered by masked_scatter_test.cpp).
INSTANTIATE_TEST_SUITE_P(Paths, CompactingStorePaths,
                         ::testing::Values(Path::cpu, Path::cpu_unchecked),
                         [](const ::testing::TestParamInfo<Path>& p) {
                           return path_name(p.param);
                         });

// The checked path bounds a compaction's kept indices by the first and the last kept one (they
// are consecutive): its check loop visits the ends only (the count replaced by max(count, 1)
// names the first kept index from the row's start), where any other masked scatter's check
// loop tests every element.
TEST(CompactingStore, KeptIndicesAreCheckedAtTheRowsEndsOnly) {
  const Rows rows;
  for (const char* blocks : {"[1, 64]", "[2, 16]"}) {
    const std::string src = cpu_source(kernel_source(blocks), rows.args(DType::f32, -1));
    EXPECT_THAT(src, ::testing::Not(HasSubstr("reduction(|:bad)"))) << blocks;
    EXPECT_THAT(src, HasSubstr("jt_max64(jt_count_upto(")) << blocks;
  }
  const std::string other = cpu_source(kernel_source("[1, 64]", "first[:, None] + 2 * upto - 1"),
                                       rows.args(DType::f32, 0));
  EXPECT_THAT(other, HasSubstr("reduction(|:bad)"));
}

// Rows that keep nothing, first and last, with the output exactly as long as the kept values:
// where such a row's values would go (the next row's start; for the last row, one past the end)
// is never checked, so the checked path runs and writes what the interpreter writes.
TEST(CompactingStore, RowsThatKeepNothingAreNotChecked) {
  use_shared_cache_dir();
  const std::vector<double> mask = [] {
    std::vector<double> m(70, 0);  // the first row: 70 rows, none kept
    for (int r = 0; r < 9; ++r) m.push_back(r % 3 == 1 ? 1 : 0);
    for (int r = 0; r < 70; ++r) m.push_back(0);  // the last row: none kept
    return m;
  }();
  const int64_t n = int64_t(mask.size());
  std::vector<double> values;
  for (int64_t i = 0; i < n; ++i) values.push_back(double(i) + 0.25);
  const ArgMap args = {{"values", Tensor::from_doubles({n}, values, DType::f32)},
                       {"mask", Tensor::from_doubles({n}, mask, DType::boolean)},
                       {"other", Tensor::from_doubles({n}, mask, DType::boolean)},
                       {"offsets", Tensor::from_doubles({4}, {0, 70, 79, 149}, DType::i64)},
                       {"out_offsets", Tensor::from_doubles({4}, {0, 0, 3, 3}, DType::i64)},
                       {"shift", int64_t(-1)}};
  for (const char* blocks : {"[1, 64]", "[2, 16]", "[4, 8]"}) {
    SCOPED_TRACE(blocks);
    const std::string source = kernel_source(blocks, kCompactIndex, "0");
    const Tensor want = run_on(Path::interp, source, args).at(0);
    ASSERT_EQ(want.numel(), 3);
    for (Path path : {Path::cpu, Path::cpu_unchecked}) {
      Comparison cmp = compare_tensors(run_on(path, source, args).at(0), want, Tolerance{});
      EXPECT_TRUE(cmp.ok) << path_name(path) << ": " << cmp.mismatch;
    }
  }
}

// One past either end of the output: the checked path names the same element as the interpreter.
TEST(CompactingStore, AKeptElementOutOfBoundsIsTheInterpretersLocatedError) {
  use_shared_cache_dir();
  const Rows rows;
  Program p = Program::from_source(kernel_source("[1, 64]"), "compact.py");
  Options interp;
  interp.backend = Backend::interp;
  for (int64_t shift : {int64_t(3), int64_t(-2)}) {
    SCOPED_TRACE("shift " + std::to_string(shift));
    const ArgMap args = rows.args(DType::f32, shift);
    const std::string want = error_of(p, "compact", args, interp);
    EXPECT_THAT(want, HasSubstr("store of tensor 'out' at index"));
    EXPECT_EQ(error_of(p, "compact", args, cpu_options()), want);
  }
}

}  // namespace
}  // namespace jagtile::testing
