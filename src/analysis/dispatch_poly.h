// Index expressions as integer polynomials over named atoms, for the dispatch body match.
//
// The matcher must recognise `starts[:, None] + tile_k.index[None, :]`, `tile_k.index + starts`,
// `(starts + k) * M + cols` and `starts * M + k * M + cols` as the same read. Writing each index
// as a canonical polynomial (unsqueeze and exact casts are transparent, + - * are expanded)
// makes them compare equal, and makes a near miss (`offsets[tile_b.index + 2]`) print readably.
//
// Atoms: a tile's index ("tile_k"), a parameter's size ("x_values.size(1)"), a scalar parameter
// ("n"), a load of a rank-1 parameter at a polynomial index ("x_offsets[tile_b + 1]"), and
// anything else as an opaque atom unique to its node ("<reduce L31>#4"). Shape is not tracked:
// every value is a function of its tile dims' block ids, so the caller checks shapes separately.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/ir.h"

namespace jagtile::analysis::detail {

using Monomial = std::vector<std::string>;  // sorted atom names; empty: the constant term

struct Poly {
  std::map<Monomial, int64_t> terms;  // no zero coefficients

  static Poly constant(int64_t c);
  static Poly atom(std::string name);
  bool operator==(const Poly& o) const { return terms == o.terms; }
  bool operator!=(const Poly& o) const { return terms != o.terms; }
  // Every atom name in the polynomial (a load atom counts as one name; its index is not
  // searched).
  std::set<std::string> atoms() const;
  // The polynomial with atom `from` replaced by atom `to` everywhere it is a factor.
  Poly substitute(const std::string& from, const std::string& to) const;
  // "x_offsets[tile_b + 1] - x_offsets[tile_b]", "0".
  std::string str() const;
};

Poly operator+(const Poly& a, const Poly& b);
Poly operator-(const Poly& a, const Poly& b);
Poly operator*(const Poly& a, const Poly& b);

class PolyBuilder {
 public:
  explicit PolyBuilder(const ir::Kernel& kernel);

  Poly of(const ir::NodePtr& node);
  // The atom naming a tile's index ("tile_b", or "tile_b#0" when two loops share the name).
  std::string index_atom(int block) const;
  std::string size_atom(int param, int dim) const;
  // The atom of a load of rank-1 parameter `param` at `index` ("x_offsets[tile_b + 1]").
  std::string load_atom(int param, const Poly& index) const;
  // The size of a host tensor's dimension (a parameter's size atom, an allocation's size).
  Poly size_of(const ir::NodePtr& tensor, int64_t dim);
  // Whether p names every tensor whose size it holds: size_of names a computed tensor's size by
  // the dimension alone, the same atom for every such tensor, so equal polynomials holding one
  // may be different sizes (fine for the dispatch match, which compares shapes apart; never a
  // proof of a bound).
  static bool sizes_named(const Poly& p);

 private:
  Poly compute(const ir::NodePtr& node);
  Poly opaque(const ir::NodePtr& node);

  const ir::Kernel& kernel_;
  std::unordered_map<const ir::Node*, Poly> memo_;
  std::unordered_map<const ir::Node*, int> opaque_ids_;
};

}  // namespace jagtile::analysis::detail
