// The emitter's plan: program order, users and nesting of every placed node, and the fusion
// decision for each device value. A value is fused (computed per element inside its consumer's
// loop nest instead of into a tile array) when it is cheap index arithmetic, or when it has a
// single consumer in the same block and nothing between the two can change what it reads (no
// store for a load, no assignment of the variable for a variable read). A plain load with
// several consumers in its block is fused into each of them on the same condition
// (rematerialise_load).
#include <algorithm>
#include <functional>

#include "codegen/cpu/emit_impl.h"

namespace jagtile::codegen::cpu::detail {

namespace {

bool elementwise_kind(NodeKind k) {
  switch (k) {
    case NodeKind::binary:
    case NodeKind::unary:
    case NodeKind::where:
    case NodeKind::cast:
    case NodeKind::unsqueeze:
    case NodeKind::full:
    case NodeKind::tile_attr:
    case NodeKind::iota:
    case NodeKind::load:
    case NodeKind::var_read:
      return true;
    default:
      return false;
  }
}

bool cheap_unary(Op op) {
  return op == Op::neg || op == Op::abs || op == Op::logical_not || op == Op::bit_not ||
         op == Op::relu;
}

// The tensor a load or store accesses, through views.
const Node* root_tensor(const Node* t) {
  while (t->kind == NodeKind::view) t = t->operand(0).get();
  return t;
}

}  // namespace

// A node that can take a fused operand: an elementwise device value, a reduction, a store or
// a variable assignment.
bool Emitter::fusing_consumer(const Node& u) const {
  return (elementwise_kind(u.kind) && is_device_value(u)) || u.kind == NodeKind::reduce ||
         u.kind == NodeKind::store || u.kind == NodeKind::var_assign;
}

// Whether a load or variable read `n`, evaluated later at `ep` instead of where it stands,
// still reads the same value: no store after a load (nor `ep` storing to the loaded tensor),
// no assignment of the variable after a variable read.
bool Emitter::reads_unchanged(const Node& n, const Node& ep,
                              const std::vector<const Node*>& order) const {
  for (int s = facts(n).seq + 1; s < facts(ep).seq; ++s) {
    const Node* m = order[size_t(s)];
    if (n.kind == NodeKind::load && m->kind == NodeKind::store) return false;
    if (n.kind == NodeKind::var_read && m->kind == NodeKind::var_assign &&
        m->operand(0).get() == n.operand(0).get())
      return false;
  }
  return !(n.kind == NodeKind::load && ep.kind == NodeKind::store &&
           root_tensor(ep.operand(0).get()) == root_tensor(n.operand(0).get()));
}

// A load read by several consumers in its own block is loaded again inside each of them
// instead of being copied into a tile array first: the copy is a full extra pass over the tile
// (often larger than the L1 cache), while the reloads hit the cache the first one filled.
// Only plain loads (no mask) whose indices are fused index arithmetic qualify, and only when
// no store between the load and its last consumer can change what it reads.
bool Emitter::rematerialise_load(const Node& n, const std::vector<const Node*>& order,
                                 const std::unordered_set<const Node*>& cheap,
                                 std::unordered_map<const Node*, const Node*>& eval_point) {
  const NodeFacts& f = facts_[&n];
  if (n.ival) return false;
  for (size_t i = 1; i < n.operands.size(); ++i) {
    const Node& o = *n.operand(i);
    if (is_device_value(o) && !cheap.count(&o)) return false;
  }
  // Where the load would be evaluated: at each consumer, or (through fused index arithmetic,
  // which is fused everywhere) at each of that one's consumers; all in the load's block.
  const Node* last = nullptr;
  bool ok = true;
  std::function<void(const Node*)> visit = [&](const Node* u) {
    const NodeFacts& uf = facts_[u];
    if (uf.block != f.block || !fusing_consumer(*u)) {
      ok = false;
      return;
    }
    if (cheap.count(u)) {
      for (const Node* uu : uf.users) visit(uu);
      return;
    }
    auto e = eval_point.find(u);
    const Node* ep = uf.inlined && e != eval_point.end() ? e->second : u;
    if (uf.inlined && e == eval_point.end()) ok = false;
    if (!last || facts_[ep].seq > facts_[last].seq) last = ep;
  };
  for (const Node* u : f.users) visit(u);
  if (!ok || !last) return false;
  if (!reads_unchanged(n, *last, order)) return false;
  eval_point[&n] = last;
  return true;
}

bool Emitter::is_device_value(const Node& n) const {
  return n.type.is_value() && !n.type.shape.empty();
}

bool Emitter::inlined(const Node& n) const {
  auto it = facts_.find(&n);
  return it != facts_.end() && it->second.inlined;
}

const NodeFacts& Emitter::facts(const Node& n) const {
  auto it = facts_.find(&n);
  JAGTILE_CHECK(it != facts_.end(), << "node " << ir::kind_name(n.kind) << " not placed");
  return it->second;
}

void Emitter::plan() {
  // Program order, nesting and users.
  std::vector<const Node*> order;
  std::function<void(const ir::Block&, int)> visit = [&](const ir::Block& b, int depth) {
    for (const NodePtr& n : b) {
      NodeFacts& f = facts_[n.get()];
      f.seq = int(order.size());
      f.block = &b;
      f.depth = depth;
      order.push_back(n.get());
      int inner = depth + (ir::is_loop(n->kind) ? 1 : 0);
      for (const ir::Block& r : n->regions) visit(r, inner);
      f.end_seq = int(order.size()) - 1;
    }
  };
  visit(k_.body, 0);
  for (const Node* n : order)
    for (const NodePtr& o : n->operands) {
      auto it = facts_.find(o.get());
      if (it != facts_.end()) it->second.users.push_back(n);
    }

  // Cheap index arithmetic: fused everywhere (recomputed per element, never stored).
  // An operand that can never be fused (several users, a user elsewhere, not elementwise) is
  // a tile array: reading it is as cheap as reading an index.
  auto always_array = [&](const Node* o) {
    const NodeFacts& f = facts_[o];
    return !elementwise_kind(o->kind) || f.users.size() != 1 || facts_[f.users[0]].block != f.block;
  };
  std::unordered_set<const Node*> cheap;
  for (const Node* n : order) {
    if (!is_device_value(*n) || !elementwise_kind(n->kind)) continue;
    bool ok = n->kind != NodeKind::load && n->kind != NodeKind::var_read &&
              (n->kind != NodeKind::unary || cheap_unary(n->op));
    for (const NodePtr& o : n->operands)
      if (is_device_value(*o) && !cheap.count(o.get()) && !always_array(o.get())) ok = false;
    if (ok) cheap.insert(n);
  }

  // The rest, consumers first: fused into a single consumer in the same block when safe.
  std::unordered_map<const Node*, const Node*> eval_point;
  for (size_t i = order.size(); i-- > 0;) {
    const Node* n = order[i];
    NodeFacts& f = facts_[n];
    if (cheap.count(n)) {
      f.inlined = true;
      continue;
    }
    if (!is_device_value(*n) || !elementwise_kind(n->kind) || f.users.empty()) continue;
    if (f.users.size() > 1) {
      if (n->kind == NodeKind::load && rematerialise_load(*n, order, cheap, eval_point))
        f.inlined = true;
      continue;
    }
    const Node* u = f.users[0];
    const NodeFacts& uf = facts_[u];
    if (uf.block != f.block) continue;
    if (!fusing_consumer(*u)) continue;
    // A value read by a load's or store's index is needed at every position: still fine.
    const Node* ep = uf.inlined ? eval_point.at(u) : u;
    // Any fused operand that reads state extends its range to the same evaluation point;
    // those operands are decided later in this loop with eval_point set below.
    if (!reads_unchanged(*n, *ep, order)) continue;
    f.inlined = true;
    eval_point[n] = ep;
  }
  // Operands of fused nodes that read state must also be checked against the evaluation point
  // of the fused chain: handled above because operands come earlier in program order and look
  // up eval_point of their (fused) user.
}

}  // namespace jagtile::codegen::cpu::detail

namespace jagtile::codegen::cpu {

std::string unsupported_reason(const ir::Kernel& kernel) {
  std::string reason;
  ir::walk(kernel.body, [&](const ir::NodePtr& n) {
    if (!reason.empty()) return;
    if (n->type.is_tensor() && n->type.rank > 8)
      reason = "tensors of rank above 8 are not supported";
  });
  return reason;
}

}  // namespace jagtile::codegen::cpu
