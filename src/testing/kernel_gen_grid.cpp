// The kernel generator's structures under `hl.grid` over the items (kernel_gen_builder.h): an
// item's rows between its bounds, its columns as a grid, a per-item batched matmul, and causal
// attention over its rows with the heads in a batch dim, a grid loop, or none.
#include <string>
#include <vector>

#include "testing/kernel_gen_builder.h"

namespace jagtile::fuzz::gen_detail {

Stmt Builder::item_grid() {
  Stmt outer{"for b in hl.grid(B):", {}, {}};
  outer.body.push_back(line("start = offsets[b]"));
  outer.body.push_back(line("end = offsets[b + 1]"));
  return outer;
}

// hl.grid over the items, hl.tile(start, end) over each item's rows with direct x[tile_k, ...]
// subscripts, a column reduction into out_b and optionally a per-row store into out_j.
void Builder::grid_between(std::vector<Stmt>& host) {
  Stmt outer = item_grid();
  Stmt cols_loop{"for tile_m in hl.tile(M):", {}, {}};
  tile_dim();
  bool max_op = rng_.chance(0.3);
  cols_loop.body.push_back(
      line(max_op ? "acc = hl.full([tile_m], float(\"-inf\"), dtype=torch.float32)"
                  : "acc = hl.zeros([tile_m], dtype=torch.float32)"));
  // The item's rows, or (as Helion kernels bound loops with Python's min / max of scalars) its
  // first or last few rows only.
  const std::string few = std::to_string(rng_.range(1, 5));
  const int64_t bound = rng_.range(0, 19);
  Stmt rows_loop{bound < 3   ? "for tile_k in hl.tile(start, min(end, start + " + few + ")):"
                 : bound < 5 ? "for tile_k in hl.tile(max(start, end - " + few + "), end):"
                             : "for tile_k in hl.tile(start, end):",
                 {},
                 {}};
  tile_dim();
  rows_loop.body.push_back(line("v = x[tile_k, tile_m]"));
  ExprScope scope;
  scope.floats = {leaf("v", 1, 0, true), leaf("v", 1, 0, true),
                  partial_leaf("y[b, tile_m][None, :]", 1), partial_leaf("alpha", 2),
                  partial_leaf("(tile_k.index[:, None] - start).to(torch.float32)", 1, 1)};
  scope.conds = {"(tile_k.index[:, None] % 2 == 0)", "(v >= 0.0)"};
  GenValue e = ensure_full(scope, gen_float(rng_, scope, int(rng_.range(1, 3))));
  rows_loop.body.push_back(line("e = $0", {e.expr}));
  GenValue acc;
  if (max_op) {
    rows_loop.body.push_back(line("acc = torch.maximum(acc, e.amax(dim=0))"));
    acc = leaf("acc", e.bound, e.degree, e.exact);
  } else {
    bool mean = rng_.chance(0.25);
    rows_loop.body.push_back(line(mean ? "acc = acc + e.mean(dim=0)" : "acc = acc + e.sum(dim=0)"));
    acc = leaf("acc", e.bound, e.degree + 1, false);
  }
  if (rng_.chance(0.4)) {
    GenValue r = ensure_full(scope, gen_float(rng_, scope, 1));
    Stmt store = line("out_j[tile_k, tile_m] = $0", {r.expr});
    note_store(out_j_, r);
    if (rng_.chance(0.4)) {
      // An `if` on a per-tile scalar, as Helion kernels branch on tile attributes.
      Stmt branch{"if tile_k.begin + " + std::to_string(rng_.range(0, 3)) + " < end:", {}, {}};
      branch.body.push_back(std::move(store));
      rows_loop.body.push_back(std::move(branch));
      if (rng_.chance(0.5)) {
        GenValue r2 = ensure_full(scope, gen_float(rng_, scope, 1));
        Stmt other{"else:", {}, {line("out_j[tile_k, tile_m] = $0", {r2.expr})}};
        note_store(out_j_, r2);
        rows_loop.body.push_back(std::move(other));
      }
    } else {
      rows_loop.body.push_back(std::move(store));
    }
  }
  cols_loop.body.push_back(std::move(rows_loop));
  cols_loop.body.push_back(line("out_b[b, tile_m] = acc"));
  note_store(out_b_, acc);
  outer.body.push_back(std::move(cols_loop));
  if (rng_.chance(0.4)) {
    outer.body.push_back(line("out_i[b] = end - start"));
    out_i_.used = true;
  }
  host.push_back(std::move(outer));
}

// hl.grid over the items with hl.grid over the columns directly inside it, as HSTU holds its
// heads: each (item, column) pair sums a random expression of its rows. The sum is stored per
// column (the pairs are independent and may run as programs of their own,
// analysis/inner_programs.h), or into one element per item: the last column's sum, or the sum
// over the columns (not independent: the columns must stay one program's loop, in order).
void Builder::item_columns(std::vector<Stmt>& host) {
  Stmt outer = item_grid();
  Stmt cols{"for c in hl.grid(M):", {}, {}};
  cols.body.push_back(line("acc = hl.zeros([], dtype=torch.float32)"));
  Stmt rows{"for tile_k in hl.tile(start, end):", {}, {}};
  tile_dim();
  rows.body.push_back(line("v = x[tile_k, c]"));
  ExprScope scope;
  scope.floats = {leaf("v", 1, 0, true), leaf("v", 1, 0, true), partial_leaf("alpha", 2),
                  partial_leaf("(tile_k.index - start).to(torch.float32)", 1, 1)};
  scope.conds = {"(tile_k.index % 2 == 0)", "(v >= 0.0)"};
  GenValue e = ensure_full(scope, gen_float(rng_, scope, int(rng_.range(1, 3))));
  rows.body.push_back(line("e = $0", {e.expr}));
  rows.body.push_back(line("acc = acc + e.sum()"));
  if (rng_.chance(0.3)) {
    GenValue r = ensure_full(scope, gen_float(rng_, scope, 1));
    rows.body.push_back(line("out_j[tile_k, c] = $0", {r.expr}));
    note_store(out_j_, r);
  }
  cols.body.push_back(std::move(rows));
  const GenValue acc = leaf("acc", e.bound, e.degree + 1, false);
  const int64_t store = rng_.range(0, 3);  // 0-1 per column, 2 the last column's, 3 summed
  if (store <= 1) {
    cols.body.push_back(line("out_b[b, c] = acc"));
    note_store(out_b_, acc);
  } else if (store == 2) {
    cols.body.push_back(line("out_s[b] = acc"));
    note_store(out_s_, acc);
  } else {
    cols.body.push_back(line("out_s[b] = out_s[b] + acc"));
    note_store(out_s_, leaf("acc", 40 * acc.bound, acc.degree + 1, false));  // M <= 40
  }
  outer.body.push_back(std::move(cols));
  host.push_back(std::move(outer));
}

// Per item, per row tile: acc[b, k, n] = sum over d of x[rows, d] * w[b, d, n] (a per-item
// weight matrix, like jagged_dense_bmm), stored per row into out_k [N, K].
void Builder::batched_matmul(std::vector<Stmt>& host) {
  Stmt outer{"for tile_b in hl.tile(B):", {}, {}};
  tile_dim();
  item_prologue(outer, false);
  Stmt rows_loop{"for tile_k in hl.jagged_tile(nnz):", {}, {}};
  tile_dim();
  rows_loop.body.push_back(line("rows = starts[:, None] + tile_k.index[None, :]"));
  Stmt n_loop{"for tile_n in hl.tile(K):", {}, {}};
  tile_dim();
  n_loop.body.push_back(line("acc = hl.zeros([tile_b, tile_k, tile_n], dtype=torch.float32)"));
  Stmt d_loop{"for tile_d in hl.tile(M):", {}, {}};
  tile_dim();
  d_loop.body.push_back(line("a = " + load_rows("rows", "tile_d", "")));
  if (rng_.chance(0.4)) {
    ExprScope scope;
    scope.floats = {leaf("a", 1, 0, true), partial_leaf("alpha", 2)};
    scope.allow_transcendental = rng_.chance(0.5);
    GenValue e = ensure_full(scope, gen_float(rng_, scope, 1));
    d_loop.body.push_back(line("a = $0", {e.expr}));
  }
  d_loop.body.push_back(line("wt = w[tile_b, tile_d, tile_n]"));
  static const std::vector<std::string> mm = {"acc = acc + torch.matmul(a, wt)",
                                              "acc = acc + a @ wt", "acc = hl.dot(a, wt, acc=acc)"};
  d_loop.body.push_back(line(rng_.pick(mm)));
  n_loop.body.push_back(std::move(d_loop));
  n_loop.body.push_back(line("out_k[rows, tile_n] = acc"));
  note_store(out_k_, leaf("acc", 4.0 * 40, 0, false));
  rows_loop.body.push_back(std::move(n_loop));
  outer.body.push_back(std::move(rows_loop));
  host.push_back(std::move(outer));
}

// A key block's two products, `s = where(mask, f(xq @ xk.T * alpha), 0)` and `acc += s @ v`: in
// half the kernels f is a sigmoid (an elementwise pass the mask's zeros skip,
// pass_masked_elements.h) and in half the values are `values` loaded again, so that the key block
// is only the scores' transposed B (its panels kept across query blocks, pass_memoize.h).
void Builder::attention_products(Stmt& k_loop, const std::string& keys, const std::string& values,
                                 const std::string& mask) {
  const bool sigmoid = rng_.chance(0.5), own_values = rng_.chance(0.5);
  k_loop.body.push_back(line("s = torch.matmul(xq, " + keys + ".T) * alpha"));
  k_loop.body.push_back(
      line("s = torch.where(" + mask + ", " + (sigmoid ? "torch.sigmoid(s)" : "s") + ", 0.0)"));
  if (own_values) k_loop.body.push_back(line("xv = " + values + ".to(torch.float32)"));
  k_loop.body.push_back(line("acc = acc + torch.matmul(s, " + (own_values ? "xv" : keys) + ")"));
}

// Per item, attention without the softmax over its rows, as HSTU's loops run: for each query
// tile, key tiles from the item's start to the query tile's end (or to the item's end, the mask
// then zeroing whole blocks), acc += where(q >= k, x[q] @ x[k].T * alpha, 0) @ x[k]. The key
// block's load is the shape the CPU planner memoises across the query loop (pass_memoize.h).
// |x| <= 1, M <= 40 columns, |alpha| <= 2: each score is at most 80, acc at most 80 per key.
// In 4 kernels of 10 the heads are in a batch dim, as Helion's jagged_hstu_attn_2 holds them: x
// viewed as [N, H, D] (one head of M columns, or M heads of one), the query, key and
// accumulator blocks [H, tile, D], bmm over the heads, the mask broadcast over them as
// mask[None, :, :]; the IR makes the heads a grid loop (pass_batch_loops.h), and the backends
// run that form.
void Builder::causal_attention(std::vector<Stmt>& host) {
  if (rng_.chance(0.4)) heads_ = rng_.chance(0.5) ? 1 : 2;
  const bool heads = heads_ != 0;
  if (heads && rng_.chance(0.4)) return head_grid_attention(host);
  Stmt outer = item_grid();
  Stmt q_loop{"for tile_q in hl.tile(start, end):", {}, {}};
  tile_dim();
  q_loop.body.push_back(line(heads ? "xq = x_heads[tile_q, :, :].transpose(0, 1).to(torch.float32)"
                                   : "xq = x[tile_q, :].to(torch.float32)"));
  // With heads, zeros of xq's type: hl.zeros([H, tile_q, 1]) would give a broadcast dim where
  // the products have x_heads' full dim of size 1 (x is finite).
  q_loop.body.push_back(
      line(heads ? "acc = xq * 0.0" : "acc = hl.zeros([tile_q, M], dtype=torch.float32)"));
  Stmt k_loop{causal_key_loop(), {}, {}};
  tile_dim();
  const std::string mask = "tile_q.index[:, None] >= tile_k.index[None, :]";
  if (heads) {
    k_loop.body.push_back(line("xk = x_heads[tile_k, :, :].transpose(0, 1).to(torch.float32)"));
    k_loop.body.push_back(line("s = torch.bmm(xq, xk.transpose(-2, -1)) * alpha"));
    k_loop.body.push_back(line("mask = " + mask));
    k_loop.body.push_back(line("s = torch.where(mask[None, :, :], s, 0.0)"));
    k_loop.body.push_back(line("acc = acc + torch.bmm(s, xk)"));
  } else {
    k_loop.body.push_back(line("xk = x[tile_k, :].to(torch.float32)"));
    attention_products(k_loop, "xk", "x[tile_k, :]", mask);
  }
  q_loop.body.push_back(std::move(k_loop));
  q_loop.body.push_back(
      line(heads ? "out_j_heads[tile_q, :, :] = acc.transpose(0, 1)" : "out_j[tile_q, :] = acc"));
  note_store(out_j_, leaf("acc", 80.0, 1, false));
  outer.body.push_back(std::move(q_loop));
  host.push_back(std::move(outer));
}

// The same attention with the heads a grid loop around the query loop, as the bundled HSTU
// kernel holds them: each (item, head) pair reads its head's rows of x_heads, the shape whose
// next rows the CPU planner prefetches (pass_prefetch.h); one head (the prefetch past an item's
// last head guesses the next item's rows) or M heads of one column.
void Builder::head_grid_attention(std::vector<Stmt>& host) {
  head_grid_ = true;
  Stmt outer = item_grid();
  Stmt h_loop{"for h in hl.grid(H_heads):", {}, {}};
  Stmt q_loop{"for tile_q in hl.tile(start, end):", {}, {}};
  tile_dim();
  q_loop.body.push_back(line("xq = x_heads[tile_q, h, :].to(torch.float32)"));
  q_loop.body.push_back(line("acc = xq * 0.0"));
  Stmt k_loop{causal_key_loop(), {}, {}};
  tile_dim();
  k_loop.body.push_back(line("xk = x_heads[tile_k, h, :].to(torch.float32)"));
  attention_products(k_loop, "xk", "x_heads[tile_k, h, :]",
                     "tile_q.index[:, None] >= tile_k.index[None, :]");
  q_loop.body.push_back(std::move(k_loop));
  q_loop.body.push_back(line("out_j_heads[tile_q, h, :] = acc"));
  note_store(out_j_, leaf("acc", 80.0, 1, false));
  h_loop.body.push_back(std::move(q_loop));
  outer.body.push_back(std::move(h_loop));
  host.push_back(std::move(outer));
}

}  // namespace jagtile::fuzz::gen_detail
