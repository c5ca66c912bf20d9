// Run-time errors of generated code: an out-of-bounds load or store at a valid position stops
// the kernel with a UserError naming the kernel, source line, tensor, index and extent, and
// the process goes on (the next call works); asserts and bad sizes report like the
// interpreter; --unchecked (Options::checked = false) emits no checks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "codegen_helpers.h"
#include "jagtile/error.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;

const char* kCopy = R"PY(import torch
import helion.language as hl

def copy_n(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        out[t] = x[t] * 2.0
    return out

def store_past(x: torch.Tensor, shift: int) -> torch.Tensor:
    (n,) = x.size()
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        out[t.index + shift] = x[t]
    return out

def checked_rows(x: torch.Tensor, k: int) -> torch.Tensor:
    n, m = x.shape
    assert k <= n
    out = torch.zeros([k, m], dtype=x.dtype, device=x.device)
    for tb, tm in hl.tile([k, m]):
        out[tb, tm] = x[tb, tm] + 1.0
    return out

def row_masked(x: torch.Tensor, k: int, m: int) -> torch.Tensor:
    n = x.size(0)
    out = torch.zeros([n, m], dtype=x.dtype, device=x.device)
    for tb, tm in hl.tile([n, m]):
        keep = tb.index[:, None] < k
        out[tb, tm] = hl.load(x, [tb.index[:, None], tm.index[None, :]], extra_mask=keep)
    return out

def gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    (n,) = idx.size()
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        out[t] = x[idx[t]]
    return out
)PY";

Tensor arange(int64_t n) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(double(i));
  return Tensor::from_doubles({n}, v, DType::f32);
}

TEST(CpuErrors, LoadPastTheEndNamesKernelLineTensorIndexExtent) {
  use_shared_cache_dir();
  Program p = Program::from_source(kCopy, "errors.py");
  std::string msg = error_of(p, "copy_n", {{"x", arange(10)}, {"n", int64_t(20)}}, cpu_options());
  EXPECT_THAT(msg, HasSubstr("errors.py:7"));
  EXPECT_THAT(msg, HasSubstr("kernel 'copy_n'"));
  EXPECT_THAT(msg, HasSubstr("load of tensor 'x' at index 10 in dimension 0, which has size 10"));
  // The process survives: the same compiled kernel runs a valid call next.
  Tensor out = p.call("copy_n", {{"x", arange(10)}, {"n", int64_t(10)}}, cpu_options()).outputs[0];
  EXPECT_EQ(out.data<float>()[9], 18.0f);
  // Same message as the interpreter (the oracle).
  Options interp;
  interp.backend = Backend::interp;
  EXPECT_EQ(msg, error_of(p, "copy_n", {{"x", arange(10)}, {"n", int64_t(20)}}, interp));
}

TEST(CpuErrors, StorePastTheEnd) {
  use_shared_cache_dir();
  Program p = Program::from_source(kCopy, "errors.py");
  std::string msg =
      error_of(p, "store_past", {{"x", arange(40)}, {"shift", int64_t(3)}}, cpu_options(true, 2));
  EXPECT_THAT(msg, HasSubstr("errors.py:14"));
  EXPECT_THAT(msg,
              HasSubstr("store of tensor 'out' at index 40 in dimension 0, which has size 40"));
  std::string neg =
      error_of(p, "store_past", {{"x", arange(5)}, {"shift", int64_t(-1)}}, cpu_options());
  EXPECT_THAT(neg, HasSubstr("at index -1 in dimension 0, which has size 5"));
}

// The check pass tests only the first and last position of an innermost loop whose indices
// are monotone in it (t.index + shift): a bad end is still found, and the diagnosing pass
// still names the first bad position.
TEST(CpuErrors, MonotoneIndicesAreCheckedAtTheEnds) {
  use_shared_cache_dir();
  Program p = Program::from_source(kCopy, "errors.py");
  ArgMap args{{"x", arange(40)}, {"shift", int64_t(1)}};
  std::string code = p.specialise("store_past", args, cpu_options(true)).source(Backend::cpu);
  EXPECT_THAT(code, HasSubstr("monotone indices: the ends bound the rest"));
  // Only the last position of the last tile is out of bounds (index 40 of 40).
  std::string msg = error_of(p, "store_past", args, cpu_options());
  EXPECT_THAT(msg, HasSubstr("at index 40 in dimension 0, which has size 40"));
  // A one-element tile has one end.
  std::string one =
      error_of(p, "store_past", {{"x", arange(17)}, {"shift", int64_t(1)}}, cpu_options());
  EXPECT_THAT(one, HasSubstr("at index 17 in dimension 0, which has size 17"));
}

// A load masked by its row, in the loop over its columns: the mask is the same at every column,
// so the columns are still checked at their ends only. A row the mask keeps finds a column past
// the end; rows it skips are never checked (nor read).
TEST(CpuErrors, RowMaskedColumnsAreCheckedAtTheEnds) {
  use_shared_cache_dir();
  Program p = Program::from_source(kCopy, "errors.py");
  std::vector<double> v(20 * 5, 1.0);
  Tensor x = Tensor::from_doubles({20, 5}, v, DType::f32);
  ArgMap bad{{"x", x}, {"k", int64_t(3)}, {"m", int64_t(6)}};
  std::string code = p.specialise("row_masked", bad, cpu_options(true)).source(Backend::cpu);
  EXPECT_THAT(code, HasSubstr("monotone indices: the ends bound the rest"));
  std::string msg = error_of(p, "row_masked", bad, cpu_options());
  EXPECT_THAT(msg, HasSubstr("load of tensor 'x' at index 5 in dimension 1, which has size 5"));
  Tensor out = p.call("row_masked", {{"x", x}, {"k", int64_t(0)}, {"m", int64_t(6)}}, cpu_options())
                   .outputs[0];
  EXPECT_EQ(out.data<float>()[5], 0.0f);
}

// An index read from a tensor is not monotone: every position is checked, so a bad index in
// the middle of a tile is found.
TEST(CpuErrors, GatheredIndicesAreCheckedEverywhere) {
  use_shared_cache_dir();
  Program p = Program::from_source(kCopy, "errors.py");
  Tensor idx = Tensor::from_doubles({5}, {0, 1, 99, 2, 3}, DType::i64);
  std::string msg = error_of(p, "gather", {{"x", arange(10)}, {"idx", idx}}, cpu_options());
  EXPECT_THAT(msg, HasSubstr("errors.py:37"));
  EXPECT_THAT(msg, HasSubstr("load of tensor 'x' at index 99 in dimension 0, which has size 10"));
  Tensor ok = Tensor::from_doubles({5}, {0, 1, 9, 2, 3}, DType::i64);
  Tensor out = p.call("gather", {{"x", arange(10)}, {"idx", ok}}, cpu_options()).outputs[0];
  EXPECT_EQ(out.data<float>()[2], 9.0f);
}

// Offsets whose last item runs past the values: the rows of a jagged tile are monotone, so
// the check at the tile's ends catches the first row past the end.
TEST(CpuErrors, JaggedRowsPastTheValuesAreFound) {
  use_shared_cache_dir();
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/examples/jagged_softmax.py");
  ArgMap args{{"x_values", Tensor::zeros({7, 3}, DType::f32)},
              {"x_offsets", Tensor::from_doubles({3}, {0, 3, 9}, DType::i32)}};
  std::string msg = error_of(p, "jagged_softmax", args, cpu_options());
  // The offsets guard rejects them before the kernel runs, as the template path would.
  EXPECT_THAT(msg, HasSubstr("offsets 'x_offsets' end past the data: x_offsets[2] = 9 but "
                             "'x_values' has 7 rows"));
}

// jagged_dense_add's row stride comes from y, so its guard checks only the order of the
// offsets: the rows past the values are found by the loads' bounds checks.
TEST(CpuErrors, JaggedRowsPastTheValuesAreFoundByTheLoadChecks) {
  use_shared_cache_dir();
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/examples/jagged_dense_add.py");
  ArgMap args{{"x_values", Tensor::zeros({7, 3}, DType::f32)},
              {"x_offsets", Tensor::from_doubles({3}, {0, 3, 9}, DType::i32)},
              {"y", Tensor::zeros({2, 6, 3}, DType::f32)}};
  std::string msg = error_of(p, "jagged_dense_add", args, cpu_options());
  EXPECT_THAT(msg, HasSubstr("kernel 'jagged_dense_add'"));
  EXPECT_THAT(msg, HasSubstr("load of tensor 'x_flat' at index 2"));
  EXPECT_THAT(msg, HasSubstr("in dimension 0, which has size 21"));
}

TEST(CpuErrors, AssertReportsLikeTheInterpreter) {
  use_shared_cache_dir();
  Program p = Program::from_source(kCopy, "errors.py");
  Tensor x = Tensor::zeros({4, 3}, DType::f32);
  std::string msg = error_of(p, "checked_rows", {{"x", x}, {"k", int64_t(9)}}, cpu_options());
  EXPECT_THAT(msg, HasSubstr("errors.py:19"));
  // `assert k <= n` with k = 9, n = 4: the values it compared, once ("assertion failed" was
  // printed twice before).
  EXPECT_THAT(msg, HasSubstr("kernel 'checked_rows': assertion failed: 9 <= 4 is false\n"));
  Options interp;
  interp.backend = Backend::interp;
  EXPECT_EQ(msg, error_of(p, "checked_rows", {{"x", x}, {"k", int64_t(9)}}, interp));
  Tensor out = p.call("checked_rows", {{"x", x}, {"k", int64_t(2)}}, cpu_options()).outputs[0];
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_EQ(out.data<float>()[5], 1.0f);
}

TEST(CpuErrors, UncheckedEmitsNoChecksAndStillComputes) {
  use_shared_cache_dir();
  Program p = Program::from_source(kCopy, "errors.py");
  ArgMap args{{"x", arange(100)}, {"n", int64_t(100)}};
  Tensor out = p.call("copy_n", args, cpu_options(false)).outputs[0];
  EXPECT_EQ(out.data<float>()[99], 198.0f);
  std::string checked = p.specialise("copy_n", args, cpu_options(true)).source(Backend::cpu);
  std::string unchecked = p.specialise("copy_n", args, cpu_options(false)).source(Backend::cpu);
  EXPECT_THAT(checked, HasSubstr("bad |="));
  EXPECT_THAT(unchecked, ::testing::Not(HasSubstr("bad |=")));
  EXPECT_THAT(unchecked, HasSubstr("Bounds checks: off"));
}

TEST(CpuErrors, GeneratedSourceIsReadable) {
  use_shared_cache_dir();
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/examples/jagged_sum.py");
  ArgMap args{{"x_values", Tensor::zeros({4, 3}, DType::f32)},
              {"x_offsets", Tensor::from_doubles({3}, {0, 1, 4}, DType::i32)}};
  std::string code;
  DispatchDecision d = p.explain("jagged_sum", args, cpu_options(), nullptr, &code);
  // One entry per device nest; the host part runs on the runtime's host executor.
  EXPECT_THAT(code, HasSubstr("extern \"C\" int jagtile_jagged_sum_nest0(const JtCaptures* c, "
                              "int64_t begin, int64_t end)"));
  EXPECT_THAT(code, HasSubstr("JtTensor p1;  // x_offsets"));
  EXPECT_THAT(code, HasSubstr("// line 34: acc = acc + hl.load(x_flat, [flat]).sum(dim=1)"));
  EXPECT_THAT(code, HasSubstr("#pragma omp simd"));
  EXPECT_THAT(code, ::testing::Not(HasSubstr("torch.zeros")));  // no host code
  (void)d;
}

}  // namespace
}  // namespace jagtile::testing
