// IR printer: one line per node, nested blocks indented, values numbered %0, %1, ... in the
// order they are defined, constants written inline, each line ending with its source line.
#include "ir/printer.h"

#include <cmath>
#include <iomanip>
#include <sstream>
#include <unordered_map>

namespace jagtile::ir {
namespace {

class Printer {
 public:
  explicit Printer(const Kernel& k) : k_(k) {}

  std::string run() {
    os_ << "kernel " << k_.name << "(";
    for (size_t i = 0; i < k_.params.size(); ++i) {
      const ParamSpec& p = k_.params[i];
      os_ << (i ? ", " : "") << p.name << ": ";
      switch (p.kind) {
        case ParamKind::tensor:
          os_ << "tensor<" << dtype_short_name(p.dtype) << ", rank " << p.rank;
          if (!p.device.is_cpu()) os_ << ", " << p.device.str();
          os_ << ">";
          break;
        case ParamKind::none:
          os_ << "None";
          break;
        case ParamKind::int_scalar:
          os_ << "int";
          break;
        case ParamKind::float_scalar:
          os_ << "float";
          break;
        case ParamKind::bool_scalar:
          os_ << "bool";
          break;
      }
    }
    os_ << ")\n";
    for (const BlockInfo& b : k_.blocks) {
      os_ << "  block #" << b.id << " " << (b.name.empty() ? "?" : b.name) << ": ";
      os_ << (b.kind == LoopKind::tile ? "tile" : b.kind == LoopKind::grid ? "grid" : "jagged");
      os_ << " size " << b.block_size;
      if (!b.parents.empty()) {
        os_ << " parents [";
        for (size_t i = 0; i < b.parents.size(); ++i) os_ << (i ? ", " : "") << "#" << b.parents[i];
        os_ << "]";
      }
      os_ << "\n";
    }
    block(k_.body, 1);
    return os_.str();
  }

 private:
  std::string ref(const NodePtr& n) {
    if (!n) return "<null>";
    switch (n->kind) {
      case NodeKind::const_int:
        return std::to_string(n->ival);
      case NodeKind::const_bool:
        return n->ival ? "True" : "False";
      case NodeKind::const_float: {
        if (std::isinf(n->fval)) return n->fval > 0 ? "inf" : "-inf";
        if (std::isnan(n->fval)) return "nan";
        std::ostringstream s;
        s << std::setprecision(9) << n->fval;
        std::string t = s.str();
        if (t.find_first_of(".e") == std::string::npos) t += ".0";
        return t;
      }
      case NodeKind::param:
        return "$" + n->name;
      default:
        break;
    }
    auto it = ids_.find(n.get());
    if (it == ids_.end()) return "%?" + std::string(kind_name(n->kind));
    return "%" + std::to_string(it->second);
  }

  std::string dim(const Dim& d) {
    if (d.kind == Dim::Kind::full) return "full(" + ref(d.size) + ")";
    return dim_str(d, &k_);
  }

  std::string type(const Type& t) {
    if (t.kind != TypeKind::value) return type_str(t, &k_);
    std::string s = std::string(dtype_short_name(t.dtype)) + "[";
    for (size_t i = 0; i < t.shape.size(); ++i) s += (i ? ", " : "") + dim(t.shape[i]);
    return s + "]";
  }

  void line(int indent, const std::string& text, const Node& n) {
    std::string pad(size_t(indent) * 2, ' ');
    std::string full = pad + text;
    os_ << full;
    if (n.loc.line > 0) {
      if (full.size() < 72) os_ << std::string(72 - full.size(), ' ');
      os_ << "  # L" << n.loc.line;
    }
    os_ << "\n";
  }

  void block(const Block& b, int indent) {
    for (const NodePtr& n : b) node(*n, n, indent);
  }

  void node(const Node& n, const NodePtr& self, int indent) {
    std::ostringstream s;
    bool has_value = n.type.kind != TypeKind::none;
    if (has_value) {
      ids_[&n] = next_++;
      s << ref(self) << " = ";
    }
    s << kind_name(n.kind);
    if (n.op != Op::none) s << "." << op_name(n.op);
    switch (n.kind) {
      case NodeKind::tile_attr:
      case NodeKind::tile_loop:
      case NodeKind::grid_loop:
      case NodeKind::jagged_loop:
        s << " #" << n.ival;
        break;
      case NodeKind::size_of:
      case NodeKind::unsqueeze:
        s << " [" << n.ival << "]";
        break;
      case NodeKind::permute:
        s << " perm(";
        for (size_t i = 0; i < n.ints.size(); ++i) s << (i ? "," : "") << n.ints[i];
        s << ")";
        break;
      case NodeKind::scan:
        s << " dim(" << n.ints.at(0) << ")";
        break;
      case NodeKind::reduce: {
        s << " dims(";
        for (size_t i = 0; i < n.ints.size(); ++i) s << (i ? "," : "") << n.ints[i];
        s << ")";
        break;
      }
      case NodeKind::alloc:
        s << " " << dtype_short_name(n.type.dtype);
        break;
      case NodeKind::matmul:  // "band.zero_a(#2, #3, +0)": see pass_band_matmuls.h
        if (n.ints.size() == 4)
          s << " band." << (n.ints[0] == 1 ? "zero_a" : "unused_c") << "(#" << n.ints[1] << ", #"
            << n.ints[2] << ", " << (n.ints[3] >= 0 ? "+" : "") << n.ints[3] << ")";
        break;
      case NodeKind::load:
        if (n.ival) s << " masked";
        break;
      case NodeKind::store:
        if (n.ival) s << " masked";
        break;
      default:
        break;
    }
    for (size_t i = 0; i < n.operands.size(); ++i) s << (i ? ", " : " ") << ref(n.operands[i]);
    if (n.kind == NodeKind::var_decl || (n.kind == NodeKind::assert_ && !n.name.empty()))
      s << "  \"" << n.name << "\"";
    if (has_value) {
      s << " : " << type(n.type);
      if (!n.name.empty() && n.kind != NodeKind::var_decl && n.kind != NodeKind::param)
        s << "  '" << n.name << "'";
    }
    if (n.regions.empty()) {
      line(indent, s.str(), n);
      return;
    }
    line(indent, s.str() + " {", n);
    for (size_t r = 0; r < n.regions.size(); ++r) {
      if (r > 0) os_ << std::string(size_t(indent) * 2, ' ') << "} else {\n";
      block(n.regions[r], indent + 1);
    }
    os_ << std::string(size_t(indent) * 2, ' ') << "}\n";
  }

  const Kernel& k_;
  std::ostringstream os_;
  std::unordered_map<const Node*, int> ids_;
  int next_ = 0;
};

}  // namespace

std::string print_kernel(const Kernel& kernel) {
  return Printer(kernel).run();
}

}  // namespace jagtile::ir
