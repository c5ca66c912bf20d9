// The kernel generator's builder (kernel_gen.h): the state of one kernel being generated and the
// loop structures it draws from, shared by kernel_gen.cpp (the per-item tile loops, the host part,
// the inputs) and kernel_gen_grid.cpp (the structures under `hl.grid` over the items: rows
// between an item's bounds, columns as a grid, the per-item matmul, causal attention). Private to
// src/testing.
#pragma once

#include <string>
#include <vector>

#include "testing/kernel_gen.h"
#include "testing/kernel_gen_expr.h"

namespace jagtile::fuzz::gen_detail {

inline Stmt line(std::string text) {
  return Stmt{std::move(text), {}, {}};
}
inline Stmt line(std::string fmt, std::vector<Expr> exprs) {
  return Stmt{std::move(fmt), std::move(exprs), {}};
}

// The state of one kernel being generated.
class Builder {
 public:
  explicit Builder(uint64_t seed) : rng_(seed), seed_(seed) {}
  GenKernel build();

 private:
  // An output tensor the kernel allocates and returns.
  struct Output {
    std::string name;
    OutputTolerance tol;
    bool used = false;
  };

  std::string out_dtype();
  void note_store(Output& out, const GenValue& v);
  // x's elements at `rows` (a [b, k] value) and the columns of `cols_tile`, rank 3.
  std::string load_rows(const std::string& rows, const std::string& cols_tile,
                        const std::string& mask);
  int tile_dim() { return ++tile_dims_; }  // a loop that takes a block_sizes entry
  void items_cols(std::vector<Stmt>& host, Stmt& outer);
  void items_rows(Stmt& outer);
  // `for b in hl.grid(B):` with the item's bounds `start` and `end`.
  static Stmt item_grid();
  void grid_between(std::vector<Stmt>& host);
  void item_columns(std::vector<Stmt>& host);
  void batched_matmul(std::vector<Stmt>& host);
  void causal_attention(std::vector<Stmt>& host);
  void head_grid_attention(std::vector<Stmt>& host);
  // A causal key loop's header: keys up to the query block's end (as the bundled HSTU kernel
  // writes it, or as Helion's pretuned one does, min(end, tile_q.end)), or all the item's keys.
  std::string causal_key_loop() {
    const int64_t kind = rng_.range(0, 9);
    return kind < 5   ? "for tile_k in hl.tile(start, tile_q.end):"
           : kind < 7 ? "for tile_k in hl.tile(start, min(end, tile_q.end)):"
                      : "for tile_k in hl.tile(start, end):";
  }
  void attention_products(Stmt& k_loop, const std::string& keys, const std::string& values,
                          const std::string& mask);
  void item_prologue(Stmt& outer, bool counts);
  std::vector<InputRecipe> recipes();

  FuzzRng rng_;
  uint64_t seed_;
  GenKernel k_;
  int tile_dims_ = 0;
  bool flat_ = false;       // x_flat = x.view(-1) needed
  int heads_ = 0;           // x_heads, out_j_heads: 1 = [N, 1, M] (one head), 2 = [N, M, 1]
  bool head_grid_ = false;  // attention's heads a grid loop around the query loop (H_heads)
  bool has_ends_ = false;   // the item prologue named `ends`
  bool out_j_f32_ = false;  // out_j must be float32 (a second pass reads it back)
  Output out_b_{"out_b", {}}, out_j_{"out_j", {}}, out_s_{"out_s", {}}, out_i_{"out_i", {}},
      out_r_{"out_r", {}}, out_k_{"out_k", {}};
};

}  // namespace jagtile::fuzz::gen_detail
