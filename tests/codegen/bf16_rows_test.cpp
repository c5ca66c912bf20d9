// bf16 output rows are narrowed a line at a time (cpp_prelude.cpp, jt_store_row_bf16): with
// AVX512-BF16 two vcvtne2ps2bf16 per line of 32 floats, which flush subnormal inputs where jt_f2bf
// rounds them, so such lines go element by element. These tests compile the prelude's own
// function with a small wrapper and hold it to jt_f2bf bit for bit on lines of every kind of
// float (random bits over all exponents, subnormals alone and among normals, NaNs of either sign
// and any payload, infinities, ties, the largest finite values), whole and partial, streamed and
// not; and check that a bf16 kernel's row stores call it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "codegen/cpu/jit.h"
#include "codegen/cpu/print_cpp.h"
#include "codegen_helpers.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;

// jt_store_row_bf16 of `n` floats to `line`, and jt_f2bf of each to `each`.
const char* kWrapper = R"JT(
extern "C" void jt_test_narrow(const float* in, uint16_t* line, uint16_t* each, int64_t n,
                               int stream) {
  alignas(64) float row[32];
  for (int64_t i = 0; i < n; ++i) row[i] = in[i];
  jt_store_row_bf16(line, row, n, stream);
  for (int64_t i = 0; i < n; ++i) each[i] = jt_f2bf(in[i]);
}
)JT";

using NarrowFn = void (*)(const float*, uint16_t*, uint16_t*, int64_t, int);

NarrowFn narrow() {
  static std::shared_ptr<const codegen::cpu::LoadedKernel> code = [] {
    use_shared_cache_dir();
    return codegen::cpu::Jit::for_dir().load(codegen::cpu::prelude() + kWrapper, "jt_test_narrow");
  }();
  return reinterpret_cast<NarrowFn>(code->symbol("jt_test_narrow"));
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Every line narrowed whole and, from offsets 1 and 5 of the destination's line, as its first
// 31 and 7 elements; streamed to an aligned line and stored plainly to an unaligned one.
void expect_lines_match_element_by_element(const std::vector<std::vector<float>>& lines) {
  alignas(64) uint16_t out[2][64];
  uint16_t each[32];
  for (size_t l = 0; l < lines.size(); ++l) {
    for (int64_t n : {32, 31, 7}) {
      for (int stream : {1, 0}) {
        uint16_t* dst = stream ? out[0] : out[1] + (n == 32 ? 1 : 5);
        narrow()(lines[l].data(), dst, each, n, stream);
        for (int64_t i = 0; i < n; ++i) {
          uint32_t bits;
          std::memcpy(&bits, &lines[l][size_t(i)], 4);
          ASSERT_EQ(dst[i], each[i])
              << "line " << l << ", n " << n << ", stream " << stream << ", element " << i
              << " (float bits 0x" << std::hex << bits << ")";
        }
      }
    }
  }
}

TEST(Bf16Rows, RandomBitsOfEveryExponentMatchJtF2bf) {
  std::mt19937 rng(7);
  std::vector<std::vector<float>> lines;
  for (int l = 0; l < 2000; ++l) {
    std::vector<float> line(32);
    for (float& x : line) x = from_bits(rng());
    lines.push_back(line);
  }
  expect_lines_match_element_by_element(lines);
}

TEST(Bf16Rows, SpecialValuesMatchJtF2bf) {
  const std::vector<uint32_t> specials = {
      0x00000000u, 0x80000000u, 0x00000001u, 0x807fffffu, 0x007fffffu, 0x00008000u, 0x00018000u,
      0x00800000u, 0x80800000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7f800001u,
      0xff800001u, 0x7fbfffffu, 0x7fffffffu, 0x7f7fffffu, 0xff7fffffu, 0x7f7f8000u, 0x7f7f7fffu,
      0x3f808000u, 0x3f818000u, 0x3f808001u, 0x3f80ffffu, 0x3f817fffu, 0xbf808000u, 0x00ff8000u,
      0x01000000u, 0x33800000u, 0x0001ffffu, 0x80008000u};
  std::vector<std::vector<float>> lines;
  std::vector<float> line;
  for (uint32_t u : specials) line.push_back(from_bits(u));
  lines.push_back(line);
  // Lines of normal values with one subnormal at each position (the line then narrows element
  // by element), and the same lines without it (one instruction).
  std::mt19937 rng(11);
  for (int at = 0; at < 32; ++at) {
    std::vector<float> normal(32);
    for (float& x : normal) x = from_bits((rng() & 0x807fffffu) | 0x3f000000u);
    lines.push_back(normal);
    normal[size_t(at)] = from_bits(0x00000001u + (rng() & 0x007ffffeu));
    lines.push_back(normal);
  }
  expect_lines_match_element_by_element(lines);
}

TEST(Bf16Rows, ABf16KernelsRowStoresNarrowByTheLine) {
  JaggedShape shape;
  shape.batch = 3;
  shape.features = 64;
  EXPECT_THAT(example_cpu_source("jagged_dense_bmm", shape, DType::bf16),
              HasSubstr("jt_store_row_bf16(jt_to"));
}

}  // namespace
}  // namespace jagtile::testing
