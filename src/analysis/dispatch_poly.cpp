// Index polynomials for the dispatch body match (see dispatch_poly.h). Only rewrites that hold
// exactly in 64-bit integer arithmetic are applied, so equal polynomials mean equal indices; a
// float operation, a narrowing cast or an unknown node becomes an opaque atom, which can only
// make two indices compare unequal (a missed match, never a wrong one).
#include "analysis/dispatch_poly.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace jagtile::analysis::detail {

using ir::NodeKind;
using ir::NodePtr;
using ir::Op;

Poly Poly::constant(int64_t c) {
  Poly p;
  if (c != 0) p.terms[{}] = c;
  return p;
}

Poly Poly::atom(std::string name) {
  Poly p;
  p.terms[{std::move(name)}] = 1;
  return p;
}

namespace {

void add_term(Poly& p, const Monomial& m, int64_t c) {
  int64_t& v = p.terms[m];
  v += c;
  if (v == 0) p.terms.erase(m);
}

}  // namespace

Poly operator+(const Poly& a, const Poly& b) {
  Poly r = a;
  for (const auto& [m, c] : b.terms) add_term(r, m, c);
  return r;
}

Poly operator-(const Poly& a, const Poly& b) {
  Poly r = a;
  for (const auto& [m, c] : b.terms) add_term(r, m, -c);
  return r;
}

Poly operator*(const Poly& a, const Poly& b) {
  Poly r;
  for (const auto& [ma, ca] : a.terms) {
    for (const auto& [mb, cb] : b.terms) {
      Monomial m = ma;
      m.insert(m.end(), mb.begin(), mb.end());
      std::sort(m.begin(), m.end());
      add_term(r, m, ca * cb);
    }
  }
  return r;
}

std::set<std::string> Poly::atoms() const {
  std::set<std::string> out;
  for (const auto& [m, c] : terms) out.insert(m.begin(), m.end());
  return out;
}

Poly Poly::substitute(const std::string& from, const std::string& to) const {
  Poly r;
  for (const auto& [m, c] : terms) {
    Monomial renamed = m;
    std::replace(renamed.begin(), renamed.end(), from, to);
    std::sort(renamed.begin(), renamed.end());
    add_term(r, renamed, c);
  }
  return r;
}

std::string Poly::str() const {
  if (terms.empty()) return "0";
  std::ostringstream os;
  bool first = true;
  // Atoms first, the constant last: "x_offsets[tile_b] + tile_k + 1".
  auto emit = [&](const Monomial& m, int64_t c) {
    int64_t mag = c < 0 ? -c : c;
    if (first) {
      if (c < 0) os << "-";
    } else {
      os << (c < 0 ? " - " : " + ");
    }
    first = false;
    if (m.empty()) {
      os << mag;
      return;
    }
    if (mag != 1) os << mag << "*";
    for (size_t i = 0; i < m.size(); ++i) os << (i ? "*" : "") << m[i];
  };
  for (const auto& [m, c] : terms)
    if (!m.empty()) emit(m, c);
  auto it = terms.find(Monomial{});
  if (it != terms.end()) emit(it->first, it->second);
  return os.str();
}

PolyBuilder::PolyBuilder(const ir::Kernel& kernel) : kernel_(kernel) {}

std::string PolyBuilder::index_atom(int block) const {
  const auto& blocks = kernel_.blocks;
  std::string name =
      block >= 0 && size_t(block) < blocks.size() && !blocks[size_t(block)].name.empty()
          ? blocks[size_t(block)].name
          : "block";
  int same = 0;
  for (const ir::BlockInfo& b : blocks) same += b.name == name;
  return same > 1 || name == "block" ? name + "#" + std::to_string(block) : name;
}

std::string PolyBuilder::size_atom(int param, int dim) const {
  return kernel_.params.at(size_t(param)).name + ".size(" + std::to_string(dim) + ")";
}

std::string PolyBuilder::load_atom(int param, const Poly& index) const {
  return kernel_.params.at(size_t(param)).name + "[" + index.str() + "]";
}

Poly PolyBuilder::of(const NodePtr& node) {
  auto it = memo_.find(node.get());
  if (it != memo_.end()) return it->second;
  Poly p = compute(node);
  memo_.emplace(node.get(), p);
  return p;
}

Poly PolyBuilder::opaque(const NodePtr& node) {
  auto [it, inserted] = opaque_ids_.emplace(node.get(), int(opaque_ids_.size()));
  std::ostringstream os;
  os << "<" << ir::kind_name(node->kind);
  if (node->op != Op::none) os << "." << ir::op_name(node->op);
  if (node->loc.line > 0) os << " L" << node->loc.line;
  os << ">#" << it->second;
  return Poly::atom(os.str());
}

namespace {

const std::string kComputedSize = "<size(";  // the start of a computed tensor's size atom

bool is_int_dtype(DType d) {
  return d == DType::i32 || d == DType::i64;
}

// Integer-valued node: a host int, or a device value of an integer dtype.
bool is_integral(const ir::Type& t) {
  if (t.kind == ir::TypeKind::host_int) return true;
  return t.is_value() && is_int_dtype(t.dtype);
}

}  // namespace

Poly PolyBuilder::size_of(const NodePtr& tensor, int64_t dim) {
  switch (tensor->kind) {
    case NodeKind::param:
      return Poly::atom(size_atom(int(tensor->ival), int(dim)));
    case NodeKind::alloc:
      // operands {size..., [fill]}: the size operands are the shape.
      if (dim < tensor->type.rank) return of(tensor->operand(size_t(dim)));
      break;
    case NodeKind::view: {
      const auto& ops = tensor->operands;
      const NodePtr& src = ops.front();
      if (ops.size() == 2 && dim == 0 && ops[1]->kind == NodeKind::const_int &&
          ops[1]->ival == -1) {
        Poly n = Poly::constant(1);
        for (int d = 0; d < src->type.rank; ++d) n = n * size_of(src, d);
        return n;
      }
      break;
    }
    default:
      break;
  }
  return Poly::atom(kComputedSize + std::to_string(dim) + ") of a computed tensor>");
}

bool PolyBuilder::sizes_named(const Poly& p) {
  for (const std::string& a : p.atoms())
    if (a.rfind(kComputedSize, 0) == 0) return false;
  return true;
}

Poly PolyBuilder::compute(const NodePtr& n) {
  switch (n->kind) {
    case NodeKind::const_int:
    case NodeKind::const_bool:
      return Poly::constant(n->ival);
    case NodeKind::const_float:
      if (std::isfinite(n->fval) && n->fval == std::trunc(n->fval) && std::fabs(n->fval) < 9e15)
        return Poly::constant(int64_t(n->fval));
      return opaque(n);
    case NodeKind::param:
      if (n->type.kind == ir::TypeKind::host_int)
        return Poly::atom(kernel_.params.at(size_t(n->ival)).name);
      return opaque(n);
    case NodeKind::size_of:
      return size_of(n->operand(0), n->ival);
    case NodeKind::numel: {
      const NodePtr& t = n->operand(0);
      Poly p = Poly::constant(1);
      for (int d = 0; d < t->type.rank; ++d) p = p * size_of(t, d);
      return p;
    }
    case NodeKind::tile_attr:
      if (n->op == Op::index) return Poly::atom(index_atom(int(n->ival)));
      return opaque(n);
    case NodeKind::unsqueeze:
      return of(n->operand(0));
    case NodeKind::cast: {
      const ir::Type& from = n->operand(0)->type;
      const ir::Type& to = n->type;
      if (!is_integral(from)) return opaque(n);
      // Widening (or same-width) integer casts are exact; int -> f32 is how a kernel counts
      // rows in float, and the template counts the same way (float(nnz)).
      if (to.kind == ir::TypeKind::host_int) return of(n->operand(0));
      if (to.kind == ir::TypeKind::host_float) return of(n->operand(0));
      if (to.is_value() &&
          (to.dtype == DType::i64 || to.dtype == from.dtype || to.dtype == DType::f32))
        return of(n->operand(0));
      return opaque(n);
    }
    case NodeKind::unary:
      if (n->op == Op::neg && is_integral(n->type)) return Poly::constant(0) - of(n->operand(0));
      return opaque(n);
    case NodeKind::binary:
      if (!is_integral(n->type)) return opaque(n);
      if (n->op == Op::add) return of(n->operand(0)) + of(n->operand(1));
      if (n->op == Op::sub) return of(n->operand(0)) - of(n->operand(1));
      if (n->op == Op::mul) return of(n->operand(0)) * of(n->operand(1));
      return opaque(n);
    case NodeKind::load: {
      const NodePtr& t = n->operand(0);
      if (t->kind == NodeKind::param && t->type.rank == 1 && n->ival == 0 &&
          n->operands.size() == 2)
        return Poly::atom(load_atom(int(t->ival), of(n->operand(1))));
      return opaque(n);
    }
    default:
      return opaque(n);
  }
}

}  // namespace jagtile::analysis::detail
