// A causal attention kernel in the shape the CPU planner memoises (a key block load inside
// `for tile_k in hl.tile(first, tile_q.end)`) and its arguments: the memoise tests' subject, and
// for the prefetch tests a query loop with no grid loop around it.
#pragma once

#include <string>
#include <vector>

#include "jagtile/compiler.h"

namespace jagtile::testing {

// Causal attention without the softmax on [rows, 4] data: for each row r of an item, out[r] =
// sum over the item's rows c <= r of (x[r] . y[c]) y[c]. y's block is a matmul operand twice, so
// it is copied into a tile array. `BLOCKS` and `YLOAD` are filled in per test.
inline const char* kCausal = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=BLOCKS))
def causal(x: torch.Tensor, y: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    D = x.size(1)
    out = torch.empty_like(x)
    for item in hl.grid(B):
        first = offsets[item]
        last = offsets[item + 1]
        for tile_q in hl.tile(first, last):
            xq = x[tile_q, :]
            acc = hl.zeros([tile_q, D], dtype=torch.float32)
            for tile_k in hl.tile(first, tile_q.end):
                yk = YLOAD
                scores = torch.matmul(xq, yk.T)
                scores = torch.where(tile_q.index[:, None] >= tile_k.index[None, :], scores, 0.0)
                acc = acc + torch.matmul(scores, yk)
            out[tile_q, :] = acc
    return out
)PY";

inline std::string causal_source(const std::string& blocks,
                                 const std::string& yload = "y[tile_k, :]") {
  std::string s = kCausal;
  s.replace(s.find("BLOCKS"), 6, blocks);
  s.replace(s.find("YLOAD"), 5, yload);
  return s;
}

// Items of 0, 1, 7 and 600 rows, small integers, so that every sum is exact in float32 whatever its
// order.
inline ArgMap causal_args() {
  const std::vector<double> lengths = {0, 1, 7, 600};
  std::vector<double> offsets = {0};
  for (double n : lengths) offsets.push_back(offsets.back() + n);
  const int64_t n = int64_t(offsets.back());
  std::vector<double> x, y;
  for (int64_t i = 0; i < 4 * n; ++i) {
    x.push_back(double(i % 5) - 2.0);
    y.push_back(double((i * 3) % 7 % 3) - 1.0);
  }
  return {{"x", Tensor::from_doubles({n, 4}, x, DType::f32)},
          {"y", Tensor::from_doubles({n, 4}, y, DType::f32)},
          {"offsets", Tensor::from_doubles({int64_t(offsets.size())}, offsets, DType::i64)}};
}

}  // namespace jagtile::testing
