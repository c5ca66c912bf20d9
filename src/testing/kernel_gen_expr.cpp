// Random expressions for the kernel generator (see kernel_gen_expr.h). Operators are chosen so
// that values stay finite and away from NaN (no sqrt of a negative, no division by zero, exp
// only of small arguments), so that a difference between backends is a difference in
// computation, not in how each propagates an infinity.
#include "testing/kernel_gen_expr.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace jagtile::fuzz {

GenValue leaf(std::string text, double bound, int degree, bool exact) {
  GenValue v;
  v.expr.fmt = std::move(text);
  v.bound = bound;
  v.degree = degree;
  v.exact = exact;
  return v;
}

GenValue partial_leaf(std::string text, double bound, int degree) {
  GenValue v = leaf(std::move(text), bound, degree, true);
  v.full = false;
  return v;
}

namespace {

bool is_constant(const GenValue& v) {
  const std::string& f = v.expr.fmt;
  return v.expr.kids.empty() && (f == "alpha" || f.empty() || f[0] == '-' ||
                                 std::isdigit(static_cast<unsigned char>(f[0])));
}

GenValue unary(const std::string& fmt, GenValue a, double bound, bool exact) {
  GenValue r;
  r.expr.fmt = fmt;
  r.degree = a.degree;
  r.bound = bound;
  r.exact = exact && a.exact;
  r.full = a.full;
  r.expr.kids.push_back(std::move(a.expr));
  return r;
}

GenValue binary(const std::string& fmt, GenValue a, GenValue b, double bound, int degree,
                bool exact) {
  GenValue r;
  r.expr.fmt = fmt;
  r.bound = bound;
  r.degree = degree;
  r.exact = exact && a.exact && b.exact;
  r.full = a.full || b.full;
  r.expr.kids.push_back(std::move(a.expr));
  r.expr.kids.push_back(std::move(b.expr));
  return r;
}

GenValue pick_leaf(FuzzRng& rng, const ExprScope& scope, bool exact_only) {
  std::vector<GenValue> c;
  for (const GenValue& v : scope.floats)
    if (!exact_only || v.exact) c.push_back(v);
  if (c.empty() || rng.chance(0.15)) {
    static const std::vector<std::string> consts = {"0.5", "2.0", "-1.5", "0.25", "1.0"};
    return partial_leaf(rng.pick(consts), 2.0);
  }
  return rng.pick(c);
}

}  // namespace

Expr gen_cond(FuzzRng& rng, const ExprScope& scope, int depth) {
  int choice = int(rng.range(0, depth > 0 ? 5 : 2));
  if (choice == 0 && !scope.conds.empty()) return Expr{rng.pick(scope.conds), {}};
  if (choice <= 2) {
    static const std::vector<std::string> ops = {" > ", " < ", " >= ", " <= ", " == ", " != "};
    GenValue a = gen_exact(rng, scope, 0);
    GenValue b = rng.chance(0.5) ? gen_exact(rng, scope, 0) : partial_leaf("0.0", 0);
    return Expr{"($0" + rng.pick(ops) + "$1)", {a.expr, b.expr}};
  }
  if (choice == 3) return Expr{"~$0", {gen_cond(rng, scope, depth - 1)}};
  return Expr{rng.chance(0.5) ? "($0 & $1)" : "($0 | $1)",
              {gen_cond(rng, scope, depth - 1), gen_cond(rng, scope, depth - 1)}};
}

GenValue gen_exact(FuzzRng& rng, const ExprScope& scope, int depth) {
  if (depth <= 0 || rng.chance(0.3)) return pick_leaf(rng, scope, true);
  GenValue a = gen_exact(rng, scope, depth - 1);
  switch (rng.range(0, 9)) {
    case 0:
      return unary("(-$0)", a, a.bound, true);
    case 1:
      return unary("torch.abs($0)", a, a.bound, true);
    case 2:
    case 3: {
      GenValue b = gen_exact(rng, scope, depth - 1);
      double bound = std::max(a.bound, b.bound);
      int degree = std::max(a.degree, b.degree);
      return binary(rng.chance(0.5) ? "torch.maximum($0, $1)" : "torch.minimum($0, $1)", a, b,
                    bound, degree, true);
    }
    case 4: {
      GenValue b = gen_exact(rng, scope, depth - 1);
      GenValue r = binary("torch.where($0, $1, $2)", a, b, std::max(a.bound, b.bound),
                          std::max(a.degree, b.degree), true);
      r.expr.kids.insert(r.expr.kids.begin(), gen_cond(rng, scope, 1));
      return r;
    }
    case 5:
      // Rounding an exactly known value to 16 bits is itself exact (round to nearest even).
      // Only of device values: `.to` of a Python float literal is not Python.
      if (a.degree == 0 && a.bound < 60000 && !is_constant(a)) {
        return unary(rng.chance(0.5) ? "$0.to(torch.bfloat16)" : "$0.to(torch.float16)", a,
                     a.bound * 1.01, true);
      }
      return a;
    case 6:
      return unary("torch.relu($0)", a, a.bound, true);
    case 7:
      // Python semantics: floor(a / 0.5), exact for exactly known a.
      return unary("($0 // 0.5)", a, 2 * a.bound + 1, true);
    case 8:
      // Python's modulo takes the divisor's sign: in [0, 0.75).
      return unary("($0 % 0.75)", a, 0.75, true);
    default:
      return unary("torch.clamp($0, -0.75, 0.5)", a, std::min(a.bound, 0.75), true);
  }
}

GenValue gen_float(FuzzRng& rng, const ExprScope& scope, int depth) {
  if (depth <= 0 || rng.chance(0.2)) return pick_leaf(rng, scope, false);
  int pick = int(rng.range(0, 11));
  if (pick <= 1) return gen_exact(rng, scope, depth);
  GenValue a = gen_float(rng, scope, depth - 1);
  switch (pick) {
    case 2:
    case 3: {
      GenValue b = gen_float(rng, scope, depth - 1);
      bool plus = rng.chance(0.5);
      return binary(plus ? "($0 + $1)" : "($0 - $1)", a, b, a.bound + b.bound,
                    std::max(a.degree, b.degree), false);
    }
    case 4: {
      GenValue b = gen_float(rng, scope, depth - 1);
      return binary("($0 * $1)", a, b, a.bound * b.bound, a.degree + b.degree, false);
    }
    case 5: {
      // |b| + 1 >= 1 never divides by zero; the quotient's error grows with |a| * err(b), so
      // its bound counts b's too.
      GenValue b = gen_float(rng, scope, depth - 1);
      return binary("($0 / (torch.abs($1) + 1.0))", a, b, a.bound * std::max(1.0, b.bound),
                    a.degree + b.degree, false);
    }
    case 6:
      if (scope.allow_transcendental) return unary("torch.tanh($0)", a, 1.0, false);
      return a;
    case 7:
      if (scope.allow_transcendental) return unary("torch.sigmoid($0)", a, 1.0, false);
      return a;
    case 8:
      // exp only of arguments known to be small: no overflow, and its error stays relative.
      if (scope.allow_transcendental && a.degree == 0 && a.bound <= 2.0) {
        return unary("torch.exp($0)", a, std::exp(a.bound), false);
      }
      return a;
    case 9:
      if (scope.allow_transcendental) return unary("F.silu($0)", a, a.bound, false);
      return a;
    case 10: {
      GenValue b = gen_float(rng, scope, depth - 1);
      GenValue r = binary("torch.where($0, $1, $2)", a, b, std::max(a.bound, b.bound),
                          std::max(a.degree, b.degree), true);
      r.expr.kids.insert(r.expr.kids.begin(), gen_cond(rng, scope, 1));
      return r;
    }
    default: {
      GenValue b = gen_float(rng, scope, depth - 1);
      return binary(rng.chance(0.5) ? "torch.maximum($0, $1)" : "torch.minimum($0, $1)", a, b,
                    std::max(a.bound, b.bound), std::max(a.degree, b.degree), true);
    }
  }
}

GenValue ensure_full(const ExprScope& scope, GenValue v) {
  if (v.full || scope.floats.empty()) return v;
  GenValue t = scope.floats[0];
  return binary("torch.maximum($0, $1)", v, t, std::max(v.bound, t.bound),
                std::max(v.degree, t.degree), true);
}

}  // namespace jagtile::fuzz
