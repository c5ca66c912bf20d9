// Default block sizes of tile loops a config leaves out: for the outermost loop 16 items, or 1
// where the kernel walks its rows twice or writes them (lower.cpp, walks_or_writes_rows); the
// wide column block (256) for the tile loops that walk a tensor's contiguous last dim wherever
// they nest, 32 for the others (rows, jagged rows). Config entries keep their values. Kernels with
// a matmul: one item, 64, and 128 for jagged rows and dense contractions on the CPU only.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "../common/matmul_cases.h"
#include "helpers.h"

namespace jagtile::testing {
namespace {

// Block size by loop variable name.
std::map<std::string, int64_t> blocks_of(const ir::Kernel& k) {
  std::map<std::string, int64_t> out;
  for (const ir::BlockInfo& b : k.blocks) out[b.name] = b.block_size;
  return out;
}

std::vector<ir::ParamSpec> padded_specs() {
  return {tensor_spec("values", DType::f32, 2), tensor_spec("offsets", DType::i64, 1),
          scalar_spec("max_length", ir::ParamKind::int_scalar)};
}

// Items, then the padded rows, then the columns read through a flat index rows * D + d: the
// columns loop, two deep, is the column block; the rows loop directly inside the outermost one
// is not (the old guess gave it 256 and the columns 32, 3x slower on jagged_to_padded_dense).
const char* kPadded = R"(
@helion.kernel()
def pad(values: torch.Tensor, offsets: torch.Tensor, max_length: int) -> torch.Tensor:
    D = values.size(1)
    B = offsets.size(0) - 1
    out = torch.empty([B, max_length, D], dtype=values.dtype, device=values.device)
    flat = values.view(-1)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_l in hl.tile(max_length):
            in_item = tile_l.index[None, :] < nnz[:, None]
            rows = starts[:, None] + tile_l.index[None, :]
            for tile_d in hl.tile(D):
                x = hl.load(flat, [rows[:, :, None] * D + tile_d.index[None, None, :]],
                            extra_mask=in_item[:, :, None])
                out[tile_b, tile_l, tile_d] = torch.where(in_item[:, :, None], x, 0.0)
    return out
)";

TEST(DefaultBlocks, TheLoopOverContiguousColumnsTakesTheColumnBlockWhereverItNests) {
  const std::map<std::string, int64_t> b = blocks_of(lower_source(kPadded, padded_specs()));
  EXPECT_EQ(b.at("tile_b"), 1);  // it writes rows
  EXPECT_EQ(b.at("tile_l"), 32);
  EXPECT_EQ(b.at("tile_d"), 256);
}

TEST(DefaultBlocks, ConfigEntriesKeepTheirValues) {
  std::string source = kPadded;
  source.replace(source.find("@helion.kernel()"), 16,
                 "@helion.kernel(config=helion.Config(block_sizes=[2, 64]))");
  const std::map<std::string, int64_t> b = blocks_of(lower_source(source, padded_specs()));
  EXPECT_EQ(b.at("tile_b"), 2);
  EXPECT_EQ(b.at("tile_l"), 64);
  EXPECT_EQ(b.at("tile_d"), 256);  // not in the config: still found by its accesses
}

// Columns directly inside the outermost loop, jagged rows below them (a reduction's shape): the
// columns take 256 and the jagged rows 32, as before the analysis. Its one row loop only reduces:
// 16 items per program.
TEST(DefaultBlocks, ColumnsAboveJaggedRowsTakeTheColumnBlock) {
  const std::map<std::string, int64_t> b = blocks_of(lower_source(
      kJaggedColumnSum, {tensor_spec("x", DType::f32, 2), tensor_spec("offsets", DType::i64, 1)}));
  EXPECT_EQ(b.at("tile_b"), 16);
  EXPECT_EQ(b.at("tile_m"), 256);
  EXPECT_EQ(b.at("tile_k"), 32);
}

// Two passes over each item's rows, neither storing (a variance: the mean, then the squares):
// one item per program, so the second pass finds the item's rows still in cache.
TEST(DefaultBlocks, AKernelThatWalksItsRowsTwiceTakesOneItemPerProgram) {
  const char* source = R"(
@helion.kernel()
def variance(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    M = x.size(1)
    B = offsets.size(0) - 1
    out = torch.zeros([B, M], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_m in hl.tile(M):
            total = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                total = total + x[starts[:, None] + tile_k.index[None, :], tile_m].sum(dim=1)
            mean = total / nnz.to(torch.float32)[:, None]
            squares = hl.zeros([tile_b, tile_m], dtype=torch.float32)
            for tile_k in hl.jagged_tile(nnz):
                c = x[starts[:, None] + tile_k.index[None, :], tile_m] - mean[:, None, :]
                squares = squares + (c * c).sum(dim=1)
            out[tile_b, tile_m] = squares
    return out
)";
  const std::map<std::string, int64_t> b = blocks_of(lower_source(
      source, {tensor_spec("x", DType::f32, 2), tensor_spec("offsets", DType::i64, 1)}));
  EXPECT_EQ(b.at("tile_b"), 1);
  EXPECT_EQ(b.at("tile_m"), 256);
}

// No loop walks a contiguous dim (each row's first column only): the inner tile directly inside
// the outermost loop keeps the column block, the rule before the analysis.
TEST(DefaultBlocks, WithoutAContiguousLoopTheTileInsideTheOutermostTakesTheColumnBlock) {
  const char* source = R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    R = x.size(0)
    out = torch.zeros([R, 2], dtype=x.dtype, device=x.device)
    for tile_g in hl.tile(1):
        for tile_r in hl.tile(R):
            out[tile_r, 0] = x[tile_r, 0]
    return out
)";
  const std::map<std::string, int64_t> b =
      blocks_of(lower_source(source, {tensor_spec("x", DType::f32, 2)}));
  EXPECT_EQ(b.at("tile_g"), 16);
  EXPECT_EQ(b.at("tile_r"), 256);
}

// item_matmul (tests/common/matmul_cases.h, jagged_dense_bmm's loops): on CPU tensors its jagged
// rows and its contraction over the features take 128 and the output's columns 64 (lower.cpp,
// wide_matmul_blocks); on CUDA tensors every inner loop keeps 64, since the wider blocks were
// measured on the CPU only.
TEST(DefaultBlocks, MatmulKernelsTakeWideRowAndContractionBlocksOnTheCpuOnly) {
  // kMatmulKernels opens with its own imports; item_matmul is its first kernel.
  const std::string source = kMatmulKernels;
  auto specs = [](Device device) {
    std::vector<ir::ParamSpec> s = {
        tensor_spec("x", DType::f32, 2), tensor_spec("offsets", DType::i64, 1),
        tensor_spec("w", DType::f32, 3), tensor_spec("bias", DType::f32, 2)};
    for (ir::ParamSpec& p : s) p.device = device;
    return s;
  };
  const std::map<std::string, int64_t> cpu = blocks_of(lower_source(source, specs(Device::cpu())));
  EXPECT_EQ(cpu.at("tile_b"), 1);
  EXPECT_EQ(cpu.at("tile_k"), 128);
  EXPECT_EQ(cpu.at("tile_n"), 64);
  EXPECT_EQ(cpu.at("tile_d"), 128);
  const std::map<std::string, int64_t> gpu = blocks_of(lower_source(source, specs(Device::cuda())));
  EXPECT_EQ(gpu.at("tile_b"), 1);
  EXPECT_EQ(gpu.at("tile_k"), 64);
  EXPECT_EQ(gpu.at("tile_n"), 64);
  EXPECT_EQ(gpu.at("tile_d"), 64);
}

}  // namespace
}  // namespace jagtile::testing
