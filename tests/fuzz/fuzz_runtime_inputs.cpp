// libFuzzer target for the runtime's input handling (issue 16, item 3): .npy files and their
// header parser, and the offsets / feature-count validation every backend relies on. The first
// byte picks the part. A UserError (or, from the header parser, std::invalid_argument) is the
// expected answer to bad input; anything else escaping, a crash, a sanitizer report, or a
// validation that accepts what it must reject (checked here element by element) is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/npy_header.h"
#include "jagtile/error.h"
#include "jagtile/jagged.h"
#include "jagtile/tensor.h"

namespace {

void fuzz_npy(const uint8_t* data, size_t size) {
  try {
    (void)jagtile::core_detail::parse_npy_header(
        std::string(reinterpret_cast<const char*>(data), size));
  } catch (const std::invalid_argument&) {
  }
  // read_npy takes a path: one scratch file per fuzzing process.
  static const std::string path = "/tmp/jagtile_fuzz_npy_" + std::to_string(::getpid()) + ".npy";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    jagtile::Tensor t = jagtile::read_npy(path);
    // A tensor that was read must be whole: touch every element.
    for (int64_t i = 0; i < t.numel(); ++i) (void)t.item_as_double(i);
  } catch (const jagtile::UserError&) {
  }
}

// Offsets and counts from the bytes: [dtype byte][num_rows byte][max_columns byte][values...].
void fuzz_validation(const uint8_t* data, size_t size) {
  if (size < 3) return;
  const bool wide = data[0] & 1;
  const int64_t num_rows = data[1];
  const int64_t max_columns = data[2] % 16;
  data += 3;
  size -= 3;
  std::vector<double> values;
  const size_t width = wide ? 8 : 4;
  for (size_t i = 0; i + width <= size && values.size() < 64; i += width) {
    int64_t v = 0;
    if (wide)
      std::memcpy(&v, data + i, 8);
    else {
      int32_t v32;
      std::memcpy(&v32, data + i, 4);
      v = v32;
    }
    // Doubles carry int64 exactly only up to 2^53: keep the values there.
    values.push_back(double(v % (int64_t(1) << 40)));
  }
  jagtile::DType dt = wide ? jagtile::DType::i64 : jagtile::DType::i32;
  jagtile::Tensor offsets = jagtile::Tensor::from_doubles({int64_t(values.size())}, values, dt);
  bool accepted = true;
  try {
    jagtile::validate_offsets(offsets, "offsets", num_rows, "values");
  } catch (const jagtile::UserError&) {
    accepted = false;
  }
  // The rule (jagged.h): at least one element, offsets[0] >= 0, non-decreasing, last <= rows.
  bool valid = !values.empty() && values[0] >= 0 && values.back() <= double(num_rows);
  for (size_t i = 1; i < values.size(); ++i) valid &= values[i] >= values[i - 1];
  if (accepted != valid) std::abort();
  try {
    jagtile::Tensor narrowed =
        jagtile::validate_and_narrow_offsets(offsets, "offsets", num_rows, "values");
    if (!valid) std::abort();
    for (int64_t i = 0; i < narrowed.numel(); ++i)
      if (narrowed.item_as_double(i) != values[size_t(i)]) std::abort();
  } catch (const jagtile::UserError&) {
    if (valid) std::abort();
  }
  if (values.empty()) return;
  // The same values as feature counts of values.size() items.
  bool counts_valid = true;
  for (double v : values) counts_valid &= v >= 0 && v <= double(max_columns);
  try {
    jagtile::validate_feature_counts(offsets, "counts", int64_t(values.size()), max_columns);
    if (!counts_valid) std::abort();
  } catch (const jagtile::UserError&) {
    if (counts_valid) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0)
    fuzz_npy(data + 1, size - 1);
  else
    fuzz_validation(data + 1, size - 1);
  return 0;
}
