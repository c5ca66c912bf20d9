// Inner program loops (see inner_programs.h): the checks, each a plain walk over the outer
// loop's body.
#include "analysis/inner_programs.h"

#include <unordered_set>

namespace jagtile::analysis {

namespace {

using ir::Node;
using ir::NodeKind;

// A value the outer body may compute once per (outer, inner) pair instead of once per outer
// iteration: a scalar without effects beyond a load's bounds check.
bool pure_scalar(const Node& n) {
  switch (n.kind) {
    case NodeKind::tile_attr:
    case NodeKind::load:
    case NodeKind::binary:
    case NodeKind::unary:
    case NodeKind::where:
    case NodeKind::cast:
      return n.type.is_scalar() && n.regions.empty();
    default:
      return ir::is_const(n);
  }
}

// The tensor a view (or a chain of views) shares its storage with.
const Node* storage_of(const Node* t) {
  while (t->kind == NodeKind::view) t = t->operand(0).get();
  return t;
}

// `n` is the inner loop's index, possibly given a broadcast dim by unsqueeze.
bool is_index_of(const Node& n, int block) {
  const Node* x = &n;
  while (x->kind == NodeKind::unsqueeze) x = x->operand(0).get();
  return x->kind == NodeKind::tile_attr && x->op == ir::Op::index && x->ival == block;
}

// Every store in `body` indexes a dimension with the loop's own index; collects the storage of
// the tensors stored to, and the variables declared inside.
bool stores_split_by_index(const ir::Block& body, int block,
                           std::unordered_set<const Node*>& stored,
                           std::unordered_set<const Node*>& declared) {
  bool ok = true;
  ir::walk(body, [&](const ir::NodePtr& n) {
    if (n->kind == NodeKind::var_decl) declared.insert(n.get());
    if (n->kind != NodeKind::store) return;
    const Node* tensor = n->operand(0).get();
    const int rank = tensor->type.rank;
    bool split = false;
    for (int d = 0; d < rank; ++d) split = split || is_index_of(*n->operand(size_t(1 + d)), block);
    ok = ok && split;
    stored.insert(storage_of(tensor));
  });
  return ok;
}

}  // namespace

const Node* inner_program_loop(const Node& outer) {
  if (outer.kind != NodeKind::grid_loop || outer.regions.empty()) return nullptr;
  const ir::Block& body = outer.regions[0];
  if (body.empty()) return nullptr;
  const Node& inner = *body.back();
  if (inner.kind != NodeKind::grid_loop) return nullptr;
  for (size_t i = 0; i + 1 < body.size(); ++i)
    if (!pure_scalar(*body[i])) return nullptr;
  // Bounds: 0 to a value the host computes before the launch.
  const ir::NodePtr& begin = inner.operand(0);
  const ir::NodePtr& end = inner.operand(1);
  if (!(begin->kind == NodeKind::const_int && begin->ival == 0)) return nullptr;
  for (const ir::NodePtr& n : body)
    if (n == end) return nullptr;
  if (end->type.kind != ir::TypeKind::host_int && !ir::is_const(end) &&
      end->kind != NodeKind::param)
    return nullptr;
  std::unordered_set<const Node*> stored, declared;
  if (!stores_split_by_index(inner.regions.at(0), int(inner.ival), stored, declared))
    return nullptr;
  bool independent = true;
  ir::walk(body, [&](const ir::NodePtr& n) {
    if (n->kind == NodeKind::load && stored.count(storage_of(n->operand(0).get())))
      independent = false;
    if (n->kind == NodeKind::var_assign && !declared.count(n->operand(0).get()))
      independent = false;
    // Its one iteration per program counts from there: `.id` would read 0.
    if (n->kind == NodeKind::tile_attr && n->op == ir::Op::id && n->ival == inner.ival)
      independent = false;
  });
  return independent ? &inner : nullptr;
}

}  // namespace jagtile::analysis
