// Which outputs generated C++ writes with streaming (non-temporal) stores: the decision each nest
// entry takes once per call (cpp_prelude.cpp, jt_stream_worth) and what the printer passes it.
// The decision is the prelude's own text, compiled by the JIT with a small wrapper, so these
// tests pin the function kernels run; and that the printer never streams a tensor the nest reads.
// That streamed rows hold the right values is ExampleOnCpuStreaming's (examples_cpu_test.cpp),
// which streams every output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "codegen/cpu/jit.h"
#include "codegen/cpu/print_cpp.h"
#include "codegen_helpers.h"
#include "paths.h"
#include "testing/compare.h"
#include "testing/examples.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// jt_stream_worth on a [rows, cols] tensor of `element`-byte floats.
const char* kWrapper = R"JT(
extern "C" int jt_test_stream_worth(int64_t rows, int64_t cols, int64_t element,
                                    int64_t footprint, int64_t min_bytes, int after_products) {
  JtTensor t;
  t.data = 0;
  t.rank = 2;
  t.size[0] = rows;
  t.size[1] = cols;
  return jt_stream_worth(&t, element, footprint, min_bytes, after_products);
}
)JT";

using StreamWorthFn = int (*)(int64_t, int64_t, int64_t, int64_t, int64_t, int);

StreamWorthFn stream_worth() {
  static std::shared_ptr<const codegen::cpu::LoadedKernel> code = [] {
    use_shared_cache_dir();
    return codegen::cpu::Jit::for_dir().load(codegen::cpu::prelude() + kWrapper,
                                             "jt_test_stream_worth");
  }();
  return reinterpret_cast<StreamWorthFn>(code->symbol("jt_test_stream_worth"));
}

constexpr int64_t kMiB = int64_t(1) << 20;
constexpr int64_t kMin = 32 * kMiB;  // JT_STREAM_MIN_BYTES's default

TEST(StreamingStores, AnOutputPastTheThresholdStreamsOnItsOwn) {
  StreamWorthFn worth = stream_worth();
  // 32 MiB of rows of 256 floats (1 KiB, 16 lines each), the nest's only tensor; a row less
  // stays below.
  EXPECT_EQ(worth(32 * 1024, 256, 4, 32 * kMiB, kMin, 0), 1);
  EXPECT_EQ(worth(32 * 1024 - 1, 256, 4, 32 * kMiB - 1024, kMin, 0), 0);
}

TEST(StreamingStores, AMidSizedOutputStreamsAmongTrafficPastTheThresholdOrAfterProducts) {
  StreamWorthFn worth = stream_worth();
  const int64_t rows = 8 * 1024, cols = 256;  // 8 MiB
  EXPECT_EQ(worth(rows, cols, 4, kMin - 1, kMin, 0), 0);
  EXPECT_EQ(worth(rows, cols, 4, kMin, kMin, 0), 1);
  EXPECT_EQ(worth(rows, cols, 4, 9 * kMiB, kMin, 1), 1);
  // From 1/32 of the threshold (1 MiB) on; below it, never.
  EXPECT_EQ(worth(1024, 256, 4, 4 * kMin, kMin, 1), 1);
  EXPECT_EQ(worth(1023, 256, 4, 4 * kMin, kMin, 1), 0);
}

TEST(StreamingStores, RowsThatShareLinesNeverStream) {
  StreamWorthFn worth = stream_worth();
  // Rows of 24 floats (96 bytes) share lines: plain stores even at 36 MiB.
  EXPECT_EQ(worth(1536 * 256, 24, 4, 2 * kMin, kMin, 1), 0);
  // 16 floats, or 32 bf16 values, are a line.
  EXPECT_EQ(worth(kMin / 64, 16, 4, kMin, kMin, 0), 1);
  EXPECT_EQ(worth(kMin / 64, 32, 2, kMin, kMin, 0), 1);
  EXPECT_EQ(worth(kMin / 64, 24, 2, kMin, kMin, 0), 0);
  // Below the threshold's 1/32 a row of lines keeps plain stores too.
  EXPECT_EQ(worth(1, 16, 4, 64, kMin, 1), 0);
}

TEST(StreamingStores, AThresholdOfZeroStreamsEveryWholeLineOfEveryRow) {
  StreamWorthFn worth = stream_worth();
  // JAGTILE_STREAM_MIN_BYTES=0, as tests and the fuzzer set it: rows that share lines too, so
  // that a row's streamed lines beside its plain ones stay checked.
  EXPECT_EQ(worth(1, 16, 4, 64, 0, 0), 1);
  EXPECT_EQ(worth(3, 24, 4, 288, 0, 0), 1);
  EXPECT_EQ(worth(1, 8, 4, 32, 0, 0), 1);
}

// The entry passes the nest's tensors together and whether the nest holds products.
std::string cpu_code(const std::string& example) {
  Program p =
      Program::from_source(read_source_file("examples/" + example + ".py"), example + ".py");
  JaggedShape s;
  ArgMap args = find_example(example)->make_inputs(s, DType::f32, DType::i32);
  return p.specialise(example, args, cpu_options()).source(Backend::cpu);
}

TEST(StreamingStores, TheEntryDecidesOncePerCallWithTheFootprintAndTheProducts) {
  const std::string add = cpu_code("jagged_dense_add");
  EXPECT_THAT(add, HasSubstr("const int64_t jt_footprint = jt_tensor_bytes(&F."));
  EXPECT_THAT(add, HasSubstr(", jt_footprint, JT_STREAM_MIN_BYTES, 0);"));
  EXPECT_THAT(add, Not(HasSubstr(", jt_footprint, JT_STREAM_MIN_BYTES, 1);")));
  EXPECT_THAT(add, HasSubstr("const int jt_stream_h"));
  for (const char* products : {"jagged_dense_bmm", "jagged_hstu_attention"})
    EXPECT_THAT(cpu_code(products), HasSubstr(", jt_footprint, JT_STREAM_MIN_BYTES, 1);"))
        << products;
}

// A softmax over each item's rows in three passes: the maximum; e = exp(x - max) stored with its
// sum; then the output, READ_BACK: the stored e read back and divided by the sum, or e computed
// again from x.
const char* kThreePass = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[1, 32, 8, 8, 8]))
def three_pass(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    M = x.size(1)
    out = torch.empty_like(x)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            run_max = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                run_max = torch.maximum(run_max, x[starts[:, None] + tile_k.index[None, :], tile_m].amax(dim=1))
            total = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                e = torch.exp(x[rows, tile_m] - run_max[:, None, :])
                total = total + e.sum(dim=1)
                out[rows, tile_m] = e
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                out[rows, tile_m] = READ_BACK
    return out
)PY";

std::string three_pass(const std::string& read_back) {
  std::string s = kThreePass;
  return s.replace(s.find("READ_BACK"), 9, read_back);
}

ArgMap three_pass_args() {
  std::vector<double> x, offsets{0};
  for (int64_t len : {0, 5, 17, 40, 1}) {
    for (int64_t i = 0; i < len * 32; ++i) x.push_back(double((i * 37 + len) % 11) / 4.0);
    offsets.push_back(offsets.back() + double(len));
  }
  return {{"x", Tensor::from_doubles({int64_t(x.size()) / 32, 32}, x, DType::f32)},
          {"offsets", Tensor::from_doubles({int64_t(offsets.size())}, offsets, DType::i64)}};
}

TEST(StreamingStores, AnOutputTheNestReadsBackKeepsPlainStores) {
  const ArgMap args = three_pass_args();
  use_shared_cache_dir();
  auto code = [&](const std::string& read_back) {
    return Program::from_source(three_pass(read_back), "three_pass.py")
        .specialise("three_pass", args, cpu_options())
        .source(Backend::cpu);
  };
  EXPECT_THAT(code("torch.exp(x[rows, tile_m] - run_max[:, None, :]) / total[:, None, :]"),
              HasSubstr("jt_stream_worth(&"));
  EXPECT_THAT(code("out[rows, tile_m] / total[:, None, :]"), Not(HasSubstr("jt_stream_worth(&")));
  // Its values, with every other row streamed (threshold 0), are the interpreter's (generated
  // code's exp is within 0.94 ulp, the interpreter's is the C library's: a few ulp apart).
  const ScopedEnv stream_all("JAGTILE_STREAM_MIN_BYTES", "0");
  const std::string source = three_pass("out[rows, tile_m] / total[:, None, :]");
  const Tensor want = run_on(Path::interp, source, args).at(0);
  for (Path path : {Path::cpu, Path::cpu_unchecked}) {
    Comparison cmp = compare_tensors(run_on(path, source, args).at(0), want, Tolerance{0, 1e-6});
    EXPECT_TRUE(cmp.ok) << path_name(path) << ": " << cmp.mismatch;
  }
}

}  // namespace
}  // namespace jagtile::testing
