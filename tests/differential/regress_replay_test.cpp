// Replays every case under tests/regress/ (written by fuzz_differential's reducer, see
// docs/fuzzing.md): each directory holds kernel.py and case.txt, and every backend the case
// names must agree with the interpreter on every input, without an error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jagtile/error.h"
#include "testing/differential.h"
#include "testing/scoped_env.h"

namespace jagtile::fuzz {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path regress_dir() {
  const char* env = std::getenv("JAGTILE_SOURCE_DIR");
  return fs::path(env ? env : JAGTILE_SOURCE_DIR) / "tests" / "regress";
}

TEST(RegressionCases, EveryCaseAgreesOnEveryBackend) {
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(regress_dir())) {
    if (!entry.is_directory()) continue;
    const fs::path dir = entry.path();
    SCOPED_TRACE(dir.filename().string());
    ASSERT_TRUE(fs::exists(dir / "kernel.py") && fs::exists(dir / "case.txt"));
    DiffCase c = parse_case(slurp(dir / "kernel.py"), slurp(dir / "case.txt"));
    c.backends.clear();  // every backend, not only the ones the reducer kept
    CaseReport r = run_case(c);
    for (const CaseFailure& f : r.failures)
      ADD_FAILURE() << f.kind << " on " << f.backend << " (input " << f.input << "): " << f.detail;
    EXPECT_GE(r.runs, 3 * int(c.inputs.size())) << "interp and cpu (checked, unchecked) each run";
    ++cases;
  }
  EXPECT_GT(cases, 0) << "no cases under " << regress_dir();
}

TEST(RegressionCases, CaseFilesRoundTrip) {
  DiffCase c;
  c.source = "k";
  c.inputs.push_back(InputRecipe::parse("batch=3 dist=zipf values=bf16 offsets=i32 lead=1"));
  c.outputs.push_back({false, 2.5, 1});
  c.backends = {"interp", "cpu"};
  c.settings = {{"JAGTILE_STREAM_MIN_BYTES", "0"}, {"JAGTILE_CUDA_EMULATION_ARCHS", "sm_90"}};
  DiffCase d = parse_case("k", case_text(c, "a comment\nover two lines"));
  ASSERT_EQ(d.inputs.size(), 1u);
  EXPECT_EQ(d.inputs[0].str(), c.inputs[0].str());
  ASSERT_EQ(d.outputs.size(), 1u);
  EXPECT_FALSE(d.outputs[0].exact);
  EXPECT_EQ(d.outputs[0].bound, 2.5);
  EXPECT_EQ(d.outputs[0].degree, 1);
  EXPECT_EQ(d.backends, c.backends);
  EXPECT_EQ(d.settings, c.settings);
}

TEST(RegressionCases, ACaseFileSettingOutsideTheKnownOnesIsRejected) {
  try {
    parse_case("k", "input: batch=3\nenv: LD_PRELOAD=x.so\n");
    FAIL() << "an unknown setting was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("'env: LD_PRELOAD=x.so' is not a setting a case may "
                                         "change"),
              std::string::npos)
        << e.what();
    EXPECT_NE(e.hint().find("JAGTILE_STREAM_MIN_BYTES"), std::string::npos) << e.hint();
  }
  EXPECT_THROW(parse_case("k", "input: batch=3\nenv:\n"), UserError);
}

// A case's settings hold while it runs, and the environment is as before afterwards: a case
// that streams every f32 row store (threshold 0) agrees with the interpreter; a case naming an
// architecture the emulation does not check fails with the emulation's own message about it;
// neither setting leaks into what runs next.
TEST(RegressionCases, ACaseRunsUnderItsSettingsAndPutsTheEnvironmentBack) {
  const jagtile::testing::ScopedEnv no_threshold("JAGTILE_STREAM_MIN_BYTES", nullptr);
  const jagtile::testing::ScopedEnv archs("JAGTILE_CUDA_EMULATION_ARCHS", "sm_80");
  DiffCase c;
  c.source = R"PY(
import torch
import helion
import helion.language as hl


@helion.kernel()
def fz(x: torch.Tensor, offsets: torch.Tensor, counts: torch.Tensor, y: torch.Tensor,
       w: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    B = offsets.size(0) - 1
    M = x.size(1)
    out = torch.empty_like(x)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            for tile_k in hl.jagged_tile(nnz):
                rows = starts[:, None] + tile_k.index[None, :]
                out[rows, tile_m] = x[rows, tile_m] * alpha
    return out
)PY";
  c.inputs.push_back(InputRecipe::parse("batch=9 features=37 max_len=11 values=f32 seed=4"));
  c.outputs.push_back({true, 1, 0});
  c.backends = {"interp", "cpu", "cpu-unchecked"};
  c.settings = {{"JAGTILE_STREAM_MIN_BYTES", "0"}};
  CaseReport streamed = run_case(c);
  for (const CaseFailure& f : streamed.failures)
    ADD_FAILURE() << f.kind << " on " << f.backend << ": " << f.detail;
  EXPECT_EQ(streamed.runs, 3);
  EXPECT_EQ(std::getenv("JAGTILE_STREAM_MIN_BYTES"), nullptr);

  const auto& labels = all_backend_labels();
  if (std::find(labels.begin(), labels.end(), "cuda-emulated") != labels.end()) {
    c.backends = {"interp", "cuda-emulated"};
    c.settings = {{"JAGTILE_CUDA_EMULATION_ARCHS", "sm_1"}};
    CaseReport refused = run_case(c);
    ASSERT_EQ(refused.failures.size(), 1u);
    EXPECT_EQ(refused.failures[0].backend, "cuda-emulated");
    EXPECT_NE(refused.failures[0].detail.find("JAGTILE_CUDA_EMULATION_ARCHS names 'sm_1'"),
              std::string::npos)
        << refused.failures[0].detail;
  }
  ASSERT_NE(std::getenv("JAGTILE_CUDA_EMULATION_ARCHS"), nullptr);
  EXPECT_STREQ(std::getenv("JAGTILE_CUDA_EMULATION_ARCHS"), "sm_80");
}

}  // namespace
}  // namespace jagtile::fuzz
