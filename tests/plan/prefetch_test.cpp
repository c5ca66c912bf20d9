// The prefetch planning pass (plan/pass_prefetch.h) on attention's plan, read directly: which
// rows it names and where it places them; and the verifier's check of a prefetch statement.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "plan/nest_util.h"
#include "plan/planner.h"
#include "plan_test_util.h"
#include "testing/scoped_env.h"

namespace jagtile::plan_test {
namespace {

using plan::Stmt;
using plan::StmtKind;

ArgMap hstu_args() {
  const int64_t rows = 70;
  return {{"q", Tensor::zeros({rows, 2, 8}, DType::f32)},
          {"k", Tensor::zeros({rows, 2, 8}, DType::f32)},
          {"v", Tensor::zeros({rows, 2, 8}, DType::f32)},
          {"seq_offsets", Tensor::from_doubles({3}, {0, 5, double(rows)}, DType::i64)},
          {"max_seq_len", int64_t(65)},
          {"alpha", 0.5}};
}

plan::Plan cpu_plan(const Subject& s) {
  return plan::plan_kernel(s.spec->kernel, s.spec->host, /*checked=*/true, nullptr,
                           /*matmul_blocks=*/true, /*cpu_passes=*/true);
}

// The prefetches of a plan, each with the loop it sits in (null at a tile loop's top).
struct Placed {
  const Stmt* prefetch;
  const Stmt* loop;
};
void collect(const std::vector<plan::StmtPtr>& body, const Stmt* loop, std::vector<Placed>& out) {
  for (const plan::StmtPtr& s : body) {
    if (s->kind == StmtKind::prefetch) out.push_back({s.get(), loop});
    const Stmt* inner = s->kind == StmtKind::for_        ? s.get()
                        : s->kind == StmtKind::tile_loop ? nullptr
                                                         : loop;
    collect(s->body, inner, out);
    collect(s->orelse, inner, out);
  }
}

// The plan's prefetches name one row each of q, k and v, and sit in a row loop over the query
// tile's rows (lim of the query loop): the scores' silu / mask pass.
void expect_one_row_of_q_k_and_v_per_scores_row(const plan::Plan& p) {
  const plan::DeviceFunc& f = p.funcs.at(0);
  std::vector<Placed> placed;
  collect(f.body, nullptr, placed);
  std::set<std::string> tensors;
  for (const Placed& x : placed) {
    tensors.insert(plan::capture_node(f, x.prefetch->ival)->name);
    EXPECT_EQ(x.prefetch->dim, 0) << "rows run along the sequence dim";
    EXPECT_EQ(x.prefetch->extent->kind, plan::ExprKind::int_imm);
    EXPECT_EQ(x.prefetch->extent->ival, 1) << "one row per iteration of the row loop";
    // Within a row loop over the query tile's rows (lim of the query loop).
    ASSERT_NE(x.loop, nullptr) << plan::print_plan(p);
    EXPECT_EQ(x.loop->extent->kind, plan::ExprKind::var);
    EXPECT_EQ(x.loop->extent->name.rfind("lim", 0), 0u) << x.loop->extent->name;
  }
  EXPECT_EQ(tensors, (std::set<std::string>{"q", "k", "v"})) << plan::print_plan(p);
  EXPECT_EQ(placed.size(), 3u);
  EXPECT_THAT(plan::print_plan(p), ::testing::HasSubstr("pf_in_grid"));
}

TEST(PrefetchNextRows, AttentionNamesOneRowOfQKAndVPerScoresRow) {
  Subject s(read_source("examples/jagged_hstu_attention.py"), hstu_args());
  expect_one_row_of_q_k_and_v_per_scores_row(cpu_plan(s));
}

// Attention in the form of Helion's jagged_hstu_attn_2: the heads in a batch dim and the key
// loop over the whole item (`hl.tile(start, end)`, its blocks past the diagonal skipped by the
// causal skip) instead of up to the query tile's end. The key and value rows are prefetched as
// the bundled kernel's are, in the pass of the key block that holds the query tile's last row.
TEST(PrefetchNextRows, AKeyLoopOverTheWholeItemPrefetchesInTheBlockHoldingTheQueryTilesLastRow) {
  const char* source = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel()
def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, seq_offsets: torch.Tensor,
           alpha: float) -> torch.Tensor:
    H = hl.specialize(q.size(1))
    D = hl.specialize(q.size(2))
    out = torch.empty_like(v)
    for b in hl.grid(seq_offsets.size(0) - 1):
        start = seq_offsets[b]
        end = seq_offsets[b + 1]
        for tile_q in hl.tile(start, end):
            qb = q[tile_q, :, :].transpose(0, 1)
            acc = hl.zeros([H, tile_q, D], dtype=torch.float32)
            for tile_k in hl.tile(start, end):
                kb = k[tile_k, :, :].transpose(0, 1)
                vb = v[tile_k, :, :].transpose(0, 1)
                s = torch.bmm(qb, kb.transpose(-2, -1)) * alpha
                keep = tile_q.index.unsqueeze(1) >= tile_k.index.unsqueeze(0)
                p = torch.where(keep[None, :, :], s, 0.0)
                acc = acc + torch.bmm(p, vb)
            out[tile_q, :, :] = acc.transpose(0, 1)
    return out
)PY";
  ArgMap args = hstu_args();
  args.erase("max_seq_len");
  Subject s(source, args);
  const plan::Plan p = cpu_plan(s);
  expect_one_row_of_q_k_and_v_per_scores_row(p);
  // Under the key block that reaches the query tile's end from below it, not the key loop's last.
  const std::string text = plan::print_plan(p);
  EXPECT_THAT(text, ::testing::ContainsRegex("\\(s[0-9]+ < \\(s[0-9]+ \\+ lim[0-9]+\\)\\)"))
      << text;
}

// Queries and keys read from one tensor (as the fuzzer's attention with a head grid does): its
// rows are prefetched once, not once per fill.
TEST(PrefetchNextRows, ATensorReadAsQueriesAndKeysIsPrefetchedOnce) {
  const char* source = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel()
def attend(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    out = torch.zeros_like(x)
    for b in hl.grid(B):
        start = offsets[b]
        end = offsets[b + 1]
        for h in hl.grid(x.size(1)):
            for tile_q in hl.tile(start, end):
                xq = x[tile_q, h, :]
                acc = xq * 0.0
                for tile_k in hl.tile(start, tile_q.end):
                    xk = x[tile_k, h, :]
                    s = torch.where(tile_q.index[:, None] >= tile_k.index[None, :],
                                    torch.matmul(xq, xk.T), 0.0)
                    acc = acc + torch.matmul(s, xk)
                out[tile_q, h, :] = acc
    return out
)PY";
  Subject s(source, {{"x", Tensor::zeros({20, 3, 4}, DType::f32)},
                     {"offsets", Tensor::from_doubles({3}, {0, 7, 20}, DType::i64)}});
  const plan::Plan p = cpu_plan(s);
  std::vector<Placed> placed;
  collect(p.funcs.at(0).body, nullptr, placed);
  ASSERT_EQ(placed.size(), 1u) << plan::print_plan(p);
  EXPECT_EQ(plan::capture_node(p.funcs.at(0), placed[0].prefetch->ival)->name, "x");
}

// After the last head: the worker's next program's item bounds, each load of them a hint's
// (site -1) under a select that tests its indices; the bounds-check pass checks none of them.
TEST(PrefetchNextRows, TheNextProgramsItemIsReadOnlyInBoundsAndNeverChecked) {
  Subject s(read_source("examples/jagged_hstu_attention.py"), hstu_args());
  const plan::Plan p = cpu_plan(s);
  const plan::DeviceFunc& f = p.funcs.at(0);
  EXPECT_TRUE(f.next_program);
  int hint_lets = 0, hints = 0;
  for (const plan::StmtPtr& top : f.body)
    plan::visit(top, [&](const Stmt& st) {
      const bool hint_let = st.kind == StmtKind::let && st.name.rfind("pf_next_", 0) == 0;
      hint_lets += hint_let;
      for (const plan::ExprPtr& e : plan::own_exprs(st)) {
        const bool next = plan::mentions_var(e, "jt_next_s0");
        EXPECT_TRUE(!next || hint_let || st.kind == StmtKind::let)
            << "a check or statement reads the next program: " << plan::print_plan(p);
        plan::visit(e, [&](const plan::Expr& x) {
          if (x.kind == plan::ExprKind::select && x.args[1]->kind == plan::ExprKind::load &&
              x.args[1]->site == -1) {
            ++hints;
            EXPECT_TRUE(plan::any_expr(x.args[0], [](const plan::Expr& c) {
              return c.kind == plan::ExprKind::in_bounds;
            }));
          }
          if (x.kind == plan::ExprKind::load && x.site == -1) EXPECT_TRUE(hint_let);
        });
      }
    });
  EXPECT_EQ(hint_lets, 2) << plan::print_plan(p);  // the item's start and end
  EXPECT_EQ(hints, 2) << plan::print_plan(p);
  EXPECT_THAT(plan::print_plan(p), ::testing::HasSubstr("the worker's next program: jt_next_s0"));
}

TEST(PrefetchNextRows, TheCudaPassesPlanNone) {
  Subject s(read_source("examples/jagged_hstu_attention.py"), hstu_args());
  const plan::Plan p = plan::plan_kernel(s.spec->kernel, s.spec->host, true, nullptr,
                                         /*matmul_blocks=*/false, /*cpu_passes=*/false);
  std::vector<Placed> placed;
  collect(p.funcs.at(0).body, nullptr, placed);
  EXPECT_TRUE(placed.empty()) << plan::print_plan(p);
}

TEST(PrefetchNextRows, JagtilePrefetchZeroPlansNone) {
  testing::ScopedEnv off("JAGTILE_PREFETCH", "0");
  Subject s(read_source("examples/jagged_hstu_attention.py"), hstu_args());
  const plan::Plan p = cpu_plan(s);
  std::vector<Placed> placed;
  collect(p.funcs.at(0).body, nullptr, placed);
  EXPECT_TRUE(placed.empty()) << plan::print_plan(p);
}

TEST(Verifier, RejectsAPrefetchWithTheWrongIndexCountOrRowsDim) {
  Subject s(read_source("examples/jagged_hstu_attention.py"), hstu_args());
  plan::DeviceFunc& f = s.plan.funcs.at(0);
  int q = -1;
  for (size_t i = 0; i < f.nest->captures.size(); ++i)
    if (plan::capture_node(f, int64_t(i))->name == "q") q = int(i);
  ASSERT_GE(q, 0);
  const std::vector<plan::ExprPtr> three = {plan::int_imm(0), plan::int_imm(0), plan::int_imm(0)};
  auto with = [&](std::vector<plan::ExprPtr> first, int dim) {
    plan::Plan copy = s.plan;
    copy.funcs.at(0).body.push_back(
        plan::prefetch(q, std::move(first), dim, plan::int_imm(1), plan::int_imm(8)));
    return copy;
  };
  EXPECT_NO_THROW(plan::verify(with(three, 0)));
  EXPECT_THROW(plan::verify(with({plan::int_imm(0), plan::int_imm(0)}, 0)), InternalError);
  EXPECT_THROW(plan::verify(with(three, 2)), InternalError) << "rows along the last dim";
}

// The next program's names exist only where the function reads it.
std::string verify_error(const plan::Plan& p) {
  try {
    plan::verify(p);
  } catch (const InternalError& e) {
    return e.what();
  }
  return "none";
}

TEST(Verifier, RejectsTheNextProgramWhereItIsNotRead) {
  Subject s(read_source("examples/jagged_hstu_attention.py"), hstu_args());
  const plan::Plan p = cpu_plan(s);
  ASSERT_TRUE(p.funcs.at(0).next_program);
  EXPECT_EQ(verify_error(p), "none");
  plan::Plan unmarked = p;
  unmarked.funcs.at(0).next_program = false;
  EXPECT_THAT(verify_error(unmarked), ::testing::HasSubstr("'jt_next_s0' used where it is not"));
}

}  // namespace
}  // namespace jagtile::plan_test
