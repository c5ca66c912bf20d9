// Hand-checked interpreter cases: tile masks, jagged tiles (nested and with a 2-D parent),
// reductions over empty items, extra_mask, grid loops, per-program ifs and bounds, fp32 compute
// of 16-bit values with round-to-nearest-even stores, matmul masks, bounds errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "helpers.h"

namespace jagtile::testing {
namespace {

TEST(Interp, PartialTileIsMasked) {
  const char* src = R"(
@helion.kernel(config=helion.Config(block_sizes=[4]))
def k(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for t in hl.tile(x.size(0)):
        out[t] = x[t] * 2 + t.index
    return out
)";
  auto out = run(src, {{"x", f32({5}, {1, 2, 3, 4, 5})}});
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{2, 5, 8, 11, 14}));
}

const char* kReductions = R"(
@helion.kernel(config=helion.Config(block_sizes=[2, 2]))
def k(x: torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    B = offsets.size(0) - 1
    s = torch.empty([B], dtype=torch.float32, device=x.device)
    mx = torch.empty([B], dtype=torch.float32, device=x.device)
    mn = torch.empty([B], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        acc = hl.zeros([tile_b], dtype=torch.float32)
        hi = hl.full([tile_b], float("-inf"), dtype=torch.float32)
        lo = hl.full([tile_b], float("inf"), dtype=torch.float32)
        for tile_k in hl.jagged_tile(nnz):
            v = x[starts[:, None] + tile_k.index[None, :]]
            acc = acc + v.sum(dim=1)
            hi = torch.maximum(hi, v.amax(dim=1))
            lo = torch.minimum(lo, v.amin(dim=1))
        s[tile_b] = acc
        mx[tile_b] = hi
        mn[tile_b] = lo
    return s, mx, mn
)";

TEST(Interp, ReductionsSkipMaskedAndEmptyItems) {
  // items: [5, -1, 3], [], [7], [] ; the masked lanes of the jagged tile hold 0 in loads, which
  // must not win the max of an all-negative item or the min of an all-positive one.
  Tensor x = f32({5}, {5, -1, 3, 7, -2});
  Tensor off = i64({6}, {0, 3, 3, 4, 5, 5});
  auto out = run(kReductions, {{"x", x}, {"offsets", off}});
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{7, 0, 7, -2, 0}));
  EXPECT_EQ(values(out.at(1)), (std::vector<double>{5, -inf, 7, -2, -inf}));
  EXPECT_EQ(values(out.at(2)), (std::vector<double>{-1, inf, 7, -2, inf}));
}

TEST(Interp, MeanOfMaskedPositionsCountsValidOnes) {
  const char* src = R"(
@helion.kernel(config=helion.Config(block_sizes=[4, 4]))
def k(x: torch.Tensor) -> torch.Tensor:
    R, C = x.shape
    out = torch.zeros([R], dtype=torch.float32, device=x.device)
    for tile_r in hl.tile(R):
        acc = hl.zeros([tile_r], dtype=torch.float32)
        for tile_c in hl.tile(C):
            acc = acc + x[tile_r, tile_c].mean(dim=1)
        out[tile_r] = acc
    return out
)";
  // C = 3 with a tile of 4: the mean is over the 3 valid columns.
  auto out = run(src, {{"x", f32({2, 3}, {1, 2, 3, 4, 5, 9})}});
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{2, 6}));
}

const char* kTwoDimParent = R"(
@helion.kernel(config=helion.Config(block_sizes=[2, 1, 2]))
def k(lengths: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    A, B = lengths.shape
    out = torch.full([A, B], -1.0, dtype=torch.float32, device=x.device)
    for tile_a, tile_b in hl.tile([A, B]):
        n = lengths[tile_a, tile_b]
        acc = hl.zeros([tile_a, tile_b], dtype=torch.float32)
        for tile_k in hl.jagged_tile(n):
            acc = acc + x[tile_a, tile_b, tile_k].sum(dim=2)
        out[tile_a, tile_b] = acc
    return out
)";

TEST(Interp, JaggedTileWithTwoDimensionalParent) {
  // lengths [3, 2]; x [3, 2, 4] holds 100*a + 10*b + k.
  std::vector<double> xs;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 2; ++b)
      for (int k = 0; k < 4; ++k) xs.push_back(100 * a + 10 * b + k);
  Tensor lengths = i64({3, 2}, {0, 4, 1, 3, 2, 0});
  auto out = run(kTwoDimParent, {{"lengths", lengths}, {"x", f32({3, 2, 4}, xs)}});
  std::vector<double> expect;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 2; ++b) {
      double s = 0;
      for (int k = 0; k < lengths.item_as_double(a * 2 + b); ++k) s += 100 * a + 10 * b + k;
      expect.push_back(s);
    }
  EXPECT_EQ(values(out.at(0)), expect);
}

const char* kNested = R"(
@helion.kernel(config=helion.Config(block_sizes=[2, 1, 3]))
def k(counts: torch.Tensor, lens: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    B, M = lens.shape
    out = torch.full([B, M], -1.0, dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        cols = counts[tile_b]
        for tile_m in hl.jagged_tile(cols):
            n = lens[tile_b, tile_m]
            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(n):
                acc = acc + x[tile_b, tile_m, tile_k].sum(dim=2)
            out[tile_b, tile_m] = acc
    return out
)";

TEST(Interp, NestedJaggedTiles) {
  // Item b has counts[b] columns; column m of item b has lens[b, m] rows. Columns past the
  // count are never written (they keep -1).
  Tensor counts = i64({3}, {2, 0, 1});
  Tensor lens = i64({3, 2}, {3, 0, 5, 5, 4, 2});
  std::vector<double> xs;
  for (int b = 0; b < 3; ++b)
    for (int m = 0; m < 2; ++m)
      for (int k = 0; k < 5; ++k) xs.push_back(b * 100 + m * 10 + k);
  auto out = run(kNested, {{"counts", counts}, {"lens", lens}, {"x", f32({3, 2, 5}, xs)}});
  EXPECT_EQ(values(out.at(0)),
            (std::vector<double>{0 + 1 + 2, 0, -1, -1, 200 + 201 + 202 + 203, -1}));
}

TEST(Interp, ExtraMaskOnLoadAndStore) {
  const char* src = R"(
@helion.kernel(config=helion.Config(block_sizes=[8]))
def k(x: torch.Tensor, limit: int) -> torch.Tensor:
    n = x.size(0)
    out = torch.full([n], 9.0, dtype=torch.float32, device=x.device)
    for t in hl.tile(n):
        keep = t.index < limit
        v = hl.load(x, [t.index], extra_mask=keep)
        hl.store(out, [t.index], v + 1, extra_mask=t.index != 1)
    return out
)";
  auto out = run(src, {{"x", f32({4}, {10, 20, 30, 40})}, {"limit", int64_t(2)}});
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{11, 9, 1, 1}));
}

TEST(Interp, GridLoopGivesScalarIndices) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    out = torch.zeros([B], dtype=torch.float32, device=x.device)
    for i in hl.grid(B):
        start = offsets[i]
        nnz = offsets[i + 1] - start
        acc = hl.zeros([], dtype=torch.float32)
        for tile_k in hl.tile(0, nnz):
            acc = acc + x[start + tile_k.index].sum()
        out[i] = acc
    return out
)";
  auto out = run(src, {{"x", f32({4}, {1, 2, 3, 4})}, {"offsets", i64({4}, {0, 1, 1, 4})}});
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{1, 0, 9}));
}

TEST(Interp, IfOnPerProgramScalarAndDeviceScalarBounds) {
  const char* src = R"(
@helion.kernel(config=helion.Config(block_sizes=[2, 4]))
def k(y: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    B, L = y.shape
    out = torch.zeros_like(y)
    for tile_b in hl.tile(B):
        n = lengths[tile_b]
        longest = n.amax()
        for tile_l in hl.tile(0, longest):
            out[tile_b, tile_l] = y[tile_b, tile_l] + 1
        if tile_b.begin == 0:
            for tile_l in hl.tile(longest, L):
                out[tile_b, tile_l] = -y[tile_b, tile_l]
    return out
)";
  // lanes 0-1 (begin 0): longest 2; lanes 2-3 (begin 2): longest 3, no negation.
  Tensor y = f32({4, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  auto out = run(src, {{"y", y}, {"lengths", i64({4}, {1, 2, 3, 0})}});
  EXPECT_EQ(values(out.at(0)),
            (std::vector<double>{2, 3, -3, -4, 6, 7, -7, -8, 10, 11, 12, 0, 14, 15, 16, 0}));
}

TEST(Interp, SixteenBitAccumulatorsComputeInFp32AndStoresRoundToNearestEven) {
  const char* src = R"(
@helion.kernel(config=helion.Config(block_sizes=[1, 64]))
def k(x: torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    B = offsets.size(0) - 1
    total = torch.zeros([B], dtype=torch.float32, device=x.device)
    rounded = torch.zeros([B], dtype=torch.bfloat16, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        acc = hl.zeros([tile_b], dtype=torch.bfloat16)
        for tile_k in hl.jagged_tile(nnz):
            acc = acc + x[starts[:, None] + tile_k.index[None, :]].sum(dim=1)
        total[tile_b] = acc
        rounded[tile_b] = acc
    return total, rounded
)";
  // 300 ones in bf16: a bf16 accumulator would stop at 256; fp32 compute reaches 300, and the
  // bf16 store rounds 300 to 300 (exact) while 301 rounds to even (300).
  std::vector<double> ones(601, 1.0);
  Tensor x = Tensor::from_doubles({601}, ones, DType::bf16);
  auto out = run(src, {{"x", x}, {"offsets", i64({3}, {0, 300, 601})}});
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{300, 301}));
  EXPECT_EQ(out.at(1).dtype(), DType::bf16);
  EXPECT_EQ(values(out.at(1)), (std::vector<double>{300, 300}));
}

TEST(Interp, MatmulSkipsMaskedContraction) {
  const char* src = R"(
@helion.kernel(config=helion.Config(block_sizes=[4, 4, 4]))
def k(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    I, K = a.shape
    K2, J = b.shape
    out = torch.zeros([I, J], dtype=torch.float32, device=a.device)
    for ti, tj in hl.tile([I, J]):
        acc = hl.zeros([ti, tj], dtype=torch.float32)
        for tk in hl.tile(K):
            acc = hl.dot(a[ti, tk], b[tk, tj], acc=acc)
        out[ti, tj] = acc
    return out
)";
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = f32({3, 2}, {1, 0, 0, 1, 1, 1});
  auto out = run(src, {{"a", a}, {"b", b}});
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{4, 5, 10, 11}));
}

const char* kOutOfBounds = R"(
@helion.kernel()
def k(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    out = torch.zeros([B], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        acc = hl.zeros([tile_b], dtype=torch.float32)
        for tile_k in hl.jagged_tile(nnz):
            acc = acc + x[starts[:, None] + tile_k.index[None, :] + 1].sum(dim=1)
        out[tile_b] = acc
    return out
)";

// Valid offsets (bad ones are rejected before the kernel runs), read one row too far.
TEST(Interp, OutOfBoundsLoadNamesKernelLineTensorIndexAndExtent) {
  try {
    run(kOutOfBounds, {{"x", f32({3}, {1, 2, 3})}, {"offsets", i64({3}, {0, 2, 3})}});
    FAIL() << "expected a bounds error";
  } catch (const UserError& e) {
    std::string what = e.what();
    EXPECT_EQ(e.loc().file, "test.py");
    EXPECT_EQ(e.loc().line, 15);  // the load, counting the 4 header lines and the blank
    EXPECT_NE(what.find("kernel 'k'"), std::string::npos) << what;
    EXPECT_NE(what.find("tensor 'x'"), std::string::npos) << what;
    EXPECT_NE(what.find("index 3"), std::string::npos) << what;
    EXPECT_NE(what.find("which has size 3"), std::string::npos) << what;
  }
}

TEST(Interp, OutOfBoundsStoreIsReported) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([2], dtype=torch.float32, device=x.device)
    for t in hl.tile(x.size(0)):
        out[t] = x[t]
    return out
)";
  try {
    run(src, {{"x", f32({3}, {1, 2, 3})}});
    FAIL() << "expected a bounds error";
  } catch (const UserError& e) {
    std::string what = e.what();
    EXPECT_EQ(e.loc().line, 10);
    EXPECT_NE(what.find("store of tensor 'out' at index 2"), std::string::npos) << what;
  }
}

TEST(Interp, FailedAssertIsAUserError) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    assert x.size(0) == y.size(0), "x and y differ"
    return x
)";
  try {
    run(src, {{"x", f32({3}, {1, 2, 3})}, {"y", f32({2}, {1, 2})}});
    FAIL() << "expected an assertion failure";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("assertion failed: x and y differ (3 == 2 is false)"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(e.loc().line, 8);
  }
}

// Without a message: what the comparison compared, its operands' values; a condition that is
// not a comparison of two numbers gets the bare "assertion failed" (the source line says more).
TEST(Interp, FailedAssertWithoutAMessageNamesTheComparedValues) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor, flag: bool) -> torch.Tensor:
    assert x.size(0) + 1 < 2 * 2
    assert flag
    return x
)";
  try {
    run(src, {{"x", f32({3}, {1, 2, 3})}, {"flag", true}});
    FAIL() << "expected an assertion failure";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("kernel 'k': assertion failed: 4 < 4 is false\n"),
              std::string::npos)
        << e.what();
  }
  try {
    run(src, {{"x", f32({2}, {1, 2})}, {"flag", false}});
    FAIL() << "expected an assertion failure";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("kernel 'k': assertion failed\n"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.loc().line, 9);  // `assert flag` (run() puts the source below a header)
  }
}

TEST(Interp, HostScalarReadsAndViews) {
  const char* src = R"(
@helion.kernel(config=helion.Config(block_sizes=[4]))
def k(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    N = int(offsets[-1].item())
    M = x.size(1)
    out = torch.zeros([N * M], dtype=torch.float32, device=x.device)
    flat = x.view(-1)
    for t in hl.tile(N * M):
        out[t] = flat[t] * 10
    return out.reshape(N, M)
)";
  auto out = run(src, {{"x", f32({3, 2}, {1, 2, 3, 4, 5, 6})}, {"offsets", i64({2}, {0, 2})}});
  EXPECT_EQ(out.at(0).shape(), (Shape{2, 2}));
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{10, 20, 30, 40}));
}

TEST(Interp, IntegerArithmeticFollowsTorch) {
  const char* src = R"(
@helion.kernel(config=helion.Config(block_sizes=[8]))
def k(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n = a.size(0)
    q = torch.zeros([n], dtype=torch.int64, device=a.device)
    r = torch.zeros([n], dtype=torch.int64, device=a.device)
    d = torch.zeros([n], dtype=torch.float32, device=a.device)
    for t in hl.tile(n):
        v = a[t]
        q[t] = v // 3
        r[t] = v % 3
        d[t] = v / 2
    return q, r, d
)";
  auto out = run(src, {{"a", i64({4}, {7, -7, 0, 5})}});
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{2, -3, 0, 1}));
  EXPECT_EQ(values(out.at(1)), (std::vector<double>{1, 2, 0, 2}));
  EXPECT_EQ(values(out.at(2)), (std::vector<double>{3.5, -3.5, 0, 2.5}));
}

TEST(Interp, ChainedAndTupleAssignmentsShareOneValue) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for t in hl.tile(x.size(0)):
        a = b = x[t]
        p, q = a * 2, a * 2
        c: torch.Tensor = b + 1
        out[t] = a + b + p + q + c
    return out
)";
  auto out = run(src, {{"x", f32({2}, {1, 2})}});
  EXPECT_EQ(values(out.at(0)), (std::vector<double>{1 + 1 + 2 + 2 + 2, 2 + 2 + 4 + 4 + 3}));
}

TEST(Interp, HostIntegerOverflowIsAUserError) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor, n: int) -> torch.Tensor:
    big = n * n * n
    out = torch.zeros([big], dtype=torch.float32, device=x.device)
    return out
)";
  try {
    run(src, {{"x", f32({1}, {1})}, {"n", int64_t(1) << 40}});
    FAIL() << "expected an overflow error";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("integer overflow in host arithmetic"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.loc().line, 8);
  }
}

TEST(Interp, NegativeDeviceSizeIsAUserError) {
  const char* src = R"(
@helion.kernel()
def k(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    for t in hl.grid(1):
        z = hl.zeros([n], dtype=torch.float32)
        out[t] = z.sum()
    return out
)";
  try {
    run(src, {{"x", f32({1}, {1})}, {"n", int64_t(-3)}});
    FAIL() << "expected a size error";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("is negative or too large for one tile"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.loc().line, 10);
  }
}

TEST(Interp, RuntimeIfMergesReassignedValues) {
  const char* src = R"(
@helion.kernel(config=helion.Config(block_sizes=[2]))
def k(x: torch.Tensor, scale_first: bool) -> torch.Tensor:
    n = x.size(0)
    factor = 1
    if scale_first:
        factor = 10
    out = torch.zeros_like(x)
    for t in hl.tile(n):
        v = x[t]
        if t.begin == 0:
            v = v * factor
        else:
            v = -v
        out[t] = v
    return out
)";
  Tensor x = f32({3}, {1, 2, 3});
  EXPECT_EQ(values(run(src, {{"x", x}, {"scale_first", int64_t(1)}}).at(0)),
            (std::vector<double>{10, 20, -3}));
  EXPECT_EQ(values(run(src, {{"x", x}, {"scale_first", int64_t(0)}}).at(0)),
            (std::vector<double>{1, 2, -3}));
}

}  // namespace
}  // namespace jagtile::testing
