// The bundled examples run end to end on the interpreter against plain loops written here, on
// small hand-made inputs (empty items included), with several tile sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "helpers.h"

namespace jagtile::testing {
namespace {

std::string read_example(const std::string& name) {
  std::ifstream in(std::string(JAGTILE_SOURCE_DIR) + "/examples/" + name + ".py");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ExamplesInterp, JaggedSumMatchesLoops) {
  // items: [rows 0..2), [], [rows 2..7)
  const int64_t M = 3;
  std::vector<double> vals;
  for (int r = 0; r < 7; ++r)
    for (int m = 0; m < M; ++m) vals.push_back(r * 10 + m);
  Tensor x = f32({7, M}, vals);
  Tensor off = i64({4}, {0, 2, 2, 7});
  Program p = Program::from_source(read_example("jagged_sum"), "jagged_sum.py");
  for (std::vector<int64_t> bs :
       std::vector<std::vector<int64_t>>{{1, 1, 1}, {2, 2, 3}, {16, 32, 32}, {3, 1, 2}}) {
    Options o;
    o.backend = Backend::interp;
    o.config.block_sizes = bs;
    std::vector<Tensor> out =
        p.call("jagged_sum", {{"x_values", x}, {"x_offsets", off}}, o).outputs;
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape(), (Shape{3, M}));
    std::vector<double> expect;
    for (auto [b, e] : std::vector<std::pair<int, int>>{{0, 2}, {2, 2}, {2, 7}})
      for (int m = 0; m < M; ++m) {
        double s = 0;
        for (int r = b; r < e; ++r) s += r * 10 + m;
        expect.push_back(s);
      }
    EXPECT_EQ(values(out[0]), expect) << "block sizes " << Config{bs}.str();
  }
}

}  // namespace
}  // namespace jagtile::testing
