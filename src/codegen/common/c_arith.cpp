// The element arithmetic shared by the C++ and CUDA printers: the C expression of each
// elementwise node kind (binary, unary, where, cast, full) with torch's semantics on host scalars
// and device values, and the conversions between compute types and storage types (16-bit floats
// rounded on store). The helpers it calls (jt_f2i, jt_bf2f, ...) are in c_helpers.cpp.
#include "codegen/common/c_text.h"
#include "ir/element_arith.h"

namespace jagtile::codegen {

using ir::Node;
using ir::NodeKind;
using ir::Op;

std::string convert(const std::string& e, DType from, DType to) {
  // As in ir::apply_cast: a 16-bit float from a double is held as float32 rounded to odd.
  if ((to == DType::bf16 || to == DType::f16) && from == DType::f64) return "jt_d2f_odd(" + e + ")";
  if (dtype_is_float(to)) return std::string("(") + compute_ctype(to) + ")(" + e + ")";
  if (to == DType::boolean) return "((" + e + ") != 0)";
  if (dtype_is_float(from)) return "jt_f2i(" + e + ")";
  return "(int64_t)(" + e + ")";
}

std::string from_storage(const std::string& e, DType storage) {
  switch (storage) {
    case DType::f32:
    case DType::f64:
      return e;
    case DType::bf16:
      return "jt_bf2f(" + e + ")";
    case DType::f16:
      return "jt_h2f(" + e + ")";
    case DType::i32:
    case DType::i64:
      return "(int64_t)(" + e + ")";
    case DType::boolean:
      return "((" + e + ") != 0)";
  }
  return e;
}

std::string float_to_narrow(const std::string& e, DType compute) {
  // A double narrows to a 16-bit float through float rounded to odd: correctly rounded once.
  return compute == DType::f64 ? "jt_d2f_odd(" + e + ")" : "(float)(" + e + ")";
}

std::string to_storage(const std::string& e, DType compute, DType storage) {
  const std::string as_float = float_to_narrow(e, compute);
  switch (storage) {
    case DType::f32:
      return "(float)(" + e + ")";
    case DType::f64:
      return "(double)(" + e + ")";
    case DType::bf16:
      return "jt_f2bf(" + as_float + ")";
    case DType::f16:
      return "jt_f2h(" + as_float + ")";
    case DType::i32:
      return dtype_is_float(compute) ? "(int32_t)jt_wrap32(jt_f2i(" + e + "))"
                                     : "(int32_t)jt_wrap32((int64_t)(" + e + "))";
    case DType::i64:
      return dtype_is_float(compute) ? "jt_f2i(" + e + ")" : "(int64_t)(" + e + ")";
    case DType::boolean:
      return "(uint8_t)((" + e + ") != 0)";
  }
  return e;
}

// The C expression of a unary op computed in double (host scalars and f64 values), on operand `x`.
std::string double_unary(Op op, const std::string& x) {
  const std::string a = "(double)(" + x + ")";
  switch (op) {
    case Op::neg:
      return "-(" + x + ")";
    case Op::logical_not:
      return "!(" + x + ")";
    case Op::bit_not:
      return "~(int64_t)(" + x + ")";
    case Op::exp:
      return "exp(" + a + ")";
    case Op::log:
      return "log(" + a + ")";
    case Op::sqrt:
      return "sqrt(" + a + ")";
    case Op::rsqrt:
      return "1.0 / sqrt(" + a + ")";
    case Op::abs:
      return "fabs(" + a + ")";
    case Op::tanh:
      return "tanh(" + a + ")";
    case Op::sigmoid:
      return "1.0 / (1.0 + exp(-" + a + "))";
    case Op::silu:
      return a + " / (1.0 + exp(-" + a + "))";
    case Op::relu:
      return a + " > 0 ? " + a + " : 0.0";
    case Op::gelu:
      return "0.5 * " + a + " * (1.0 + erf(" + a + " * 0.70710678118654752440))";
    case Op::floor:
      return "floor(" + a + ")";
    case Op::ceil:
      return "ceil(" + a + ")";
    case Op::sin:
      return "sin(" + a + ")";
    case Op::cos:
      return "cos(" + a + ")";
    default:
      JAGTILE_CHECK(false, << "unary op " << ir::op_name(op));
  }
  return {};
}

// The arithmetic of binary / unary / where / cast / full, given operand expressions.
std::string elementwise(const Node& n, const std::vector<std::string>& ops) {
  bool host = n.type.is_host_scalar();
  auto od = [&](size_t i) { return ir::operand_dtype(*n.operand(i)); };
  switch (n.kind) {
    case NodeKind::binary: {
      bool host_int = host && n.type.kind != ir::TypeKind::host_float &&
                      n.operand(0)->type.kind != ir::TypeKind::host_float &&
                      n.operand(1)->type.kind != ir::TypeKind::host_float;
      bool host_float = host && !host_int;
      DType ct = host ? (host_int ? DType::i64 : DType::f32) : DType(n.ival);
      std::string cty = host_float ? "double" : compute_ctype(ct);
      std::string a, b;
      if (host_float && !ir::op_is_comparison(n.op) && n.op != Op::maximum && n.op != Op::minimum) {
        a = "(double)(" + ops[0] + ")";
        b = "(double)(" + ops[1] + ")";
      } else if (host_float) {  // the interpreter compares host floats as fp32
        a = "(double)(float)(" + ops[0] + ")";
        b = "(double)(float)(" + ops[1] + ")";
      } else {
        a = convert(ops[0], od(0), ct);
        b = convert(ops[1], od(1), ct);
      }
      bool fl = host_float || dtype_is_float(ct);
      std::string r;
      switch (n.op) {
        case Op::add:
          r = a + " + " + b;
          break;
        case Op::sub:
          r = a + " - " + b;
          break;
        case Op::mul:
          r = a + " * " + b;
          break;
        case Op::div:
          r = fl ? a + " / " + b : "(" + b + " == 0 ? 0 : " + a + " / " + b + ")";
          break;
        case Op::floordiv:
          r = "jt_floordiv(" + a + ", " + b + ")";
          break;
        case Op::mod:
          r = "jt_mod(" + a + ", " + b + ")";
          break;
        case Op::pow:
          r = host_float || ct == DType::f64 ? "pow(" + a + ", " + b + ")"
              : fl                           ? "powf(" + a + ", " + b + ")"
                                             : "jt_ipow(" + a + ", " + b + ")";
          break;
        case Op::lt:
          r = a + " < " + b;
          break;
        case Op::le:
          r = a + " <= " + b;
          break;
        case Op::gt:
          r = a + " > " + b;
          break;
        case Op::ge:
          r = a + " >= " + b;
          break;
        case Op::eq:
          r = a + " == " + b;
          break;
        case Op::ne:
          r = a + " != " + b;
          break;
        case Op::logical_and:
          r = "(" + a + " != 0) && (" + b + " != 0)";
          break;
        case Op::logical_or:
          r = "(" + a + " != 0) || (" + b + " != 0)";
          break;
        case Op::bit_and:
        case Op::bit_or:
        case Op::bit_xor: {
          const char* o = n.op == Op::bit_and ? " & " : n.op == Op::bit_or ? " | " : " ^ ";
          r = fl ? "(" + cty + ")(jt_f2i(" + a + ")" + o + "jt_f2i(" + b + "))" : a + o + b;
          break;
        }
        case Op::maximum:
          r = "jt_max(" + a + ", " + b + ")";
          break;
        case Op::minimum:
          r = "jt_min(" + a + ", " + b + ")";
          break;
        default:
          JAGTILE_CHECK(false, << "binary op " << ir::op_name(n.op));
      }
      std::string rt = host ? (n.type.kind == ir::TypeKind::host_int    ? "int64_t"
                               : n.type.kind == ir::TypeKind::host_bool ? "bool"
                                                                        : "double")
                            : compute_ctype(n.type.dtype);
      if (host && n.type.kind == ir::TypeKind::host_int && fl) return "jt_f2i(" + r + ")";
      if (!host && !dtype_is_float(n.type.dtype) && n.type.dtype != DType::boolean && fl &&
          !ir::op_is_comparison(n.op))
        return "jt_f2i(" + r + ")";
      return "(" + rt + ")(" + r + ")";
    }
    case NodeKind::unary: {
      if (host) {
        std::string r = double_unary(n.op, ops[0]);
        if (n.type.kind == ir::TypeKind::host_int)
          return n.op == Op::neg || n.op == Op::bit_not ? "(int64_t)(" + r + ")"
                                                        : "jt_f2i(" + r + ")";
        if (n.type.kind == ir::TypeKind::host_bool) return "(bool)(" + r + ")";
        return "(double)(" + r + ")";
      }
      DType t = n.type.dtype;
      std::string cty = compute_ctype(t);
      if (t == DType::f64) return "(double)(" + double_unary(n.op, convert(ops[0], od(0), t)) + ")";
      if (dtype_is_float(t)) {
        std::string a = convert(ops[0], od(0), t);
        switch (n.op) {
          case Op::neg:
            return "(-" + a + ")";
          case Op::logical_not:
            return "(float)(" + a + " == 0)";
          case Op::bit_not:
            return "(float)(~jt_f2i(" + a + "))";
          case Op::exp:
            return "jt_exp(" + a + ")";
          case Op::log:
            return "jt_log(" + a + ")";
          case Op::sqrt:
            return "sqrtf(" + a + ")";
          case Op::rsqrt:
            return "jt_rsqrt(" + a + ")";
          case Op::abs:
            return "fabsf(" + a + ")";
          case Op::tanh:
            return "jt_tanh(" + a + ")";
          case Op::sigmoid:
            return "jt_sigmoid(" + a + ")";
          case Op::silu:
            return "jt_silu(" + a + ")";
          case Op::relu:
            return "(" + a + " > 0 ? " + a + " : 0.0f)";
          case Op::gelu:
            return "jt_gelu(" + a + ")";
          case Op::floor:
            return "floorf(" + a + ")";
          case Op::ceil:
            return "ceilf(" + a + ")";
          case Op::sin:
            return "sinf(" + a + ")";
          case Op::cos:
            return "cosf(" + a + ")";
          default:
            JAGTILE_CHECK(false, << "unary op " << ir::op_name(n.op));
        }
      }
      std::string a = convert(ops[0], od(0), t);
      switch (n.op) {
        case Op::neg:
          return "(" + cty + ")(-" + a + ")";
        case Op::logical_not:
          return "(" + cty + ")(" + a + " == 0)";
        case Op::bit_not:
          return t == DType::boolean ? "(!" + a + ")" : "(~" + a + ")";
        case Op::abs:
          return "(" + cty + ")(" + a + " < 0 ? -" + a + " : " + a + ")";
        case Op::relu:
          return "(" + cty + ")(" + a + " > 0 ? " + a + " : 0)";
        case Op::floor:
        case Op::ceil:
          return a;
        default: {
          Node f = n;
          f.type.dtype = DType::f32;
          return convert(elementwise(f, {"(float)(" + ops[0] + ")"}), DType::f32, t);
        }
      }
    }
    case NodeKind::where: {
      if (host) {
        std::string rt = n.type.kind == ir::TypeKind::host_int    ? "int64_t"
                         : n.type.kind == ir::TypeKind::host_bool ? "bool"
                                                                  : "double";
        return "((" + ops[0] + ") ? (" + rt + ")(" + ops[1] + ") : (" + rt + ")(" + ops[2] + "))";
      }
      DType t = n.type.dtype;
      return "((" + ops[0] + ") != 0 ? " + convert(ops[1], od(1), t) + " : " +
             convert(ops[2], od(2), t) + ")";
    }
    case NodeKind::cast: {
      if (host) {
        bool from_float =
            n.operand(0)->type.kind == ir::TypeKind::host_float ||
            (n.operand(0)->type.is_value() && dtype_is_float(n.operand(0)->type.dtype));
        if (n.type.kind == ir::TypeKind::host_int)
          return from_float ? "jt_f2i(" + ops[0] + ")" : "(int64_t)(" + ops[0] + ")";
        if (n.type.kind == ir::TypeKind::host_bool) return "((" + ops[0] + ") != 0)";
        return "(double)(" + ops[0] + ")";
      }
      DType t = n.type.dtype;
      std::string e = convert(ops[0], od(0), t);
      if (t == DType::i32) return "jt_wrap32(" + e + ")";
      return e;
    }
    case NodeKind::full:
      return convert(ops[0], od(0), n.type.dtype);
    default:
      JAGTILE_CHECK(false, << "not elementwise: " << ir::kind_name(n.kind));
  }
  return {};
}

}  // namespace jagtile::codegen
