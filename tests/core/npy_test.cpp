// Tests for .npy reading and writing: round trips for every dtype (bf16 included), zero-size and
// 0-d tensors, header layout, numpy-written files, and every malformed-file error message.
#include <gmock/gmock.h>

#include <cmath>

#include "jagtile/tensor.h"
#include "test_util.h"

namespace jagtile {
namespace {

using test::read_bytes;
using test::TempDir;
using test::user_error_text;
using test::write_bytes;
using ::testing::HasSubstr;

// A .npy file built by hand: magic, version, header length, header (padded to 64 bytes), data.
std::string make_npy(const std::string& dict, const std::string& data, int major = 1,
                     int minor = 0) {
  size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(major);
  out += char(minor);
  for (size_t i = 0; i < preamble - 8; ++i) out += char((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string f32_bytes(std::initializer_list<float> values) {
  std::string s;
  for (float v : values) s.append(reinterpret_cast<const char*>(&v), 4);
  return s;
}

void expect_same_tensor(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.dtype(), b.dtype());
  ASSERT_EQ(a.shape(), b.shape());
  ASSERT_EQ(a.nbytes(), b.nbytes());
  EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), size_t(a.nbytes())), 0);
}

TEST(NpyTest, RoundTripEveryDtype) {
  TempDir dir;
  const std::vector<double> values = {0, 1, -2, 3.5, 1e4, -0.25, 7, 100};
  for (DType dtype :
       {DType::f32, DType::f64, DType::f16, DType::bf16, DType::i32, DType::i64, DType::boolean}) {
    Tensor t = Tensor::from_doubles({2, 4}, values, dtype);
    std::string path = dir.file(std::string(dtype_short_name(dtype)) + ".npy");
    write_npy(path, t);
    Tensor r = read_npy(path);
    expect_same_tensor(t, r);
  }
}

TEST(NpyTest, Float64KeepsEveryBitThatFloat32WouldRound) {
  TempDir dir;
  const double tenth = 0.1, third = 1.0 / 3.0;
  std::string bytes(16, '\0');
  std::memcpy(bytes.data(), &tenth, 8);
  std::memcpy(bytes.data() + 8, &third, 8);
  std::string path = dir.file("numpy_f8.npy");
  write_bytes(path, make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", bytes));
  Tensor t = read_npy(path);
  ASSERT_EQ(t.dtype(), DType::f64);
  EXPECT_EQ(t.data<double>()[0], tenth);
  EXPECT_EQ(t.data<double>()[1], third);
  EXPECT_NE(double(float(third)), third);  // so float32 storage would have failed the check
}

TEST(NpyTest, RoundTripZeroSizeAndScalar) {
  TempDir dir;
  for (const Shape& shape : {Shape{0}, Shape{3, 0, 2}, Shape{}, Shape{1}, Shape{1, 1, 1, 1, 5}}) {
    Tensor t = Tensor::full(shape, 3.0, DType::f32);
    write_npy(dir.file("t.npy"), t);
    Tensor r = read_npy(dir.file("t.npy"));
    expect_same_tensor(t, r);
  }
}

TEST(NpyTest, HeaderLayoutMatchesNumpy) {
  TempDir dir;
  write_npy(dir.file("a.npy"), Tensor::zeros({3}, DType::f32));
  std::string bytes = read_bytes(dir.file("a.npy"));
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  size_t header_len = uint8_t(bytes[8]) | (uint8_t(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);  // data starts 64-byte aligned
  EXPECT_EQ(bytes.size(), 10 + header_len + 12);
  std::string header = bytes.substr(10, header_len);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_THAT(header, HasSubstr("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"));

  write_npy(dir.file("s.npy"), Tensor::zeros({}, DType::boolean));
  EXPECT_THAT(read_bytes(dir.file("s.npy")), HasSubstr("'descr': '|b1'"));
  EXPECT_THAT(read_bytes(dir.file("s.npy")), HasSubstr("'shape': ()"));
  write_npy(dir.file("m.npy"), Tensor::zeros({2, 3}, DType::i64));
  EXPECT_THAT(read_bytes(dir.file("m.npy")), HasSubstr("'descr': '<i8'"));
  EXPECT_THAT(read_bytes(dir.file("m.npy")), HasSubstr("'shape': (2, 3)"));
}

TEST(NpyTest, Bf16IsU2WithMarkerNumpyCanRead) {
  TempDir dir;
  Tensor t = Tensor::from_doubles({2}, {1.0, -3.5}, DType::bf16);
  write_npy(dir.file("b.npy"), t);
  std::string bytes = read_bytes(dir.file("b.npy"));
  EXPECT_THAT(bytes, HasSubstr("'descr': '<u2'"));
  EXPECT_THAT(bytes, HasSubstr("'jagtile_dtype': 'bfloat16'"));
  // numpy rejects unknown dict keys, so the marker sits in a comment after the dict.
  EXPECT_THAT(bytes, HasSubstr("'shape': (2,), } # 'jagtile_dtype': 'bfloat16'"));
  Tensor r = read_npy(dir.file("b.npy"));
  EXPECT_EQ(r.dtype(), DType::bf16);
  EXPECT_EQ(r.item_as_double(1), -3.5);
}

TEST(NpyTest, Bf16MarkerAsDictKeyIsAccepted) {
  TempDir dir;
  uint16_t raw[2] = {0x3f80, 0xc060};  // 1.0, -3.5
  write_bytes(dir.file("k.npy"), make_npy("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), "
                                          "'jagtile_dtype': 'bfloat16'}",
                                          std::string(reinterpret_cast<const char*>(raw), 4)));
  Tensor r = read_npy(dir.file("k.npy"));
  EXPECT_EQ(r.dtype(), DType::bf16);
  EXPECT_EQ(r.item_as_double(0), 1.0);
  EXPECT_EQ(r.item_as_double(1), -3.5);
}

TEST(NpyTest, ReadsVersions2And3AndLooseHeaders) {
  TempDir dir;
  for (int major : {1, 2, 3}) {
    write_bytes(dir.file("v.npy"),
                make_npy("{\"shape\": (1, 2), \"fortran_order\": False, \"descr\": \"<f4\"}",
                         f32_bytes({1.5f, 2.5f}), major));
    Tensor r = read_npy(dir.file("v.npy"));
    EXPECT_EQ(r.shape(), (Shape{1, 2}));
    EXPECT_EQ(r.item_as_double(1), 2.5);
  }
  // Python 2 era numpy wrote long integers with an L suffix.
  write_bytes(
      dir.file("l.npy"),
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }", f32_bytes({1, 2})));
  EXPECT_EQ(read_npy(dir.file("l.npy")).numel(), 2);
}

TEST(NpyTest, WritesVersion2ForHugeHeaders) {
  TempDir dir;
  // A 0-size tensor of rank 30000 needs a header longer than 65535 bytes.
  Shape shape(30000, 1);
  shape[0] = 0;
  write_npy(dir.file("h.npy"), Tensor::zeros(shape, DType::f32));
  std::string bytes = read_bytes(dir.file("h.npy"));
  EXPECT_EQ(bytes[6], 2);
  EXPECT_EQ(read_npy(dir.file("h.npy")).shape(), shape);
}

TEST(NpyTest, WriteCopiesFromDevice) {
  TempDir dir;
  test::FakeCudaAllocator fake_cuda;
  Tensor dev = Tensor::from_doubles({2}, {5, 6}, DType::i32).to(Device::cuda());
  write_npy(dir.file("d.npy"), dev);
  EXPECT_EQ(read_npy(dir.file("d.npy")).item_as_double(1), 6.0);
}

struct BadFile {
  const char* name;
  std::string bytes;
  std::vector<std::string> expected;  // substrings of the error
};

TEST(NpyTest, MalformedFilesGiveClearErrors) {
  TempDir dir;
  const std::string f4 = "'descr': '<f4', 'fortran_order': False";
  const std::vector<BadFile> cases = {
      {"empty.npy", "", {"is not a .npy file", "numpy.save"}},
      {"magic.npy", "PK\x03\x04 this is a zip", {"is not a .npy file"}},
      {"version.npy",
       make_npy("{" + f4 + ", 'shape': (2,)}", f32_bytes({1, 2}), 4),
       {"uses .npy format version 4.0", "versions 1.0, 2.0 and 3.0"}},
      {"minor.npy",
       make_npy("{" + f4 + ", 'shape': (2,)}", f32_bytes({1, 2}), 1, 1),
       {"version 1.1"}},
      {"preamble.npy", std::string("\x93NUMPY\x01\x00\x10", 9), {"truncated inside the .npy"}},
      {"header_len.npy",
       std::string("\x93NUMPY\x01\x00\x00\x01{'descr'", 18),
       {"is truncated: the header claims 256 bytes"}},
      {"syntax.npy",
       make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", ""),
       {"cannot parse the .npy header of", "header: {'descr'"}},
      {"notdict.npy", make_npy("[1, 2]", ""), {"cannot parse the .npy header", "expected '{'"}},
      {"nokey.npy",
       make_npy("{'descr': '<f4', 'shape': (2,)}", f32_bytes({1, 2})),
       {"'fortran_order' key is missing"}},
      {"badshape.npy",
       make_npy("{" + f4 + ", 'shape': (2, 'x')}", ""),
       {"'shape' must hold integers"}},
      {"negshape.npy", make_npy("{" + f4 + ", 'shape': (-2,)}", ""), {"negative dimension"}},
      {"fortran.npy",
       make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}",
                f32_bytes({1, 2, 3, 4})),
       {"Fortran (column-major) order", "np.ascontiguousarray"}},
      {"bigendian.npy",
       make_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,)}", f32_bytes({1})),
       {"big-endian data (descr '>f4')", "newbyteorder"}},
      {"f128.npy",
       make_npy("{'descr': '<f16', 'fortran_order': False, 'shape': (1,)}", std::string(16, '\0')),
       {"has dtype float128 (descr '<f16')",
        "hint: cast to float32 first: np.save(path, a.astype(np.float32))"}},
      {"u1.npy",
       make_npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1,)}", "x"),
       {"has dtype uint8", "a.astype(np.int32)"}},
      {"u2.npy",
       make_npy("{'descr': '<u2', 'fortran_order': False, 'shape': (1,)}", std::string(2, '\0')),
       {"holds uint16 data (descr '<u2')", "'jagtile_dtype': 'bfloat16'"}},
      {"marker_f4.npy",
       make_npy("{" + f4 + ", 'shape': (1,), 'jagtile_dtype': 'bfloat16'}", f32_bytes({1})),
       {"is marked jagtile_dtype 'bfloat16' but its descr is '<f4'"}},
      {"marker_other.npy",
       make_npy("{'descr': '<u2', 'fortran_order': False, 'shape': (1,)} # jagtile_dtype: fp8",
                std::string(2, '\0')),
       {"unknown jagtile_dtype 'fp8'"}},
      {"structured.npy",
       make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", f32_bytes({1})),
       {"structured dtypes"}},
      {"object.npy",
       make_npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", ""),
       {"unsupported dtype descr '|O'"}},
      {"truncated.npy",
       make_npy("{" + f4 + ", 'shape': (2, 3)}", f32_bytes({1, 2, 3, 4})),
       {"is truncated: shape [2, 3] float32 needs 24 bytes of data but the file has 16"}},
      {"trailing.npy",
       make_npy("{" + f4 + ", 'shape': (1,)}", f32_bytes({1, 2})),
       {"has 8 bytes of data but shape [1] float32 needs 4"}},
      {"huge.npy",
       make_npy("{" + f4 + ", 'shape': (9223372036854775807, 9223372036854775807)}", ""),
       {"impossibly large shape"}},
  };
  for (const BadFile& c : cases) {
    std::string path = dir.file(c.name);
    write_bytes(path, c.bytes);
    std::string text = user_error_text([&] { read_npy(path); });
    EXPECT_THAT(text, HasSubstr("'" + path + "'")) << c.name;  // always names the file
    for (const std::string& expected : c.expected) EXPECT_THAT(text, HasSubstr(expected)) << c.name;
  }
}

TEST(NpyTest, CannotOpenNamesTheFile) {
  TempDir dir;
  std::string missing = dir.file("missing.npy");
  EXPECT_THAT(user_error_text([&] { read_npy(missing); }),
              HasSubstr("cannot open '" + missing + "': No such file or directory"));
  EXPECT_THAT(user_error_text([&] { read_npy(dir.file("")); }), HasSubstr("is a directory"));
  std::string unwritable = dir.file("no/such/dir/out.npy");
  EXPECT_THAT(user_error_text([&] { write_npy(unwritable, Tensor::zeros({1}, DType::f32)); }),
              HasSubstr("cannot open '" + unwritable + "' for writing"));
  EXPECT_THAT(user_error_text([&] { write_npy(dir.file("u.npy"), Tensor()); }),
              HasSubstr("cannot write an undefined tensor"));
}

}  // namespace
}  // namespace jagtile
