// A variable's last update computed inside its one reader (plan/pass_fuse_update.h): where the
// accumulator dies in the store that reads it, `acc = acc * 0.5 + b` rides in that store and is
// never written back; where it lives on (a loop's next iteration reads it) or has two readers,
// the update stays. Every case writes what the interpreter writes, on every path; the data are
// small integers and halves, so every sum is exact whatever its order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "paths.h"
#include "testing/compare.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The accumulator's update: read by the store only (fused), then carried into the next
// iteration of the loop that updates it (kept), then read by two stores (kept).
const char* kLastUpdate = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[4, 8]))
def update_then_store(x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tm in hl.tile(m):
        acc = hl.zeros([tm], dtype=torch.float32)
        for tk in hl.tile(k):
            acc = acc + x[tm, tk].sum(dim=1)
        acc = acc * 0.5 + b[tm]
        out[tm] = acc.to(x.dtype)
    return out

@helion.kernel(config=helion.Config(block_sizes=[4, 8]))
def carried_update(x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    out = torch.zeros([m], dtype=x.dtype, device=x.device)
    for tm in hl.tile(m):
        acc = hl.zeros([tm], dtype=torch.float32)
        for tk in hl.tile(k):
            acc = acc + x[tm, tk].sum(dim=1)
            acc = acc * 0.5 + b[tm]
            out[tm] = acc
    return out

@helion.kernel(config=helion.Config(block_sizes=[4, 8]))
def two_readers(x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    out = torch.zeros([m], dtype=x.dtype, device=x.device)
    for tm in hl.tile(m):
        acc = hl.zeros([tm], dtype=torch.float32)
        for tk in hl.tile(k):
            acc = acc + x[tm, tk].sum(dim=1)
        acc = acc * 0.5 + b[tm]
        out[tm] = acc
        b[tm] = acc * 2.0
    return out
)PY";

// The one kernel `name` of kLastUpdate, alone in its source (run_on runs a source's only kernel).
std::string kernel_source(const std::string& name) {
  const std::string all = kLastUpdate;
  const size_t header_end = all.find("@helion.kernel");
  const size_t start = all.find("@helion.kernel", all.find("def " + name) - 80);
  size_t end = all.find("@helion.kernel", start + 1);
  if (end == std::string::npos) end = all.size();
  return all.substr(0, header_end) + all.substr(start, end - start);
}

// 13 rows (a partial row block) of 21 columns (a partial column block).
ArgMap update_args() {
  const int64_t m = 13, k = 21;
  std::vector<double> x, b;
  for (int64_t i = 0; i < m * k; ++i) x.push_back(double(i % 7) - 3.0);
  for (int64_t i = 0; i < m; ++i) b.push_back(double(i % 5) - 2.0);
  return {{"x", Tensor::from_doubles({m, k}, x, DType::f32)},
          {"b", Tensor::from_doubles({m}, b, DType::f32)}};
}

// Whether the planned CPU code still writes the accumulator's update back (a var_assign nest).
bool update_kept(const std::string& name) {
  use_shared_cache_dir();
  Program p = Program::from_source(kernel_source(name), "update.py");
  const std::string src = p.specialise(name, update_args(), cpu_options()).source(Backend::cpu);
  // Each nest is headed by its source line: the update's, where it is still written back.
  return src.find(": acc = acc * 0.5 + b[tm]") != std::string::npos;
}

TEST(LastUpdate, AnUpdateReadOnlyByTheStoreRidesInIt) {
  EXPECT_FALSE(update_kept("update_then_store"));
  EXPECT_TRUE(update_kept("carried_update"));
  EXPECT_TRUE(update_kept("two_readers"));
}

class LastUpdatePaths : public ::testing::TestWithParam<Path> {};

TEST_P(LastUpdatePaths, WritesWhatTheInterpreterWrites) {
  for (const char* name : {"update_then_store", "carried_update", "two_readers"}) {
    SCOPED_TRACE(name);
    const std::string source = kernel_source(name);
    const Tensor want = run_on(Path::interp, source, update_args()).at(0);
    const Tensor got = run_on(GetParam(), source, update_args()).at(0);
    Comparison cmp = compare_tensors(got, want, Tolerance{});
    EXPECT_TRUE(cmp.ok) << cmp.mismatch;
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, LastUpdatePaths, ::testing::ValuesIn(every_path()),
                         [](const ::testing::TestParamInfo<Path>& p) {
                           return path_name(p.param);
                         });

}  // namespace
}  // namespace jagtile::testing
