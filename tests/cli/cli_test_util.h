// The harness the CLI tests share: run build/jagtile as a subprocess in the source directory
// and collect its exit status and output, in a scratch folder removed when the tests end. A
// missing tool fails every test that runs it.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace jagtile::cli_test {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;
  std::string out, err;
};

// The tool sits next to the test executable, in the build directory's root.
inline fs::path tool_path() {
  return fs::read_symlink("/proc/self/exe").parent_path() / "jagtile";
}

// A missing tool is a failure, never a skip: these tests exist to run it.
inline ::testing::AssertionResult tool_is_built() {
  if (fs::exists(tool_path())) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the jagtile tool is not built at " << tool_path()
                                       << " (build the jagtile_cli target; test_cli depends on it)";
}

// One scratch folder per test process.
inline fs::path scratch_dir() {
  static fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("jagtile_cli_test_" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(scratch_dir(), ec);
  }
};
inline const auto* const kScratchCleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Single-quotes a word for the shell.
inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `jagtile ARGS...` in the source directory (so examples/ paths resolve), with extra
// environment variables.
// A missing tool fails the calling test (and returns status -1 with empty output).
inline Outcome run_jagtile(const std::vector<std::string>& args,
                           const std::vector<std::pair<std::string, std::string>>& env = {}) {
  if (auto built = tool_is_built(); !built) {
    ADD_FAILURE() << built.message();
    return Outcome{};
  }
  const fs::path out = scratch_dir() / "stdout.txt", err = scratch_dir() / "stderr.txt";
  std::string cmd = "cd " + quote(JAGTILE_SOURCE_DIR) + " &&";
  for (const auto& [name, value] : env) cmd += " " + name + "=" + quote(value);
  cmd += " " + quote(tool_path().string());
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(out.string()) + " 2>" + quote(err.string());
  const int raw = std::system(cmd.c_str());
  Outcome o;
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  o.out = slurp(out);
  o.err = slurp(err);
  return o;
}

}  // namespace jagtile::cli_test
