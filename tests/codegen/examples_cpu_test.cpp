// Every bundled example on the generic CPU backend equals the interpreter (exactly for integer
// and comparison-only results, within the example's tolerance for floats) over a small
// differential grid: several shapes and length distributions (uniform, zipf, all empty, one
// huge item, tiny items, no items at all), f32, bf16 and f64 values, i32 and i64 offsets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "codegen_helpers.h"
#include "testing/example_grid.h"
#include "testing/examples.h"
#include "testing/scoped_env.h"

namespace jagtile::testing {
namespace {

std::vector<GridPoint> grid() {
  return {
      grid_point(37, 19, 23, LengthDist::uniform, 1, DType::f32, DType::i32),
      grid_point(21, 40, 70, LengthDist::zipf, 2, DType::f32, DType::i32),
      grid_point(9, 5, 10, LengthDist::empty, 3, DType::f32, DType::i32),
      grid_point(19, 33, 60, LengthDist::one_huge, 4, DType::f32, DType::i32),
      grid_point(50, 3, 8, LengthDist::tiny, 5, DType::f32, DType::i32),
      grid_point(0, 7, 8, LengthDist::uniform, 6, DType::f32, DType::i32),
      grid_point(23, 33, 31, LengthDist::uniform, 7, DType::bf16, DType::i64),
      grid_point(17, 8, 40, LengthDist::one_huge, 8, DType::bf16, DType::i64),
      grid_point(40, 1, 5, LengthDist::tiny, 9, DType::bf16, DType::i64),
      grid_point(15, 11, 20, LengthDist::zipf, 10, DType::f64, DType::i64),
  };
}

void matches_interpreter_over_grid(const std::string& example,
                                   const std::vector<GridPoint>& points = grid()) {
  use_shared_cache_dir();
  const ExampleInfo* info = find_example(example);
  ASSERT_NE(info, nullptr);
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + info->file);
  Options interp;
  interp.backend = Backend::interp;
  for (const GridPoint& g : points) {
    SCOPED_TRACE(describe(g));
    ArgMap args = info->make_inputs(g.shape, g.values, g.offsets);
    CallResult cpu = p.call(info->kernel, args, cpu_options());
    EXPECT_EQ(cpu.backend_used, Backend::cpu);
    std::vector<Tensor> want = p.call(info->kernel, args, interp).outputs;
    ASSERT_EQ(cpu.outputs.size(), want.size());
    std::vector<Expected> ref = info->reference(args);
    for (size_t i = 0; i < want.size(); ++i) {
      Tolerance tol = info->tolerance(want[i].dtype());
      // Rows outside every item are unspecified (`empty` outputs): compare the written rows.
      std::vector<uint8_t> rows = i < ref.size() ? ref[i].rows : std::vector<uint8_t>{};
      Comparison c = compare_tensors(cpu.outputs[i], want[i], tol, rows);
      EXPECT_TRUE(c.ok) << "output " << i << " vs interpreter: " << c.mismatch;
      if (i < ref.size()) {
        Comparison r = compare_tensors(cpu.outputs[i], ref[i].value, tol, ref[i].rows);
        EXPECT_TRUE(r.ok) << "output " << i << " vs reference: " << r.mismatch;
      }
    }
  }
}

class ExampleOnCpu : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleOnCpu, MatchesInterpreterOverGrid) {
  matches_interpreter_over_grid(GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, ExampleOnCpu,
                         ::testing::Values("jagged_sum", "jagged_mean", "jagged_max",
                                           "jagged_softmax", "jagged_layer_norm",
                                           "jagged_dense_add", "jagged_dense_bmm",
                                           "jagged_hstu_attention"));

// The same with streaming stores for every output (JAGTILE_STREAM_MIN_BYTES=0; by default only
// outputs of 32 MiB and more, or of 1 MiB and more in a nest with more traffic or with products,
// stream, which no test's data reaches): every contiguous float row a kernel stores goes through
// a 64-byte line (16 f32 or 32 bf16 values; the grid has both) and jt_store_row_f32 or
// jt_store_row_16, aligned or not.
class ExampleOnCpuStreaming : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleOnCpuStreaming, MatchesInterpreterOverGrid) {
  const jagtile::testing::ScopedEnv stream_all("JAGTILE_STREAM_MIN_BYTES", "0");
  matches_interpreter_over_grid(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Stored, ExampleOnCpuStreaming,
                         ::testing::Values("jagged_softmax", "jagged_layer_norm",
                                           "jagged_dense_add", "jagged_dense_bmm",
                                           "jagged_hstu_attention"));

// Rows stored in chunks of 8 lines where the values take long-latency arithmetic (softmax's exp
// and division; print_cpp.cpp, streamed_loop): rows wide enough for whole chunks, then a chunk of
// whole lines and a tail; rows of 300 values, so that every other row starts off a line's
// boundary; f32 and bf16; with streaming stores and without.
class ExampleOnCpuRowChunks : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleOnCpuRowChunks, WideRowsMatchTheInterpreter) {
  const std::vector<GridPoint> wide = {
      grid_point(12, 300, 20, LengthDist::uniform, 11, DType::f32, DType::i32),
      grid_point(9, 300, 17, LengthDist::zipf, 12, DType::bf16, DType::i64),
      grid_point(7, 256, 9, LengthDist::uniform, 13, DType::f32, DType::i64),
  };
  const jagtile::testing::ScopedEnv stream("JAGTILE_STREAM_MIN_BYTES", GetParam().c_str());
  matches_interpreter_over_grid("jagged_softmax", wide);
}

INSTANTIATE_TEST_SUITE_P(StreamingOrNot, ExampleOnCpuRowChunks, ::testing::Values("0", ""));

TEST(RowChunks, EightLinesWhereElementsAreCostlyOneWhereTheyAreCheap) {
  const std::string softmax = example_cpu_source("jagged_softmax", JaggedShape{}, DType::f32);
  EXPECT_THAT(softmax, ::testing::HasSubstr("jt_c0 += 128)"));
  EXPECT_THAT(softmax, ::testing::HasSubstr("alignas(64) float jt_row0[128];"));
  const std::string bf16 = example_cpu_source("jagged_softmax", JaggedShape{}, DType::bf16);
  EXPECT_THAT(bf16, ::testing::HasSubstr("jt_c0 += 256)"));
  const std::string add = example_cpu_source("jagged_dense_add", JaggedShape{}, DType::f32);
  EXPECT_THAT(add, ::testing::HasSubstr("jt_c0 += 16)"));
  EXPECT_THAT(add, ::testing::Not(::testing::HasSubstr("jt_c0 += 128)")));
}

// The same at each vector width the JIT can aim for (JAGTILE_VECTOR_WIDTH; the default is 512
// where AVX-512 runs on 512-bit units and the compiler's choice elsewhere), for the examples whose
// elementwise and reduction loops the vectoriser widens.
class ExampleOnCpuAtVectorWidth
    : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(ExampleOnCpuAtVectorWidth, MatchesInterpreterOverGrid) {
  const auto& [example, width] = GetParam();
  const jagtile::testing::ScopedEnv set_width("JAGTILE_VECTOR_WIDTH", width.c_str());
  matches_interpreter_over_grid(example);
}

INSTANTIATE_TEST_SUITE_P(Both, ExampleOnCpuAtVectorWidth,
                         ::testing::Combine(::testing::Values("jagged_sum", "jagged_softmax",
                                                              "jagged_layer_norm",
                                                              "jagged_hstu_attention"),
                                            ::testing::Values("256", "512")));

// The same with every tile array on the entry's scratch stack (JAGTILE_STACK_ARRAY_BYTES=0; by
// default arrays of up to 64 KiB are the stack's, which every example's default blocks are):
// JtHeapArray's marks and releases must give every array its own memory for as long as it
// lives, in every example's nesting of them.
class ExampleOnCpuScratchArrays : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleOnCpuScratchArrays, MatchesInterpreterOverGrid) {
  const jagtile::testing::ScopedEnv scratch_all("JAGTILE_STACK_ARRAY_BYTES", "0");
  matches_interpreter_over_grid(GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, ExampleOnCpuScratchArrays,
                         ::testing::Values("jagged_sum", "jagged_mean", "jagged_max",
                                           "jagged_softmax", "jagged_layer_norm",
                                           "jagged_dense_add", "jagged_dense_bmm",
                                           "jagged_hstu_attention"));

TEST(ScratchArrays, TheStackLimitSettingMovesFixedArraysToTheScratchStack) {
  Program p = Program::from_source(read_source_file("examples/jagged_softmax.py"), "softmax.py");
  const ExampleInfo* info = find_example("jagged_softmax");
  JaggedShape s;
  ArgMap args = info->make_inputs(s, DType::f32, DType::i32);
  const std::string plain =
      p.specialise("jagged_softmax", args, cpu_options()).source(Backend::cpu);
  EXPECT_THAT(plain, ::testing::HasSubstr("alignas(64) float v"));
  EXPECT_THAT(plain, ::testing::Not(::testing::HasSubstr("JtHeapArray<float>")));
  std::string scratch;
  {
    const jagtile::testing::ScopedEnv scratch_all("JAGTILE_STACK_ARRAY_BYTES", "0");
    scratch = p.specialise("jagged_softmax", args, cpu_options()).source(Backend::cpu);
  }
  EXPECT_THAT(scratch, ::testing::HasSubstr("JtHeapArray<float>"));
  EXPECT_THAT(scratch, ::testing::Not(::testing::HasSubstr("alignas(64) float v")));
}

// Which stores stream: a contiguous f32 row of the output, behind a run-time decision against
// the threshold printed into the file (streaming_stores_test.cpp); a fence ends each run of
// programs.
TEST(StreamingStores, ContiguousRowsOfF32OutputsGoThroughTheLineStore) {
  Program p =
      Program::from_source(read_source_file("examples/jagged_dense_add.py"), "dense_add.py");
  const ExampleInfo* info = find_example("jagged_dense_add");
  JaggedShape s;
  ArgMap args = info->make_inputs(s, DType::f32, DType::i32);
  std::string code = p.specialise("jagged_dense_add", args, cpu_options()).source(Backend::cpu);
  EXPECT_THAT(code, ::testing::HasSubstr("#define JT_STREAM_MIN_BYTES INT64_C(33554432)"));
  EXPECT_THAT(code, ::testing::HasSubstr("jt_store_row_f32(jt_to0, jt_row0, jt_n0, jt_stream_"));
  EXPECT_THAT(code, ::testing::HasSubstr("jt_stream_worth(&F."));
  EXPECT_THAT(code, ::testing::HasSubstr("jt_store_fence();"));
  // bf16 outputs are converted on store: no streaming.
  ArgMap bf = info->make_inputs(s, DType::bf16, DType::i32);
  EXPECT_THAT(p.specialise("jagged_dense_add", bf, cpu_options()).source(Backend::cpu),
              ::testing::Not(::testing::HasSubstr("jt_store_row_f32(jt_to")));
}

// The example's output on the CPU backend (checked, 2 threads) and on the interpreter, both
// with these block sizes, compared within the example's f32 tolerance.
Comparison cpu_against_interpreter(Program& p, const ExampleInfo& info, const ArgMap& args,
                                   const std::vector<int64_t>& blocks) {
  Options cpu = cpu_options(true, 2);
  cpu.config.block_sizes = blocks;
  Options interp;
  interp.backend = Backend::interp;
  interp.config.block_sizes = blocks;
  Tensor got = p.call(info.kernel, args, cpu).outputs.at(0);
  Tensor want = p.call(info.kernel, args, interp).outputs.at(0);
  return compare_tensors(got, want, info.tolerance(DType::f32));
}

// Odd block sizes (1, non-powers of two, larger than the data) exercise partial tiles in
// every dimension and jagged tiles shorter than their block.
TEST(ExampleOnCpuBlocks, OddBlockSizesMatchInterpreter) {
  use_shared_cache_dir();
  Program p =
      Program::from_source(read_source_file("examples/jagged_softmax.py"), "jagged_softmax.py");
  const ExampleInfo* info = find_example("jagged_softmax");
  JaggedShape s;
  s.batch = 29;
  s.features = 11;
  s.max_len = 17;
  s.seed = 11;
  ArgMap args = info->make_inputs(s, DType::f32, DType::i32);
  Comparison c = cpu_against_interpreter(p, *info, args, {3, 5, 1, 7});
  EXPECT_TRUE(c.ok) << c.mismatch;
}

// Block sizes whose tile arrays do not fit in 64 KiB of a worker's stack (64 x 512 floats of
// run_max / run_sum here): the generated code puts them on the heap, and still computes what
// the interpreter does.
TEST(ExampleOnCpuBlocks, HugeBlockSizesUseHeapArraysAndMatchInterpreter) {
  use_shared_cache_dir();
  Program p =
      Program::from_source(read_source_file("examples/jagged_softmax.py"), "jagged_softmax.py");
  const ExampleInfo* info = find_example("jagged_softmax");
  JaggedShape s;
  s.batch = 70;
  s.features = 300;
  s.max_len = 40;
  s.seed = 12;
  ArgMap args = info->make_inputs(s, DType::f32, DType::i32);
  const std::vector<int64_t> huge = {64, 512, 256, 256};
  Options cpu = cpu_options(true, 2);
  cpu.config.block_sizes = huge;
  std::string code = p.specialise("jagged_softmax", args, cpu).source(Backend::cpu);
  EXPECT_NE(code.find("JtHeapArray<float> v16_heap(F.scratch, 32768)"), std::string::npos)
      << "run_max is not a heap array";
  EXPECT_EQ(code.find("float v16[32768]"), std::string::npos) << "run_max is on the stack";
  Comparison c = cpu_against_interpreter(p, *info, args, huge);
  EXPECT_TRUE(c.ok) << c.mismatch;
}

// Tile arrays past 64 KiB allocated in every iteration of an inner loop, several live at once
// (attention's k, v and product blocks of 128 x 160 floats, inside the q block's q and acc):
// the entry's scratch stack serves them in LIFO order, growing after the first iteration, and
// the results are the interpreter's on every program.
TEST(ExampleOnCpuBlocks, HeapArraysInInnerLoopsShareTheScratchStackAndMatchInterpreter) {
  use_shared_cache_dir();
  const ExampleInfo* info = find_example("jagged_hstu_attention");
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + info->file);
  JaggedShape s;
  s.batch = 9;
  s.max_len = 300;
  s.heads = 2;
  s.head_dim = 160;
  s.seed = 5;
  ArgMap args = info->make_inputs(s, DType::f32, DType::i32);
  const std::vector<int64_t> blocks = {128, 128};
  Options cpu = cpu_options(true, 2);
  cpu.config.block_sizes = blocks;
  std::string code = p.specialise("jagged_hstu_attention", args, cpu).source(Backend::cpu);
  size_t heap_arrays = 0;
  for (size_t at = code.find("_heap(F.scratch, "); at != std::string::npos;
       at = code.find("_heap(F.scratch, ", at + 1))
    ++heap_arrays;
  EXPECT_GE(heap_arrays, 4u) << code;
  Comparison c = cpu_against_interpreter(p, *info, args, blocks);
  EXPECT_TRUE(c.ok) << c.mismatch;
}

// The generic code is deterministic: identical bits on 1 and 2 threads and on repeated runs.
TEST(ExampleOnCpuThreads, SameBitsOnAnyThreadCount) {
  use_shared_cache_dir();
  const ExampleInfo* info = find_example("jagged_layer_norm");
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + info->file);
  JaggedShape s;
  s.batch = 70;
  s.features = 24;
  s.max_len = 50;
  s.dist = LengthDist::zipf;
  ArgMap args = info->make_inputs(s, DType::f32, DType::i32);
  Tensor one = p.call(info->kernel, args, cpu_options(true, 1)).outputs.at(0);
  Tensor two = p.call(info->kernel, args, cpu_options(true, 2)).outputs.at(0);
  Tensor again = p.call(info->kernel, args, cpu_options(true, 2)).outputs.at(0);
  ASSERT_EQ(one.nbytes(), two.nbytes());
  EXPECT_EQ(0, std::memcmp(one.raw_data(), two.raw_data(), size_t(one.nbytes())));
  EXPECT_EQ(0, std::memcmp(two.raw_data(), again.raw_data(), size_t(two.nbytes())));
}

}  // namespace
}  // namespace jagtile::testing
