// Replays every case under tests/regress/ (written by fuzz_differential's reducer, see
// docs/fuzzing.md): each directory holds kernel.py and case.txt, and every backend the case
// names must agree with the interpreter on every input, without an error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/differential.h"

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
  DiffCase d = parse_case("k", case_text(c, "a comment\nover two lines"));
  ASSERT_EQ(d.inputs.size(), 1u);
  EXPECT_EQ(d.inputs[0].str(), c.inputs[0].str());
  ASSERT_EQ(d.outputs.size(), 1u);
  EXPECT_FALSE(d.outputs[0].exact);
  EXPECT_EQ(d.outputs[0].bound, 2.5);
  EXPECT_EQ(d.outputs[0].degree, 1);
  EXPECT_EQ(d.backends, c.backends);
}

}  // namespace
}  // namespace jagtile::fuzz
