// `jagtile explain` and `jagtile run` on a kernel routed to the template under a run-time guard:
// a per-item mean with per-item column counts that strides its flat values by the host scalar
// `max_cols` (the shape of Helion's jagged_mean). explain prints the guard and whether it held;
// run takes the template where it holds and the generic path where it does not, both checked
// against the interpreter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "cli_test_util.h"
#include "jagtile/tensor.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;
using namespace cli_test;

constexpr const char* kKernel = R"(import torch
import helion
import helion.language as hl


@helion.kernel()
def mean_by_counts(x_data: torch.Tensor, x_offsets: torch.Tensor, x_counts: torch.Tensor,
                   max_cols: int) -> torch.Tensor:
    items = x_offsets.size(0) - 1
    out = torch.zeros([items, max_cols], dtype=x_data.dtype, device=x_data.device)
    flat = x_data.view(-1)
    for tile_b in hl.tile(items):
        first = x_offsets[tile_b]
        rows = x_offsets[tile_b.index + 1] - first
        for tile_m in hl.jagged_tile(x_counts[tile_b]):
            total = hl.zeros([tile_b, tile_m], dtype=x_data.dtype)
            for tile_k in hl.jagged_tile(rows):
                at = (first[:, None] + tile_k.index[None, :])[:, :, None] * max_cols
                at = at + tile_m.index[None, None, :]
                total = total + hl.load(flat, [at]).sum(dim=1)
            n = rows.to(x_data.dtype)[:, None]
            out[tile_b, tile_m] = torch.where(n > 0, total / n, 0.0)
    return out
)";

struct Files {
  std::string kernel, values, offsets, counts;
};

Files write_inputs() {
  Files f;
  f.kernel = (scratch_dir() / "guarded_mean.py").string();
  std::ofstream(f.kernel) << kKernel;
  f.values = (scratch_dir() / "guarded_values.npy").string();
  f.offsets = (scratch_dir() / "guarded_offsets.npy").string();
  f.counts = (scratch_dir() / "guarded_counts.npy").string();
  std::vector<double> v(7 * 6);
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(i % 11) - 4.5;
  write_npy(f.values, Tensor::from_doubles({7, 6}, v, DType::f32));
  write_npy(f.offsets, Tensor::from_doubles({4}, {0, 3, 3, 7}, DType::i64));
  write_npy(f.counts, Tensor::from_doubles({3}, {4, 2, 3}, DType::i64));
  return f;
}

std::vector<std::string> with_args(std::vector<std::string> cmd, const Files& f,
                                   const std::string& max_cols) {
  for (std::string a : {"x_data=" + f.values, "x_offsets=" + f.offsets, "x_counts=" + f.counts,
                        "max_cols=" + max_cols}) {
    cmd.push_back("--arg");
    cmd.push_back(a);
  }
  return cmd;
}

TEST(CliGuard, ExplainPrintsTheGuardAndWhetherItHeld) {
  ASSERT_TRUE(tool_is_built());
  Files f = write_inputs();
  Outcome held = run_jagtile(with_args({"explain", f.kernel}, f, "6"));
  EXPECT_EQ(held.status, 0) << held.err;
  EXPECT_THAT(held.out, HasSubstr("dispatch: template jagged_reduce(op=mean, items_axis=0, "
                                  "counts=yes) when max_cols == x_data.size(1)"));
  EXPECT_THAT(held.out, HasSubstr("guard: max_cols == x_data.size(1), checked on every call: "
                                  "holds here (max_cols = 6, x_data.size(1) = 6)"));
  EXPECT_THAT(held.out, HasSubstr("backend: template"));

  Outcome failed = run_jagtile(with_args({"explain", f.kernel}, f, "4"));
  EXPECT_EQ(failed.status, 0) << failed.err;
  EXPECT_THAT(failed.out, HasSubstr("dispatch: generic (reason: the guard max_cols == "
                                    "x_data.size(1) does not hold for these arguments"));
  EXPECT_THAT(failed.out, HasSubstr("does not hold here (max_cols = 4, x_data.size(1) = 6)"));
  EXPECT_THAT(failed.out, HasSubstr("backend: cpu"));

  Outcome json = run_jagtile(with_args({"explain", f.kernel, "--json"}, f, "4"));
  EXPECT_EQ(json.status, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"guards\": [{\"condition\": \"max_cols == x_data.size(1)\", "
                                  "\"holds\": false, \"values\": \"max_cols = 4, "
                                  "x_data.size(1) = 6\"}]"));
}

TEST(CliGuard, RunTakesTheTemplateOnlyWhereTheGuardHolds) {
  ASSERT_TRUE(tool_is_built());
  Files f = write_inputs();
  Outcome held = run_jagtile(with_args({"run", f.kernel, "--check"}, f, "6"));
  EXPECT_EQ(held.status, 0) << held.err;
  EXPECT_THAT(held.out, HasSubstr("ran on backend template"));
  EXPECT_THAT(held.out, HasSubstr("check against interp: output 0 ok"));

  Outcome failed = run_jagtile(with_args({"run", f.kernel, "--check"}, f, "4"));
  EXPECT_EQ(failed.status, 0) << failed.err;
  EXPECT_THAT(failed.out, HasSubstr("ran on backend cpu"));
  EXPECT_THAT(failed.out, HasSubstr("check against interp: output 0 ok"));

  Outcome forced = run_jagtile(with_args({"run", f.kernel, "--backend", "template"}, f, "4"));
  EXPECT_EQ(forced.status, 1);
  EXPECT_THAT(forced.err, HasSubstr("the guard max_cols == x_data.size(1) does not hold"));
}

}  // namespace
}  // namespace jagtile
