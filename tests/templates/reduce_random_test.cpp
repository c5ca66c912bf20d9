// Differential and determinism tests: the template against the reference over random shapes,
// dtypes and length distributions; bitwise identical results for any thread count, on repeated
// runs, and on every SIMD path the machine can run.
#include <gtest/gtest.h>

#include <random>

#include "jagtile/thread_pool.h"
#include "reduce_test_util.h"
#include "templates/cpu/reduce_kernel.h"

namespace jagtile {
namespace {

using testing::bitwise_equal;
using testing::compare_with_reference;
using testing::make_input;

TEST(ReduceRandom, FiveHundredDifferentialCases) {
  std::mt19937_64 rng(2026);
  const LengthDist dists[] = {LengthDist::uniform, LengthDist::zipf, LengthDist::empty,
                              LengthDist::one_huge, LengthDist::tiny};
  const DType dtypes[] = {DType::f32, DType::bf16, DType::f16};
  const ReduceOp ops[] = {ReduceOp::sum, ReduceOp::mean, ReduceOp::max, ReduceOp::min};
  int failures = 0;
  for (int c = 0; c < 500 && failures == 0; ++c) {
    JaggedShape shape;
    shape.batch = int64_t(rng() % 40);
    shape.max_len = int64_t(rng() % 150);
    shape.sparsity = double(rng() % 100) / 100.0;
    shape.dist = dists[rng() % 5];
    shape.seed = rng();
    const int64_t cols = int64_t(1 + rng() % 70);
    const bool one_dim = rng() % 8 == 0;
    const DType dtype = dtypes[rng() % 3];
    ReduceSpec spec;
    spec.op = ops[rng() % 4];
    spec.chunk_rows = int64_t(1 + rng() % 80);
    spec.num_threads = int(1 + rng() % 4);
    if (rng() % 4 == 0) spec.out_dtype = dtypes[rng() % 3];
    if (rng() % 5 == 0) spec.init = float(int(rng() % 5) - 2);
    if (spec.op == ReduceOp::mean && rng() % 2) {
      spec.post = ReducePost::divide_or_value;
      spec.post_value = 3.0f;
    }
    const auto lengths = generate_lengths(shape);
    auto in =
        make_input(lengths, cols, dtype, rng() % 2 ? DType::i64 : DType::i32, shape.seed, one_dim);
    if (!one_dim && rng() % 4 == 0) {
      spec.feature_counts = random_ints({shape.batch}, 0, cols, DType::i32, shape.seed);
    }
    Tensor actual = jagged_reduce(in.values, in.offsets, spec);
    Tensor expected = jagged_reduce_reference(in.values, in.offsets, spec);
    failures += compare_with_reference(actual, expected, lengths, spec.op,
                                       "random case " + std::to_string(c));
  }
  EXPECT_EQ(failures, 0);
}

TEST(ReduceRandom, BitwiseIdenticalForAnyThreadCountAndRepeats) {
  JaggedShape shape{.batch = 700, .features = 40, .max_len = 300, .dist = LengthDist::zipf};
  auto lengths = generate_lengths(shape);
  lengths[350] = 20000;  // one item spanning many chunks and several workers
  for (DType dtype : {DType::f32, DType::bf16}) {
    auto in = make_input(lengths, 40, dtype, DType::i64, 11);
    for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean, ReduceOp::max}) {
      ReduceSpec spec;
      spec.op = op;
      spec.chunk_rows = 16;
      spec.num_threads = 1;
      const Tensor baseline = jagged_reduce(in.values, in.offsets, spec);
      for (int threads : {1, 2, 3, 7}) {
        ThreadPool pool(threads);
        spec.pool = &pool;
        spec.num_threads = threads;
        for (int repeat = 0; repeat < 3; ++repeat) {
          EXPECT_TRUE(bitwise_equal(jagged_reduce(in.values, in.offsets, spec), baseline))
              << "threads=" << threads << " repeat=" << repeat;
        }
      }
    }
  }
}

// The work split itself: every thread count covers each row exactly once, shared items included.
// Summing integers (exact in fp32) makes any lost or doubled chunk visible as a wrong value.
TEST(ReduceRandom, SharedItemsAreCombinedExactlyOnce) {
  // Large enough (14k rows x 32 columns) that nine workers each get more than the minimum share.
  std::vector<int64_t> lengths{3, 5000, 0, 5, 9000, 1};
  int64_t rows = 0;
  for (int64_t len : lengths) rows += len;
  Tensor values = Tensor::full({rows, 32}, 1.0, DType::f32);
  Tensor offsets = lengths_to_offsets(lengths, DType::i32);
  for (int threads = 1; threads <= 9; ++threads) {
    ReduceSpec spec;
    spec.chunk_rows = 7;
    spec.num_threads = threads;
    Tensor out = jagged_reduce(values, offsets, spec);
    for (size_t b = 0; b < lengths.size(); ++b) {
      ASSERT_EQ(out.item_as_double(int64_t(b) * 32 + 31), double(lengths[b]))
          << "threads " << threads;
    }
  }
}

// Every instruction-set build computes the same bits (same fp32 operations in the same order).
TEST(ReduceRandom, EverySimdPathGivesTheSameBits) {
  __builtin_cpu_init();
  const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  const bool has_avx512 = has_avx2 && __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  std::vector<const reduce_detail::KernelTable*> tables{&reduce_detail::isa_portable::kernel_table};
  if (has_avx2) tables.push_back(&reduce_detail::isa_avx2::kernel_table);
  if (has_avx512) tables.push_back(&reduce_detail::isa_avx512::kernel_table);
  for (DType dtype : {DType::f32, DType::bf16, DType::f16}) {
    for (int64_t cols : {1, 5, 16, 200}) {
      const std::vector<int64_t> lengths{0, 3, 64, 150, 1};
      auto in = make_input(lengths, cols, dtype, DType::i64, 5, cols == 1);
      for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min}) {
        ReduceSpec op_spec;
        op_spec.op = op;
        std::vector<Tensor> outs;
        std::vector<std::string> names;
        for (const auto* table : tables) {
          for (bool streaming : {false, true}) {
            Tensor out = Tensor::zeros(cols == 1 ? Shape{5} : Shape{5, cols}, dtype);
            reduce_detail::ReduceArgs a;
            a.values = in.values.raw_data();
            a.in_dtype = dtype;
            a.num_cols = cols;
            a.offsets = in.offsets.raw_data();
            a.offsets_i64 = true;  // the i64 path, which large inputs use when they cannot narrow
            a.num_items = 5;
            a.combine = op;
            a.init = op_spec.effective_init();
            a.streaming_stores = streaming;
            a.out = out.raw_data();
            a.out_dtype = dtype;
            a.chunk_rows = 32;
            reduce_detail::WorkerCarry carry;
            table->run_worker(a, {0, 0}, {5, 0}, carry);
            EXPECT_EQ(carry.head_item, -1);
            EXPECT_EQ(carry.tail_item, -1);
            outs.push_back(out);
            names.push_back(std::string(table->isa) + (streaming ? "+streaming" : ""));
          }
        }
        ReduceSpec spec;
        spec.op = op;
        Tensor expected = jagged_reduce_reference(in.values, in.offsets, spec);
        EXPECT_EQ(compare_with_reference(outs[0], expected, lengths, op, names[0]), 0);
        for (size_t t = 1; t < outs.size(); ++t) {
          EXPECT_TRUE(bitwise_equal(outs[t], outs[0]))
              << names[t] << " differs from portable, dtype " << dtype_name(dtype) << " cols "
              << cols;
        }
      }
    }
  }
}

}  // namespace
}  // namespace jagtile
