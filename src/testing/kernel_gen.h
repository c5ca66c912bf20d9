// A seeded random generator of valid jagtile kernels and of their inputs, for differential
// fuzzing (tools/fuzz_differential, docs/fuzzing.md). A kernel is kept as a small statement
// tree with expression trees inside, so a failing kernel can be reduced statement by statement
// and expression by expression, and printed again as kernel-language source.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jagtile/compiler.h"
#include "testing/datagen.h"

namespace jagtile::fuzz {

// splitmix64: the same stream for a seed on every platform and standard library.
class FuzzRng {
 public:
  explicit FuzzRng(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull) {}
  uint64_t next();
  int64_t range(int64_t lo, int64_t hi);  // uniform in [lo, hi]
  bool chance(double p);                  // true with probability p
  template <typename T>
  T pick(const std::vector<T>& v) {
    return v[size_t(range(0, int64_t(v.size()) - 1))];
  }

 private:
  uint64_t state_;
};

// An expression: `fmt` with placeholders $0..$9 replaced by the printed kids. The reducer
// replaces a node by one of its kids, so a kid is always an expression of the same role.
struct Expr {
  std::string fmt;
  std::vector<Expr> kids;
  std::string str() const;
  size_t size() const;  // nodes in the tree
};

// A statement: one line (`fmt` with $0.. for its expressions) and, for a loop or an `if`, a
// body one level deeper.
struct Stmt {
  std::string fmt;
  std::vector<Expr> exprs;
  std::vector<Stmt> body;
  std::string line() const;
};

// How one output's results may differ between backends: bitwise where every operation feeding
// it has one defined result (loads, casts, selects, max / min, negation, ...), otherwise within
// a bound proportional to `bound`, an upper bound of |value| as `bound * L^degree` with L the
// longest item of the call's inputs. See tolerance_for() and docs/fuzzing.md.
struct OutputTolerance {
  bool exact = true;
  double bound = 1;
  int degree = 0;
};

// Everything needed to rebuild a call's arguments, printable as one line
// ("batch=5 features=3 max_len=7 dist=zipf values=bf16 offsets=i64 seed=9 lead=2 tail=1
// weight_cols=4 alpha=0.5").
struct InputRecipe {
  int64_t batch = 4;
  int64_t features = 3;
  int64_t max_len = 6;
  LengthDist dist = LengthDist::uniform;
  DType values = DType::f32;
  DType offsets = DType::i64;
  uint64_t seed = 0;
  int64_t lead = 0;         // rows before the first item (offsets[0] = lead)
  int64_t tail = 0;         // rows after the last item
  int64_t weight_cols = 2;  // K of w: [B, M, K]
  double alpha = 0.5;       // the float parameter
  std::string str() const;
  static InputRecipe parse(std::string_view line);  // UserError on a malformed line
};

// The arguments for a recipe: x [N, M], offsets [B+1], counts [B] (0..M), y [B, M],
// w [B, M, K], alpha.
ArgMap make_args(const InputRecipe& recipe);
// The longest item of a recipe's offsets (the L of OutputTolerance).
int64_t longest_item(const ArgMap& args);

struct GenKernel {
  std::string shape;                 // the loop structure it was drawn from ("items_cols", ...)
  std::vector<int64_t> block_sizes;  // the decorator's block_sizes; empty: no decorator
  std::vector<Stmt> body;
  std::vector<OutputTolerance> outputs;  // one per returned tensor, in order
  std::vector<InputRecipe> inputs;       // the calls to make
  std::string source() const;            // the kernel file
};

// The kernel for a seed: deterministic, and valid by construction (a failure to compile or a
// user error on its inputs is a finding, not an expected outcome).
GenKernel generate_kernel(uint64_t seed);

// The tolerance on an output element: |actual - expected| <= atol + rtol * |expected|.
struct ElementTolerance {
  double atol = 0;
  double rtol = 0;
};
ElementTolerance tolerance_for(const OutputTolerance& out, DType dtype, int64_t longest);

// The kernel's name in generated sources.
inline constexpr const char* kKernelName = "fz";

}  // namespace jagtile::fuzz
