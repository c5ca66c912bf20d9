// Internal: the .npy header, a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// parsed by a small tokenizer (no Python needed), and rendered back when writing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jagtile::core_detail {

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  // 'bfloat16' when the file marks its '<u2' data as bfloat16, either as a dict key
  // 'jagtile_dtype' or as a trailing comment "# 'jagtile_dtype': 'bfloat16'" (the form jagtile
  // writes, because numpy rejects dict keys it does not know).
  std::optional<std::string> jagtile_dtype;
};

// Parses the header text. Throws std::invalid_argument with a short reason on malformed input;
// the caller wraps it in a UserError naming the file.
NpyHeader parse_npy_header(const std::string& text);

// The dict text (without padding or newline) for a header.
std::string render_npy_header(const NpyHeader& header);

}  // namespace jagtile::core_detail
