// Imports: aliases of torch, torch.nn.functional, helion and helion.language resolve to the kernel
// language's names; imports a kernel never uses are harmless; a kernel's use of any other import
// is a located error naming the import's line, with a fix.
#include "lang/imports.h"

#include "lang_test_util.h"

namespace jagtile::lang {
namespace {

using testing::failure_of;
using testing::parse;
using testing::parse_and_check;

// A one-kernel file: `imports` (lines 1..n), a blank line, then a kernel whose loop (line n + 4)
// stores `expr`, which starts at column 18.
std::string kernel_file(const std::string& imports, const std::string& expr) {
  return imports +
         "\n\ndef k(x: torch.Tensor) -> torch.Tensor:\n"
         "    out = torch.empty_like(x)\n"
         "    for t in hl.tile(x.size(0)):\n"
         "        out[t] = " +
         expr + "\n    return out\n";
}

TEST(ImportsTest, ParserRecordsWhatEachImportedNameStandsFor) {
  ast::Module m = parse(
      "import torch.nn.functional as fn\nimport torch.nn.functional\n"
      "from helion import language as hl, Config\nfrom . import sibling\n");
  ASSERT_EQ(m.body.size(), 4u);
  EXPECT_EQ(m.body[0]->import_targets, std::vector<std::string>{"torch.nn.functional"});
  EXPECT_EQ(m.body[1]->import_names, std::vector<std::string>{"torch"});
  EXPECT_EQ(m.body[1]->import_targets, std::vector<std::string>{"torch"});
  EXPECT_EQ(m.body[2]->import_names, (std::vector<std::string>{"hl", "Config"}));
  EXPECT_EQ(m.body[2]->import_targets,
            (std::vector<std::string>{"helion.language", "helion.Config"}));
  EXPECT_EQ(m.body[3]->import_targets, std::vector<std::string>{".sibling"});
}

TEST(ImportsTest, AliasesResolveToTheLanguageModulesAndOthersDoNot) {
  ast::Module m = parse(
      "import torch as th\nimport torch.nn.functional as fn\nfrom helion import language as "
      "lang\nimport numpy as np\nfrom typing import Callable\nimport numpy as hl\n");
  auto names = imported_names(m);
  EXPECT_EQ(names.at("th").target, "torch");
  EXPECT_TRUE(names.at("th").understood);
  EXPECT_EQ(names.at("fn").target, "torch.nn.functional");
  EXPECT_TRUE(names.at("fn").understood);
  EXPECT_EQ(names.at("lang").target, "helion.language");
  EXPECT_TRUE(names.at("lang").understood);
  EXPECT_FALSE(names.at("np").understood);
  EXPECT_EQ(names.at("np").pos.line, 4);
  EXPECT_FALSE(names.at("Callable").understood);
  // Known without importing, unless an import rebinds the name.
  EXPECT_TRUE(names.at("F").understood);
  EXPECT_EQ(names.at("F").target, "torch.nn.functional");
  EXPECT_FALSE(names.at("hl").understood);
}

TEST(ImportsTest, EveryAliasSpellingOfTheLanguageModulesChecks) {
  const char* cases[][2] = {
      {"import torch.nn.functional as F\nimport helion.language as hl", "F.silu(x[t])"},
      {"import torch.nn.functional as fn\nimport helion.language as hl", "fn.silu(x[t])"},
      {"import torch\nimport helion\nfrom helion import language as hl", "torch.exp(x[t])"},
      {"import torch as th\nimport torch\nimport helion.language as hl", "th.exp(x[t])"},
      {"from torch.nn import functional as G\nimport torch", "G.silu(x[t])"},
      {"import torch.nn.functional\nimport torch", "torch.nn.functional.silu(x[t])"},
      {"import torch\nimport helion", "helion.language.zeros([t], dtype=torch.float32)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c[1]);
    EXPECT_NO_THROW(parse_and_check(kernel_file(c[0], c[1])));
  }
}

TEST(ImportsTest, AliasedModulesStillReportUnknownMembers) {
  auto f =
      failure_of(kernel_file("import torch\nimport torch.nn.functional as fn", "fn.silly(x[t])"));
  ASSERT_TRUE(f.thrown);
  EXPECT_EQ(f.message, "unknown function 'fn.silly'");
  EXPECT_EQ(f.hint, "did you mean 'F.silu'?");
}

TEST(ImportsTest, ImportsNoKernelUsesAreHarmless) {
  EXPECT_NO_THROW(parse_and_check(kernel_file(
      "from __future__ import annotations\nfrom typing import Callable, TYPE_CHECKING\n"
      "from helion._testing import run_example, DEVICE\nimport numpy as np\nimport torch\n"
      "import helion\nimport helion.language as hl\nfrom torch import Tensor",
      "x[t] * 2.0")));
}

TEST(ImportsTest, AnnotationsThroughAnyImportKeepWorking) {
  EXPECT_NO_THROW(parse_and_check(
      "import torch as th\nfrom torch import Tensor\nimport helion.language as hl\n"
      "def k(x: th.Tensor, y: Tensor) -> th.Tensor:\n    out = th.empty_like(x)\n"
      "    for t in hl.tile(x.size(0)):\n        out[t] = x[t] + y[t]\n    return out\n"));
}

TEST(ImportsTest, UsingAForeignModuleInAKernelNamesTheImportLine) {
  auto f = failure_of(kernel_file("import torch\nimport numpy as np\nimport helion.language as hl",
                                  "np.exp(x[t])"));
  ASSERT_TRUE(f.thrown);
  EXPECT_EQ(f.line, 8);
  EXPECT_EQ(f.column, 18);
  EXPECT_EQ(f.message,
            "'np' comes from 'import numpy as np' on line 2, and kernels cannot use 'numpy'");
  EXPECT_THAT(f.hint, ::testing::HasSubstr("kernels understand torch, torch.nn.functional"));
  EXPECT_THAT(f.hint, ::testing::HasSubstr("write torch.exp instead of np.exp"));
}

TEST(ImportsTest, ForeignNamesAreErrorsAsValuesCallsAndAttributes) {
  // As a value, called by itself, and behind a method call: each located at the name's use.
  const char* uses[] = {"x[t] * pi_value", "run_example(x[t])", "np.pi + x[t]",
                        "np.linalg.norm(x[t]).sum()"};
  for (const char* use : uses) {
    SCOPED_TRACE(use);
    auto f = failure_of(
        kernel_file("import torch\nimport numpy as np\nfrom helion._testing import run_example\n"
                    "from consts import pi_value\nimport helion.language as hl",
                    use));
    ASSERT_TRUE(f.thrown);
    EXPECT_EQ(f.line, 10);
    EXPECT_THAT(f.message, ::testing::HasSubstr("kernels cannot use '"));
    EXPECT_THAT(f.message, ::testing::HasSubstr("' on line "));
  }
}

TEST(ImportsTest, ForeignModuleOnTheHostPartIsAnErrorToo) {
  auto f = failure_of(
      "import torch\nimport math as m\nimport numpy as np\n"
      "def k(x: torch.Tensor) -> torch.Tensor:\n    n = np.size(x)\n    return x\n");
  ASSERT_TRUE(f.thrown);
  EXPECT_EQ(f.line, 5);
  EXPECT_EQ(f.column, 9);
  EXPECT_THAT(f.message, ::testing::HasSubstr("on line 3"));
}

TEST(ImportsTest, MemberImportOfALanguageFunctionSaysToUseTheModule) {
  auto f = failure_of(
      "import torch\nfrom torch.nn.functional import silu\nimport helion.language as hl\n"
      "def k(x: torch.Tensor) -> torch.Tensor:\n    out = torch.empty_like(x)\n"
      "    for t in hl.tile(x.size(0)):\n        out[t] = silu(x[t])\n    return out\n");
  ASSERT_TRUE(f.thrown);
  EXPECT_EQ(f.line, 7);
  EXPECT_EQ(f.column, 18);
  EXPECT_EQ(f.message,
            "'silu' comes from 'from torch.nn.functional import silu' on line 2: kernels use a "
            "module's functions only through the module");
  EXPECT_EQ(f.hint,
            "write F.silu instead of silu, with 'import torch.nn.functional as F' at the "
            "top of the file");
}

TEST(ImportsTest, AnImportRebindingALanguageNameHidesIt) {
  auto f = failure_of(kernel_file("import torch\nimport numpy as hl", "x[t]"));
  ASSERT_TRUE(f.thrown);
  EXPECT_EQ(f.line, 6);
  EXPECT_THAT(f.message, ::testing::HasSubstr("'hl' comes from 'import numpy as hl' on line 2"));
}

TEST(ImportsTest, AParameterShadowsAForeignImport) {
  EXPECT_NO_THROW(parse_and_check(
      "import torch\nimport numpy as np\nimport helion.language as hl\n"
      "def k(x: torch.Tensor, np: torch.Tensor) -> torch.Tensor:\n    out = torch.empty_like(x)\n"
      "    for t in hl.tile(x.size(0)):\n        out[t] = x[t] + np[t]\n    return out\n"));
}

}  // namespace
}  // namespace jagtile::lang
