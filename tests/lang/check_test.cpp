// Checker tests: the bundled examples and the Helion-style kernels in tests/lang/data pass; every
// checker error is reported with its message, hint and line:col; kernel_defs and
// decorator_config read what they should.
#include "lang/check.h"

#include <filesystem>

#include "lang/known.h"
#include "lang/module_constants.h"
#include "lang_test_util.h"

namespace jagtile::lang {
namespace {

using testing::failure_of;
using testing::parse;
using testing::parse_and_check;

std::vector<std::string> py_files(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".py") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CheckTest, HelionStyleTestKernelsPass) {
  auto files = py_files(testing::source_dir() + "/tests/lang/data");
  ASSERT_GE(files.size(), 6u);
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    ast::Module m = parse_module(testing::read_file(f), f);
    EXPECT_NO_THROW(check_module(m));
    EXPECT_FALSE(kernel_defs(m).empty());
  }
}

TEST(CheckTest, BundledExamplesPass) {
  auto files = py_files(testing::source_dir() + "/examples");
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    ast::Module m = parse_module(testing::read_file(f), f);
    EXPECT_NO_THROW(check_module(m));
    EXPECT_FALSE(kernel_defs(m).empty());
  }
}

TEST(CheckTest, KernelDefsInSourceOrder) {
  ast::Module m = parse_and_check(
      "import torch\n\"\"\"Module docstring.\"\"\"\n"
      "def b(x):\n    return x\n\n@jagtile.kernel\ndef a(x):\n    return x\n");
  auto defs = kernel_defs(m);
  ASSERT_EQ(defs.size(), 2u);
  EXPECT_EQ(defs[0]->name, "b");
  EXPECT_EQ(defs[1]->name, "a");
}

TEST(CheckTest, DecoratorConfig) {
  ast::Module m = parse(
      "@helion.kernel(config=helion.Config(block_sizes=[32, 64], num_warps=4))\ndef a(x):\n"
      "    return x\n"
      "@jagtile.kernel(block_sizes=(8,))\ndef b(x):\n    return x\n"
      "@helion.kernel()\ndef c(x):\n    return x\n");
  auto defs = kernel_defs(m);
  EXPECT_EQ(decorator_config(m, *defs[0]).block_sizes, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(decorator_config(*defs[1]).block_sizes, (std::vector<int64_t>{8}));
  EXPECT_TRUE(decorator_config(m, *defs[2]).block_sizes.empty());
}

TEST(CheckTest, DecoratorConfigRejectsNonLiterals) {
  const char* src = "@helion.kernel(block_sizes=[32, n])\ndef a(x):\n    return x\n";
  auto f = failure_of(src);
  ASSERT_TRUE(f.thrown);
  EXPECT_THAT(f.message, ::testing::HasSubstr("block_sizes must be a list of positive integers"));
  EXPECT_EQ(f.line, 1);
  EXPECT_EQ(f.column, 33);
  f = failure_of("@helion.kernel(block_sizes=[0])\ndef a(x):\n    return x\n");
  EXPECT_EQ(f.column, 29);
  f = failure_of("@helion.kernel(block_sizes=16)\ndef a(x):\n    return x\n");
  EXPECT_THAT(f.message, ::testing::HasSubstr("block_sizes must be a list"));
}

struct CheckError {
  const char* name;
  const char* src;
  const char* message;
  int line, column;
  const char* hint = "";  // a substring the hint must contain ("" = any non-empty hint)
};

class CheckErrorTest : public ::testing::TestWithParam<CheckError> {};

TEST_P(CheckErrorTest, ReportsMessageHintAndLocation) {
  const CheckError& c = GetParam();
  auto f = failure_of(c.src);
  ASSERT_TRUE(f.thrown) << c.src;
  EXPECT_THAT(f.message, ::testing::HasSubstr(c.message)) << f.what;
  EXPECT_EQ(f.line, c.line) << f.what;
  EXPECT_EQ(f.column, c.column) << f.what;
  EXPECT_FALSE(f.hint.empty()) << f.what;
  EXPECT_THAT(f.hint, ::testing::HasSubstr(c.hint)) << f.what;
  // Parsing alone must succeed: these are checker errors, not syntax errors.
  EXPECT_FALSE(failure_of(c.src, /*check=*/false).thrown);
}

// A kernel header used by most cases: `def k(x, offs, n: int):` then the body lines.
#define K "def k(x, offs, n: int):\n"
#define LOOP K "    for tb in hl.tile(n):\n"

INSTANTIATE_TEST_SUITE_P(
    Errors, CheckErrorTest,
    ::testing::Values(
        CheckError{"TopLevelAssignmentOfAComputedValue", "import torch\nx = torch.zeros(3)\n",
                   "top-level statement not allowed here: kernels files hold only kernel "
                   "definitions, imports and constants",
                   2, 1},
        CheckError{"TopLevelAssignmentOfTwoNames", "a = b = 1\n",
                   "top-level statement not allowed here", 1, 1},
        CheckError{"TopLevelIfMain",
                   "def k(x):\n    return x\nif __name__ == '__main__':\n  k(1)\n",
                   "top-level statement not allowed here", 3, 1},
        CheckError{"TopLevelCall", "print(1)\n", "top-level statement not allowed here", 1, 1},
        CheckError{"DuplicateKernel", "def k(x):\n    return x\n\ndef k(y):\n    return y\n",
                   "kernel 'k' is defined twice (first on line 1)", 4, 1},
        CheckError{"DuplicateParameter", "def k(x, y, x):\n    return y\n",
                   "duplicate parameter 'x' in kernel 'k'", 1, 13},
        CheckError{"UndefinedName", K "    y = z + 1\n", "name 'z' is not defined", 2, 9},
        CheckError{"UsedBeforeAssignment", K "    y = w\n    w = 1\n", "name 'w' is not defined", 2,
                   9, "'w' is first assigned on line 3"},
        CheckError{"MisspeltKeyword", LOOP "        a = hl.zeros([tb], dtyp=x.dtype)\n",
                   "unknown keyword argument 'dtyp' for hl.zeros", 3, 28, "did you mean 'dtype'?"},
        CheckError{"KeywordNotAccepted", K "    y = torch.exp(x, out=x)\n",
                   "torch.exp takes no keyword arguments ('out=' given)", 2, 22},
        CheckError{"MethodKeyword", K "    y = x.sum(axis=1)\n",
                   "unknown keyword argument 'axis' for .sum()", 2, 15, "dim="},
        CheckError{"TooFewArguments", LOOP "        a = torch.where(x[tb] > 0, x[tb])\n",
                   "torch.where takes exactly 3 positional arguments, got 2", 3, 13,
                   "torch.where(condition, a, b)"},
        CheckError{"TooManyArguments", K "    y = x.size(0, 1)\n",
                   ".size() takes 0 to 1 positional arguments, got 2", 2, 19},
        CheckError{"BuiltinArity", K "    y = float()\n",
                   "float takes exactly 1 positional argument, got 0", 2, 9},
        CheckError{"NearMissName", K "    y = offz[0]\n", "name 'offz' is not defined", 2, 9,
                   "did you mean 'offs'?"},
        CheckError{"UnknownHlFunction", LOOP "        a = hl.zero([tb], dtype=x.dtype)\n",
                   "unknown function 'hl.zero'", 3, 16, "did you mean 'hl.zeros'?"},
        CheckError{"UnknownTorchFunction", LOOP "        a = torch.expp(x[tb])\n",
                   "unknown function 'torch.expp'", 3, 19, "did you mean 'torch.exp'?"},
        CheckError{"UnknownLoopFunction", K "    for tb in hl.tiles(n):\n        pass\n",
                   "unknown function 'hl.tiles'", 2, 18, "did you mean 'hl.tile'?"},
        CheckError{"UnknownConstant", K "    y = x.to(torch.float33)\n",
                   "unknown attribute 'torch.float33'", 2, 20, "did you mean 'torch.float32'?"},
        CheckError{"UnsupportedTorchDtype", K "    y = x.to(torch.int8)\n",
                   "torch.int8 is not a jagtile dtype", 2, 20, "use torch.int32"},
        CheckError{"UnknownMethod", LOOP "        a = x[tb].summ(dim=0)\n", "unknown method 'summ'",
                   3, 19, "did you mean 'sum'?"},
        CheckError{"UnknownAttribute", K "    y = x.shap\n", "unknown attribute 'shap'", 2, 11,
                   "did you mean 'shape'?"},
        CheckError{"UnknownTileAttribute", LOOP "        a = x[tb.indx]\n",
                   "unknown tile attribute 'indx'", 3, 18, "did you mean 'index'?"},
        CheckError{"TileAttributeOnTensor", K "    y = x.index\n",
                   "'.index' is a tile attribute, but this is not a tile", 2, 11},
        CheckError{"MethodWithoutCall", K "    y = x.size\n", "'size' is a method: call it", 2, 11},
        CheckError{"AttributeCalled", K "    y = x.shape()\n",
                   "'shape' is an attribute, not a method", 2, 11},
        CheckError{"TileMethod", LOOP "        a = tb.sum()\n", "tiles have no methods", 3, 16},
        CheckError{"UnknownBuiltin", K "    y = flaot('inf')\n", "unknown function 'flaot'", 2, 9,
                   "did you mean 'float'?"},
        CheckError{"RangeCall", K "    y = range(3)\n", "unknown function 'range'", 2, 9,
                   "hl.tile"},
        CheckError{"CallingAVariable", K "    y = n(3)\n", "'n' is not a function", 2, 9},
        CheckError{"ForeignModule", "import numpy as np\n" K "    y = np.zeros(3)\n",
                   "'np' comes from 'import numpy as np' on line 1, and kernels cannot use "
                   "'numpy'",
                   3, 9, "write torch.zeros instead of np.zeros"},
        CheckError{"ModuleAsValue", K "    y = torch\n", "module 'torch' cannot be used as a value",
                   2, 9},
        CheckError{"FunctionAsValue", K "    y = torch.exp\n", "'torch.exp' is a function", 2, 9},
        CheckError{"JaggedTileOutermost",
                   K "    for tk in hl.jagged_tile(offs[0]):\n        pass\n",
                   "jagged_tile cannot be the outermost loop: it needs an enclosing tile that "
                   "supplies its items",
                   2, 15},
        CheckError{"JaggedTileLiteral",
                   LOOP "        for tk in hl.jagged_tile(5):\n            pass\n",
                   "hl.jagged_tile needs per-item extents, not the constant 5", 3, 34},
        CheckError{"JaggedTileHostScalar",
                   LOOP "        for tk in hl.jagged_tile(n):\n            pass\n",
                   "hl.jagged_tile needs per-item extents, but 'n' is a host value", 3, 34},
        CheckError{"JaggedTileHostSubscript",
                   LOOP "        for tk in hl.jagged_tile(offs[1] - offs[0]):\n            pass\n",
                   "but '(offs[1] - offs[0])' is a host value", 3, 34},
        CheckError{"JaggedTileArity",
                   LOOP "        for tk in hl.jagged_tile(0, offs[tb]):\n            pass\n",
                   "hl.jagged_tile takes exactly 1 positional argument, got 2", 3, 37},
        CheckError{"TileArity", K "    for tb in hl.tile():\n        pass\n",
                   "hl.tile takes 1 to 2 positional arguments, got 0", 2, 15},
        CheckError{"ForOverRange", K "    for i in range(n):\n        pass\n",
                   "'range' loops are not supported in kernels", 2, 14, "hl.grid"},
        CheckError{"ForOverTensor", K "    for i in x:\n        pass\n",
                   "a for loop must iterate over hl.tile(...), hl.grid(...) or "
                   "hl.jagged_tile(...)",
                   2, 14},
        CheckError{"ForTargetNotName", K "    for x[0] in hl.tile(n):\n        pass\n",
                   "the variable of a tile loop must be a name", 2, 9},
        CheckError{"TileOutsideFor", K "    t = hl.tile(n)\n",
                   "'hl.tile(...)' can only be the iterable of a for loop", 2, 9},
        CheckError{"ReturnInDeviceLoop", LOOP "        return x\n", "'return' inside a device loop",
                   3, 9, "store results"},
        CheckError{"While", K "    while n:\n        pass\n",
                   "'while' loops are not supported in kernels", 2, 5},
        CheckError{"Break", LOOP "        break\n", "'break' is not supported", 3, 9},
        CheckError{"Continue", LOOP "        continue\n", "'continue' is not supported", 3, 9},
        CheckError{"Class", K "    class A:\n        pass\n",
                   "class definition is not supported in kernels", 2, 5},
        CheckError{"With", K "    with x:\n        pass\n",
                   "'with' statement is not supported in kernels", 2, 5},
        CheckError{"Try", K "    try:\n        pass\n    except E:\n        pass\n",
                   "'try' statement is not supported in kernels", 2, 5},
        CheckError{"Del", K "    del x\n", "'del' statement is not supported in kernels", 2, 5},
        CheckError{"Global", K "    global g\n", "'global' statement is not supported", 2, 5},
        CheckError{"Raise", K "    raise ValueError('x')\n", "'raise' statement is not supported",
                   2, 5},
        CheckError{"TopLevelClass", "class A:\n    pass\n", "top-level statement not allowed", 1,
                   1},
        CheckError{"NestedDef", K "    def g(y):\n        return y\n",
                   "nested function definitions are not supported", 2, 5},
        CheckError{"ImportInKernel", K "    import math\n",
                   "imports inside a kernel are not supported", 2, 5},
        CheckError{"DeviceOnlyOnHost", K "    acc = hl.zeros([n], dtype=x.dtype)\n",
                   "'hl.zeros' can only be used inside a device loop", 2, 11, "torch.zeros"},
        CheckError{"LoadOnHost", K "    v = hl.load(x, [0])\n",
                   "'hl.load' can only be used inside a device loop", 2, 9},
        CheckError{"StoreOnHost", K "    hl.store(x, [0], 1.0)\n",
                   "'hl.store' can only be used inside a device loop", 2, 5},
        CheckError{"ConstantCalled", K "    y = torch.float32(1)\n",
                   "'torch.float32' is not a function", 2, 9},
        CheckError{"CallOfSubscript", K "    y = x[0](1)\n",
                   "only functions and methods can be called", 2, 9},
        CheckError{"AnnotationAloneBindsNothing", K "    m: int\n    y = m\n",
                   "name 'm' is not defined", 3, 9},
        CheckError{"AugAssignUndefined", K "    acc += 1\n", "name 'acc' is not defined", 2, 5},
        CheckError{"TileVariableLeaksOnlyAsTile", LOOP "        a = tb\n        b = a.begn\n",
                   "unknown tile attribute 'begn'", 4, 15, "did you mean 'begin'?"},
        CheckError{"ErrorInSecondKernel", "def ok(x):\n    return x\n\ndef bad(x):\n    return y\n",
                   "name 'y' is not defined", 5, 12}),
    [](const ::testing::TestParamInfo<CheckError>& info) { return info.param.name; });

#undef LOOP
#undef K

TEST(CheckTest, NamesFromBranchesAndLoopsStayVisible) {
  EXPECT_NO_THROW(
      parse_and_check("def k(x, bias):\n"
                      "    if bias is not None:\n"
                      "        b = 1\n"
                      "    else:\n"
                      "        b = 2\n"
                      "    for tb in hl.tile(x.size(0)):\n"
                      "        v = x[tb]\n"
                      "        for tk in hl.jagged_tile(v):\n"
                      "            w = v + tk.index\n"
                      "        v2 = w\n"
                      "    return b\n"));
}

TEST(CheckTest, AliasedModulesResolve) {
  EXPECT_NO_THROW(
      parse_and_check("import helion.language as hl\n"
                      "def k(x):\n"
                      "    for tb in helion.language.tile(x.size(0)):\n"
                      "        y = torch.nn.functional.silu(x[tb])\n"
                      "        x[tb] = y * math.pi\n"
                      "    return x\n"));
}

TEST(CheckTest, ShadowedModuleIsAVariable) {
  auto f = failure_of("def k(x):\n    F = x\n    y = F.silu(x)\n    return y\n");
  ASSERT_TRUE(f.thrown);
  EXPECT_THAT(f.message, ::testing::HasSubstr("unknown method 'silu'"));
  EXPECT_EQ(f.line, 3);
}

TEST(KnownTest, EditDistanceAndClosestMatch) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(closest_match("amx", tensor_methods()), "amax");
  EXPECT_EQ(closest_match("zzzzzz", tensor_methods()), "");
  EXPECT_EQ(closest_match("x", {"y"}), "");  // one edit is the whole name: not a typo
  EXPECT_EQ(canonical_member("torch.nn.functional.silu"), "F.silu");
  EXPECT_EQ(canonical_member("helion.language.jagged_tile"), "hl.jagged_tile");
  EXPECT_EQ(canonical_member("numpy.zeros"), "");
  EXPECT_TRUE(is_known_function("hl.jagged_tile"));
  EXPECT_TRUE(is_known_constant("torch.bfloat16"));
  EXPECT_FALSE(is_known_function("torch.float32"));
}

TEST(AstTest, ErrorAtRendersCaretAndHint) {
  ast::Module m = parse("x = 1\ny = foo\n");
  UserError e = ast::error_at(m, ast::Pos{2, 5}, "name 'foo' is not defined", "define it");
  EXPECT_EQ(std::string(e.what()),
            "k.py:2:5: error: name 'foo' is not defined\ny = foo\n    ^\nhint: define it");
  EXPECT_EQ(e.loc().line, 2);
  EXPECT_EQ(e.hint(), "define it");
}

TEST(AstTest, DumpOfAKernelIsStable) {
  const char* src =
      "@helion.kernel()\n"
      "def s(v: torch.Tensor, o: torch.Tensor) -> torch.Tensor:\n"
      "    (n,) = o.size()\n"
      "    out = torch.zeros([n - 1, v.size(1)], dtype=v.dtype)\n"
      "    for b in hl.tile(n - 1):\n"
      "        st = o[b]\n"
      "        for k in hl.jagged_tile(o[b.index + 1] - st):\n"
      "            out[b, :] += v[st[:, None] + k.index[None, :], :].sum(dim=1)\n"
      "    return out\n";
  EXPECT_EQ(ast::dump(parse_and_check(src)),
            "@helion.kernel()\n"
            "def s(v: torch.Tensor, o: torch.Tensor) -> torch.Tensor:\n"
            "  (n,) = o.size()\n"
            "  out = torch.zeros([(n - 1), v.size(1)], dtype=v.dtype)\n"
            "  for b in hl.tile((n - 1)):\n"
            "    st = o[b]\n"
            "    for k in hl.jagged_tile((o[(b.index + 1)] - st)):\n"
            "      out[b, :] += v[(st[:, None] + k.index[None, :]), :].sum(dim=1)\n"
            "  return out\n");
}

}  // namespace
}  // namespace jagtile::lang

namespace jagtile::lang {
namespace {

// Every complete kernel shown in docs/language.md (a ```python block with a `def`) must pass.
TEST(CheckTest, KernelsInTheLanguageGuidePass) {
  std::string doc = testing::read_file(testing::source_dir() + "/docs/language.md");
  ASSERT_FALSE(doc.empty());
  int kernels = 0;
  for (size_t at = doc.find("```python\n"); at != std::string::npos;
       at = doc.find("```python\n", at + 1)) {
    size_t begin = at + 10;
    size_t end = doc.find("```", begin);
    ASSERT_NE(end, std::string::npos);
    std::string block = doc.substr(begin, end - begin);
    if (block.find("def ") == std::string::npos) continue;
    SCOPED_TRACE(block);
    ast::Module m = parse_module(block, "language.md");
    inline_module_constants(m);  // as Program does: the guide's kernels read module constants
    EXPECT_NO_THROW(check_module(m));
    ++kernels;
  }
  EXPECT_GE(kernels, 1);
}

}  // namespace
}  // namespace jagtile::lang
