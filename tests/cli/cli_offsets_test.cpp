// `jagtile run --out` on bad offsets: the offsets guards reject the call before any nest runs, on
// every backend, the tool exits 1 with the template path's message, and no output file appears.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_test_util.h"
#include "jagtile/tensor.h"

namespace jagtile {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using namespace cli_test;

TEST(CliOffsets, RunWithBadOffsetsWritesNoOutputFile) {
  ASSERT_TRUE(tool_is_built());
  const std::string values = (scratch_dir() / "bad_values.npy").string();
  const std::string offsets = (scratch_dir() / "bad_offsets.npy").string();
  write_npy(values, Tensor::zeros({5, 3}, DType::f32));
  write_npy(offsets, Tensor::from_doubles({4}, {0, 3, 2, 5}, DType::i64));
  for (const char* example : {"examples/jagged_sum.py", "examples/jagged_softmax.py"}) {
    for (const char* backend : {"auto", "interp", "cpu"}) {
      SCOPED_TRACE(std::string(example) + " on " + backend);
      const std::string out =
          (scratch_dir() / (std::string("bad_out_") + backend + ".npy")).string();
      Outcome o = run_jagtile({"run", example, "--arg", "x_values=" + values, "--arg",
                               "x_offsets=" + offsets, "--backend", backend, "--out", out});
      EXPECT_EQ(o.status, 1) << o.out.substr(0, 2000) << o.err.substr(0, 2000);
      EXPECT_THAT(o.err, HasSubstr("offsets 'x_offsets' must be non-decreasing, but "
                                   "x_offsets[1] = 3 > x_offsets[2] = 2"));
      EXPECT_FALSE(fs::exists(out)) << "wrote " << out << " on bad offsets";
      EXPECT_THAT(o.out, Not(HasSubstr("wrote")));
    }
  }
}

TEST(CliOffsets, RunWithOffsetsPastTheDataWritesNoOutputFile) {
  ASSERT_TRUE(tool_is_built());
  const std::string values = (scratch_dir() / "short_values.npy").string();
  const std::string offsets = (scratch_dir() / "long_offsets.npy").string();
  write_npy(values, Tensor::zeros({5, 3}, DType::f32));
  write_npy(offsets, Tensor::from_doubles({3}, {0, 2, 9}, DType::i64));
  const std::string out = (scratch_dir() / "past_out.npy").string();
  Outcome o = run_jagtile({"run", "examples/jagged_softmax.py", "--arg", "x_values=" + values,
                           "--arg", "x_offsets=" + offsets, "--backend", "interp", "--out", out});
  EXPECT_EQ(o.status, 1) << o.err.substr(0, 2000);
  EXPECT_THAT(o.err, HasSubstr("offsets 'x_offsets' end past the data: x_offsets[2] = 9 but "
                               "'x_values' has 5 rows"));
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace jagtile
