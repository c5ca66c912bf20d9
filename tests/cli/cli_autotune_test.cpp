// `jagtile autotune` run as a subprocess: its usage errors, --space, --json and the answer from
// the store, --show, stored configs used by `run`/`explain`, two tuners at once, and Ctrl-C.
// Every test uses its own cache folder and tiny shapes and budgets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cli_test_util.h"

namespace jagtile {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace cli_test;

class CliAutotuneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tool_is_built());
    cache_ = scratch_dir() / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(cache_);
  }
  Outcome tool(const std::vector<std::string>& args) {
    return run_jagtile(args, {{"JAGTILE_CACHE_DIR", cache_.string()}, {"JAGTILE_AUTOTUNE", "1"}});
  }
  fs::path cache_;
};

TEST_F(CliAutotuneTest, UsageErrorsNameTheOptionAndTheFix) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"autotune", "examples/jagged_sum.py", "--effort", "max"},
       "--effort expects quick|full, got 'max'"},
      {{"autotune", "examples/jagged_sum.py", "--budget", "0"},
       "--budget expects a number of seconds in (0, 86400], got '0'"},
      {{"autotune", "examples/jagged_sum.py", "--budget", "ten"},
       "--budget expects a number of seconds in (0, 86400], got 'ten'"},
      {{"autotune", "examples/jagged_sum.py", "--budget", "-3"},
       "--budget expects a number of seconds in (0, 86400], got '-3'"},
      {{"autotune", "examples/jagged_sum.py", "--show", "--space"},
       "--show and --space exclude each other"},
      {{"autotune"}, "missing KERNEL_FILE"},
      {{"autotune", "examples/jagged_sum.py", "--efort", "quick"}, "did you mean --effort?"},
      {{"run", "examples/jagged_sum.py", "--effort", "quick"},
       "option --effort does not apply to 'jagtile run'"},
  };
  for (const Case& c : cases) {
    Outcome o = tool(c.args);
    EXPECT_EQ(o.status, 2) << c.message << "\n" << o.err;
    EXPECT_THAT(o.err, HasSubstr(c.message));
    EXPECT_THAT(o.err, HasSubstr("usage: jagtile"));
  }
}

TEST_F(CliAutotuneTest, MissingKernelFileIsAUserError) {
  Outcome o = tool({"autotune", "examples/no_such_kernel.py"});
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("cannot open kernel file 'examples/no_such_kernel.py'"));
}

TEST_F(CliAutotuneTest, SpacePrintsKnobsDefaultsConstraintsAndWhatIsNotTunable) {
  Outcome o = tool({"autotune", "examples/jagged_softmax.py", "--space"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("block_sizes[0]"));
  EXPECT_THAT(o.out, HasSubstr("default: 256"));
  EXPECT_THAT(o.out, HasSubstr("constraints:"));
  EXPECT_THAT(o.out, HasSubstr("not tunable yet:"));
  Outcome t = tool({"autotune", "examples/jagged_sum.py", "--space", "--threads", "2"});
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_THAT(t.out, HasSubstr("chunk_rows"));
  EXPECT_THAT(t.out, HasSubstr("workers"));
}

TEST_F(CliAutotuneTest, JsonHasTheDocumentedKeysAndTheSecondRunComesFromTheStore) {
  const std::vector<std::string> cmd = {"autotune", "examples/jagged_sum.py", "--budget", "1",
                                        "--json"};
  Outcome first = tool(cmd);
  ASSERT_EQ(first.status, 0) << first.err;
  for (const char* key :
       {"\"kernel\": \"jagged_sum\"", "\"config\": {", "\"default_ms\": ", "\"best_ms\": ",
        "\"speedup\": ", "\"candidates\": ", "\"seconds\": ", "\"from_cache\": false"})
    EXPECT_THAT(first.out, HasSubstr(key));
  EXPECT_THAT(first.err, HasSubstr("autotune: ["));  // plain progress lines off a terminal
  Outcome second = tool(cmd);
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("\"from_cache\": true"));
  Outcome show = tool({"autotune", "--show"});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("jagged_sum"));
  EXPECT_THAT(show.out, HasSubstr("shape x_values=[2^"));
}

// --show with a kernel file lists that file's kernels' entries only.
TEST_F(CliAutotuneTest, ShowWithAKernelFileListsOnlyItsKernels) {
  ASSERT_EQ(tool({"autotune", "examples/jagged_sum.py", "--budget", "0.5"}).status, 0);
  ASSERT_EQ(tool({"autotune", "examples/jagged_max.py", "--budget", "0.5"}).status, 0);
  Outcome sum = tool({"autotune", "--show", "examples/jagged_sum.py"});
  ASSERT_EQ(sum.status, 0) << sum.err;
  EXPECT_THAT(sum.out, HasSubstr("  jagged_sum  "));
  EXPECT_THAT(sum.out, Not(HasSubstr("jagged_max")));
  Outcome none = tool({"autotune", "--show", "examples/jagged_mean.py", "--json"});
  ASSERT_EQ(none.status, 0) << none.err;
  EXPECT_EQ(none.out, "[]\n");
}

TEST_F(CliAutotuneTest, ExplainAndRunUseTheStoredConfig) {
  Outcome tuned = tool({"autotune", "examples/jagged_sum.py", "--budget", "0.5"});
  ASSERT_EQ(tuned.status, 0) << tuned.err;
  EXPECT_THAT(tuned.out, HasSubstr("jagged_sum: best config"));
  Outcome explain = tool({"explain", "examples/jagged_sum.py", "--batch", "48"});
  ASSERT_EQ(explain.status, 0) << explain.err;
  EXPECT_THAT(explain.out, HasSubstr("stored autotune entry"));
  Outcome off = run_jagtile({"explain", "examples/jagged_sum.py", "--batch", "48"},
                            {{"JAGTILE_CACHE_DIR", cache_.string()}, {"JAGTILE_AUTOTUNE", "0"}});
  EXPECT_THAT(off.out, HasSubstr("(from defaults)"));
  Outcome run = tool({"run", "examples/jagged_sum.py", "--check"});
  EXPECT_EQ(run.status, 0) << run.err;
}

TEST_F(CliAutotuneTest, TwoTunersAtOnceBothFinishAndBothEntriesAreKept) {
  const std::string env = "cd " + quote(JAGTILE_SOURCE_DIR) +
                          " && JAGTILE_AUTOTUNE=1 JAGTILE_CACHE_DIR=" + quote(cache_.string()) +
                          " " + quote(tool_path().string());
  const std::string cmd = "(" + env + " autotune examples/jagged_sum.py --budget 1 --json > " +
                          quote((cache_ / "a.out").string()) + " 2>/dev/null & " + env +
                          " autotune examples/jagged_max.py --budget 1 --json > " +
                          quote((cache_ / "b.out").string()) + " 2>/dev/null; wait)";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_THAT(slurp(cache_ / "a.out"), HasSubstr("\"kernel\": \"jagged_sum\""));
  EXPECT_THAT(slurp(cache_ / "b.out"), HasSubstr("\"kernel\": \"jagged_max\""));
  Outcome show = tool({"autotune", "--show", "--json"});
  EXPECT_THAT(show.out, HasSubstr("\"kernel\": \"jagged_sum\""));
  EXPECT_THAT(show.out, HasSubstr("\"kernel\": \"jagged_max\""));
}

TEST_F(CliAutotuneTest, InterruptKeepsAndPrintsTheBestSoFar) {
  const fs::path out = cache_ / "out.txt", err = cache_ / "err.txt";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("JAGTILE_CACHE_DIR", cache_.c_str(), 1);
    if (::chdir(JAGTILE_SOURCE_DIR) != 0) ::_exit(90);
    FILE* f = std::freopen(out.c_str(), "w", stdout);
    FILE* g = std::freopen(err.c_str(), "w", stderr);
    (void)f, (void)g;
    // The interpreter on softmax: a space of hundreds of points, each measured without a
    // compile, so the search is surely still running when the signal comes.
    ::execl(tool_path().c_str(), "jagtile", "autotune", "examples/jagged_softmax.py", "--effort",
            "full", "--budget", "60", "--backend", "interp", nullptr);
    ::_exit(91);
  }
  // Signalled once the search reports its first candidate (so the handler is installed),
  // however slow the machine is; the search itself would last a minute.
  for (int waited = 0; waited < 600 && slurp(err).find("autotune: [") == std::string::npos;
       ++waited)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed instead of stopping";
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::string text = slurp(out);
  EXPECT_THAT(text, HasSubstr("interrupted: keeping the best config found so far"));
  EXPECT_THAT(text, HasSubstr("jagged_softmax: best config"));
  Outcome show = tool({"autotune", "--show"});
  EXPECT_THAT(show.out, HasSubstr("(interrupted,"));
}

}  // namespace
}  // namespace jagtile
