// Sizes found equal by top-level asserts, unified (see pass_unify_sizes.h): a union-find over
// (parameter, dim) keys and constants, then one rewrite of the nodes after the last assert.
#include "ir/pass_unify_sizes.h"

#include <map>
#include <optional>
#include <utility>

#include "ir/rewrite.h"

namespace jagtile::ir {
namespace {

// A size as the asserts compare it: a parameter's dim {param, dim}, or a constant {-1, value}.
using SizeKey = std::pair<int64_t, int64_t>;

std::optional<SizeKey> size_key(const NodePtr& n) {
  if (n->kind == NodeKind::const_int) return SizeKey{-1, n->ival};
  if (n->kind == NodeKind::size_of && n->operands[0]->kind == NodeKind::param)
    return SizeKey{n->operands[0]->ival, n->ival};
  return std::nullopt;
}

class SizeClasses {
 public:
  // Records a == b.
  void unite(const SizeKey& a, const SizeKey& b) {
    parent_.emplace(a, a);
    parent_.emplace(b, b);
    const SizeKey ra = root(a), rb = root(b);
    if (ra != rb) parent_[rb] = ra;
  }
  bool known(const SizeKey& k) const { return parent_.count(k) != 0; }
  SizeKey root(SizeKey k) {
    while (parent_.at(k) != k) k = parent_[k] = parent_[parent_[k]];
    return k;
  }

 private:
  std::map<SizeKey, SizeKey> parent_;
};

// `assert_(a == b)` over two sizes, else null.
const Node* size_equality(const NodePtr& n) {
  if (n->kind != NodeKind::assert_) return nullptr;
  const NodePtr& c = n->operands[0];
  if (c->kind != NodeKind::binary || c->op != Op::eq) return nullptr;
  if (!size_key(c->operands[0]) || !size_key(c->operands[1])) return nullptr;
  return c.get();
}

}  // namespace

Kernel unify_asserted_sizes(const Kernel& kernel) {
  const Block& body = kernel.body;
  SizeClasses classes;
  std::map<SizeKey, NodePtr> constants;
  size_t last = body.size();
  for (size_t i = 0; i < body.size(); ++i)
    if (const Node* eq = size_equality(body[i])) {
      for (const NodePtr& side : eq->operands)
        if (side->kind == NodeKind::const_int) constants[*size_key(side)] = side;
      classes.unite(*size_key(eq->operands[0]), *size_key(eq->operands[1]));
      last = i;
    }
  if (last == body.size()) return kernel;
  // Where each node sits: the index of its top-level ancestor. Each class is represented by a
  // constant where it has one, else by its earliest top-level size node, which comes before
  // every node it replaces.
  std::map<const Node*, size_t> top_index;
  std::map<SizeKey, std::pair<size_t, NodePtr>> representative;
  for (size_t i = 0; i < body.size(); ++i) {
    walk(Block{body[i]}, [&](const NodePtr& n) { top_index[n.get()] = i; });
    std::optional<SizeKey> k = size_key(body[i]);
    if (!k || body[i]->kind != NodeKind::size_of || !classes.known(*k)) continue;
    representative.emplace(classes.root(*k), std::make_pair(i, body[i]));
  }
  for (const auto& [key, node] : constants) representative[classes.root(key)] = {0, node};
  // The nodes after the last assert refer to the representatives instead of the class's other
  // sizes, as operands and as the sizes of their full dims; the sizes themselves stay (dead code
  // elimination takes those no longer used).
  auto unified = [&](const NodePtr& n) -> NodePtr {
    if (!n || n->kind != NodeKind::size_of) return n;
    std::optional<SizeKey> k = size_key(n);
    if (!k || !classes.known(*k)) return n;
    auto rep = representative.find(classes.root(*k));
    return rep == representative.end() ? n : rep->second.second;
  };
  return rewrite_in_place(kernel, [&](const NodePtr& original, const NodePtr& rebuilt) {
    if (top_index.at(original.get()) <= last) return rebuilt;
    Node copy = *rebuilt;
    bool changed = false;
    for (NodePtr& o : copy.operands) {
      NodePtr u = unified(o);
      changed |= u != o;
      o = u;
    }
    for (Dim& d : copy.type.shape) {
      if (d.kind != Dim::Kind::full) continue;
      NodePtr u = unified(d.size);
      changed |= u != d.size;
      d.size = u;
    }
    return changed ? make_node(std::move(copy)) : rebuilt;
  });
}

}  // namespace jagtile::ir
