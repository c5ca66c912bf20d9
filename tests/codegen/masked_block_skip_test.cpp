// Masked attention written as Helion's jagged_hstu_attn_2 writes it (every key block visited,
// the mask applied with torch.where) on the interpreter, the generated CPU code and the emulated
// generated CUDA: for causal, windowed, diagonal and combined masks the results match a
// double-precision reference on ragged lengths, and key blocks wholly above the diagonal are
// skipped (src/ir/pass_skip_masked_blocks.h), which shows as an infinity in such a block's v not
// reaching earlier rows. Inside the blocks on the diagonal the matmuls take the causal mask's band
// (src/ir/pass_band_matmuls.h): an infinity above the diagonal there reaches no earlier row
// either, on every backend, and blocks of 16 rows (two of the CPU microkernel's row blocks)
// match the reference as blocks of 4 do.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "../common/attention_sources.h"
#include "codegen_helpers.h"
#include "testing/scoped_env.h"

namespace jagtile::testing {
namespace {

// A mask as the kernel writes it and as the reference evaluates it on (query row, key row, the
// item's first row).
struct MaskCase {
  const char* name;
  const char* source;
  bool (*keep)(int64_t i, int64_t j, int64_t first);
};

const MaskCase kCausal = {"causal", "qi >= kj",
                          [](int64_t i, int64_t j, int64_t) { return i >= j; }};
const MaskCase kMaskCases[] = {
    kCausal,
    {"strictly_causal", "qi > kj", [](int64_t i, int64_t j, int64_t) { return i > j; }},
    {"anti_causal", "qi <= kj", [](int64_t i, int64_t j, int64_t) { return i <= j; }},
    {"strictly_anti_causal", "kj > qi", [](int64_t i, int64_t j, int64_t) { return j > i; }},
    {"diagonal", "qi == kj", [](int64_t i, int64_t j, int64_t) { return i == j; }},
    {"causal_window_of_5", "(qi >= kj) & (qi - kj < 5)",
     [](int64_t i, int64_t j, int64_t) { return i >= j && i - j < 5; }},
    {"shifted_window", "(kj + 3 > qi) & (kj < qi + 2)",
     [](int64_t i, int64_t j, int64_t) { return j + 3 > i && j < i + 2; }},
    {"causal_or_first_rows", "(qi < first + 2) | (qi >= kj)",
     [](int64_t i, int64_t j, int64_t first) { return i < first + 2 || i >= j; }},
};

constexpr int64_t kDim = 3;
constexpr double kScale = 0.5;

struct Inputs {
  std::vector<double> offsets, q, k, v;  // q, k, v: [rows, heads, kDim]
  int64_t heads = 1;
  int64_t rows() const { return int64_t(offsets.back()); }
};

Inputs ragged_inputs(const std::vector<int64_t>& lengths, int64_t heads = 1) {
  Inputs in;
  in.heads = heads;
  in.offsets = {0};
  for (int64_t n : lengths) in.offsets.push_back(in.offsets.back() + double(n));
  for (int64_t i = 0; i < in.rows() * heads * kDim; ++i) {
    in.q.push_back(std::sin(0.7 * double(i)));
    in.k.push_back(std::cos(0.3 * double(i) + 1));
    in.v.push_back(double((i * 7) % 11) - 5);
  }
  return in;
}

// out[i, h] = sum over the rows j of i's item that the mask keeps of
// (scale * q[i, h] . k[j, h]) * v[j, h].
std::vector<double> reference(const Inputs& in, const MaskCase& mask) {
  const int64_t H = in.heads;
  auto at = [&](int64_t row, int64_t h, int64_t d) { return size_t((row * H + h) * kDim + d); };
  std::vector<double> out(size_t(in.rows() * H * kDim), 0.0);
  for (size_t b = 0; b + 1 < in.offsets.size(); ++b) {
    const int64_t first = int64_t(in.offsets[b]), last = int64_t(in.offsets[b + 1]);
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = first; i < last; ++i)
        for (int64_t j = first; j < last; ++j) {
          if (!mask.keep(i, j, first)) continue;
          double s = 0;
          for (int64_t d = 0; d < kDim; ++d) s += in.q[at(i, h, d)] * in.k[at(j, h, d)];
          for (int64_t d = 0; d < kDim; ++d) out[at(i, h, d)] += kScale * s * in.v[at(j, h, d)];
        }
  }
  return out;
}

enum class Path { interp, cpu, cuda_emulated };

const Path kPaths[] = {Path::interp, Path::cpu,
#ifdef JAGTILE_HAVE_NVRTC
                       Path::cuda_emulated
#endif
};

std::string path_name(Path p) {
  return p == Path::interp ? "interp" : p == Path::cpu ? "cpu" : "cuda_emulated";
}

// A kernel's output on a path, q, k and v shaped `shape` (rows first); with ir, the IR after
// every pass.
Tensor run_source(Path path, const std::string& source, const Inputs& in, const Shape& shape,
                  std::string* ir = nullptr) {
  use_shared_cache_dir();
  Options o;
  o.backend = path == Path::interp ? Backend::interp
              : path == Path::cpu  ? Backend::cpu
                                   : Backend::cuda;
  // The cuda backend runs CPU tensors through its host emulation while this is set.
  ScopedEnv emulation("JAGTILE_CUDA_EMULATION", path == Path::cuda_emulated ? "1" : nullptr);
  Program p = Program::from_source(source, "masked.py");
  const ArgMap args = {
      {"q", Tensor::from_doubles(shape, in.q, DType::f32)},
      {"k", Tensor::from_doubles(shape, in.k, DType::f32)},
      {"v", Tensor::from_doubles(shape, in.v, DType::f32)},
      {"offsets", Tensor::from_doubles({int64_t(in.offsets.size())}, in.offsets, DType::i64)},
      {"scale", kScale}};
  Tensor out = p.call("", args, o).outputs.at(0);
  if (ir) *ir = p.specialise("", args, o).ir_text();
  return out;
}

// The attention kernel's output; with guarded, whether the pass wrapped a loop body in its guard.
Tensor run(Path path, const MaskCase& mask, const Inputs& in, bool* guarded = nullptr,
           int block = 4) {
  std::string ir;
  Tensor out = run_source(path, masked_attention_source(mask.source, block), in, {in.rows(), kDim},
                          guarded ? &ir : nullptr);
  if (guarded) {
    const size_t pass = ir.find("== after skip_masked_blocks ==");
    *guarded = pass != std::string::npos && ir.find("if_", pass) != std::string::npos;
  }
  return out;
}

// Items of 8 and 4 rows with v infinite at rows 6 and 10: inside the diagonal blocks 4..7 and
// 0..3 (of the second item), above the diagonal for the rows before them.
Inputs infinity_above_the_diagonal() {
  Inputs in = ragged_inputs({8, 4});
  for (int64_t d = 0; d < kDim; ++d) {
    in.v[size_t(6 * kDim + d)] = INFINITY;
    in.v[size_t(10 * kDim + d)] = INFINITY;
  }
  return in;
}

// The rows before each infinity are exact; the infinite rows themselves are not finite.
void expect_infinity_reaches_no_earlier_row(const Tensor& out, const Inputs& in) {
  const std::vector<double> want = reference(in, kCausal);
  for (int64_t row : {0, 1, 2, 3, 4, 5, 8, 9})
    for (int64_t d = 0; d < kDim; ++d) {
      const size_t i = size_t(row * kDim + d);
      EXPECT_NEAR(out.item_as_double(int64_t(i)), want[i], 1e-4 * (1 + std::fabs(want[i])))
          << "row " << row;
    }
  for (int64_t row : {6, 10}) EXPECT_FALSE(std::isfinite(out.item_as_double(row * kDim)));
}

struct MaskOnPath {
  Path path;
  const MaskCase* mask;
};

class MaskedBlockSkip : public ::testing::TestWithParam<MaskOnPath> {};

// Every mask form the pass guards (each comparison direction, equality, windows from a
// difference of indices, `&`, and `|` with a scalar from before the loop) gives the reference's
// result: the skipped blocks were the ones that added nothing.
TEST_P(MaskedBlockSkip, MatchesTheReferenceOnRaggedLengths) {
  // Empty items, one row, exactly one block, a partial last block, several blocks.
  const Inputs in = ragged_inputs({0, 1, 4, 5, 0, 9, 16, 3});
  const std::vector<double> want = reference(in, *GetParam().mask);
  bool guarded = false;
  Tensor out = run(GetParam().path, *GetParam().mask, in, &guarded);
  EXPECT_TRUE(guarded) << "the pass left the key loop unguarded";
  ASSERT_EQ(out.numel(), int64_t(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(out.item_as_double(int64_t(i)), want[i], 1e-4 * (1 + std::fabs(want[i])))
        << "row " << i / kDim << ", column " << i % kDim;
}

std::vector<MaskOnPath> every_mask_on_every_path() {
  std::vector<MaskOnPath> out;
  for (const MaskCase& m : kMaskCases)
    for (Path p : kPaths) out.push_back({p, &m});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Masks, MaskedBlockSkip, ::testing::ValuesIn(every_mask_on_every_path()),
                         [](const auto& info) {
                           return std::string(info.param.mask->name) + "_" +
                                  path_name(info.param.path);
                         });

class CausalBlockSkip : public ::testing::TestWithParam<Path> {};

TEST_P(CausalBlockSkip, InfinityInAKeyBlockAboveTheDiagonalDoesNotReachEarlierRows) {
  // One item of 8 rows: key block 4..7 lies wholly above query block 0..3. Executed, its zeroed
  // scores times v's infinity would make rows 0..3 NaN (0 * inf); skipped, they stay exact.
  Inputs in = ragged_inputs({8, 2});
  for (int64_t d = 0; d < kDim; ++d) in.v[size_t(5 * kDim + d)] = INFINITY;
  const std::vector<double> want = reference(in, kCausal);
  Tensor out = run(GetParam(), kCausal, in);
  for (int64_t i = 0; i < 4 * kDim; ++i)
    EXPECT_NEAR(out.item_as_double(i), want[size_t(i)], 1e-4 * (1 + std::fabs(want[size_t(i)])))
        << "row " << i / kDim;
  // Rows 5..7 do attend to row 5: their infinity is the mask's business, not the skip's.
  for (int64_t d = 0; d < kDim; ++d) EXPECT_TRUE(std::isinf(out.item_as_double(6 * kDim + d)));
  // The second item is untouched by the first's infinity.
  for (int64_t i = 8 * kDim; i < 10 * kDim; ++i)
    EXPECT_NEAR(out.item_as_double(i), want[size_t(i)], 1e-4 * (1 + std::fabs(want[size_t(i)])));
}

TEST_P(CausalBlockSkip, InfinityAboveTheDiagonalInsideADiagonalBlockReachesNoEarlierRow) {
  // Item 0 (8 rows): row 6 infinite, inside the diagonal block 4..7, so rows 4 and 5 (and 0..3,
  // whose key block 4..7 is skipped) are exact. Item 1 (4 rows, one block): its row 2 infinite,
  // its rows 0 and 1 exact. Computing the band's zeros times v would make them NaN.
  const Inputs in = infinity_above_the_diagonal();
  expect_infinity_reaches_no_earlier_row(run(GetParam(), kCausal, in), in);
}

// The heads in a batch dim, as Helion's jagged_hstu_attn_2 keeps them (one head here): the
// batched matmuls take the band too, so the same infinity reaches no earlier row.
TEST_P(CausalBlockSkip, HeadsInABatchDimSkipTheBandAlike) {
  const std::string src = heads_in_batch_attention_source();
  const Inputs in = infinity_above_the_diagonal();
  std::string ir;
  Tensor out = run_source(GetParam(), src, in, {in.rows(), 1, kDim}, &ir);
  EXPECT_NE(ir.find("band.zero_a"), std::string::npos);
  expect_infinity_reaches_no_earlier_row(out, in);
}

// The heads of Helion's layout become a grid loop around the query tiles
// (src/ir/pass_batch_loops.h): the same products in the same order as a kernel written with
// `for head in hl.grid(H)`, so the same bits, and the reference's values.
TEST_P(CausalBlockSkip, HeadsInABatchDimGiveBitwiseWhatAKernelPerHeadGives) {
  const Inputs in = ragged_inputs({9, 0, 5, 1, 12}, 3);
  const Shape shape = {in.rows(), in.heads, kDim};
  std::string ir;
  const Tensor batched = run_source(GetParam(), heads_in_batch_attention_source(), in, shape, &ir);
  const Tensor per_head = run_source(GetParam(), per_head_attention_source(), in, shape);
  const size_t pass = ir.find("== after loop_over_batch_dims ==");
  ASSERT_NE(pass, std::string::npos);
  EXPECT_NE(ir.find("batch_H: grid", pass), std::string::npos) << ir.substr(pass);
  const std::vector<double> want = reference(in, kCausal);
  ASSERT_EQ(batched.numel(), int64_t(want.size()));
  ASSERT_EQ(per_head.numel(), int64_t(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    const double got = batched.item_as_double(int64_t(i));
    EXPECT_EQ(got, per_head.item_as_double(int64_t(i))) << "element " << i;
    EXPECT_NEAR(got, want[i], 1e-4 * (1 + std::fabs(want[i]))) << "element " << i;
  }
}

// Blocks of 16 query rows: the CPU microkernel's whole row blocks of 8 and its band tails, with
// items that end inside a block, at its edge and past it.
TEST_P(CausalBlockSkip, BlocksOfSixteenRowsMatchTheReferenceForEveryBandedMask) {
  const Inputs in = ragged_inputs({16, 7, 33, 0, 21});
  for (const MaskCase& mask : kMaskCases) {
    const std::vector<double> want = reference(in, mask);
    Tensor out = run(GetParam(), mask, in, nullptr, 16);
    ASSERT_EQ(out.numel(), int64_t(want.size()));
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(out.item_as_double(int64_t(i)), want[i], 1e-4 * (1 + std::fabs(want[i])))
          << mask.name << ": row " << i / kDim << ", column " << i % kDim;
  }
}

// Blocks of 64 rows: in a diagonal block the scores' rows whose last kept key lies in the
// first vector of a panel of two take that vector's products only (cpp_matmul.cpp, unused_c),
// on AVX-512 (vectors of 16), AVX2 (8) and the portable path. The output is the element loops'
// (JAGTILE_CPU_MATMUL=loops) bit for bit and the reference's within rounding, for every mask;
// items end inside a block, at its edge and past it.
// On this CPU's instruction set with each AVX-512 register block (JAGTILE_REGISTER_BLOCK: 6 x 4
// vectors skip a diagonal block's vectors past its rows' band by the vector), then lowered.
TEST(CausalBlocksOfSixtyFour, MatchTheElementLoopsBitwiseAndTheReferenceOnEveryIsa) {
  const Inputs in = ragged_inputs({64, 40, 100, 17, 0, 130});
  const std::vector<std::pair<const char*, const char*>> settings = {
      {"", ""}, {"", "8x2"}, {"", "6x4"}, {"avx2", ""}, {"portable", ""}};
  for (const auto& [isa, block] : settings) {
    ScopedEnv env("JAGTILE_CPU_ISA", *isa ? isa : nullptr);
    ScopedEnv register_block("JAGTILE_REGISTER_BLOCK", *block ? block : nullptr);
    for (const MaskCase& mask : kMaskCases) {
      SCOPED_TRACE(std::string(*isa ? isa : "native") + (*block ? std::string(" ") + block : "") +
                   ", " + mask.name);
      const std::vector<double> want = reference(in, mask);
      const Tensor blocks = run(Path::cpu, mask, in, nullptr, 64);
      ScopedEnv loops("JAGTILE_CPU_MATMUL", "loops");
      const Tensor element_loops = run(Path::cpu, mask, in, nullptr, 64);
      ASSERT_EQ(blocks.numel(), int64_t(want.size()));
      EXPECT_EQ(std::memcmp(blocks.raw_data(), element_loops.raw_data(), size_t(blocks.nbytes())),
                0);
      for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(blocks.item_as_double(int64_t(i)), want[i], 1e-4 * (1 + std::fabs(want[i])))
            << "row " << i / kDim << ", column " << i % kDim;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CausalBlockSkip, ::testing::ValuesIn(kPaths),
                         [](const auto& info) { return path_name(info.param); });

}  // namespace
}  // namespace jagtile::testing
