// Each planning pass on its own output: the loop-nest form after build_nests and after each pass,
// asserted structurally (which arrays exist, where loads sit, what is hoisted, how checks are
// placed), with the verifier run after every step. No C++ compiler runs here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>

#include "../common/matmul_cases.h"
#include "plan/pass_bounds_checks.h"
#include "plan/pass_fuse.h"
#include "plan/pass_hoist.h"
#include "plan/pass_inline_index.h"
#include "plan/pass_reload.h"
#include "plan/planner.h"
#include "plan_test_util.h"

namespace jagtile::plan_test {
namespace {

using plan::NestRole;
using plan::Stmt;
using plan::StmtKind;
using ::testing::HasSubstr;
using ::testing::Not;

ArgMap sum_args() {
  return {{"x_values", Tensor::zeros({7, 3}, DType::f32)},
          {"x_offsets", Tensor::from_doubles({4}, {0, 2, 2, 7}, DType::i32)}};
}

const char* kKernels = R"PY(import torch
import helion
import helion.language as hl

def reload_after_store(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        v = x[t]
        w = v * 3.0
        x[t] = w
        out[t] = v + w
    return out

def reload_twice(x: torch.Tensor) -> torch.Tensor:
    (n, m) = x.shape
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        v = x[t, :]
        out[t] = (v - v.amax(dim=1)[:, None]).sum(dim=1) + v.sum(dim=1)
    return out

def gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    (n,) = idx.size()
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        out[t] = x[idx[t]]
    return out

@helion.kernel(config=helion.Config(block_sizes=[4]))
def matmul_then_scale(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    n = w.size(1)
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for t in hl.tile(m):
        a = x[t, :]
        out[t, :] = torch.matmul(a, w[:, :])
        x[t, :] = x[t, :] * 2.0
    return out

def scaled_accumulator(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    n = w.size(1)
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile([m, n]):
        acc = hl.zeros([tm, tn], dtype=torch.float32)
        for tk in hl.tile(k):
            acc = acc + torch.matmul(x[tm, tk], w[tk, tn])
            acc = acc * 0.5
        out[tm, tn] = acc
    return out
def ones_accumulator(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    n = w.size(1)
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tm, tn in hl.tile([m, n]):
        acc = hl.full([tm, tn], 1.0, dtype=torch.float32)
        for tk in hl.tile(k):
            acc = acc + torch.matmul(x[tm, tk], w[tk, tn])
        out[tm, tn] = acc
    return out
def carried_update(x: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    out = torch.zeros([m], dtype=x.dtype, device=x.device)
    for tm in hl.tile(m):
        acc = hl.zeros([tm], dtype=torch.float32)
        for tk in hl.tile(k):
            acc = acc + x[tm, tk].sum(dim=1)
            acc = acc * 0.5
            out[tm] = acc
    return out
def read_twice(x: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    out = torch.zeros([m], dtype=x.dtype, device=x.device)
    out2 = torch.zeros([m], dtype=x.dtype, device=x.device)
    for tm in hl.tile(m):
        acc = hl.zeros([tm], dtype=torch.float32)
        for tk in hl.tile(k):
            acc = acc + x[tm, tk].sum(dim=1)
        acc = acc * 0.5
        out[tm] = acc
        out2[tm] = acc
    return out
def item_rows(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    out = torch.zeros([B], dtype=x.dtype, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        acc = hl.zeros([tile_b], dtype=torch.float32)
        for tile_k in hl.jagged_tile(nnz):
            acc = acc + x[starts[:, None] + tile_k.index[None, :]].sum(dim=1)
        out[tile_b] = acc
    return out
def masked(x: torch.Tensor, n: int, m: int) -> torch.Tensor:
    out = torch.zeros([x.size(0)], dtype=x.dtype, device=x.device)
    for t in hl.tile(m):
        v = hl.load(x, [t], extra_mask=t.index < n)
        out[t] = v
    return out
)PY";

void all_passes(plan::Plan& p) {
  plan::inline_index_arithmetic(p);
  plan::fuse_single_consumers(p);
  plan::reload_loads(p);
  plan::hoist_invariants(p);
  plan::place_bounds_checks(p);
  plan::verify(p);
}

// ---- build_nests ----

TEST(BuildNests, EveryDeviceValueGetsAnArrayAndItsOwnValueNest) {
  Subject s(read_source("examples/jagged_sum.py"), sum_args());
  int device_values = 0;
  ir::walk(s.spec->kernel.body, [&](const ir::NodePtr& n) {
    if (n->type.is_value() && !n->type.shape.empty() && n->kind != ir::NodeKind::reduce &&
        n->kind != ir::NodeKind::matmul && n->kind != ir::NodeKind::var_decl)
      ++device_values;
  });
  EXPECT_EQ(int(s.nests(NestRole::value).size()), device_values);
  // Loads sit only in value nests (no fusion yet).
  for (const Stmt* n : s.nests(NestRole::reduce))
    EXPECT_EQ(Subject::loads_in(*n, "x_flat", s.func()), 0);
}

TEST(BuildNests, TheFormPrintsWithCapturesAndSites) {
  Subject s(read_source("examples/jagged_sum.py"), sum_args());
  std::string text = s.text();
  EXPECT_THAT(text, HasSubstr("captures: $x_offsets, $M, $x_flat, $out"));
  EXPECT_THAT(text, HasSubstr("load $x_flat["));
  EXPECT_THAT(text, HasSubstr("tile_loop tile_k (#2) from 0 to end2:"));
  EXPECT_THAT(text, HasSubstr("store $out["));
}

// ---- inline_index_arithmetic ----

TEST(InlineIndexArithmetic, IndexArraysDisappearButJaggedExtentsStay) {
  Subject s(read_source("examples/jagged_sum.py"), sum_args());
  size_t before = s.nests(NestRole::value).size();
  plan::inline_index_arithmetic(s.plan);
  plan::verify(s.plan);
  size_t after = s.nests(NestRole::value).size();
  EXPECT_LT(after, before);
  // Left: no index arithmetic. The loads (starts, ends, the values), nnz (which the jagged
  // loop's structure reads), `acc + ...` and the two reads of the variable acc.
  EXPECT_EQ(after, 7u) << s.text();
  for (const Stmt* n : s.nests(NestRole::value)) {
    ir::NodeKind k = n->node->kind;
    EXPECT_TRUE(k == ir::NodeKind::load || k == ir::NodeKind::var_read || k == ir::NodeKind::binary)
        << n->name << " is " << ir::kind_name(k);
  }
  EXPECT_THAT(s.text(), HasSubstr("end2 max= int64(v11[")) << "nnz (v11) must stay an array";
}

// ---- fuse_single_consumers ----

TEST(FuseSingleConsumers, TheLoadEndsInsideTheReductionThatReadsIt) {
  Subject s(read_source("examples/jagged_sum.py"), sum_args());
  plan::inline_index_arithmetic(s.plan);
  plan::fuse_single_consumers(s.plan);
  plan::verify(s.plan);
  std::vector<const Stmt*> reduces = s.nests(NestRole::reduce);
  ASSERT_EQ(reduces.size(), 1u);
  EXPECT_EQ(Subject::loads_in(*reduces[0], "x_flat", s.func()), 1) << s.text();
  // No value nest loads x_flat any more; `acc + ...` is computed in the variable's update.
  for (const Stmt* n : s.nests(NestRole::value))
    EXPECT_EQ(Subject::loads_in(*n, "x_flat", s.func()), 0);
  std::vector<const Stmt*> updates = s.nests(NestRole::var_assign);
  ASSERT_EQ(updates.size(), 1u);
}

TEST(FuseSingleConsumers, ALoadIsNotMovedPastAStoreToItsTensor) {
  Subject s(kKernels, {{"x", Tensor::zeros({9}, DType::f32)}}, true, "reload_after_store");
  plan::inline_index_arithmetic(s.plan);
  plan::fuse_single_consumers(s.plan);
  plan::reload_loads(s.plan);
  plan::verify(s.plan);
  // v = x[t] has two readers with the store x[t] = w between them: it stays a tile array.
  int load_nests = 0;
  for (const Stmt* n : s.nests(NestRole::value)) load_nests += Subject::loads_in(*n, "x", s.func());
  EXPECT_EQ(load_nests, 1) << s.text();
}

// ---- reload_loads ----

TEST(ReloadLoads, ALoadWithSeveralReadersIsLoadedInEachAndHasNoArray) {
  Subject s(kKernels, {{"x", Tensor::zeros({5, 7}, DType::f32)}}, true, "reload_twice");
  plan::inline_index_arithmetic(s.plan);
  plan::fuse_single_consumers(s.plan);
  int before = 0;
  for (const Stmt* n : s.nests(NestRole::value)) before += Subject::loads_in(*n, "x", s.func());
  EXPECT_EQ(before, 1) << "before reloading, the load has its own nest";
  plan::reload_loads(s.plan);
  plan::verify(s.plan);
  int in_values = 0, in_reduces = 0;
  for (const Stmt* n : s.nests(NestRole::value)) in_values += Subject::loads_in(*n, "x", s.func());
  for (const Stmt* n : s.nests(NestRole::reduce))
    in_reduces += Subject::loads_in(*n, "x", s.func());
  EXPECT_EQ(in_values, 0) << s.text();
  EXPECT_EQ(in_reduces, 3) << s.text();  // amax, the centred sum, the plain sum
}

TEST(ReloadLoads, SoftmaxReadsItsValuesInsideBothReductions) {
  const ArgMap args = {{"x_values", Tensor::zeros({7, 3}, DType::f32)},
                       {"x_offsets", Tensor::from_doubles({4}, {0, 2, 2, 7}, DType::i32)}};
  Subject s(read_source("examples/jagged_softmax.py"), args);
  all_passes(s.plan);
  for (const Stmt* n : s.nests(NestRole::reduce))
    EXPECT_EQ(Subject::loads_in(*n, "x_values", s.func()), 1) << s.text();
  for (const Stmt* n : s.nests(NestRole::value))
    EXPECT_EQ(Subject::loads_in(*n, "x_values", s.func()), 0) << s.text();
}

// ---- hoist_invariants ----

TEST(HoistInvariants, ValuesIndependentOfTheInnermostIndexMoveInFrontOfIt) {
  Subject s(read_source("examples/jagged_sum.py"), sum_args());
  plan::inline_index_arithmetic(s.plan);
  plan::fuse_single_consumers(s.plan);
  plan::hoist_invariants(s.plan);
  plan::verify(s.plan);
  std::vector<const Stmt*> reduces = s.nests(NestRole::reduce);
  ASSERT_EQ(reduces.size(), 1u);
  // The innermost loop (over the columns) reads the item's start only through a local made in
  // front of it, and never loads in front of it.
  bool start_read_inside = false, load_outside = false;
  std::function<void(const plan::StmtPtr&, bool)> walk = [&](const plan::StmtPtr& st,
                                                             bool innermost) {
    bool inner = st->kind == StmtKind::for_ && !plan::any_stmt(seq(st->body), [](const Stmt& x) {
                   return x.kind == StmtKind::for_;
                 });
    for (const plan::ExprPtr& e : plan::own_exprs(*st))
      plan::visit(e, [&](const plan::Expr& x) {
        if (x.kind == plan::ExprKind::array_read && x.name == "v7" && innermost)
          start_read_inside = true;
        if (x.kind == plan::ExprKind::load && !innermost) load_outside = true;
      });
    for (const plan::StmtPtr& b : st->body) walk(b, innermost || inner);
  };
  for (const plan::StmtPtr& b : reduces[0]->body) walk(b, false);
  EXPECT_FALSE(start_read_inside) << s.text();
  EXPECT_FALSE(load_outside) << s.text();
}

// ---- place_bounds_checks ----

TEST(PlaceBoundsChecks, MonotoneIndicesAreCheckedAtTheEndsOnly) {
  Subject s(read_source("examples/jagged_sum.py"), sum_args());
  // Planned as if nothing were proven in bounds (x_flat's rows and out's indices are: see
  // RowsTheOffsetsGuardBoundsAreNotChecked), so that every access has its check.
  host::HostProgram host = s.spec->host;
  host.in_bounds_dims.clear();
  s.plan = plan::build_nests(s.spec->kernel, host, true);
  all_passes(s.plan);
  std::vector<const Stmt*> checks = s.nests(NestRole::check);
  EXPECT_EQ(checks.size(), 4u);  // starts, ends, the load of x_flat, the store to out
  EXPECT_EQ(s.nests(NestRole::diagnose).size(), checks.size());
  for (const Stmt* c : checks) {
    bool endpoints = false;
    plan::visit(std::make_shared<const Stmt>(*c), [&](const Stmt& x) {
      endpoints |= x.kind == StmtKind::for_ && x.loop == plan::LoopKind::endpoints;
    });
    EXPECT_TRUE(endpoints) << s.text();
  }
  // The check copies store nothing and load nothing (no gather here).
  for (const Stmt* c : checks) EXPECT_EQ(Subject::loads_in(*c, "x_flat", s.func()), 0);
}

TEST(PlaceBoundsChecks, AGatherIsCheckedEverywhereAndItsIndexLoadIsGuarded) {
  Subject s(kKernels,
            {{"x", Tensor::zeros({9}, DType::f32)}, {"idx", Tensor::zeros({4}, DType::i64)}}, true,
            "gather");
  all_passes(s.plan);
  std::string text = s.text();
  // The index is loaded in the check copy (it feeds the checked index), in bounds only.
  EXPECT_THAT(text, HasSubstr("? load $idx["));
  bool gather_endpoints = false;
  for (const Stmt* c : s.nests(NestRole::check)) {
    if (Subject::loads_in(*c, "idx", s.func()) == 0) continue;
    plan::visit(std::make_shared<const Stmt>(*c), [&](const Stmt& x) {
      gather_endpoints |= x.kind == StmtKind::for_ && x.loop == plan::LoopKind::endpoints;
    });
  }
  EXPECT_FALSE(gather_endpoints) << text;
}

// The mask keeps a prefix of the tile (t.index < n): the masked load is checked at the two ends
// of that prefix, the unmasked store at the ends of the whole tile (prefix_mask_checks_test.cpp
// runs the kernels that find the difference).
TEST(PlaceBoundsChecks, AMaskedPrefixIsCheckedAtItsEnds) {
  // The tile runs to m, a parameter, not to x's size: neither access is proven in bounds.
  Subject s(kKernels, {{"x", Tensor::zeros({9}, DType::f32)}, {"n", int64_t(4)}, {"m", int64_t(9)}},
            true, "masked");
  all_passes(s.plan);
  int endpoints = 0, simd = 0;
  for (const Stmt* c : s.nests(NestRole::check))
    plan::visit(std::make_shared<const Stmt>(*c), [&](const Stmt& x) {
      if (x.kind != StmtKind::for_) return;
      endpoints += x.loop == plan::LoopKind::endpoints;
      simd += x.loop == plan::LoopKind::simd;
    });
  EXPECT_EQ(simd, 0) << s.text();
  EXPECT_EQ(endpoints, 2) << s.text();
  EXPECT_THAT(s.text(), HasSubstr("jt_min64(lim0, jt_max64(($n - (s0 + 0)), 0)) endpoints"));
}

// Each item's rows of x, x[offsets[b] + k] under a jagged loop over the item's length: the host
// validates the offsets against x's rows before any nest runs, so no check copy tests x; the
// offsets' own loads stay checked.
TEST(PlaceBoundsChecks, RowsTheOffsetsGuardBoundsAreNotChecked) {
  Subject s(kKernels,
            {{"x", Tensor::zeros({6}, DType::f32)},
             {"offsets", Tensor::from_doubles({3}, {0, 2, 5}, DType::i64)}},
            true, "item_rows");
  all_passes(s.plan);
  const std::string text = s.text();
  EXPECT_THAT(text, HasSubstr("load $x["));
  EXPECT_THAT(text, Not(HasSubstr("$x.size[0]"))) << text;
  EXPECT_THAT(text, HasSubstr("inb(a2, $offsets.size[0])"));
  // Without the guard's proof (a plan built without the host's list) x is checked as before.
  plan::Plan unproven = plan::build_nests(s.spec->kernel, s.spec->host, true);
  host::HostProgram host = s.spec->host;
  host.in_bounds_dims.clear();
  unproven.host = &host;
  all_passes(unproven);
  EXPECT_THAT(plan::print_plan(unproven), HasSubstr("$x.size[0]"));
}

TEST(PlaceBoundsChecks, UncheckedPlansHaveNoChecks) {
  Subject s(read_source("examples/jagged_sum.py"), sum_args(), /*checked=*/false);
  all_passes(s.plan);
  EXPECT_TRUE(s.nests(NestRole::check).empty());
  EXPECT_TRUE(s.nests(NestRole::diagnose).empty());
  EXPECT_THAT(s.text(), Not(HasSubstr("fail 1")));
}

// ---- read_matmul_operands_in_place ----

ArgMap bmm_args(DType values) {
  return {{"x_values", Tensor::zeros({12, 8}, values)},
          {"x_offsets", Tensor::from_doubles({3}, {0, 5, 12}, DType::i64)},
          {"weight", Tensor::zeros({2, 8, 6}, values)},
          {"bias", Tensor::zeros({2, 6}, values)}};
}

// The one matmul block of a planned bundled jagged_dense_bmm.
const Stmt* matmul_block_of(const plan::Plan& p) {
  const Stmt* block = nullptr;
  for (const plan::DeviceFunc& f : p.funcs)
    for (const plan::StmtPtr& s : f.body)
      plan::visit(s, [&](const Stmt& x) {
        if (x.kind == StmtKind::matmul_block) block = &x;
      });
  return block;
}

bool has_nest(const plan::Plan& p, NestRole role, const std::string& array) {
  bool found = false;
  for (const plan::DeviceFunc& f : p.funcs)
    for (const plan::StmtPtr& s : f.body)
      plan::visit(s, [&](const Stmt& x) {
        found |= x.kind == StmtKind::nest && x.role == role && x.name == array;
      });
  return found;
}

// The subject's plan with matmul blocks, before and after the CPU's passes (in place); planned
// for `host` when given (the subject's host program with some facts changed).
std::pair<plan::Plan, plan::Plan> plans_without_and_with_in_place(
    const Subject& s, bool checked, const host::HostProgram* host = nullptr) {
  const host::HostProgram& h = host ? *host : s.spec->host;
  return {plan::plan_kernel(s.spec->kernel, h, checked, nullptr,
                            /*matmul_blocks=*/true, /*in_place=*/false),
          plan::plan_kernel(s.spec->kernel, h, checked, nullptr,
                            /*matmul_blocks=*/true, /*in_place=*/true)};
}

TEST(ReadMatmulOperandsInPlace, ACopiedFloatAIsReadFromItsTensorAndOnlyTheCopyGoes) {
  // Unchecked; checked, where A's indices are proven in bounds (its rows by the offsets guard, its
  // columns by the loop over x_values' columns); and checked with nothing proven.
  for (int mode = 0; mode < 3; ++mode) {
    const bool checked = mode > 0, proven = mode == 1;
    SCOPED_TRACE(mode == 0 ? "unchecked" : proven ? "checked, proven" : "checked, not proven");
    Subject s(read_source("examples/jagged_dense_bmm.py"), bmm_args(DType::f32), checked);
    host::HostProgram host = s.spec->host;
    if (!proven) host.in_bounds_dims.clear();
    const auto [before, after] = plans_without_and_with_in_place(s, checked, &host);
    const Stmt* was = matmul_block_of(before);
    const Stmt* now = matmul_block_of(after);
    ASSERT_TRUE(was && now);
    ASSERT_EQ(was->indices[3]->kind, plan::ExprKind::array_read);
    const std::string a = was->indices[3]->name;
    EXPECT_TRUE(has_nest(before, NestRole::value, a));

    ASSERT_EQ(now->indices[3]->kind, plan::ExprKind::tensor_address) << plan::print_plan(after);
    EXPECT_EQ(plan::capture_node(after.funcs.at(0), now->indices[3]->ival)->name, "x_values");
    EXPECT_EQ(now->indices[6]->kind, plan::ExprKind::array_read) << "B keeps its copy";
    EXPECT_FALSE(has_nest(after, NestRole::value, a)) << plan::print_plan(after);
    // Checked, not proven: the copy's check and diagnosing copy stay, and with them the array.
    EXPECT_EQ(has_nest(after, NestRole::check, a), checked && !proven);
    EXPECT_EQ(has_nest(after, NestRole::diagnose, a), checked && !proven);
  }
}

// The kernel stores to the tensor A was copied from: the copy stays (a matmul re-run inside a loop
// after such a store would read the new values, which its copy did not).
TEST(ReadMatmulOperandsInPlace, ACopyOfATensorTheKernelStoresToStays) {
  Subject s(kKernels,
            {{"x", Tensor::zeros({6, 8}, DType::f32)}, {"w", Tensor::zeros({8, 5}, DType::f32)}},
            true, "matmul_then_scale");
  const plan::Plan p = plan::plan_kernel(s.spec->kernel, s.spec->host, true, nullptr, true, true);
  const Stmt* block = matmul_block_of(p);
  ASSERT_TRUE(block) << plan::print_plan(p);
  EXPECT_EQ(block->indices[3]->kind, plan::ExprKind::array_read) << plan::print_plan(p);
}

// A block with bf16 inputs reads both operands in place from their bf16 tensors (its entry
// packs them from there), and both widening copies go.
TEST(ReadMatmulOperandsInPlace, ABlockWithBf16InputsReadsBothOperandsFromTheirTensors) {
  Subject s(read_source("examples/jagged_dense_bmm.py"), bmm_args(DType::bf16), false);
  const auto [before, after] = plans_without_and_with_in_place(s, false);
  const Stmt* was = matmul_block_of(before);
  const Stmt* now = matmul_block_of(after);
  ASSERT_TRUE(was && now);
  EXPECT_EQ(now->ival, int64_t(plan::MatmulInputs::bf16));
  for (const auto& [op, tensor] : {std::pair{3, "x_values"}, std::pair{6, "weight"}}) {
    SCOPED_TRACE(tensor);
    ASSERT_EQ(was->indices[size_t(op)]->kind, plan::ExprKind::array_read);
    const std::string copy = was->indices[size_t(op)]->name;
    EXPECT_TRUE(has_nest(before, NestRole::value, copy));
    const plan::ExprPtr& operand = now->indices[size_t(op)];
    ASSERT_EQ(operand->kind, plan::ExprKind::tensor_address) << plan::print_plan(after);
    EXPECT_EQ(plan::capture_node(after.funcs.at(0), operand->ival)->name, tensor);
    EXPECT_FALSE(has_nest(after, NestRole::value, copy)) << plan::print_plan(after);
  }
}

// A rows read through a flattened view (`hl.load(x_flat, [rows * D + cols])`, as Helion's own
// jagged kernels write it) is read in place too, with D as its row stride; both dtypes.
TEST(ReadMatmulOperandsInPlace, AFlattenedRowTimesLengthPlusColumnIsReadInPlace) {
  for (DType dtype : {DType::f32, DType::bf16}) {
    SCOPED_TRACE(dtype_name(dtype));
    Subject s(testing::kMatmulKernels,
              {{"x", Tensor::zeros({12, 8}, dtype)},
               {"offsets", Tensor::from_doubles({3}, {0, 5, 12}, DType::i64)},
               {"w", Tensor::zeros({2, 8, 6}, dtype)},
               {"bias", Tensor::zeros({2, 6}, dtype)}},
              true, "flat_item_matmul");
    const auto [before, after] = plans_without_and_with_in_place(s, true);
    const Stmt* was = matmul_block_of(before);
    const Stmt* now = matmul_block_of(after);
    ASSERT_TRUE(was && now);
    ASSERT_EQ(was->indices[3]->kind, plan::ExprKind::array_read);
    EXPECT_FALSE(has_nest(after, NestRole::value, was->indices[3]->name))
        << plan::print_plan(after);
    ASSERT_EQ(now->indices[3]->kind, plan::ExprKind::tensor_address) << plan::print_plan(after);
    // a_m, the row stride: D (the flattened index's row coefficient), a_k 1.
    EXPECT_NE(plan::expr_key(now->indices[4]), plan::expr_key(plan::int_imm(1)))
        << plan::print_plan(after);
    EXPECT_EQ(plan::expr_key(now->indices[5]), plan::expr_key(plan::int_imm(1)))
        << plan::print_plan(after);
  }
}

// A copy that converts to float32 for a block that takes float32 (or f16) inputs stays: the
// conversion is work its entry does not do.
TEST(ReadMatmulOperandsInPlace, AConvertingCopyStays) {
  Subject s(read_source("examples/jagged_dense_bmm.py"), bmm_args(DType::f16));
  const plan::Plan p = plan::plan_kernel(s.spec->kernel, s.spec->host, true, nullptr, true, true);
  const Stmt* block = matmul_block_of(p);
  ASSERT_TRUE(block);
  EXPECT_EQ(block->indices[3]->kind, plan::ExprKind::array_read);
  EXPECT_EQ(block->indices[6]->kind, plan::ExprKind::array_read);
}

// ---- accumulate_matmuls_in_place ----

// `acc = hl.dot(a, b, acc=acc)` (the item_matmul test kernel): the block writes acc with acc as
// D, where before acc was copied into D's array and the product copied back; neither copy nor
// its array is left, as for `acc = acc + torch.matmul(a, b)`.
TEST(AccumulateMatmulsInPlace, HlDotWithAccWritesTheAccumulatorItself) {
  Subject s(testing::kMatmulKernels,
            {{"x", Tensor::zeros({12, 8}, DType::f32)},
             {"offsets", Tensor::from_doubles({3}, {0, 5, 12}, DType::i64)},
             {"w", Tensor::zeros({2, 8, 6}, DType::f32)},
             {"bias", Tensor::zeros({2, 6}, DType::f32)}},
            true, "item_matmul");
  const auto [before, after] = plans_without_and_with_in_place(s, true);
  const plan::Plan built = plan::build_nests(s.spec->kernel, s.spec->host, true, true);
  const Stmt* was = matmul_block_of(built);
  ASSERT_TRUE(was) << s.text();
  ASSERT_EQ(was->indices.size(), 14u);
  const std::string d_copy = was->indices[11]->name, product = was->name;
  EXPECT_NE(d_copy, product);
  for (const plan::Plan* p : {&before, &after}) {
    const Stmt* now = matmul_block_of(*p);
    ASSERT_TRUE(now);
    EXPECT_EQ(now->indices[9]->name, now->indices[11]->name) << plan::print_plan(*p);
    EXPECT_NE(now->name, product);
    EXPECT_FALSE(has_nest(*p, NestRole::value, d_copy)) << plan::print_plan(*p);
    const std::string text = plan::print_plan(*p);
    EXPECT_THAT(text, Not(HasSubstr("array " + product + ":"))) << text;
    EXPECT_THAT(text, Not(HasSubstr("array " + d_copy + ":"))) << text;
  }
}

// ---- skip_zero_fills_before_matmuls ----

// Where the fill of `array` sits: the condition of the if around it, "" when it is in none, "none"
// when there is no fill.
std::string fill_condition(const plan::Plan& p, const std::string& array) {
  std::string cond = "none";
  for (const plan::DeviceFunc& f : p.funcs)
    for (const plan::StmtPtr& s : f.body)
      plan::visit(s, [&](const Stmt& x) {
        if (x.kind == StmtKind::if_)
          for (const plan::StmtPtr& b : x.body)
            if (b->kind == StmtKind::nest && b->role == NestRole::var_init && b->name == array)
              cond = plan::print_expr(p, f, x.value);
        if (x.kind == StmtKind::nest && x.role == NestRole::var_init && x.name == array &&
            cond == "none")
          cond = "";
      });
  return cond;
}

// The bundled jagged_dense_bmm: acc's zero fill runs only where the contraction loop (tile_d,
// block 3) is empty, and the loop's first block writes acc without adding it; without the CPU's
// passes, acc is filled and every block adds it.
TEST(SkipZeroFills, TheFirstContractionBlockOverwritesAndTheFillRunsOnlyForAnEmptyLoop) {
  Subject s(read_source("examples/jagged_dense_bmm.py"), bmm_args(DType::f32), true);
  const auto [before, after] = plans_without_and_with_in_place(s, true);
  const Stmt* was = matmul_block_of(before);
  const Stmt* now = matmul_block_of(after);
  ASSERT_TRUE(was && now);
  const std::string acc = now->name;
  EXPECT_EQ(fill_condition(before, acc), "") << plan::print_plan(before);
  EXPECT_FALSE(was->mask);
  EXPECT_THAT(fill_condition(after, acc), HasSubstr(">= int64($h")) << plan::print_plan(after);
  ASSERT_TRUE(now->mask) << plan::print_plan(after);
  EXPECT_EQ(plan::print_expr(after, after.funcs.at(0), now->mask), "(id3 != 0)");
  EXPECT_THAT(plan::print_plan(after), HasSubstr(" D when (id3 != 0)"));
}

// A contraction over an item's rows (a jagged loop, its extent computed just before it): the fill
// moves past the extent, into the loop's scope, and runs where that extent is 0.
TEST(SkipZeroFills, AJaggedContractionsFillMovesPastItsExtent) {
  Subject s(testing::kMatmulKernels,
            {{"x", Tensor::zeros({7, 4}, DType::f32)},
             {"y", Tensor::zeros({7, 3}, DType::f32)},
             {"offsets", Tensor::from_doubles({3}, {0, 2, 7}, DType::i64)}},
            true, "jagged_outer");
  const auto [before, after] = plans_without_and_with_in_place(s, true);
  const Stmt* now = matmul_block_of(after);
  ASSERT_TRUE(now && now->mask) << plan::print_plan(after);
  EXPECT_THAT(fill_condition(after, now->name), HasSubstr(">= end")) << plan::print_plan(after);
}

// An accumulator also scaled inside the loop, and one that starts at ones: both keep their
// fill, and their blocks add D in every iteration.
TEST(SkipZeroFills, AnAccumulatorUsedElsewhereOrNotZeroKeepsItsFill) {
  for (const char* kernel : {"scaled_accumulator", "ones_accumulator"}) {
    SCOPED_TRACE(kernel);
    Subject s(kKernels,
              {{"x", Tensor::zeros({6, 8}, DType::f32)}, {"w", Tensor::zeros({8, 5}, DType::f32)}},
              true, kernel);
    const plan::Plan p = plan::plan_kernel(s.spec->kernel, s.spec->host, true, nullptr, true, true);
    const Stmt* block = matmul_block_of(p);
    ASSERT_TRUE(block) << plan::print_plan(p);
    EXPECT_FALSE(block->mask) << plan::print_plan(p);
    EXPECT_EQ(fill_condition(p, block->name), "") << plan::print_plan(p);
  }
}

// ---- fuse_last_updates ----

// The bundled jagged_dense_bmm: `acc = acc + bias` is computed inside the store of acc (which
// loads the bias), with no update nest left; without the CPU's passes the update stays.
TEST(FuseLastUpdates, TheBiasAddIsComputedInsideTheStore) {
  Subject s(read_source("examples/jagged_dense_bmm.py"), bmm_args(DType::f32), true);
  const auto [before, after] = plans_without_and_with_in_place(s, true);
  const std::string acc = matmul_block_of(after)->name;
  EXPECT_TRUE(has_nest(before, NestRole::var_assign, acc)) << plan::print_plan(before);
  EXPECT_FALSE(has_nest(after, NestRole::var_assign, acc)) << plan::print_plan(after);
  int stores_loading_bias = 0;
  for (const plan::DeviceFunc& f : after.funcs)
    for (const plan::StmtPtr& st : f.body)
      plan::visit(st, [&](const Stmt& x) {
        if (x.kind == StmtKind::nest && x.role == NestRole::store)
          stores_loading_bias += Subject::loads_in(x, "bias", f) > 0;
      });
  EXPECT_EQ(stores_loading_bias, 1) << plan::print_plan(after);
}

// An update whose array lives on (declared outside the loop that updates and stores it: the
// next iteration reads it) and one read by two stores both keep their update nest.
TEST(FuseLastUpdates, AnUpdateReadLaterOrTwiceStays) {
  for (const char* kernel : {"carried_update", "read_twice"}) {
    SCOPED_TRACE(kernel);
    Subject s(kKernels, {{"x", Tensor::zeros({6, 8}, DType::f32)}}, true, kernel);
    const plan::Plan p = plan::plan_kernel(s.spec->kernel, s.spec->host, true, nullptr, true, true);
    EXPECT_FALSE(s.nests(NestRole::var_assign).empty()) << s.text();
    bool update_left = false;
    for (const plan::DeviceFunc& f : p.funcs)
      for (const plan::StmtPtr& st : f.body)
        plan::visit(st, [&](const Stmt& x) {
          update_left |= x.kind == StmtKind::nest && x.role == NestRole::var_assign &&
                         plan::any_stmt(std::make_shared<const Stmt>(x), [](const Stmt& y) {
                           return y.kind == StmtKind::array_store;
                         });
        });
    EXPECT_TRUE(update_left) << plan::print_plan(p);
  }
}

// ---- the verifier ----

TEST(Verifier, RejectsAUseBeforeItsDefinition) {
  Subject s(read_source("examples/jagged_sum.py"), sum_args());
  plan::DeviceFunc& f = s.plan.funcs.at(0);
  f.body.insert(f.body.begin(),
                plan::let("early", plan::CType::i64, plan::var("not_yet", plan::CType::i64)));
  EXPECT_THROW(plan::verify(s.plan), InternalError);
}

TEST(Verifier, RejectsAnArrayReadWithTheWrongIndexCount) {
  Subject s(read_source("examples/jagged_sum.py"), sum_args());
  plan::DeviceFunc& f = s.plan.funcs.at(0);
  f.body.push_back(
      plan::let("bad_read", plan::CType::i64,
                plan::array_read("v7", plan::CType::i64, {plan::int_imm(0), plan::int_imm(0)})));
  EXPECT_THROW(plan::verify(s.plan), InternalError);
}

}  // namespace
}  // namespace jagtile::plan_test
