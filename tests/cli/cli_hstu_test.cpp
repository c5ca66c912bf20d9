// `jagtile run --check` on the jagged HSTU attention example over every length distribution,
// both value dtypes and every backend that runs it (the acceptance matrix of issue 11's fifth
// deliverable), on shapes small enough to keep the matrix within seconds; plus no items at all,
// a kernel without the causal mask failing the check, the head options, and the bench rows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using namespace cli_test;
namespace fs = std::filesystem;

const char* kFile = "examples/jagged_hstu_attention.py";

// CTest runs each case in its own process: one compile cache shared by all of them (and by the
// codegen tests; entries are content-addressed and verified, so sharing is safe) keeps the
// matrix to one compile per dtype instead of one per process.
Outcome jagtile_cached(const std::vector<std::string>& args) {
  const char* dir = std::getenv("JAGTILE_CACHE_DIR");
  std::string cache = dir && *dir ? std::string(dir)
                                  : "/tmp/jagtile-test-codegen-cache-" + std::to_string(::getuid());
  return run_jagtile(args, {{"JAGTILE_CACHE_DIR", cache}});
}

// Several query and key blocks per sequence at the default block sizes needs sequences longer
// than a block: --max-len 40 with one-huge gives one sequence of about a hundred rows.
const std::vector<std::string> kShape = {"--batch", "7", "--max-len",  "40",
                                         "--heads", "2", "--head-dim", "8"};

class HstuCheck : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ASSERT_TRUE(tool_is_built()); }
};

TEST_P(HstuCheck, EveryDistributionAndDtypeMatchesTheReference) {
  const std::string backend = GetParam();
  for (const char* dist : {"uniform", "zipf", "empty", "one-huge", "tiny"}) {
    for (const char* dtype : {"f32", "bf16"}) {
      SCOPED_TRACE(std::string(dist) + " " + dtype + " on " + backend);
      std::vector<std::string> args = {"run", kFile,       "--dist", dist,     "--dtype",
                                       dtype, "--backend", backend,  "--check"};
      args.insert(args.end(), kShape.begin(), kShape.end());
      Outcome o = jagtile_cached(args);
      EXPECT_EQ(o.status, 0) << o.out << o.err;
      EXPECT_THAT(o.out, HasSubstr("check against reference: output 0 ok"));
      if (backend != "interp") {
        EXPECT_THAT(o.out, HasSubstr("check against interp: output 0 ok"));
      }
    }
  }
}

TEST_P(HstuCheck, NoSequencesAtAllRunsAndChecks) {
  const std::string backend = GetParam();
  Outcome o = jagtile_cached(
      {"run", kFile, "--batch", "0", "--offsets", "i64", "--backend", backend, "--check"});
  EXPECT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("output 0: float32 [0, 2, 16]"));
  EXPECT_THAT(o.out, HasSubstr("check against reference: output 0 ok"));
}

INSTANTIATE_TEST_SUITE_P(Backends, HstuCheck, ::testing::Values("interp", "cpu", "auto"),
                         [](const auto& info) { return info.param; });

// The tolerances must not hide the mask: the example with its causal `where` removed (and the
// key loop over the whole sequence) fails --check in both dtypes.
TEST(HstuCli, DroppingTheCausalMaskFailsTheCheck) {
  ASSERT_TRUE(tool_is_built());
  const std::string loop = "hl.tile(first, tile_q.end)";
  std::istringstream lines(slurp(fs::path(JAGTILE_SOURCE_DIR) / kFile));
  std::string open_loop;
  bool dropped_mask = false, widened_loop = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("torch.where(causal") != std::string::npos) {
      dropped_mask = true;
      continue;
    }
    if (size_t at = line.find(loop); at != std::string::npos) {
      line.replace(at, loop.size(), "hl.tile(first, last)");
      widened_loop = true;
    }
    open_loop += line + "\n";
  }
  ASSERT_TRUE(dropped_mask && widened_loop) << "the example's mask or key loop changed";
  const fs::path file = scratch_dir() / "jagged_hstu_attention_no_mask.py";
  std::ofstream(file) << open_loop;
  for (const char* dtype : {"f32", "bf16"}) {
    Outcome o = jagtile_cached({"run", file.string(), "--dtype", dtype, "--backend", "interp",
                                "--check", "--batch", "4", "--max-len", "8"});
    EXPECT_EQ(o.status, 1) << dtype << "\n" << o.out << o.err;
    EXPECT_THAT(o.out, HasSubstr("check against reference: output 0 MISMATCH")) << dtype;
  }
}

TEST(HstuCli, HeadOptionsMustBePositive) {
  ASSERT_TRUE(tool_is_built());
  Outcome o = run_jagtile({"run", kFile, "--heads", "0"});
  EXPECT_EQ(o.status, 2);
  EXPECT_THAT(o.err, HasSubstr("--heads expects an integer >= 1, got '0'"));
  Outcome help = run_jagtile({"run", "--help"});
  EXPECT_THAT(help.out, HasSubstr("--head-dim D"));
}

TEST(HstuCli, BenchShowsTheHeadsAndTheGenericRows) {
  ASSERT_TRUE(tool_is_built());
  Outcome o = jagtile_cached({"bench", kFile, "--batch", "6", "--max-len", "8", "--heads", "2",
                              "--head-dim", "8", "--repeat", "1", "--json"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("heads=2 head_dim=8"));
  EXPECT_THAT(o.out, HasSubstr("\"impl\": \"generic-cpu\""));
  EXPECT_THAT(o.out, HasSubstr("\"impl\": \"interp\""));
  EXPECT_THAT(o.out, HasSubstr("\"impl\": \"reference\""));
  EXPECT_THAT(o.out, Not(HasSubstr("\"impl\": \"template\"")));
  EXPECT_THAT(o.err, HasSubstr("checked against the reference"));
}

}  // namespace
}  // namespace jagtile
