// Bounds checks of loads under a prefix mask (`extra_mask=t.index < n`, a jagged row's valid
// part) run at the two ends of the kept prefix only (plan/pass_bounds_checks.cpp,
// split_prefix_checks). These runs pin down that this still finds exactly the accesses the
// interpreter finds: the last kept position past the end, the first one before the start, and
// nothing when the mask keeps nothing or keeps only in-bounds positions, in every tile.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "codegen_helpers.h"
#include "jagtile/error.h"
#include "testing/compare.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;

const char* kShifted = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config={"block_sizes": [8]})
def shifted(x: torch.Tensor, n: int, shift: int) -> torch.Tensor:
    (m,) = x.size()
    out = torch.zeros([m], dtype=x.dtype, device=x.device)
    for t in hl.tile(m):
        v = hl.load(x, [t.index + shift], extra_mask=t.index < n)
        out[t] = v
    return out
)PY";

struct Outcome {
  std::string error;  // empty: ran
  Tensor out;
};

Outcome run(const Program& p, int64_t n, int64_t shift, const Options& o) {
  std::vector<double> v(40);
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(i) + 0.5;
  ArgMap args = {{"x", Tensor::from_doubles({40}, v, DType::f32)}, {"n", n}, {"shift", shift}};
  try {
    return {"", p.call("shifted", args, o).outputs.at(0)};
  } catch (const UserError& e) {
    return {e.what(), Tensor()};
  }
}

TEST(PrefixMaskChecks, FindExactlyTheInterpretersOutOfBoundsLoads) {
  use_shared_cache_dir();
  Program p = Program::from_source(kShifted, "shifted.py");
  Options interp;
  interp.backend = Backend::interp;
  struct Case {
    int64_t n, shift;
    const char* error;  // nullptr: in bounds
  };
  const Case cases[] = {
      {35, 5, nullptr},                         // kept positions 0..34 read 5..39: the last element
      {36, 5, "at index 40 in dimension 0"},    // one more: one past the end, in the last tile
      {14, 27, "at index 40 in dimension 0"},   // past the end from the middle of a tile
      {13, 27, nullptr},                        // one fewer: the last element exactly
      {100, -1, "at index -1 in dimension 0"},  // before the start at the first position
      {0, 1000, nullptr},                       // nothing kept: nothing read
      {-5, -1000, nullptr},                     // a negative count keeps nothing either
      {3, 37, nullptr},                         // a prefix shorter than one tile, at the very end
  };
  {
    for (const Case& c : cases) {
      SCOPED_TRACE("n=" + std::to_string(c.n) + " shift=" + std::to_string(c.shift));
      Outcome want = run(p, c.n, c.shift, interp);
      Outcome got = run(p, c.n, c.shift, cpu_options());
      if (c.error) {
        EXPECT_THAT(got.error, HasSubstr("load of tensor 'x' " + std::string(c.error)));
        EXPECT_EQ(got.error, want.error);
      } else {
        ASSERT_EQ(got.error, "");
        ASSERT_EQ(want.error, "");
        Comparison cmp = compare_tensors(got.out, want.out, Tolerance{});
        EXPECT_TRUE(cmp.ok) << cmp.mismatch;
      }
    }
  }
}

}  // namespace
}  // namespace jagtile::testing
