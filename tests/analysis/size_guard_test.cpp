// Guarded template routing: a kernel that strides its values by a host scalar where the template
// needs the values' own width (Helion's jagged_mean does this with `max_M`) matches the
// template under a run-time guard. Each call checks the guard: the template where it holds, the
// generic path where it does not, both correct; a forced template says which guard failed; and
// explain reports the guard and whether it held for its arguments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "helpers.h"
#include "testing/compare.h"
#include "testing/datagen.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;
using namespace dispatch_test;

// Sums each item's rows, reading x_values through its flat view with row stride `max_cols` and
// writing `max_cols` columns: the template's sum exactly when max_cols == x_values.size(1).
std::string scalar_stride_sum(const std::string& stride = "max_cols") {
  return header() +
         "def k(x_values: torch.Tensor, x_offsets: torch.Tensor, max_cols: int) -> "
         "torch.Tensor:\n"
         "    num_items = x_offsets.size(0) - 1\n"
         "    out = torch.zeros([num_items, max_cols], dtype=x_values.dtype, "
         "device=x_values.device)\n"
         "    flat = x_values.view(-1)\n"
         "    for tile_b in hl.tile(num_items):\n"
         "        starts = x_offsets[tile_b]\n"
         "        nnz = x_offsets[tile_b.index + 1] - starts\n"
         "        for tile_m in hl.tile(max_cols):\n"
         "            acc = hl.zeros([tile_b, tile_m], dtype=torch.float32)\n"
         "            for tile_k in hl.jagged_tile(nnz):\n"
         "                rows = starts[:, None] + tile_k.index[None, :]\n"
         "                idx = rows[:, :, None] * " +
         stride +
         " + tile_m.index[None, None, :]\n"
         "                acc = acc + hl.load(flat, [idx]).sum(dim=1)\n"
         "            out[tile_b, tile_m] = acc\n"
         "    return out\n";
}

// x_values [7, 6] with random values, items of 3, 0 and 4 rows.
ArgMap args_with(int64_t max_cols) {
  ArgMap a;
  a["x_values"] = random_values({7, 6}, DType::f32, 11);
  a["x_offsets"] = Tensor::from_doubles({4}, {0, 3, 3, 7}, DType::i64);
  a["max_cols"] = max_cols;
  return a;
}

Options with(Backend b) {
  Options o;
  o.backend = b;
  return o;
}

void expect_same_as_interp(const Program& p, const ArgMap& args, const CallResult& got) {
  CallResult want = p.call("", args, with(Backend::interp));
  Comparison c = compare_tensors(got.outputs.at(0), want.outputs.at(0), Tolerance{1e-6, 1e-5});
  EXPECT_TRUE(c.ok) << c.mismatch;
}

TEST(SizeGuard, ScalarStrideMatchesTheTemplateUnderAGuard) {
  analysis::DispatchResult d = detect(scalar_stride_sum(), args_with(6));
  ASSERT_TRUE(d.matched()) << d.reason;
  ASSERT_EQ(d.plan->guards.size(), 1u);
  EXPECT_EQ(d.plan->guards[0].str(), "max_cols == x_values.size(1)");
  EXPECT_EQ(analysis::dispatch_summary(d),
            "template jagged_reduce(op=sum, items_axis=0, counts=no) when max_cols == "
            "x_values.size(1)");
  EXPECT_THAT(analysis::plan_to_string(*d.plan), HasSubstr("guard: max_cols == x_values.size(1)"));
}

// The match itself does not depend on the scalar's value: the guard is checked per call.
TEST(SizeGuard, GuardIsRecordedWhateverTheScalarsValue) {
  analysis::DispatchResult d = detect(scalar_stride_sum(), args_with(4));
  ASSERT_TRUE(d.matched()) << d.reason;
  EXPECT_EQ(d.plan->guards.size(), 1u);
}

TEST(SizeGuard, KernelsWithoutScalarsTakeNoGuard) {
  analysis::DispatchResult d = detect(direct_sum());
  ASSERT_TRUE(d.matched()) << d.reason;
  EXPECT_TRUE(d.plan->guards.empty());
}

// No value of the scalar makes `max_cols + 1` the width in every place, so no guard can help.
TEST(SizeGuard, StrideNoScalarCanExplainIsNotMatched) {
  analysis::DispatchResult d = detect(scalar_stride_sum("(max_cols + 1)"), args_with(6));
  EXPECT_FALSE(d.matched());
  EXPECT_THAT(d.reason, HasSubstr("the values are read at index"));
}

TEST(SizeGuard, CallRunsTheTemplateWhereTheGuardHolds) {
  Program p = Program::from_source(scalar_stride_sum(), "stride.py");
  ArgMap a = args_with(6);
  CallResult r = p.call("", a);
  EXPECT_EQ(r.backend_used, Backend::template_lib);
  expect_same_as_interp(p, a, r);
}

TEST(SizeGuard, CallRunsTheGenericPathWhereTheGuardFails) {
  Program p = Program::from_source(scalar_stride_sum(), "stride.py");
  ArgMap a = args_with(4);  // strides 4 through rows of 6: a valid kernel, not the template's
  CallResult r = p.call("", a);
  EXPECT_EQ(r.backend_used, Backend::cpu);
  EXPECT_EQ(r.outputs.at(0).size(1), 4);
  expect_same_as_interp(p, a, r);
}

TEST(SizeGuard, ForcedTemplateNamesTheFailedGuardAndItsValues) {
  Program p = Program::from_source(scalar_stride_sum(), "stride.py");
  try {
    p.call("", args_with(4), with(Backend::template_lib));
    FAIL() << "the template ran a call whose guard fails";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot run on the template backend with these arguments: "
                                    "the guard max_cols == x_values.size(1) does not hold for "
                                    "these arguments (max_cols = 4, x_values.size(1) = 6)"));
  }
}

// A handle made where the guard holds still checks each call's own arguments, and one made
// where it fails takes the template for a call where it holds.
TEST(SizeGuard, SpecialisedHandleChecksTheGuardOnEveryRun) {
  Program p = Program::from_source(scalar_stride_sum(), "stride.py");
  Specialised holds = p.specialise("", args_with(6));
  EXPECT_EQ(holds.backend(), Backend::template_lib);
  EXPECT_EQ(holds.run(args_with(4)).backend_used, Backend::cpu);
  EXPECT_EQ(holds.run(args_with(6)).backend_used, Backend::template_lib);
  Specialised fails = p.specialise("", args_with(4));
  EXPECT_EQ(fails.backend(), Backend::cpu);
  EXPECT_EQ(fails.run(args_with(6)).backend_used, Backend::template_lib);
}

TEST(SizeGuard, ExplainReportsTheGuardAndWhetherItHeld) {
  Program p = Program::from_source(scalar_stride_sum(), "stride.py");
  DispatchDecision held = p.explain("", args_with(6));
  EXPECT_EQ(held.backend, "template");
  EXPECT_THAT(held.dispatch, HasSubstr("when max_cols == x_values.size(1)"));
  ASSERT_EQ(held.guards.size(), 1u);
  EXPECT_EQ(held.guards[0].condition, "max_cols == x_values.size(1)");
  EXPECT_TRUE(held.guards[0].holds);
  EXPECT_EQ(held.guards[0].values, "max_cols = 6, x_values.size(1) = 6");

  DispatchDecision failed = p.explain("", args_with(4));
  EXPECT_EQ(failed.backend, "cpu");
  EXPECT_EQ(failed.dispatch, "generic");
  EXPECT_THAT(failed.reason, HasSubstr("the guard max_cols == x_values.size(1) does not hold"));
  ASSERT_EQ(failed.guards.size(), 1u);
  EXPECT_FALSE(failed.guards[0].holds);
  EXPECT_EQ(failed.guards[0].values, "max_cols = 4, x_values.size(1) = 6");
}

TEST(SizeGuard, LibraryCallIsRefusedWhereTheGuardFails) {
  Program p = Program::from_source(scalar_stride_sum(), "stride.py");
  Specialised s = p.specialise("", args_with(6));
  EXPECT_TRUE(s.library_call(args_with(6)).has_value());
  std::string why;
  EXPECT_FALSE(s.library_call(args_with(4), &why).has_value());
  EXPECT_THAT(why, HasSubstr("max_cols = 4"));
  EXPECT_THAT(s.why_not(Backend::template_lib), ::testing::IsEmpty());
  EXPECT_THAT(p.specialise("", args_with(4)).why_not(Backend::template_lib),
              HasSubstr("does not hold"));
}

}  // namespace
}  // namespace jagtile
