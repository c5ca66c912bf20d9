// Item loops run longest item first on the CPU backend (codegen/cpu/backend.h,
// longest_items_first): the order itself, the cases where it is not used, and results that do
// not depend on it.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "codegen/cpu/backend.h"
#include "codegen_helpers.h"

namespace jagtile::testing {
namespace {

using codegen::cpu::longest_items_first;

host::NestBounds programs(int64_t begin, int64_t n) {
  host::NestBounds b;
  b.begin = begin;
  b.end = begin + n;
  b.programs = n;
  return b;
}

TEST(LongestItemsFirst, ProgramsGoByDescendingLengthTiesByProgram) {
  // Lengths 3, 0, 7, 2, 8, 3.
  const std::vector<double> offsets = {0, 3, 3, 10, 12, 20, 23};
  const std::vector<int64_t> want = {4, 2, 0, 5, 3, 1};
  for (DType t : {DType::i32, DType::i64}) {
    Tensor o = Tensor::from_doubles({7}, offsets, t);
    EXPECT_EQ(longest_items_first(o, programs(0, 6), 2), want) << dtype_name(t);
  }
}

TEST(LongestItemsFirst, ProgramsCountFromTheLoopsBegin) {
  // The loop runs items 2..4 (lengths 7, 2, 8): program p is item 2 + p.
  Tensor o = Tensor::from_doubles({7}, {0, 3, 3, 10, 12, 20, 23}, DType::i64);
  EXPECT_EQ(longest_items_first(o, programs(2, 3), 2), (std::vector<int64_t>{2, 0, 1}));
}

TEST(LongestItemsFirst, ManyProgramsPerWorkerEqualItemsOrShortOffsetsKeepTheDynamicChunks) {
  std::vector<double> offsets = {0};  // lengths 0, 1, 2, 0, 1, 2, ...
  for (int i = 0; i < 2 * 64 + 1; ++i) offsets.push_back(offsets.back() + i % 3);
  Tensor many = Tensor::from_doubles({int64_t(offsets.size())}, offsets, DType::i64);
  EXPECT_TRUE(longest_items_first(many, programs(0, 2 * 64 + 1), 2).empty());
  EXPECT_FALSE(longest_items_first(many, programs(0, 2 * 64), 2).empty());
  Tensor equal = Tensor::from_doubles({4}, {0, 5, 10, 15}, DType::i64);
  EXPECT_TRUE(longest_items_first(equal, programs(0, 3), 2).empty());
  Tensor short_offsets = Tensor::from_doubles({3}, {0, 1, 2}, DType::i64);
  EXPECT_TRUE(longest_items_first(short_offsets, programs(0, 3), 2).empty());
  Tensor floats = Tensor::from_doubles({3}, {0, 1, 2}, DType::f32);
  EXPECT_TRUE(longest_items_first(floats, programs(0, 2), 2).empty());
}

// Items in ascending length, so the order changes everything: every item's sum is its own on two
// threads, as on one and in the interpreter.
TEST(LongestItemsFirst, PerItemSumsOnTwoThreadsMatchTheInterpreter) {
  use_shared_cache_dir();
  const std::string src = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel()
def item_sums(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    out = torch.zeros([B], dtype=torch.float32, device=x.device)
    for i in hl.grid(B):
        acc = hl.zeros([], dtype=torch.float32)
        for tile_k in hl.tile(offsets[i], offsets[i + 1]):
            acc = acc + x[tile_k].sum()
        out[i] = acc
    return out
)PY";
  std::vector<double> offsets = {0}, x;
  for (int item = 0; item < 40; ++item) offsets.push_back(offsets.back() + 7 * item);
  for (int64_t r = 0; r < int64_t(offsets.back()); ++r) x.push_back(double((r * 13) % 17) - 8);
  Program p = Program::from_source(src, "item_sums.py");
  const ArgMap args = {
      {"x", Tensor::from_doubles({int64_t(x.size())}, x, DType::f32)},
      {"offsets", Tensor::from_doubles({int64_t(offsets.size())}, offsets, DType::i64)}};
  Options interp, cpu;
  interp.backend = Backend::interp;
  cpu.backend = Backend::cpu;
  cpu.num_threads = 2;
  Tensor want = p.call("", args, interp).outputs.at(0);
  Tensor got = p.call("", args, cpu).outputs.at(0);
  ASSERT_EQ(got.numel(), 40);
  for (int64_t i = 0; i < 40; ++i)
    EXPECT_EQ(got.item_as_double(i), want.item_as_double(i)) << "item " << i;
  EXPECT_NE(p.specialise("", args, cpu).ir_text().find("items of $"), std::string::npos);
}

// Options::reverse_programs, the fuzzer's check that results do not depend on program order:
// the same bits for a kernel whose items are independent, the other item's value where every item
// writes the same element (which the language's rule forbids: the aid exposes such a kernel).
TEST(ReversePrograms, SameResultsForIndependentItemsTheFirstItemWinsWhereAllWriteOneElement) {
  use_shared_cache_dir();
  const std::string src = R"PY(import torch
import helion
import helion.language as hl

@helion.kernel()
def items(x: torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    B = offsets.size(0) - 1
    sums = torch.zeros([B], dtype=torch.float32, device=x.device)
    last = torch.zeros([1], dtype=torch.float32, device=x.device)
    for i in hl.grid(B):
        acc = hl.zeros([], dtype=torch.float32)
        for tile_k in hl.tile(offsets[i], offsets[i + 1]):
            acc = acc + x[tile_k].sum()
        sums[i] = acc
        last[0] = acc
    return sums, last
)PY";
  Program p = Program::from_source(src, "items.py");
  const ArgMap args = {{"x", Tensor::from_doubles({6}, {1, 2, 3, 4, 5, 6}, DType::f32)},
                       {"offsets", Tensor::from_doubles({4}, {0, 1, 3, 6}, DType::i64)}};
  Options forward, reversed;
  forward.backend = reversed.backend = Backend::cpu;
  forward.num_threads = 1;
  reversed.reverse_programs = true;
  const std::vector<Tensor> a = p.call("", args, forward).outputs;
  const std::vector<Tensor> b = p.call("", args, reversed).outputs;
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(b[0].item_as_double(i), a[0].item_as_double(i));
  EXPECT_EQ(a[1].item_as_double(0), 15.0);  // the last item's sum, in program order
  EXPECT_EQ(b[1].item_as_double(0), 1.0);   // the first item's: it ran last
}

}  // namespace
}  // namespace jagtile::testing
