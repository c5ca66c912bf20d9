// Robustness of the front end without libFuzzer: pathological inputs (deep nesting, long chains,
// huge literals) and a deterministic mutation run over the test kernels. Parse + check must
// either succeed or throw UserError; anything else fails the test (a crash fails the binary).
#include <filesystem>
#include <random>

#include "lang_test_util.h"

namespace jagtile::lang {
namespace {

// Returns true when the source was accepted, false on UserError; other exceptions propagate.
bool front_end(const std::string& src) {
  try {
    ast::Module m = parse_module(src, "robust.py");
    (void)ast::dump(m);
    for (const auto* def : kernel_defs(m)) (void)decorator_config(m, *def);
    check_module(m);
    return true;
  } catch (const UserError&) {
    return false;
  }
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(RobustnessTest, PathologicalInputsAreUserErrors) {
  const int n = 5000;  // far beyond every limit (200 levels, 100 blocks)
  const std::vector<std::string> inputs = {
      "x = " + repeat("(", n),
      "x = " + repeat("[", n) + repeat("]", n) + "\n",
      "x = " + repeat("-", n) + "1\n",
      "x = " + repeat("not ", n) + "y\n",
      "x = a" + repeat(".b", n) + "\n",
      "x = a" + repeat("**a", n) + "\n",
      "x = f" + repeat("()", n) + "\n",
      "x = f" + repeat("[0]", n) + "\n",
      "x = a" + repeat(" if b else a", n) + "\n",
      "x = a" + repeat(" + a", n) + "\n",
      "if a:\n pass\n" + repeat("elif a:\n pass\n", n),
      repeat(" ", n) + "x = 1\n",
      "x = " + repeat("9", n) + "\n",
      "x = '" + repeat("\\x", n),
      "def k(" + repeat("a, ", n) + "):\n    return a\n",
      "def k(x):\n    return x" + repeat(", x", n) + "\n",
  };
  for (const auto& src : inputs) {
    SCOPED_TRACE(src.substr(0, 40));
    EXPECT_NO_THROW(front_end(src));
  }
  // Deep block nesting through indentation.
  std::string nested = "def k(x):\n";
  for (int i = 1; i < 150; ++i) nested += std::string(i * 4, ' ') + "if x:\n";
  nested += std::string(150 * 4, ' ') + "pass\n";
  EXPECT_FALSE(front_end(nested));
}

TEST(RobustnessTest, LongFlatInputsAreAccepted) {
  // Width is not depth: long lists, tuples and statement sequences are fine.
  EXPECT_NO_THROW(parse_module("x = [" + repeat("1, ", 5000) + "]\n", "k.py"));
  EXPECT_NO_THROW(parse_module("x = a" + repeat(" < a", 5000) + "\n", "k.py"));
  EXPECT_TRUE(front_end("def k(x):\n" + repeat("    y = x\n", 5000) + "    return y\n"));
}

// Mutates the Helion-style test kernels byte by byte (deterministically) and feeds every
// mutant through the front end.
TEST(RobustnessTest, MutatedKernelsNeverEscapeAsAnythingButUserError) {
  std::vector<std::string> seeds;
  for (const auto& e :
       std::filesystem::directory_iterator(testing::source_dir() + "/tests/lang/data")) {
    if (e.path().extension() == ".py") seeds.push_back(testing::read_file(e.path().string()));
  }
  ASSERT_FALSE(seeds.empty());
  const std::string alphabet = "()[]{}:,.=+-*/%@&|^~<>!#\\'\"\n\t 0123456789_ abcxyzhlif\xC3\xA9";
  std::mt19937_64 rng(12345);
  int accepted = 0;
  for (int iter = 0; iter < 1000; ++iter) {
    std::string src = seeds[iter % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !src.empty(); ++e) {
      size_t at = rng() % src.size();
      switch (rng() % 4) {
        case 0:
          src[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          src.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          src.erase(at, 1 + rng() % 8);
          break;
        default:
          src.insert(at, src.substr(rng() % src.size(), rng() % 40));
          break;
      }
    }
    ASSERT_NO_THROW(accepted += front_end(src)) << src;
  }
  // Some mutants (comments, whitespace inside brackets) stay valid: the run is not vacuous.
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 1000);
}

}  // namespace
}  // namespace jagtile::lang
