// Shared by the C++ (codegen/cpu) and CUDA (codegen/cuda) printers: indented text, the helper
// functions every generated file carries (c_helpers.cpp), and the C spelling of the IR's types
// and element arithmetic (c_arith.cpp).
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace jagtile::codegen {

// Text with indentation.
class Writer {
 public:
  void line(const std::string& s) {
    for (int i = 0; i < indent_; ++i) out_ << "  ";
    out_ << s << "\n";
  }
  void open(const std::string& s) {
    line(s);
    ++indent_;
  }
  void close(const std::string& s = "}") {
    --indent_;
    line(s);
  }
  // "} else {": closes one block and opens the next at the same depth.
  void reopen(const std::string& s) {
    close(s);
    ++indent_;
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
  int indent_ = 0;
};

// The helper functions both dialects share (16-bit float conversions, Python integer division,
// NaN-propagating max / min, the vector math below, ...), written against four names each
// dialect's prelude defines first: JT_INLINE, jt_bits_f, jt_f_bits and the <math.h> functions.
std::string shared_helpers();
// The f32 vector math (c_math.cpp): jt_exp, jt_log, jt_tanh, jt_sigmoid, jt_silu, jt_rsqrt,
// branch-free so that loops over them vectorise, each with an error bound in ulp that
// tests/codegen/vector_math_test.cpp checks over every float. Part of shared_helpers().
std::string math_helpers();
// The argument struct of a matmul block (plan/nest_ir.h, matmul_block), `JtMatmul`, which both
// dialects' block matmuls take.
std::string matmul_struct();
// The C type a value of this dtype is computed in: double for f64, float for the other float
// dtypes, int64_t for integers, bool for booleans.
const char* compute_ctype(DType dtype);
// The C type a tensor of this dtype stores its elements as.
const char* storage_ctype(DType dtype);
// A C++ literal for a double (infinities and NaN included).
std::string double_literal(double v);

// Conversions between compute types, and between compute and storage types (16-bit floats
// round to nearest even on store).
std::string convert(const std::string& e, DType from, DType to);
std::string from_storage(const std::string& e, DType storage);
std::string to_storage(const std::string& e, DType compute, DType storage);
// A value of `compute` type as the float a 16-bit float store narrows (a double rounded to odd,
// so that the second rounding is the only one).
std::string float_to_narrow(const std::string& e, DType compute);
// The C expression of an elementwise node (binary, unary, where, cast, full) on operands.
std::string elementwise(const ir::Node& n, const std::vector<std::string>& ops);

}  // namespace jagtile::codegen
