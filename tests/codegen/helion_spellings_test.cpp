// Helion spellings a kernel file may use, run end to end on the interpreter and the generated CPU
// code: module aliases (torch as th, torch.nn.functional as fn, `from helion import language`)
// next to imports no kernel uses, and hl.specialize on host sizes; plus the located errors for
// a foreign import used in a kernel and for hl.specialize of something that is not a host int.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "codegen_helpers.h"
#include "jagtile/error.h"

namespace jagtile::testing {
namespace {

const char* kSpellings = R"PY(from __future__ import annotations

from typing import Callable

import numpy as np
import torch as th
import torch.nn.functional as fn
import helion
from helion import language as lang
from helion._testing import run_example

@helion.kernel()
def silu_plus_exp(x: th.Tensor) -> th.Tensor:
    out = th.empty_like(x)
    for t in lang.tile(x.size(0)):
        v = x[t].to(th.float32)
        out[t] = fn.silu(v) + th.exp(v)
    return out

@helion.kernel()
def scale_by_width(x: th.Tensor) -> th.Tensor:
    m, n = lang.specialize(x.shape)
    D = lang.specialize(x.size(1))
    out = th.empty([m, n], dtype=th.float32, device=x.device)
    for tm, tn in lang.tile([m, D]):
        out[tm, tn] = x[tm, tn] * (D * 10 + n)
    return out
)PY";

std::vector<Tensor> run_on(Backend backend, const std::string& kernel, const ArgMap& args) {
  return run_source(kSpellings, "spellings.py", backend, kernel, args);
}

class HelionSpellings : public ::testing::TestWithParam<Backend> {};

TEST_P(HelionSpellings, AliasedModulesComputeSiluPlusExp) {
  std::vector<double> xs;
  for (int i = 0; i < 37; ++i) xs.push_back(-3.0 + 0.17 * i);
  Tensor out =
      run_on(GetParam(), "silu_plus_exp", {{"x", Tensor::from_doubles({37}, xs, DType::f32)}})
          .at(0);
  for (size_t i = 0; i < xs.size(); ++i) {
    double x = xs[i], want = x / (1.0 + std::exp(-x)) + std::exp(x);
    EXPECT_NEAR(out.item_as_double(int64_t(i)), want, 1e-5 * (1 + std::abs(want))) << "x = " << x;
  }
}

TEST_P(HelionSpellings, SpecializeIsTheValueOfTheSizes) {
  const int64_t m = 5, n = 3;
  std::vector<double> xs;
  for (int64_t i = 0; i < m * n; ++i) xs.push_back(double(i));
  Tensor out =
      run_on(GetParam(), "scale_by_width", {{"x", Tensor::from_doubles({m, n}, xs, DType::f32)}})
          .at(0);
  ASSERT_EQ(out.shape(), (Shape{m, n}));
  for (int64_t i = 0; i < m * n; ++i) EXPECT_EQ(out.item_as_double(i), xs[size_t(i)] * 33);
}

INSTANTIATE_TEST_SUITE_P(Backends, HelionSpellings,
                         ::testing::Values(Backend::interp, Backend::cpu),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return std::string(info.param == Backend::cpu ? "Cpu" : "Interp");
                         });

// The error a call of the only kernel in `source` raises, on the interpreter.
UserError error_of(const std::string& source, const ArgMap& args) {
  try {
    Program p = Program::from_source(source, "bad.py");
    Options o;
    o.backend = Backend::interp;
    p.call("", args, o);
  } catch (const UserError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << source;
  return UserError("(none)", "", {}, "");
}

TEST(HelionSpellingsErrors, ForeignImportUsedInAKernelNamesTheImportAndTheUse) {
  UserError e = error_of(
      "import torch\nimport numpy as np\nimport helion.language as hl\n\n"
      "def k(x: torch.Tensor) -> torch.Tensor:\n    out = torch.empty_like(x)\n"
      "    for t in hl.tile(x.size(0)):\n        out[t] = np.exp(x[t])\n    return out\n",
      {{"x", Tensor::from_doubles({4}, {1, 2, 3, 4}, DType::f32)}});
  EXPECT_EQ(e.loc().file, "bad.py");
  EXPECT_EQ(e.loc().line, 8);
  EXPECT_EQ(e.loc().column, 18);
  EXPECT_EQ(e.message(),
            "'np' comes from 'import numpy as np' on line 2, and kernels cannot use 'numpy'");
  EXPECT_THAT(e.hint(), ::testing::HasSubstr("write torch.exp instead of np.exp"));
}

std::string specialize_kernel(const std::string& arg) {
  return "import torch\nimport helion.language as hl\n\n"
         "def k(x: torch.Tensor, f: float) -> torch.Tensor:\n"
         "    out = torch.empty_like(x)\n"
         "    for t in hl.tile(x.size(0)):\n"
         "        D = hl.specialize(" +
         arg + ")\n        out[t] = x[t] * D\n    return out\n";
}

TEST(HelionSpellingsErrors, SpecializeOfANonIntegerIsALocatedError) {
  const char* cases[][2] = {{"f", "this is a float"},
                            {"x[t]", "this is a float32 value of shape [t]"},
                            {"t", "this is a tile"},
                            {"x.dtype", "this is a dtype"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c[0]);
    UserError e =
        error_of(specialize_kernel(c[0]),
                 {{"x", Tensor::from_doubles({4}, {1, 2, 3, 4}, DType::f32)}, {"f", 2.0}});
    EXPECT_EQ(e.loc().line, 7);
    EXPECT_EQ(e.loc().column, 27);
    EXPECT_EQ(e.message(),
              std::string("hl.specialize needs a host integer such as a tensor size; ") + c[1]);
    EXPECT_EQ(e.hint(), "specialise a size read on the host, like D = hl.specialize(q.size(2))");
  }
}

TEST(HelionSpellingsErrors, SpecializeTakesExactlyOneArgument) {
  UserError e = error_of(specialize_kernel("x.size(0), 2"),
                         {{"x", Tensor::from_doubles({4}, {1, 2, 3, 4}, DType::f32)}, {"f", 2.0}});
  EXPECT_EQ(e.loc().line, 7);
  EXPECT_EQ(e.message(), "hl.specialize takes exactly 1 positional argument, got 2");
  EXPECT_EQ(e.hint(), "write hl.specialize(x.size(d))");
}

}  // namespace
}  // namespace jagtile::testing
