// inline_module_constants on the AST: which reads are replaced (body, decorators, parameter
// defaults, earlier constants), which are not (names the kernel binds anywhere), and the folding
// of constant arithmetic, shown with ast::dump.
#include "lang/module_constants.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lang/check.h"
#include "lang/parser.h"

namespace jagtile::lang {
namespace {

using ::testing::HasSubstr;

ast::Module inlined(const std::string& src) {
  ast::Module m = parse_module(src, "k.py");
  inline_module_constants(m);
  check_module(m);
  return m;
}

const ast::Stmt& kernel(const ast::Module& m) {
  return *kernel_defs(m).at(0);
}

TEST(ModuleConstantsInline, ReadsInBodyDecoratorAndDefaultsBecomeTheValues) {
  ast::Module m = inlined(
      "import helion\nimport helion.language as hl\n"
      "N = 4\nCFG = helion.Config(block_sizes=[N])\n"
      "@helion.kernel(config=CFG)\n"
      "def k(x, n: int = N):\n"
      "    for t in hl.tile(x.size(0)):\n"
      "        x[t] = x[t] * N\n"
      "    return x\n");
  const ast::Stmt& k = kernel(m);
  EXPECT_EQ(ast::dump(*k.decorators.at(0)), "helion.kernel(config=helion.Config(block_sizes=[4]))");
  EXPECT_EQ(ast::dump(*k.params.at(1).default_value), "4");
  EXPECT_THAT(ast::dump(k), HasSubstr("(x[t] * 4)"));
}

TEST(ModuleConstantsInline, NamesTheKernelBindsAnywhereStayLocal) {
  ast::Module m = parse_module(
      "import helion.language as hl\n"
      "S = 2.0\nT = 3\n"
      "def k(x, T):\n"
      "    for t in hl.tile(x.size(0)):\n"
      "        x[t] = x[t] * S * T\n"
      "    S = 1.0\n"
      "    return x\n",
      "k.py");
  inline_module_constants(m);
  // S is assigned later in the body, T is a parameter: Python makes both local everywhere, so
  // the read of S comes before its assignment, as the checker then says.
  EXPECT_THAT(ast::dump(kernel(m)), HasSubstr("((x[t] * S) * T)"));
  try {
    check_module(m);
    FAIL() << "expected the read of S before its assignment to be reported";
  } catch (const UserError& e) {
    EXPECT_THAT(e.message(), HasSubstr("name 'S' is not defined"));
    EXPECT_EQ(e.loc().line, 6);
  }
}

TEST(ModuleConstantsInline, ArithmeticOnConstantsIsFoldedAsPythonComputesIt) {
  ast::Module m = inlined(
      "import helion.language as hl\n"
      "A = 7\nB = -A // 2\nC = -A % 3\nD = A / 2\nE = 2 ** 10\nF = A * 0.5\nG = -(-3)\n"
      "H = 1 ** 1000000000000\nI = (-2) ** 63\n"
      "def k(x):\n"
      "    x[0] = x[0] + B + C + D + E + F + G + H\n"
      "    x[1] = I\n"
      "    return x\n");
  const std::string body = ast::dump(kernel(m));
  EXPECT_THAT(body, HasSubstr("(((((((x[0] + -4) + 2) + 3.5) + 1024) + 3.5) + 3) + 1)"));
  EXPECT_THAT(body, HasSubstr("x[1] = -9223372036854775808"));
}

TEST(ModuleConstantsInline, WhatPythonWouldRejectStaysAnExpression) {
  ast::Module m = inlined(
      "import helion.language as hl\n"
      "Z = 1 // 0\nBIG = 3 ** 40\n"
      "def k(x):\n"
      "    x[0] = x[0] + Z + BIG\n"
      "    return x\n");
  std::string body = ast::dump(kernel(m));
  EXPECT_THAT(body, HasSubstr("(1 // 0)"));
  EXPECT_THAT(body, HasSubstr("(3 ** 40)"));
}

TEST(ModuleConstantsInline, AReassignedConstantHasItsLastValue) {
  ast::Module m = inlined(
      "import helion.language as hl\nN = 1\nN = N + 1\n"
      "def k(x):\n"
      "    x[0] = x[0] * N\n"
      "    return x\n");
  EXPECT_THAT(ast::dump(kernel(m)), HasSubstr("(x[0] * 2)"));
}

TEST(ModuleConstantsInline, OnlyConstantAssignmentsAreModuleConstants) {
  auto first = [](const std::string& src) {
    static ast::Module keep;
    keep = parse_module(src, "k.py");
    return is_module_constant(*keep.body.at(0));
  };
  EXPECT_TRUE(first("X = (1, 2.5, 'a', None, True)\n"));
  EXPECT_TRUE(first("X: int = 3\n"));
  EXPECT_TRUE(first("X = {'block_sizes': [1, 2]}\n"));
  EXPECT_TRUE(first("X = helion.Config(block_sizes=[1], num_warps=4)\n"));
  EXPECT_FALSE(first("X = helion.Config([1])\n"));
  EXPECT_FALSE(first("X = torch.zeros(3)\n"));
  EXPECT_FALSE(first("X = Y\n"));  // not (yet) a constant's name
  EXPECT_FALSE(first("X, Y = 1, 2\n"));
  EXPECT_FALSE(first("X = {1: 2}\n"));
}

}  // namespace
}  // namespace jagtile::lang
