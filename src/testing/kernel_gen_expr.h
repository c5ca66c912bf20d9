// The expression half of the kernel generator (kernel_gen.h): random float expressions and
// conditions over the values a loop body can see, with the facts the comparison needs (an
// upper bound of the magnitude, whether the result is exactly defined).
#pragma once

#include <string>
#include <vector>

#include "testing/kernel_gen.h"

namespace jagtile::fuzz {

// A generated value: its tree, |value| <= bound * L^degree (L: the longest item), and whether
// every backend must compute it bit for bit (no rounding that depends on operation order or on
// a math library's last ulp).
struct GenValue {
  Expr expr;
  double bound = 1;
  int degree = 0;
  bool exact = true;
  // Has every dimension of the loop body (it reads the body's full-rank value): what a
  // reduction or a store needs, since a jagged dimension without its parent lanes is an error.
  bool full = true;
};

GenValue leaf(std::string text, double bound, int degree, bool exact);
// A leaf without every dimension of the body: a constant, a host scalar, a broadcast row.
GenValue partial_leaf(std::string text, double bound, int degree = 0);

// What a loop body can read: float values (already broadcast to the body's rank) and exact
// boolean conditions of that rank.
struct ExprScope {
  std::vector<GenValue> floats;  // candidates for leaves
  std::vector<std::string>
      conds;  // exact conditions, e.g. "(tile_k.index % 2 == 0)[None, :, None]"
  bool allow_transcendental = true;  // exp / tanh / sigmoid / silu (inexact)
};

// A random float expression of at most `depth` operator levels.
GenValue gen_float(FuzzRng& rng, const ExprScope& scope, int depth);
// A random exact expression (conditions and 16-bit casts only ever see these).
GenValue gen_exact(FuzzRng& rng, const ExprScope& scope, int depth);
// `v` itself when it has every dimension of the body, else torch.maximum(v, the scope's first
// leaf, which must be the body's full-rank value).
GenValue ensure_full(const ExprScope& scope, GenValue v);
// A random exact condition over the scope (comparisons of exact values, the scope's own
// conditions, & | ~).
Expr gen_cond(FuzzRng& rng, const ExprScope& scope, int depth);

}  // namespace jagtile::fuzz
