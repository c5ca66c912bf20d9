// The host executor (see host_exec.h): a switch over compiled host steps. The semantics and the
// messages are the interpreter's, node kind by node kind, so every backend reports a failed
// assert or an overflowing size exactly alike.
#include "host/host_exec.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "core/element.h"
#include "ir/element_arith.h"
#include "ir/host_arith.h"
#include "jagtile/jagged.h"

namespace jagtile::host {

namespace {

using ir::Node;
using ir::NodeKind;
using ir::Op;
using ir::TypeKind;

// JAGTILE_POISON_UNFILLED=1 (tests, the differential fuzzer): an allocation left unfilled
// (torch.empty, or a zeros the analysis found overwritten in full) starts as all-ones bytes (NaN
// floats, -1 integers), so an element the kernel failed to write shows, instead of reading as
// whatever the memory held (fresh pages read as zeros, which would hide a wrong fully-written
// analysis or a kernel that forgets rows of an empty output).
bool poison_unfilled() {
  static const bool on = [] {
    const char* v = std::getenv("JAGTILE_POISON_UNFILLED");
    return v && *v && std::string(v) != "0";
  }();
  return on;
}

bool is_float_type(const ir::Type& t) {
  return t.kind == TypeKind::host_float || (t.is_value() && dtype_is_float(t.dtype));
}

class Executor {
 public:
  Executor(const HostProgram& p, NestRunner& runner, const ExecOptions& options)
      : p_(p), k_(*p.kernel), runner_(runner), options_(options) {}

  std::vector<Tensor> run(const std::vector<ArgValue>& args) {
    JAGTILE_CHECK(args.size() == k_.params.size(), << "run_host: " << args.size()
                                                   << " arguments for " << k_.params.size()
                                                   << " parameters");
    env_.slots.resize(size_t(p_.num_slots));
    for (const HostProgram::ConstSlot& c : p_.constants) {
      HostValue& v = env_.slots[size_t(c.slot)];
      if (c.node->kind == NodeKind::const_float) {
        v.f = c.node->fval;
      } else {
        v.i = c.node->ival;
        v.f = double(c.node->ival);
      }
    }
    for (size_t i = 0; i < p_.param_slots.size(); ++i) {
      if (p_.param_slots[i] < 0) continue;
      HostValue& v = env_.slots[size_t(p_.param_slots[i])];
      const ArgValue& a = args[i];
      const ir::Type& t = p_.slot_nodes[size_t(p_.param_slots[i])]->type;
      if (const Tensor* tensor = std::get_if<Tensor>(&a)) {
        v.t = *tensor;
      } else if (const int64_t* n = std::get_if<int64_t>(&a)) {
        v.i = t.kind == TypeKind::host_bool ? (*n != 0) : *n;
        v.f = double(*n);
      } else if (const double* d = std::get_if<double>(&a)) {
        set_number(v, t, *d);  // a float parameter: no integer shadow (-1e308 has none)
      }
    }
    exec(p_.steps);
    return std::move(outputs_);
  }

 private:
  [[noreturn]] void fail(const Node& n, const std::string& msg, const std::string& hint = {}) {
    throw ir::located_error(k_, n.loc, msg, hint);
  }

  const HostValue& val(int slot) const { return env_.slots[size_t(slot)]; }
  // A host number's value as text, for messages; empty if the node has no slot.
  std::string number_text(const Node& n) const {
    auto it = p_.slot_of.find(&n);
    if (it == p_.slot_of.end() || !n.type.is_host_scalar()) return "";
    const HostValue& v = val(it->second);
    if (n.type.kind == TypeKind::host_bool) return v.i ? "True" : "False";
    if (!is_float_type(n.type)) return std::to_string(v.i);
    std::ostringstream os;
    os << v.f;
    return os.str();
  }
  HostValue& out(const HostStep& s) { return env_.slots[size_t(s.slot)]; }
  double num(int slot) const { return slot_number(p_, env_, slot); }
  int64_t integer(int slot) const { return slot_integer(p_, env_, slot); }
  bool operand_is_float(const HostStep& s, size_t i) const {
    return is_float_type(p_.slot_nodes[size_t(s.ops[i])]->type);
  }

  // Stores a number into a slot of type t (int, bool, float), as the interpreter's set().
  void set_number(HostValue& v, const ir::Type& t, double x) {
    if (t.kind == TypeKind::host_bool) {
      v.i = x != 0;
    } else if (t.kind == TypeKind::host_int) {
      v.i = int64_t(x);
    } else {
      v.f = x;
      return;
    }
    v.f = double(v.i);
  }
  void set_int(HostValue& v, int64_t x) {
    v.i = x;
    v.f = double(x);
  }

  void exec(const std::vector<HostStep>& steps) {
    for (const HostStep& s : steps) {
      if (returned_) return;
      step(s);
    }
  }

  void step(const HostStep& s) {
    const Node& n = *s.node;
    if (s.nest >= 0) {
      run_guards();
      return runner_.run_nest(p_.nests[size_t(s.nest)], env_);
    }
    switch (n.kind) {
      case NodeKind::size_of:
        return set_int(out(s), val(s.ops[0]).t.size(n.ival));
      case NodeKind::numel:
        return set_int(out(s), val(s.ops[0]).t.numel());
      case NodeKind::scalar_read:
        return scalar_read(s);
      case NodeKind::alloc:
        return alloc(s);
      case NodeKind::view: {
        Shape shape;
        for (size_t i = 1; i < s.ops.size(); ++i) shape.push_back(integer(s.ops[i]));
        try {
          out(s).t = val(s.ops[0]).t.view(shape);
        } catch (const UserError& e) {
          fail(n, e.message(), e.hint());
        }
        return;
      }
      case NodeKind::binary:
        return binary(s);
      case NodeKind::unary:
        return set_number(out(s), n.type,
                          ir::round_compute(n.type.dtype, ir::apply_unary(n.op, num(s.ops[0]))));
      case NodeKind::where:
        return set_number(
            out(s), n.type,
            ir::round_compute(n.type.dtype, num(s.ops[0]) != 0 ? num(s.ops[1]) : num(s.ops[2])));
      case NodeKind::cast: {
        double x = num(s.ops[0]);
        if (n.type.kind == TypeKind::host_int)
          return set_int(out(s), int64_t(ir::apply_cast(DType::i64, x, DType::f64)));
        return set_number(out(s), n.type, x);
      }
      case NodeKind::if_:
        if (num(s.ops[0]) != 0)
          exec(s.then_steps);
        else
          exec(s.else_steps);
        return;
      case NodeKind::var_decl:
      case NodeKind::var_read:
      case NodeKind::var_assign: {
        // var_decl: slot <- init; var_read: slot <- the variable; var_assign: variable <- value.
        HostValue copy = val(s.ops[0]);
        HostValue& dst = out(s);
        const ir::Type& t = p_.slot_nodes[size_t(s.slot)]->type;
        if (t.kind == TypeKind::host_float && !operand_is_float(s, 0)) copy.f = double(copy.i);
        dst = std::move(copy);
        return;
      }
      case NodeKind::assert_:
        if (num(s.ops[0]) == 0)
          fail(n,
               ir::assert_failure_text(n, [&](const ir::NodePtr& o) { return number_text(*o); }));
        return;
      case NodeKind::return_:
        for (int o : s.ops) outputs_.push_back(val(o).t);
        returned_ = true;
        return;
      default:
        JAGTILE_CHECK(false, << "host node of kind " << ir::kind_name(n.kind));
    }
  }

  // The offsets guards, each before the first device nest and again whenever a rows tensor made
  // since has fewer rows: validate_offsets against the fewest rows among the guard's rows tensors
  // that exist by then (the template path's check and messages). So every nest runs with its
  // offsets checked against every rows tensor it can see, which is what lets the generated code
  // leave those rows unchecked (HostProgram::in_bounds_dims). A guard without rows tensors
  // (bound unknown statically) checks only that the offsets are non-decreasing from a first
  // value >= 0. A tensor already validated in this call against as few rows or fewer (the same
  // offsets passed twice) is not scanned again.
  void run_guards() {
    if (guard_rows_.size() != p_.guards.size()) guard_rows_.assign(p_.guards.size(), std::nullopt);
    for (size_t g = 0; g < p_.guards.size(); ++g) {
      const OffsetsGuard& guard = p_.guards[g];
      const Tensor& offsets = val(guard.offsets_slot).t;
      if (!offsets.defined()) continue;
      if (options_.offsets_validated_by_backend &&
          options_.offsets_validated_by_backend->count(guard.offsets_param))
        continue;
      int64_t rows = std::numeric_limits<int64_t>::max();
      std::string rows_name;
      for (const OffsetsGuard::Rows& r : guard.rows) {
        const Tensor& t = val(r.slot).t;
        if (t.defined() && t.dim() >= 1 && t.size(0) < rows) {
          rows = t.size(0);
          rows_name = r.name;
        }
      }
      if (guard_rows_[g] && *guard_rows_[g] <= rows) continue;
      guard_rows_[g] = rows;
      auto key = std::make_tuple(offsets.raw_data(), offsets.numel(), offsets.dtype());
      auto seen = validated_.find(key);
      if (seen != validated_.end() && seen->second <= rows) continue;
      validate_offsets(offsets, guard.offsets_name, rows, rows_name);
      validated_[key] = rows;
    }
  }

  void scalar_read(const HostStep& s) {
    const Node& n = *s.node;
    Tensor t = val(s.ops[0]).t;
    std::vector<int64_t> index;
    for (int64_t d = 0; d < t.dim(); ++d) index.push_back(integer(s.ops[size_t(d + 1)]));
    const int64_t flat = scalar_read_offset(k_, n, t, index);
    // A device tensor's element is read through a host copy (a rare, host-level `.item()`).
    if (!t.device().is_cpu()) {
      t = t.view({t.numel()}).to(Device::cpu());
    }
    HostValue& v = out(s);
    if (n.type.kind == TypeKind::host_int)
      return set_int(v, core_detail::load_as_int64(t.raw_data(), t.dtype(), flat));
    set_number(v, n.type, core_detail::load_as_double(t.raw_data(), t.dtype(), flat));
  }

  void alloc(const HostStep& s) {
    const Node& n = *s.node;
    size_t count = s.ops.size() - (n.op == Op::fill ? 1 : 0);
    Shape shape;
    for (size_t i = 0; i < count; ++i) {
      int64_t v = integer(s.ops[i]);
      if (v < 0)
        fail(n, "tensor size " + std::to_string(v) + " in dimension " + std::to_string(i) +
                    " is negative");
      shape.push_back(v);
    }
    double elements = 1;
    for (int64_t v : shape) elements *= double(v);
    if (elements > double(int64_t(1) << 40))
      fail(n, "tensor of shape " + shape_to_string(shape) + " is too large to allocate",
           "check the sizes");
    const bool overwritten = (options_.overwritten && options_.overwritten->count(&n)) ||
                             (!shape.empty() && items_cover(n, shape[0]));
    try {
      Tensor& t = out(s).t;
      if (!overwritten && n.op == Op::fill)
        t = Tensor::full(shape, num(s.ops.back()), n.type.dtype, n.type.device);
      else if (!overwritten && (n.op == Op::zeros || options_.zero_fill_empty))
        t = Tensor::zeros(shape, n.type.dtype, n.type.device);
      else {
        t = Tensor::empty(shape, n.type.dtype, n.type.device);
        if (poison_unfilled() && n.type.device.is_cpu())
          std::memset(t.raw_data(), 0xff, size_t(t.nbytes()));
      }
    } catch (const std::bad_alloc&) {
      fail(n, "cannot allocate a tensor of shape " + shape_to_string(shape), "check the sizes");
    } catch (const std::length_error&) {
      fail(n, "cannot allocate a tensor of shape " + shape_to_string(shape), "check the sizes");
    }
  }

  // Whether this call's offsets cover `alloc`'s `rows` (ItemCoverCheck). The offsets are not
  // validated yet (their guard runs before the first device nest), but a call whose offsets
  // fail it returns nothing, so the unfilled tensor is never seen.
  bool items_cover(const Node& alloc, int64_t rows) {
    if (!options_.overwritten_when_items_cover) return false;
    for (const ItemCoverCheck& c : *options_.overwritten_when_items_cover) {
      if (c.alloc != &alloc) continue;
      const Tensor& offsets = env_.slots[size_t(c.offsets_slot)].t;
      const int64_t items = val(c.items_slot).i;
      if (!offsets.device().is_cpu() || items < 0 || items >= offsets.numel()) continue;
      const int64_t first = core_detail::load_as_int64(offsets.raw_data(), offsets.dtype(), 0);
      const int64_t last = core_detail::load_as_int64(offsets.raw_data(), offsets.dtype(), items);
      const int64_t row_length = c.row_length_slot < 0 ? 1 : val(c.row_length_slot).i;
      int64_t covered = 0;
      if (first == 0 && !__builtin_mul_overflow(last, row_length, &covered) && covered == rows)
        return true;
    }
    return false;
  }

  void binary(const HostStep& s) {
    const Node& n = *s.node;
    const bool ints = !operand_is_float(s, 0) && !operand_is_float(s, 1);
    if (ints && n.type.kind != TypeKind::host_float) {
      int64_t x = val(s.ops[0]).i, y = val(s.ops[1]).i;
      std::optional<int64_t> r = ir::host_int_binary(n.op, x, y);
      if (!r)
        fail(n, "integer " + std::string(y == 0 ? "division by zero" : "overflow") +
                    " in host arithmetic (" + std::to_string(x) + " " +
                    std::string(ir::op_name(n.op)) + " " + std::to_string(y) + ")");
      return set_int(out(s), n.type.kind == TypeKind::host_bool ? (*r != 0) : *r);
    }
    // Host float arithmetic is Python's: double precision.
    std::optional<double> r = ir::host_float_binary(n.op, num(s.ops[0]), num(s.ops[1]));
    JAGTILE_CHECK(r, << "no host float form for " << ir::op_name(n.op));
    set_number(out(s), n.type, *r);
  }

  const HostProgram& p_;
  const ir::Kernel& k_;
  NestRunner& runner_;
  const ExecOptions& options_;
  HostEnv env_;
  std::vector<Tensor> outputs_;
  std::vector<std::optional<int64_t>> guard_rows_;  // the bound each guard has checked
  // Offsets validated in this call (data, length, dtype) -> the rows bound they passed.
  std::map<std::tuple<const void*, int64_t, DType>, int64_t> validated_;
  bool returned_ = false;  // a `return` ran: the remaining steps do not
};

}  // namespace

double slot_number(const HostProgram& program, const HostEnv& env, int slot) {
  const HostValue& v = env.slots[size_t(slot)];
  return is_float_type(program.slot_nodes[size_t(slot)]->type) ? v.f : double(v.i);
}

int64_t slot_integer(const HostProgram& program, const HostEnv& env, int slot) {
  const HostValue& v = env.slots[size_t(slot)];
  if (!is_float_type(program.slot_nodes[size_t(slot)]->type)) return v.i;
  return int64_t(ir::apply_cast(DType::i64, v.f, DType::f64));
}

std::vector<Tensor> run_host(const HostProgram& program, const std::vector<ArgValue>& args,
                             NestRunner& runner, const ExecOptions& options) {
  return Executor(program, runner, options).run(args);
}

int64_t scalar_read_offset(const ir::Kernel& kernel, const ir::Node& read, const Tensor& t,
                           const std::vector<int64_t>& index) {
  int64_t flat = 0;
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t i = index[size_t(d)];
    if (i < 0 || i >= t.size(d))
      throw ir::located_error(kernel, read.loc,
                              "host read of tensor '" + read.operand(0)->name + "' at index " +
                                  std::to_string(i) + " in dimension " + std::to_string(d) +
                                  ", which has size " + std::to_string(t.size(d)));
    flat = flat * t.size(d) + i;
  }
  return flat;
}

NestBounds nest_bounds(const HostProgram& program, const DeviceNest& nest, const HostEnv& env) {
  NestBounds b;
  b.begin = slot_integer(program, env, nest.begin_slot);
  b.end = slot_integer(program, env, nest.end_slot);
  if (b.end > b.begin) {
    // (end - begin + bs - 1) / bs without overflow for bounds near the int64 limits.
    uint64_t span = uint64_t(b.end) - uint64_t(b.begin);
    b.programs = int64_t((span - 1) / uint64_t(nest.block_size) + 1);
  }
  if (nest.inner_block >= 0) {
    const int64_t inner = slot_integer(program, env, nest.inner_end_slot);
    b.per_outer = inner > 1 ? inner : 1;
    int64_t total = 0;
    if (__builtin_mul_overflow(b.programs, b.per_outer, &total))
      throw ir::located_error(*program.kernel, nest.loop->loc,
                              "the loop runs " + std::to_string(b.programs) + " iterations of " +
                                  std::to_string(b.per_outer) +
                                  " inner iterations each: more than 2^63 programs",
                              "split the work over several calls");
    b.programs = total;
  }
  return b;
}

}  // namespace jagtile::host
