// Routing through Program::call and Program::explain: which backend a call takes under each
// option and switch, the errors of a forced template backend, the decision that explain
// reports, the JAGTILE_DEBUG=dispatch log, and template vs generic CPU results.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

#include "testing/scoped_env.h"
#include "helpers.h"
#include "testing/examples.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;
using namespace dispatch_test;

using jagtile::testing::ScopedEnv;

struct Example {
  Program program;
  ArgMap args;
};

Example example(const char* kernel, DType values = DType::f32) {
  const ExampleInfo* ex = find_example(kernel);
  if (!ex) throw std::runtime_error(std::string("no bundled example named ") + kernel);
  JaggedShape shape;
  shape.batch = 12;
  shape.features = 9;
  shape.max_len = 20;
  return {Program::from_source(read_example(kernel), ex->file),
          ex->make_inputs(shape, values, DType::i64)};
}

Options with(Backend b) {
  Options o;
  o.backend = b;
  return o;
}

TEST(Routing, AutoTakesTheTemplateForMatchedKernels) {
  for (const char* k : {"jagged_sum", "jagged_mean", "jagged_max"}) {
    Example e = example(k);
    EXPECT_EQ(e.program.call("", e.args).backend_used, Backend::template_lib) << k;
  }
}

TEST(Routing, AutoTakesTheGenericPathOtherwise) {
  Example e = example("jagged_softmax");
  CallResult r = e.program.call("", e.args);
  EXPECT_NE(r.backend_used, Backend::template_lib);
  EXPECT_EQ(r.outputs.size(), 1u);
}

TEST(Routing, ExplicitGenericBackendsSkipTheTemplate) {
  Example e = example("jagged_sum");
  EXPECT_EQ(e.program.call("", e.args, with(Backend::interp)).backend_used, Backend::interp);
}

TEST(Routing, DisableTemplatesForcesTheGenericPath) {
  Example e = example("jagged_sum");
  ScopedEnv off("JAGTILE_DISABLE_TEMPLATES", "1");
  CallResult r = e.program.call("", e.args);
  EXPECT_NE(r.backend_used, Backend::template_lib);
  try {
    e.program.call("", e.args, with(Backend::template_lib));
    FAIL() << "expected a UserError";
  } catch (const UserError& err) {
    EXPECT_THAT(err.what(), HasSubstr("templates are disabled by JAGTILE_DISABLE_TEMPLATES"));
  }
  DispatchDecision d = e.program.explain("", e.args);
  EXPECT_EQ(d.dispatch, "generic");
  EXPECT_THAT(d.reason, HasSubstr("JAGTILE_DISABLE_TEMPLATES"));
}

TEST(Routing, DisableTemplatesZeroKeepsThem) {
  Example e = example("jagged_sum");
  ScopedEnv on("JAGTILE_DISABLE_TEMPLATES", "0");
  EXPECT_EQ(e.program.call("", e.args).backend_used, Backend::template_lib);
}

TEST(Routing, TemplateBackendOnAnUnmatchedKernelFailsClearly) {
  Example e = example("jagged_softmax");
  try {
    e.program.call("", e.args, with(Backend::template_lib));
    FAIL() << "expected a UserError";
  } catch (const UserError& err) {
    std::string msg = err.what();
    EXPECT_THAT(msg,
                HasSubstr("kernel 'jagged_softmax' does not match the jagged_reduce "
                          "template: the loop around the accumulation holds 2 loops and 0 stores"));
    EXPECT_THAT(msg, HasSubstr("--backend auto or cpu"));
  }
}

TEST(Routing, BadOffsetsAreReportedWithTheKernelsNames) {
  Example e = example("jagged_sum");
  e.args["x_offsets"] = Tensor::from_doubles({4}, {0, 3, 2, 5}, DType::i64);
  try {
    e.program.call("", e.args, with(Backend::template_lib));
    FAIL() << "expected a UserError";
  } catch (const UserError& err) {
    EXPECT_THAT(err.what(), HasSubstr("x_offsets"));
    EXPECT_THAT(err.what(), HasSubstr("decreas"));
  }
  Example m = example("jagged_mean");
  m.args["x_feature_counts"] = Tensor::from_doubles({12}, std::vector<double>(12, 10), DType::i32);
  try {
    m.program.call("", m.args, with(Backend::template_lib));
    FAIL() << "expected a UserError";
  } catch (const UserError& err) {
    EXPECT_THAT(err.what(), HasSubstr("x_feature_counts"));
  }
}

TEST(Routing, ExplainMatchedAndUnmatched) {
  struct Want {
    const char* kernel;
    const char* dispatch;
  };
  for (Want w : {Want{"jagged_sum", "template jagged_reduce(op=sum, items_axis=0, counts=no)"},
                 Want{"jagged_mean", "template jagged_reduce(op=mean, items_axis=0, counts=yes)"},
                 Want{"jagged_max", "template jagged_reduce(op=max, items_axis=0, counts=no)"}}) {
    Example e = example(w.kernel);
    DispatchDecision d = e.program.explain("", e.args);
    EXPECT_EQ(d.kernel, w.kernel);
    EXPECT_EQ(d.dispatch, w.dispatch);
    EXPECT_TRUE(d.reason.empty()) << d.reason;
    EXPECT_THAT(d.plan, HasSubstr("offsets: x_offsets\n"));
  }
  for (const char* k : {"jagged_softmax", "jagged_layer_norm", "jagged_dense_add"}) {
    Example e = example(k);
    DispatchDecision d = e.program.explain("", e.args);
    EXPECT_EQ(d.dispatch, "generic") << k;
    EXPECT_FALSE(d.reason.empty()) << k;
    EXPECT_TRUE(d.plan.empty()) << k;
  }
  Example dense = example("jagged_dense_add");
  EXPECT_THAT(dense.program.explain("", dense.args).reason, HasSubstr("no hl.jagged_tile"));
  // A requested generic backend is reported as the reason.
  Example s = example("jagged_sum");
  DispatchDecision d = s.program.explain("", s.args, with(Backend::interp));
  EXPECT_EQ(d.dispatch, "generic");
  EXPECT_EQ(d.reason, "backend 'interp' requested");
}

TEST(Routing, DebugDispatchLogsEachDecision) {
  ScopedEnv dbg("JAGTILE_DEBUG", "dispatch");
  Example s = example("jagged_sum");
  ::testing::internal::CaptureStderr();
  s.program.call("", s.args);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(
      log, HasSubstr("jagtile: dispatch jagged_sum: template jagged_reduce(op=sum, items_axis=0, "
                     "counts=no)\n"));
  Example soft = example("jagged_softmax");
  ::testing::internal::CaptureStderr();
  soft.program.call("", soft.args, with(Backend::interp));
  soft.program.call("", soft.args);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(
      log, HasSubstr("jagtile: dispatch jagged_softmax: generic (backend 'interp' requested)\n"));
  EXPECT_THAT(log, HasSubstr("jagtile: dispatch jagged_softmax: generic (reason: "));
}

TEST(Routing, NoLogWithoutTheSwitch) {
  ScopedEnv dbg("JAGTILE_DEBUG", "ir_not_dispatch");
  Example s = example("jagged_sum");
  ::testing::internal::CaptureStderr();
  s.program.call("", s.args);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

// JAGTILE_DEBUG=ir prints the lowering trace once per specialisation: a second call that reuses
// it (or the interpreter called on the same arguments) prints nothing more.
TEST(Routing, DebugIrTracePrintedOncePerSpecialisation) {
  ScopedEnv dbg("JAGTILE_DEBUG", "ir");
  Example s = example("jagged_sum");
  ::testing::internal::CaptureStderr();
  s.program.call("", s.args);
  s.program.call("", s.args);
  s.program.call("", s.args, with(Backend::interp));
  const std::string log = ::testing::internal::GetCapturedStderr();
  size_t lowers = 0;
  for (size_t at = log.find("== after lower =="); at != std::string::npos;
       at = log.find("== after lower ==", at + 1))
    ++lowers;
  EXPECT_EQ(lowers, 1u);
  EXPECT_THAT(log, HasSubstr("== host/device split =="));
}

// Template vs generic CPU code for every matched example (the generic CPU backend compiles with
// the system compiler, so one small shape each keeps this quick). Any error fails the test.
TEST(Routing, TemplateMatchesGenericCpu) {
  for (const char* k : {"jagged_sum", "jagged_mean", "jagged_max"}) {
    for (DType dt : {DType::f32, DType::bf16}) {
      Example e = example(k, dt);
      CallResult t = e.program.call("", e.args, with(Backend::template_lib));
      CallResult g = e.program.call("", e.args, with(Backend::cpu));
      ASSERT_EQ(g.backend_used, Backend::cpu);
      Comparison c = compare_tensors(t.outputs.at(0), g.outputs.at(0),
                                     find_example(k)->tolerance(t.outputs.at(0).dtype()));
      EXPECT_TRUE(c.ok) << k << " " << dtype_name(dt) << ": " << c.mismatch;
    }
  }
}

}  // namespace
}  // namespace jagtile

namespace jagtile {
namespace {

// Host asserts stay the kernel's: the host executor runs them for every backend, the template's
// included, so a failing one raises exactly the error the generic path raises.
TEST(Routing, HostAssertsAreCheckedOnTheTemplatePath) {
  std::string src = variant(direct_sum(), {{"    M = x_values.size(1)\n",
                                            "    M = x_values.size(1)\n"
                                            "    assert M > 2, \"need more than 2 columns\"\n"}});
  Program p = Program::from_source(src, "asserting.py");
  DispatchDecision d = p.explain("", small_args());
  ASSERT_EQ(d.dispatch, "template jagged_reduce(op=sum, items_axis=0, counts=no)") << d.reason;
  // Passing: the template runs.
  EXPECT_EQ(p.call("", small_args()).backend_used, Backend::template_lib);
  // Failing: the same message on both paths.
  ArgMap narrow = small_args();
  narrow["x_values"] = Tensor::zeros({5, 2}, DType::f32);
  std::string on_template, on_interp;
  try {
    p.call("", narrow, with(Backend::template_lib));
  } catch (const UserError& e) {
    on_template = e.what();
  }
  try {
    p.call("", narrow, with(Backend::interp));
  } catch (const UserError& e) {
    on_interp = e.what();
  }
  EXPECT_THAT(on_template, HasSubstr("need more than 2 columns"));
  EXPECT_EQ(on_template, on_interp);
}

}  // namespace
}  // namespace jagtile
