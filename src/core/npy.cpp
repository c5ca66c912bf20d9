// .npy reading and writing (numpy format versions 1.0, 2.0 and 3.0; little-endian, C order).
// bfloat16 travels as '<u2' plus a 'jagtile_dtype' marker; see docs/npy.md.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/npy_header.h"
#include "jagtile/error.h"
#include "jagtile/tensor.h"

namespace jagtile {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlignment = 64;
const char* const kFormatHint =
    "jagtile reads .npy files written by numpy.save: little-endian float32, float16, int32, "
    "int64 or bool, in C order (bfloat16 as described in docs/npy.md)";

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

struct DescrInfo {
  const char* code;
  const char* numpy_name;
  const char* hint;
};

// Well-known numpy dtypes jagtile does not take, each with the cast that fixes it.
constexpr DescrInfo kUnsupported[] = {
    {"f16", "float128", "cast to float32 first: np.save(path, a.astype(np.float32))"},
    {"i1", "int8", "cast to int32 first: np.save(path, a.astype(np.int32))"},
    {"u1", "uint8", "cast to int32 first: np.save(path, a.astype(np.int32))"},
    {"i2", "int16", "cast to int32 first: np.save(path, a.astype(np.int32))"},
    {"u4", "uint32", "cast to int64 first: np.save(path, a.astype(np.int64))"},
    {"u8", "uint64", "cast to int64 first: np.save(path, a.astype(np.int64))"},
    {"c8", "complex64", "jagtile has no complex dtypes; store real and imaginary parts apart"},
    {"c16", "complex128", "jagtile has no complex dtypes; store real and imaginary parts apart"},
};

DType dtype_from_header(const std::string& path, const core_detail::NpyHeader& header) {
  const std::string& descr = header.descr;
  std::string code = descr;
  char order = '=';
  if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
    order = code[0];
    code = code.substr(1);
  }
  bool single_byte = code == "b1" || code == "u1" || code == "i1";
  if (order == '>' && !single_byte) {
    throw UserError(quoted(path) + " holds big-endian data (descr '" + descr + "')",
                    "convert to little-endian first: np.save(path, a.astype(a.dtype.newbyteorder("
                    "'<')))");
  }
  if (header.jagtile_dtype) {
    if (*header.jagtile_dtype != "bfloat16") {
      throw UserError(quoted(path) + " has unknown jagtile_dtype '" + *header.jagtile_dtype + "'",
                      "the only jagtile_dtype marker is 'bfloat16' (see docs/npy.md)");
    }
    if (code != "u2") {
      throw UserError(quoted(path) + " is marked jagtile_dtype 'bfloat16' but its descr is '" +
                          descr + "', not '<u2'",
                      "bfloat16 data is stored as the raw 16-bit patterns in a uint16 array; "
                      "see docs/npy.md");
    }
    return DType::bf16;
  }
  if (code == "f4") return DType::f32;
  if (code == "f8") return DType::f64;
  if (code == "f2") return DType::f16;
  if (code == "i4") return DType::i32;
  if (code == "i8") return DType::i64;
  if (code == "b1") return DType::boolean;
  if (code == "u2") {
    throw UserError(quoted(path) + " holds uint16 data (descr '" + descr +
                        "'), which jagtile reads only as bfloat16 when the header carries "
                        "'jagtile_dtype': 'bfloat16'",
                    "for bfloat16 data write the file as docs/npy.md shows; for integers cast to "
                    "int32 first: np.save(path, a.astype(np.int32))");
  }
  for (const DescrInfo& info : kUnsupported) {
    if (code == info.code) {
      throw UserError(quoted(path) + " has dtype " + info.numpy_name + " (descr '" + descr +
                          "'), which jagtile does not support",
                      info.hint);
    }
  }
  throw UserError(quoted(path) + " has unsupported dtype descr '" + descr + "'", kFormatHint);
}

const char* descr_for(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "<f4";
    case DType::f64:
      return "<f8";
    case DType::f16:
      return "<f2";
    case DType::bf16:
      return "<u2";
    case DType::i32:
      return "<i4";
    case DType::i64:
      return "<i8";
    case DType::boolean:
      return "|b1";
  }
  JAGTILE_CHECK(false, << "unknown dtype " << int(dtype));
}

uint32_t read_le(const unsigned char* bytes, int count) {
  uint32_t v = 0;
  for (int i = count - 1; i >= 0; --i) v = (v << 8) | bytes[i];
  return v;
}

}  // namespace

Tensor read_npy(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw UserError("cannot open " + quoted(path) + ": it is a directory",
                    "pass the path of a .npy file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw UserError("cannot open " + quoted(path) + ": " + std::strerror(errno),
                    "check that the file exists and is readable");
  }
  in.seekg(0, std::ios::end);
  const int64_t file_size = int64_t(in.tellg());
  in.seekg(0, std::ios::beg);

  unsigned char preamble[12] = {};
  in.read(reinterpret_cast<char*>(preamble), 8);
  if (in.gcount() < 8 || std::memcmp(preamble, kMagic, kMagicSize) != 0) {
    throw UserError(quoted(path) + " is not a .npy file (it does not start with \\x93NUMPY)",
                    "write it with numpy.save (not numpy.savez, pickle or tofile)");
  }
  const int major = preamble[6], minor = preamble[7];
  if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
    throw UserError(quoted(path) + " uses .npy format version " + std::to_string(major) + "." +
                        std::to_string(minor) + ", which jagtile cannot read",
                    "jagtile reads versions 1.0, 2.0 and 3.0; re-save with numpy.save");
  }
  const int length_bytes = major == 1 ? 2 : 4;
  in.read(reinterpret_cast<char*>(preamble + 8), length_bytes);
  if (in.gcount() < length_bytes) {
    throw UserError(quoted(path) + " is truncated inside the .npy preamble",
                    "the file is incomplete; write it again");
  }
  const int64_t header_length = read_le(preamble + 8, length_bytes);
  const int64_t data_offset = 8 + length_bytes + header_length;
  if (data_offset > file_size) {
    throw UserError(quoted(path) + " is truncated: the header claims " +
                        std::to_string(header_length) + " bytes but the file has only " +
                        std::to_string(file_size - 8 - length_bytes) + " after the preamble",
                    "the file is incomplete; write it again");
  }
  std::string header_text(size_t(header_length), '\0');
  in.read(header_text.data(), header_length);

  core_detail::NpyHeader header;
  try {
    header = core_detail::parse_npy_header(header_text);
  } catch (const std::invalid_argument& e) {
    std::string shown = header_text.substr(0, 200);
    while (!shown.empty() && (shown.back() == '\n' || shown.back() == ' ')) shown.pop_back();
    throw UserError(
        "cannot parse the .npy header of " + quoted(path) + ": " + e.what() + "; header: " + shown,
        kFormatHint);
  }
  if (header.fortran_order) {
    throw UserError(quoted(path) + " is stored in Fortran (column-major) order",
                    "save a C-ordered copy: np.save(path, np.ascontiguousarray(a))");
  }
  const DType dtype = dtype_from_header(path, header);

  // Guard the size product against overflow from a hostile header.
  int64_t numel = 1;
  for (int64_t d : header.shape) {
    if (d != 0 && numel > INT64_MAX / 16 / d) {
      throw UserError(
          quoted(path) + " has an impossibly large shape " + shape_to_string(header.shape),
          "the header is corrupted; write the file again");
    }
    numel *= d;
  }
  const int64_t expected = numel * dtype_size(dtype);
  const int64_t actual = file_size - data_offset;
  if (actual < expected) {
    throw UserError(quoted(path) + " is truncated: shape " + shape_to_string(header.shape) + " " +
                        std::string(dtype_name(dtype)) + " needs " + std::to_string(expected) +
                        " bytes of data but the file has " + std::to_string(actual),
                    "the file is incomplete; write it again");
  }
  if (actual > expected) {
    throw UserError(quoted(path) + " has " + std::to_string(actual) + " bytes of data but shape " +
                        shape_to_string(header.shape) + " " + std::string(dtype_name(dtype)) +
                        " needs " + std::to_string(expected),
                    "the header and data do not match; write the file again with numpy.save");
  }

  Tensor tensor = Tensor::empty(header.shape, dtype);
  in.read(static_cast<char*>(tensor.raw_data()), expected);
  if (in.gcount() != expected) {
    throw UserError(
        "failed reading " + std::to_string(expected) + " bytes of data from " + quoted(path),
        "check that the file is not being written concurrently");
  }
  return tensor;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  if (!tensor.defined()) {
    throw UserError("cannot write an undefined tensor to " + quoted(path),
                    "create the tensor before saving it");
  }
  Tensor host = tensor.to(Device::cpu());
  core_detail::NpyHeader header;
  header.descr = descr_for(host.dtype());
  header.shape = host.shape();
  if (host.dtype() == DType::bf16) header.jagtile_dtype = "bfloat16";
  const std::string dict = core_detail::render_npy_header(header);

  // Pad with spaces so the data starts on a 64-byte boundary; the header ends with '\n'.
  auto padded = [&](size_t preamble) {
    size_t unpadded = preamble + dict.size() + 1;
    return dict + std::string((kAlignment - unpadded % kAlignment) % kAlignment, ' ') + "\n";
  };
  std::string text = padded(10);
  int major = 1;
  if (text.size() > 0xffff) {
    major = 2;
    text = padded(12);
  }

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw UserError("cannot open " + quoted(path) + " for writing: " + std::strerror(errno),
                    "check that the directory exists and is writable");
  }
  std::string preamble(kMagic, kMagicSize);
  preamble += char(major);
  preamble += char(0);
  const uint32_t length = uint32_t(text.size());
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) preamble += char((length >> (8 * i)) & 0xff);
  out.write(preamble.data(), std::streamsize(preamble.size()));
  out.write(text.data(), std::streamsize(text.size()));
  out.write(static_cast<const char*>(host.raw_data()), host.nbytes());
  out.flush();
  if (!out) {
    throw UserError("failed writing " + quoted(path) + ": " + std::strerror(errno),
                    "check free disk space and permissions");
  }
}

}  // namespace jagtile
