// The host/device split (see host_program.h): one walk over the kernel's host level assigns a
// slot to every host node, compiles it to a step, and turns each outermost loop into a device
// nest whose captures are the host values its body reads.
#include "host/host_program.h"

#include <algorithm>
#include <sstream>
#include <unordered_set>

#include "analysis/inner_programs.h"
#include "analysis/offsets_guards.h"

namespace jagtile::host {

namespace {

class Splitter {
 public:
  explicit Splitter(const ir::Kernel& k) { p_.kernel = &k; }

  HostProgram run() {
    p_.param_slots.assign(p_.kernel->params.size(), -1);
    p_.steps = steps(p_.kernel->body);
    for (DeviceNest& nest : p_.nests) collect_captures(nest);
    add_guards();
    return std::move(p_);
  }

 private:
  int slot_for(const ir::Node* n) {
    auto it = p_.slot_of.find(n);
    if (it != p_.slot_of.end()) return it->second;
    int s = p_.num_slots++;
    p_.slot_of[n] = s;
    p_.slot_nodes.push_back(n);
    if (ir::is_const(*n)) p_.constants.push_back({s, n});
    if (n->kind == ir::NodeKind::param) p_.param_slots.at(size_t(n->ival)) = s;
    return s;
  }

  // A node used as an operand at host level: constants and parameters get slots on first use;
  // any other node must already be placed (operands come first).
  int operand_slot(const ir::NodePtr& o) {
    if (ir::is_const(o) || o->kind == ir::NodeKind::param) return slot_for(o.get());
    auto it = p_.slot_of.find(o.get());
    JAGTILE_CHECK(it != p_.slot_of.end(),
                  << "host node " << ir::kind_name(o->kind) << " used before it is placed");
    return it->second;
  }

  std::vector<HostStep> steps(const ir::Block& block) {
    std::vector<HostStep> out;
    for (const ir::NodePtr& n : block) {
      if (ir::is_const(n) || n->kind == ir::NodeKind::param) continue;
      HostStep s;
      s.node = n.get();
      switch (n->kind) {
        case ir::NodeKind::tile_loop:
        case ir::NodeKind::grid_loop: {
          DeviceNest nest;
          nest.index = int(p_.nests.size());
          nest.loop = n;
          nest.block = int(n->ival);
          nest.block_size = p_.kernel->blocks.at(size_t(n->ival)).block_size;
          nest.begin_slot = operand_slot(n->operand(0));
          nest.end_slot = operand_slot(n->operand(1));
          if (const ir::Node* inner = analysis::inner_program_loop(*n)) {
            nest.inner_block = int(inner->ival);
            nest.inner_end_slot = operand_slot(inner->operands.at(1));
            ir::walk(inner->regions.at(0), [&](const ir::NodePtr& x) {
              nest.inner_matmul = nest.inner_matmul || x->kind == ir::NodeKind::matmul;
            });
          }
          s.nest = nest.index;
          p_.nests.push_back(std::move(nest));
          break;
        }
        case ir::NodeKind::jagged_loop:
          JAGTILE_CHECK(false, << "a jagged_tile loop at host level");
          break;
        case ir::NodeKind::if_:
          s.ops.push_back(operand_slot(n->operand(0)));
          s.then_steps = steps(n->regions.at(0));
          if (n->regions.size() > 1) s.else_steps = steps(n->regions[1]);
          break;
        case ir::NodeKind::var_assign:
          s.slot = operand_slot(n->operand(0));
          s.ops.push_back(operand_slot(n->operand(1)));
          break;
        default:
          for (const ir::NodePtr& o : n->operands) s.ops.push_back(operand_slot(o));
          if (n->type.kind != ir::TypeKind::none) s.slot = slot_for(n.get());
          break;
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  // Every host value the nest's body reads, through operands and the sizes of full dims.
  void collect_captures(DeviceNest& nest) {
    std::unordered_set<const ir::Node*> seen;
    auto consider = [&](const ir::NodePtr& o) {
      if (!o || ir::is_const(o) || !seen.insert(o.get()).second) return;
      bool host = o->kind == ir::NodeKind::param || p_.slot_of.count(o.get());
      if (!host) return;
      Capture c;
      c.node = o.get();
      c.slot = slot_for(o.get());
      if (o->type.is_tensor()) {
        c.kind = Capture::Kind::tensor;
        c.index = nest.num_tensors++;
      } else if (o->type.kind == ir::TypeKind::host_float ||
                 (o->type.is_value() && dtype_is_float(o->type.dtype))) {
        c.kind = Capture::Kind::float64;
        c.index = nest.num_floats++;
      } else {
        c.kind = Capture::Kind::int64;
        c.index = nest.num_ints++;
      }
      nest.captures.push_back(c);
    };
    auto visit_type = [&](const ir::Type& t) {
      for (const ir::Dim& d : t.shape)
        if (d.kind == ir::Dim::Kind::full) consider(d.size);
    };
    for (const ir::Block& r : nest.loop->regions)
      ir::walk(r, [&](const ir::NodePtr& n) {
        for (const ir::NodePtr& o : n->operands) {
          consider(o);
          visit_type(o->type);
        }
        visit_type(n->type);
      });
  }

  // The offsets guards, with the slots the nests' captures gave their tensors. A tensor without
  // a slot is read by no nest, so nothing can index it.
  void add_guards() {
    auto slot_of = [&](const ir::Node* n) {
      if (n->kind == ir::NodeKind::param) return p_.param_slots.at(size_t(n->ival));
      auto it = p_.slot_of.find(n);
      return it == p_.slot_of.end() ? -1 : it->second;
    };
    std::vector<analysis::OffsetsGuard> run;  // the guards as the executor checks them
    for (const analysis::OffsetsGuard& g : analysis::find_offsets_guards(*p_.kernel)) {
      OffsetsGuard h;
      h.offsets_param = g.offsets_param;
      h.offsets_slot = p_.param_slots.at(size_t(g.offsets_param));
      h.offsets_name = g.offsets_name;
      if (h.offsets_slot < 0) continue;
      analysis::OffsetsGuard checked = g;
      checked.rows.clear();
      for (const ir::Node* r : g.rows) {
        int s = slot_of(r);
        if (s < 0) continue;
        h.rows.push_back({s, r->name});
        checked.rows.push_back(r);
      }
      run.push_back(std::move(checked));
      for (DeviceNest& nest : p_.nests) {
        const bool items = nest.loop->kind == ir::NodeKind::grid_loop &&
                           std::count(g.item_blocks.begin(), g.item_blocks.end(), nest.block);
        if (items && nest.item_offsets_slot < 0) nest.item_offsets_slot = h.offsets_slot;
      }
      p_.guards.push_back(std::move(h));
    }
    p_.in_bounds_dims = analysis::dims_within_loops(*p_.kernel);
    for (const ir::Node* access : analysis::rows_within_guards(*p_.kernel, run))
      p_.in_bounds_dims[access] |= 1u;
  }

  HostProgram p_;
};

void print_steps(std::ostringstream& os, const HostProgram& p, const std::vector<HostStep>& steps,
                 int indent) {
  for (const HostStep& s : steps) {
    os << std::string(size_t(indent) * 2, ' ');
    if (s.nest >= 0) {
      const DeviceNest& nest = p.nests.at(size_t(s.nest));
      os << "launch nest " << s.nest << " (loop over "
         << p.kernel->blocks.at(size_t(nest.block)).name << ", line " << s.node->loc.line
         << ", bounds $" << nest.begin_slot << " .. $" << nest.end_slot << ")\n";
      continue;
    }
    if (s.slot >= 0) os << "$" << s.slot << " = ";
    os << ir::kind_name(s.node->kind);
    if (s.node->op != ir::Op::none) os << "." << ir::op_name(s.node->op);
    for (size_t i = 0; i < s.ops.size(); ++i) os << (i ? ", $" : " $") << s.ops[i];
    if (!s.node->name.empty()) os << "  # " << s.node->name;
    os << "\n";
    if (!s.then_steps.empty() || !s.else_steps.empty()) {
      print_steps(os, p, s.then_steps, indent + 1);
      if (!s.else_steps.empty()) {
        os << std::string(size_t(indent) * 2, ' ') << "else\n";
        print_steps(os, p, s.else_steps, indent + 1);
      }
    }
  }
}

}  // namespace

int HostProgram::slot(const ir::Node* node) const {
  auto it = slot_of.find(node);
  JAGTILE_CHECK(it != slot_of.end(), << "no host slot for " << ir::kind_name(node->kind));
  return it->second;
}

std::string HostProgram::to_string() const {
  std::ostringstream os;
  os << "host program (" << num_slots << " slots):\n";
  for (const ConstSlot& c : constants) {
    os << "  $" << c.slot << " = ";
    if (c.node->kind == ir::NodeKind::const_float)
      os << c.node->fval;
    else
      os << c.node->ival;
    os << "\n";
  }
  for (size_t i = 0; i < param_slots.size(); ++i)
    if (param_slots[i] >= 0)
      os << "  $" << param_slots[i] << " = param " << kernel->params[i].name << "\n";
  for (const OffsetsGuard& g : guards) {
    os << "  offsets guard: $" << g.offsets_slot << " (" << g.offsets_name << ")";
    if (g.rows.empty()) os << " order only";
    for (size_t i = 0; i < g.rows.size(); ++i)
      os << (i ? ", $" : " rows <= $") << g.rows[i].slot << " (" << g.rows[i].name << ")";
    os << "\n";
  }
  print_steps(os, *this, steps, 1);
  for (const DeviceNest& n : nests) {
    os << "device nest " << n.index << ": loop over " << kernel->blocks.at(size_t(n.block)).name
       << " (block size " << n.block_size << ")";
    if (n.item_offsets_slot >= 0) os << ", items of $" << n.item_offsets_slot;
    if (n.inner_block >= 0)
      os << ", programs also over " << kernel->blocks.at(size_t(n.inner_block)).name << " (0 .. $"
         << n.inner_end_slot << ")";
    os << ", captures:";
    if (n.captures.empty()) os << " none";
    for (const Capture& c : n.captures) {
      const char* kind = c.kind == Capture::Kind::tensor  ? "tensor"
                         : c.kind == Capture::Kind::int64 ? "int"
                                                          : "float";
      os << " $" << c.slot << " (" << kind << " " << c.index;
      if (!c.node->name.empty()) os << ", " << c.node->name;
      os << ")";
    }
    os << "\n";
  }
  return os.str();
}

HostProgram split_host_device(const ir::Kernel& kernel) {
  return Splitter(kernel).run();
}

}  // namespace jagtile::host
