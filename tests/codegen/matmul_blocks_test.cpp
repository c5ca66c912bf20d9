// The generated CPU code's matmul microkernel (codegen/cpu/cpp_matmul.cpp): float matmuls are
// planned as matmul blocks, and every block agrees with the element loops it replaces bit for
// bit (same ISA; bf16 blocks on AMX tiles excepted, checked with the tiles dropped) and with a
// double-precision reference within float rounding, on partial tiles,
// empty and one-row items, transposed operands, jagged contractions, hl.dot's acc=, bf16 inputs,
// head dims 16 to 256, the AVX-512, AVX2 and portable paths (JAGTILE_CPU_ISA), and any thread
// count.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <utility>
#include <variant>

#include "../common/matmul_cases.h"
#include "codegen_helpers.h"
#include "testing/examples.h"
#include "testing/scoped_env.h"

namespace jagtile::testing {
namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape_str() == b.shape_str() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), size_t(a.nbytes())) == 0;
}

Options cpu_with_blocks(std::vector<int64_t> blocks, int threads = 2) {
  Options o = cpu_options(true, threads);
  o.config.block_sizes = std::move(blocks);
  return o;
}

// Whether bf16 matmul blocks run on AMX tiles here, whose sums are not the element loops' bits
// (cpp_matmul.cpp): the tests check those within rounding of the reference, and the bits with the
// tiles dropped (JAGTILE_CPU_ISA=avx512bf16, the pairs).
bool bf16_on_tiles(DType dtype) {
  __builtin_cpu_init();
  return dtype == DType::bf16 && __builtin_cpu_supports("avx512bf16") &&
         __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-bf16");
}

// The kernel's output on the microkernel and on the element loops (JAGTILE_CPU_MATMUL=loops).
std::pair<Tensor, Tensor> blocks_and_loops(const Program& p, const char* kernel, const ArgMap& args,
                                           const Options& o) {
  Tensor blocks = p.call(kernel, args, o).outputs.at(0);
  ScopedEnv env("JAGTILE_CPU_MATMUL", "loops");
  return {blocks, p.call(kernel, args, o).outputs.at(0)};
}

// The operands of the first microkernel call in generated C++ (jt_matmul_f32 or, for bf16
// values, jt_matmul_bf16; JtMatmul's fields in order: M, N, K, A, a_m, a_k, B, b_k, b_n, C, c_m,
// D, d_m, d_n, then band, band_mode, a16, b16 where a bf16 operand is read in place), or none.
// The stream of the next item's operands (pass_prefetch_operands.h), where there is one, comes
// last, after the fields it makes the printer spell out: those are dropped with it, so that the
// operands read as they would without it (prefetch_operands_test.cpp checks the stream).
std::vector<std::string> first_matmul_operands(const std::string& src) {
  const size_t call = src.find("(JtMatmul{");
  if (call == std::string::npos) return {};
  const size_t open = src.find('{', call), close = src.find('}', open);
  std::vector<std::string> operands(1);
  int depth = 0;  // commas inside an operand's own parentheses do not separate operands
  for (size_t i = open + 1; i < close; ++i) {
    const char ch = src[i];
    depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
    if (ch == ',' && depth == 0)
      operands.emplace_back();
    else
      operands.back() += ch;
  }
  auto is = [&](size_t i, const char* text) { return operands.at(i) == text; };
  if (operands.size() == 21 && is(20, " &jt_operands")) {
    operands.resize(18);  // without the stream and the kept panels' null, 0
    if (is(16, " 0") && is(17, " 0")) operands.resize(16);  // no bf16 operand in place
    if (operands.size() == 16 && is(14, " 0") && is(15, " 0")) operands.resize(14);  // no band
  }
  return operands;
}

// The bundled jagged_dense_bmm's shape for the pass tests: 40 features and rows up to 70, so that
// blocks of 16 leave partial row and d blocks.
JaggedShape bmm_shape(int64_t batch, uint64_t seed) {
  JaggedShape s;
  s.batch = batch;
  s.features = 40;
  s.max_len = 70;
  s.seed = seed;
  return s;
}

class ItemMatmul : public ::testing::TestWithParam<ItemCase> {};

// out[r] = x[r] @ w[item] + bias[item] through hl.dot(acc=): blocks == loops bit for bit,
// both == the double reference within rounding, and one thread == two threads bit for bit.
TEST_P(ItemMatmul, BlocksMatchLoopsBitwiseAndTheReference) {
  use_shared_cache_dir();
  const ItemCase& c = GetParam();
  const ItemInputs in = item_matmul_inputs(c);
  const ArgMap& args = in.args;
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  auto [blocks, loops] = blocks_and_loops(p, "item_matmul", args, cpu_with_blocks(c.blocks));
  Tensor one_thread = p.call("item_matmul", args, cpu_with_blocks(c.blocks, 1)).outputs.at(0);
  if (!bf16_on_tiles(c.dtype)) EXPECT_TRUE(same_bits(blocks, loops));
  EXPECT_TRUE(same_bits(blocks, one_thread));
  expect_close(blocks, item_matmul_reference(in.offs, in.x, in.w, in.bias, c.D, c.K), double(c.D));
  if (bf16_on_tiles(c.dtype)) {
    ScopedEnv pairs("JAGTILE_CPU_ISA", "avx512bf16");
    auto [paired, paired_loops] =
        blocks_and_loops(p, "item_matmul", args, cpu_with_blocks(c.blocks));
    EXPECT_TRUE(same_bits(paired, paired_loops));
  }
}

// The same product with x's rows read through its flattened view (`x_flat[row * D + col]`, as
// Helion's jagged kernels load them): A is read in place with D as its row stride
// (pass_operands_in_place.cpp), and the results are item_matmul's checks': blocks == loops bit
// for bit (the pairs' on an AMX CPU), the reference within rounding, on f32 and bf16 values.
TEST(ItemMatmulFlat, ARowsReadThroughAFlatViewMatchLoopsAndTheReference) {
  use_shared_cache_dir();
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  for (const ItemCase& c : {ItemCase{{5, 0, 1, 17, 33, 1}, 37, 45, {1, 16, 32, 16}},
                            ItemCase{{70, 0, 1, 57}, 64, 70, {1, 64, 64, 64}, DType::bf16}}) {
    SCOPED_TRACE(dtype_name(c.dtype));
    const ItemInputs in = item_matmul_inputs(c);
    const std::string src =
        p.specialise("flat_item_matmul", in.args, cpu_with_blocks(c.blocks)).source(Backend::cpu);
    const std::vector<std::string> ops = first_matmul_operands(src);
    ASSERT_GE(ops.size(), 14u);
    // A from x itself (a float pointer into it, or for bf16 the in-place a16 field), rows D apart.
    EXPECT_TRUE(c.dtype == DType::bf16 ? ops[3] == " (const float*)0" && ops.size() == 18
                                       : ops[3].find(".data + ") != std::string::npos)
        << "A is not read from x in place: " << ops[3];
    EXPECT_THAT(ops[4], ::testing::HasSubstr("F.h")) << "a_m is not D";
    auto [blocks, loops] =
        blocks_and_loops(p, "flat_item_matmul", in.args, cpu_with_blocks(c.blocks));
    if (!bf16_on_tiles(c.dtype)) EXPECT_TRUE(same_bits(blocks, loops));
    expect_close(blocks, item_matmul_reference(in.offs, in.x, in.w, in.bias, c.D, c.K),
                 double(c.D));
    if (bf16_on_tiles(c.dtype)) {
      ScopedEnv pairs("JAGTILE_CPU_ISA", "avx512bf16");
      auto [paired, paired_loops] =
          blocks_and_loops(p, "flat_item_matmul", in.args, cpu_with_blocks(c.blocks));
      EXPECT_TRUE(same_bits(paired, paired_loops));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, ItemMatmul,
                         ::testing::Values(
                             // partial tiles on every dim; an empty item and one-row items
                             ItemCase{{5, 0, 1, 17, 33, 1}, 37, 45, {4, 16, 32, 16}},
                             // whole microkernel blocks only (rows a multiple of 8, columns of 32)
                             ItemCase{{32, 64, 16}, 64, 64, {2, 32, 32, 32}},
                             // one column and one row of output
                             ItemCase{{1, 1}, 3, 1, {2, 16, 16, 16}},
                             // large tiles (heap tile arrays)
                             ItemCase{{130, 7, 64}, 96, 80, {4, 64, 64, 64}},
                             // bf16 inputs, accumulated in f32
                             ItemCase{{9, 0, 20}, 24, 40, {2, 16, 16, 16}, DType::bf16},
                             // bf16 in blocks large enough for AVX512-BF16's pairs (64 and
                             // 57 rows, 64 columns, 53 k: a padded last pair) and smaller ones
                             ItemCase{{70, 0, 1, 57}, 53, 70, {1, 64, 64, 64}, DType::bf16}),
                         [](const ::testing::TestParamInfo<ItemCase>& i) {
                           return "case" + std::to_string(i.index);
                         });

// scores (q @ k.T over a whole head dim D; B read transposed) on n x D and m x D inputs of
// `dtype` in blocks of `block`: the microkernel's bits are the element loops' (bf16 on AMX tiles:
// with the tiles dropped), and both are the double reference within rounding. Returns the
// generated C++.
std::string expect_scores_match(int64_t D, int64_t n, int64_t m, DType dtype, int64_t block) {
  use_shared_cache_dir();
  std::vector<double> q = values(n * D, 4, dtype), k = values(m * D, 5, dtype);
  ArgMap args = {{"q", Tensor::from_doubles({n, D}, q, dtype)},
                 {"k", Tensor::from_doubles({m, D}, k, dtype)}};
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  auto [blocks, loops] = blocks_and_loops(p, "scores", args, cpu_with_blocks({block, block}));
  if (bf16_on_tiles(dtype)) {
    ScopedEnv pairs("JAGTILE_CPU_ISA", "avx512bf16");
    auto [paired, paired_loops] =
        blocks_and_loops(p, "scores", args, cpu_with_blocks({block, block}));
    EXPECT_TRUE(same_bits(paired, paired_loops));
  } else {
    EXPECT_TRUE(same_bits(blocks, loops));
  }
  std::vector<double> want;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      double s = 0;
      for (int64_t d = 0; d < D; ++d) s += q[size_t(i * D + d)] * k[size_t(j * D + d)];
      want.push_back(s);
    }
  expect_close(blocks, want, double(D));
  return p.specialise("scores", args, cpu_with_blocks({block, block})).source(Backend::cpu);
}

class Scores : public ::testing::TestWithParam<int64_t> {};

// Head dims 5 to 256, some not a multiple of any vector width (B packed in vector-width blocks).
TEST_P(Scores, TransposedOperandMatchesLoopsAndReference) {
  expect_scores_match(GetParam(), 37, 21, DType::f32, 16);
}

INSTANTIATE_TEST_SUITE_P(HeadDims, Scores, ::testing::Values(5, 16, 20, 24, 64, 128, 131, 256));

class Bf16Scores : public ::testing::TestWithParam<int64_t> {};

// The same with bf16 q and k in blocks of 64: on AMX, tiles, and on AVX512-BF16, pair products,
// with k's transposed rows packed into pair panels (the 6 and 11 rows and columns left over
// stay on the f32 path).
TEST_P(Bf16Scores, TransposedBf16OperandMatchesLoopsAndReference) {
  EXPECT_THAT(expect_scores_match(GetParam(), 70, 75, DType::bf16, 64),
              ::testing::HasSubstr("jt_matmul_bf16(JtMatmul{"));
}

INSTANTIATE_TEST_SUITE_P(HeadDims, Bf16Scores, ::testing::Values(32, 33, 64, 128, 131, 256));

void jagged_contraction_matches(const std::vector<double>& offs) {
  const int64_t B = int64_t(offs.size()) - 1, N = 81, D = 19, E = 35;
  std::vector<double> x = values(N * D, 6, DType::f32), y = values(N * E, 7, DType::f32);
  ArgMap args = {{"x", Tensor::from_doubles({N, D}, x, DType::f32)},
                 {"y", Tensor::from_doubles({N, E}, y, DType::f32)},
                 {"offsets", Tensor::from_doubles({B + 1}, offs, DType::i64)}};
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  auto [blocks, loops] =
      blocks_and_loops(p, "jagged_outer", args, cpu_with_blocks({2, 16, 16, 16}));
  EXPECT_TRUE(same_bits(blocks, loops));
  std::vector<double> want;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t e = 0; e < E; ++e) {
        double s = 0;
        for (int64_t r = int64_t(offs[size_t(b)]); r < int64_t(offs[size_t(b + 1)]); ++r)
          s += x[size_t(r * D + d)] * y[size_t(r * E + e)];
        want.push_back(s);
      }
  expect_close(blocks, want, 41.0);
}

// x_b^T @ y_b summed over each item's rows: the contraction runs over a jagged dim, whose valid
// count the block takes from the item's length (empty and one-row items included). Two items per
// program: an empty item beside a longer one gets a first block of no k (its zeros written by
// the block, the accumulator not being filled: pass_first_block.h), and a program of two empty
// items runs no block at all (its accumulator filled after all).
TEST(MatmulBlocks, JaggedContractionMatchesLoopsAndReference) {
  use_shared_cache_dir();
  for (const std::vector<double>& offs :
       {std::vector<double>{0, 7, 7, 8, 48, 81}, std::vector<double>{0, 40, 40, 40, 81, 81, 81}}) {
    jagged_contraction_matches(offs);
  }
}

// The AVX2 and portable paths (JAGTILE_CPU_ISA lowers the JIT's -march) agree with their own
// element loops bit for bit and with the reference within rounding.
TEST(MatmulBlocks, LoweredIsasMatchTheirLoopsAndReference) {
  use_shared_cache_dir();
  const std::vector<double> offs = {0, 13, 13, 14, 44};
  const int64_t B = 4, N = 44, D = 21, K = 27;
  std::vector<double> x = values(N * D, 8, DType::f32), w = values(B * D * K, 9, DType::f32),
                      bias = values(B * K, 10, DType::f32);
  ArgMap args = {{"x", Tensor::from_doubles({N, D}, x, DType::f32)},
                 {"offsets", Tensor::from_doubles({B + 1}, offs, DType::i64)},
                 {"w", Tensor::from_doubles({B, D, K}, w, DType::f32)},
                 {"bias", Tensor::from_doubles({B, K}, bias, DType::f32)}};
  const std::vector<double> want = item_matmul_reference(offs, x, w, bias, D, K);
  for (const char* isa : {"avx2", "portable"}) {
    SCOPED_TRACE(isa);
    ScopedEnv env("JAGTILE_CPU_ISA", isa);
    Program p = Program::from_source(kMatmulKernels, "mm.py");
    auto [blocks, loops] = blocks_and_loops(p, "item_matmul", args, cpu_with_blocks({2, 8, 16, 8}));
    EXPECT_TRUE(same_bits(blocks, loops));
    expect_close(blocks, want, double(D));
  }
}

// Both AVX-512 register blocks (JAGTILE_REGISTER_BLOCK: 8 rows by 2 vectors, 6 by 4) agree with
// the element loops bit for bit and the reference within rounding: item products with partial
// row, column and k blocks, an empty item and one-row items, on column blocks of 32 (a panel of 2
// whole vectors, then 1 partial) and of 128 (113 columns: a whole panel, then 3 whole vectors and
// a partial one), and the transposed scores of 53 keys (a panel's last vector partial).
TEST(MatmulBlocks, BothAvx512RegisterBlocksMatchTheLoopsBitwise) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "the register block setting applies to AVX-512 only, which this CPU lacks";
  use_shared_cache_dir();
  for (const char* block : {"8x2", "6x4"}) {
    SCOPED_TRACE(block);
    ScopedEnv env("JAGTILE_REGISTER_BLOCK", block);
    for (const ItemCase& c : {ItemCase{{5, 0, 1, 17, 33, 1}, 37, 45, {4, 16, 32, 16}},
                              ItemCase{{130, 7, 64}, 96, 113, {4, 64, 128, 64}}}) {
      const ItemInputs in = item_matmul_inputs(c);
      Program p = Program::from_source(kMatmulKernels, "mm.py");
      auto [blocks, loops] = blocks_and_loops(p, "item_matmul", in.args, cpu_with_blocks(c.blocks));
      EXPECT_TRUE(same_bits(blocks, loops));
      expect_close(blocks, item_matmul_reference(in.offs, in.x, in.w, in.bias, c.D, c.K),
                   double(c.D));
    }
    for (int64_t D : {20, 131}) expect_scores_match(D, 37, 53, DType::f32, 64);
  }
}

// `acc = acc + torch.matmul(a, w)` over blocks of the contraction (the bundled
// jagged_dense_bmm, several partial d blocks): the microkernel writes acc itself with acc as D
// (pass_accumulate.cpp), no product array and no adding pass, except in the first block, which
// overwrites the unfilled acc (pass_first_block.h: D only where the block id is not 0), and the
// bits are the element loops' (acc + product, one rounding) on one thread and two.
TEST(MatmulBlocks, AProductAddedToItsAccumulatorIsAccumulatedInPlaceWithTheSameBits) {
  use_shared_cache_dir();
  const ExampleInfo* info = find_example("jagged_dense_bmm");
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + info->file);
  const JaggedShape s = bmm_shape(21, 3);
  ArgMap args = info->make_inputs(s, DType::f32, DType::i32);
  const Options o = cpu_with_blocks({1, 16, 16, 16});
  const std::vector<std::string> ops =
      first_matmul_operands(p.specialise(info->kernel, args, o).source(Backend::cpu));
  ASSERT_EQ(ops.size(), 14u);
  EXPECT_EQ(ops[11], " (((id3 != INT64_C(0))) ?" + ops[9] + " : (const float*)0)")
      << "D is not the accumulator C after the first contraction block";
  EXPECT_EQ(ops[12], ops[10]);
  EXPECT_EQ(ops[13], " INT64_C(1)");
  auto [blocks, loops] = blocks_and_loops(p, info->kernel.c_str(), args, o);
  Tensor one_thread = p.call(info->kernel, args, cpu_with_blocks({1, 16, 16, 16}, 1)).outputs.at(0);
  EXPECT_TRUE(same_bits(blocks, loops));
  EXPECT_TRUE(same_bits(blocks, one_thread));
}

// A contraction of no length (x with no columns): the loop over it runs no block, so the
// accumulator the first block would have written is zero-filled after all (pass_first_block.h),
// and each row of the output is its item's bias, bit for bit.
TEST(MatmulBlocks, AnEmptyContractionLeavesTheZeroFilledAccumulator) {
  use_shared_cache_dir();
  const ExampleInfo* info = find_example("jagged_dense_bmm");
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + info->file);
  const std::vector<double> offs = {0, 3, 3, 9};
  const int64_t B = 3, N = 9, K = 5;
  const std::vector<double> bias = values(B * K, 11, DType::f32);
  ArgMap args = {{"x_values", Tensor::zeros({N, 0}, DType::f32)},
                 {"x_offsets", Tensor::from_doubles({B + 1}, offs, DType::i64)},
                 {"weight", Tensor::zeros({B, 0, K}, DType::f32)},
                 {"bias", Tensor::from_doubles({B, K}, bias, DType::f32)}};
  auto [blocks, loops] =
      blocks_and_loops(p, info->kernel.c_str(), args, cpu_with_blocks({1, 16, 16, 16}));
  EXPECT_TRUE(same_bits(blocks, loops));
  std::vector<double> want;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t r = int64_t(offs[size_t(b)]); r < int64_t(offs[size_t(b + 1)]); ++r)
      for (int64_t k = 0; k < K; ++k) want.push_back(bias[size_t(b * K + k)]);
  expect_close(blocks, want, 1.0);
}

// `a = x_values[rows, tile_d]` feeding `torch.matmul(a, w)` only (the bundled jagged_dense_bmm,
// partial row and d blocks): the microkernel reads A straight from x_values with x's row stride
// (pass_operands_in_place.cpp), no tile copy, checked (the copy's bounds check kept) and
// unchecked; B keeps its array; the bits are the element loops'.
TEST(MatmulBlocks, AFloatOperandCopiedFromATensorIsReadInPlaceWithTheSameBits) {
  use_shared_cache_dir();
  const ExampleInfo* info = find_example("jagged_dense_bmm");
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + info->file);
  const JaggedShape s = bmm_shape(17, 5);
  const ArgMap args = info->make_inputs(s, DType::f32, DType::i64);
  for (bool checked : {true, false}) {
    SCOPED_TRACE(checked ? "checked" : "unchecked");
    Options o = cpu_with_blocks({1, 16, 16, 16});
    o.checked = checked;
    const std::vector<std::string> ops =
        first_matmul_operands(p.specialise(info->kernel, args, o).source(Backend::cpu));
    ASSERT_EQ(ops.size(), 14u);
    EXPECT_THAT(ops[3], ::testing::HasSubstr(".data + ")) << "A is not read from the tensor";
    EXPECT_THAT(ops[4], ::testing::HasSubstr(".size[1]")) << "a_m is not x's row length";
    EXPECT_EQ(ops[5], " INT64_C(1)") << "a_k";
    EXPECT_THAT(ops[6], ::testing::Not(::testing::HasSubstr(".data"))) << "B is read in place";
    // x_values' (F.p0) reads are proven in bounds, checked or not: rows by the offsets guard,
    // columns by the loop over its columns (plan/pass_bounds_checks.h). Where nothing is proven
    // the copy's check stays (tests/plan/passes_test.cpp).
    const std::string src = p.specialise(info->kernel, args, o).source(Backend::cpu);
    EXPECT_EQ(src.find("(uint64_t)F.p0.size["), std::string::npos);
    auto [blocks, loops] = blocks_and_loops(p, info->kernel.c_str(), args, o);
    EXPECT_TRUE(same_bits(blocks, loops));
  }
}

// The same kernel on bf16 values: A and B are both read in place from the bf16 tensors
// (JtMatmul's a16 and b16, their float pointers null; pass_operands_in_place.h), no float copies.
// Blocks of 64 over 96 features and items of up to 100 rows reach every path of
// jt_matmul_bf16 in one call: AMX tiles or pairs on the full row blocks, the f32 path's widened
// buffers on the tails under 32 rows (and on every block under JAGTILE_CPU_ISA=avx512 and
// avx2). The bits are the element loops' wherever the tiles are dropped; on the tiles, within
// rounding of the reference.
TEST(MatmulBlocks, Bf16OperandsCopiedFromTensorsAreReadInPlaceWithTheSameBits) {
  use_shared_cache_dir();
  const ExampleInfo* info = find_example("jagged_dense_bmm");
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + info->file);
  JaggedShape s = bmm_shape(13, 7);
  s.features = 96;
  s.max_len = 100;
  const ArgMap args = info->make_inputs(s, DType::bf16, DType::i32);
  const Options o = cpu_with_blocks({1, 64, 64, 64});
  Options unchecked = o;
  unchecked.checked = false;  // no diagnosing copies: x_values and weight are read nowhere else
  const std::string src = p.specialise(info->kernel, args, unchecked).source(Backend::cpu);
  const std::vector<std::string> ops = first_matmul_operands(src);
  ASSERT_EQ(ops.size(), 18u);
  EXPECT_EQ(ops[3], " (const float*)0") << "A is not read in place";
  EXPECT_EQ(ops[6], " (const float*)0") << "B is not read in place";
  EXPECT_THAT(ops[16], ::testing::HasSubstr("(const uint16_t*)F.p0.data + ")) << "a16";
  EXPECT_THAT(ops[17], ::testing::HasSubstr("(const uint16_t*)F.p2.data + ")) << "b16";
  for (const char* element : {"(const uint16_t*)F.p0.data)[", "(const uint16_t*)F.p2.data)["})
    EXPECT_EQ(src.find(element), std::string::npos) << element << ": still copied element-wise";
  const std::vector<Expected> want = info->reference(args);
  for (const char* isa : {"", "avx512bf16", "avx512", "avx2"}) {
    SCOPED_TRACE(*isa ? isa : "this CPU's");
    ScopedEnv env("JAGTILE_CPU_ISA", *isa ? isa : nullptr);
    auto [blocks, loops] = blocks_and_loops(p, info->kernel.c_str(), args, o);
    if (*isa || !bf16_on_tiles(DType::bf16)) EXPECT_TRUE(same_bits(blocks, loops));
    const Comparison c = compare_tensors(blocks, want.at(0), info->tolerance(DType::bf16));
    EXPECT_TRUE(c.ok) << c.mismatch;
  }
}

// The planner emits the microkernel call for float matmuls on the CPU, reading a transposed
// operand in place, and the element loops when asked (JAGTILE_CPU_MATMUL=loops).
TEST(MatmulBlocks, CpuSourceCallsTheMicrokernelUnlessLoopsAreAsked) {
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  ArgMap args = {{"q", Tensor::zeros({4, 8}, DType::f32)},
                 {"k", Tensor::zeros({4, 8}, DType::f32)}};
  Specialised s = p.specialise("scores", args, cpu_options());
  EXPECT_THAT(s.source(Backend::cpu), ::testing::HasSubstr("jt_matmul_f32(JtMatmul{"));
  EXPECT_THAT(s.source(Backend::cpu), ::testing::Not(::testing::HasSubstr("for (int64_t kk")));
  // k[tk, :].T is read in place (the permute has no array): B's k stride is 1, its column
  // stride k's row length.
  const std::vector<std::string> operands = first_matmul_operands(s.source(Backend::cpu));
  ASSERT_EQ(operands.size(), 14u);
  EXPECT_EQ(operands[7], " INT64_C(1)") << "b_k";
  EXPECT_NE(operands[8], " INT64_C(1)") << "b_n";
  ScopedEnv env("JAGTILE_CPU_MATMUL", "loops");
  Specialised l = p.specialise("scores", args, cpu_options());
  EXPECT_THAT(l.source(Backend::cpu), ::testing::Not(::testing::HasSubstr("jt_matmul_f32(")));
  EXPECT_THAT(l.source(Backend::cpu), ::testing::HasSubstr("for (int64_t kk"));
}

// A kernel with a matmul defaults to one item per outermost program, inner blocks of 64, and 128
// for its jagged loops over an item's rows (item_matmul's and jagged_outer's tile_k) and for a
// contraction over a dense dim (`hl.tile(D)`: item_matmul's tile_d); the output's columns keep 64
// (lower.cpp says why); bf16 operands take 256 for all of these and the output's rows and columns,
// and 512 for a jagged loop over the output's rows.
// Config entries keep their values; kernels without a matmul keep inner blocks of 32, except that
// the loop walking the tensors' contiguous dim (tile_d, nested under the jagged rows here) takes
// the column block, 256, and item_scale, which writes rows, one item.
TEST(MatmulBlocks, MatmulKernelsDefaultToOneItemAndWideRowAndDenseContractionBlocks) {
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  auto blocks_line = [&](const char* kernel, const ArgMap& args, const Options& o) {
    std::string src = p.specialise(kernel, args, o).source(Backend::cpu);
    size_t at = src.find("Blocks:");
    return at == std::string::npos ? std::string() : src.substr(at, src.find('\n', at) - at);
  };
  ArgMap mm = {{"x", Tensor::zeros({4, 8}, DType::f32)},
               {"offsets", Tensor::zeros({3}, DType::i64)},
               {"w", Tensor::zeros({2, 8, 8}, DType::f32)},
               {"bias", Tensor::zeros({2, 8}, DType::f32)}};
  EXPECT_EQ(blocks_line("item_matmul", mm, cpu_options()),
            "Blocks: tile_b=1 tile_k=128 tile_n=64 tile_d=128");
  // bf16 operands: 256 for the rows, the output's columns and the contraction (lower.cpp).
  ArgMap mm16 = {{"x", Tensor::zeros({4, 8}, DType::bf16)},
                 {"offsets", Tensor::zeros({3}, DType::i64)},
                 {"w", Tensor::zeros({2, 8, 8}, DType::bf16)},
                 {"bias", Tensor::zeros({2, 8}, DType::bf16)}};
  EXPECT_EQ(blocks_line("item_matmul", mm16, cpu_options()),
            "Blocks: tile_b=1 tile_k=512 tile_n=256 tile_d=256");
  EXPECT_EQ(blocks_line("item_matmul", mm, cpu_with_blocks({4, 16})),
            "Blocks: tile_b=4 tile_k=16 tile_n=64 tile_d=128");
  EXPECT_EQ(blocks_line("item_matmul", mm, cpu_with_blocks({4, 16, 32, 16})),
            "Blocks: tile_b=4 tile_k=16 tile_n=32 tile_d=16");
  ArgMap outer = {{"x", Tensor::zeros({4, 8}, DType::f32)},
                  {"y", Tensor::zeros({4, 8}, DType::f32)},
                  {"offsets", Tensor::zeros({3}, DType::i64)}};
  EXPECT_EQ(blocks_line("jagged_outer", outer, cpu_options()),
            "Blocks: tile_b=1 tile_d=64 tile_e=64 tile_k=128");
  // bf16: the dense loop over the output's rows (tile_d) takes 256 as well; the jagged tile_k,
  // a contraction here, keeps 256 (item_matmul's, over the output's rows, takes 512).
  ArgMap outer16 = {{"x", Tensor::zeros({4, 8}, DType::bf16)},
                    {"y", Tensor::zeros({4, 8}, DType::bf16)},
                    {"offsets", Tensor::zeros({3}, DType::i64)}};
  EXPECT_EQ(blocks_line("jagged_outer", outer16, cpu_options()),
            "Blocks: tile_b=1 tile_d=256 tile_e=256 tile_k=256");
  ArgMap plain = {{"x", Tensor::zeros({4, 8}, DType::f32)},
                  {"offsets", Tensor::zeros({3}, DType::i64)},
                  {"w", Tensor::zeros({2, 8}, DType::f32)}};
  EXPECT_EQ(blocks_line("item_scale", plain, cpu_options()),
            "Blocks: tile_b=1 tile_k=32 tile_d=256");
  // Attention's query and key blocks walk rows with hl.tile(begin, end): 64 each.
  const ExampleInfo* info = find_example("jagged_hstu_attention");
  Program attention = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + info->file);
  JaggedShape shape;
  shape.batch = 2;
  shape.max_len = 8;
  shape.heads = 2;
  shape.head_dim = 16;
  const std::string src =
      attention
          .specialise(info->kernel, info->make_inputs(shape, DType::f32, DType::i32), cpu_options())
          .source(Backend::cpu);
  EXPECT_THAT(src, ::testing::HasSubstr(" tile_q=64 tile_k=64\n"));
}

}  // namespace
}  // namespace jagtile::testing
