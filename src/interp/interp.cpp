// The interpreter's executor: walks the kernel's blocks, evaluating host nodes once where they
// stand and device nodes once per loop iteration over whole tiles (masked positions included;
// masks decide what loads read, what reductions combine and what stores write).
#include "interp/interp.h"

#include <cmath>
#include <limits>
#include <new>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <variant>

#include "core/element.h"
#include "host/host_exec.h"
#include "interp/tile_reduce.h"
#include "interp/tile_value.h"
#include "ir/host_arith.h"
#include "ir/pass_band_matmuls.h"

namespace jagtile::interp {
namespace {

using ir::Dim;
using ir::Node;
using ir::NodeKind;
using ir::NodePtr;
using ir::Op;

// A run-time value: nothing, a host int / float / bool, a tensor, or a device value.
using RVal = std::variant<std::monostate, int64_t, double, bool, Tensor, TileValuePtr>;

struct LoopState {
  bool active = false;
  ir::LoopKind kind = ir::LoopKind::tile;
  int64_t start = 0;     // index of the tile's first position
  int64_t end = 0;       // the loop's end
  int64_t id = 0;        // iteration number
  TileValuePtr extents;  // jagged: per parent lane
  const ir::Shape* extents_shape = nullptr;
};

class Interpreter {
 public:
  Interpreter(const ir::Kernel& k, const std::vector<ArgValue>& args) : k_(k), args_(args) {
    loops_.resize(k.blocks.size());
    int next = 0;
    ir::walk(k.body, [&](const NodePtr& n) { slots_[n.get()] = next++; });
    values_.resize(size_t(next));
  }

  // Runs one device nest: the host values it captures come from the host executor's env.
  void run_nest(const host::HostProgram& program, const host::DeviceNest& nest,
                const host::HostEnv& env) {
    auto take = [&](const Node& n, int slot) {
      if (n.kind == NodeKind::param || ir::is_const(n))
        return;  // parameters come from the arguments, constants from the IR
      const host::HostValue& v = env.slots[size_t(slot)];
      const ir::Type& t = n.type;
      if (t.is_tensor())
        set(n, v.t);
      else if (t.kind == ir::TypeKind::host_bool)
        set(n, v.i != 0);
      else if (t.kind == ir::TypeKind::host_float || (t.is_value() && dtype_is_float(t.dtype)))
        set(n, v.f);
      else
        set(n, host::slot_integer(program, env, slot));
    };
    for (const host::Capture& c : nest.captures) take(*c.node, c.slot);
    take(*nest.loop->operand(0), nest.begin_slot);
    take(*nest.loop->operand(1), nest.end_slot);
    eval(*nest.loop, nest.loop);
  }

 private:
  // ---- errors ----
  [[noreturn]] void fail(const Node& n, const std::string& msg, const std::string& hint = {}) {
    throw ir::located_error(k_, n.loc, msg, hint);
  }

  // ---- value access ----
  RVal get(const NodePtr& n) {
    switch (n->kind) {
      case NodeKind::const_int:
        return n->ival;
      case NodeKind::const_float:
        return n->fval;
      case NodeKind::const_bool:
        return n->ival != 0;
      case NodeKind::param: {
        const ArgValue& a = args_.at(size_t(n->ival));
        if (auto* t = std::get_if<Tensor>(&a)) return *t;
        if (auto* i = std::get_if<int64_t>(&a)) {
          if (n->type.kind == ir::TypeKind::host_float) return double(*i);
          if (n->type.kind == ir::TypeKind::host_bool) return *i != 0;
          return *i;
        }
        if (auto* d = std::get_if<double>(&a)) {
          if (n->type.kind == ir::TypeKind::host_int) return int64_t(*d);
          return *d;
        }
        JAGTILE_CHECK(false, << "parameter " << n->name << " has no value");
        return {};
      }
      default: {
        auto it = slots_.find(n.get());
        JAGTILE_CHECK(it != slots_.end(), << "node " << ir::kind_name(n->kind) << " not placed");
        const RVal& v = values_[size_t(it->second)];
        JAGTILE_CHECK(!std::holds_alternative<std::monostate>(v),
                      << "node " << ir::kind_name(n->kind) << " used before it was computed");
        return v;
      }
    }
  }
  void set(const Node& n, RVal v) { values_[size_t(slots_.at(&n))] = std::move(v); }

  // A host number's value as text, for messages; empty for anything else.
  std::string number_text(const NodePtr& n) {
    if (!n->type.is_host_scalar()) return "";
    RVal v = get(n);
    if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    if (auto* b = std::get_if<bool>(&v)) return *b ? "True" : "False";
    if (auto* d = std::get_if<double>(&v)) {
      std::ostringstream os;
      os << *d;
      return os.str();
    }
    return "";
  }
  static double num(const RVal& v) {
    if (auto* i = std::get_if<int64_t>(&v)) return double(*i);
    if (auto* d = std::get_if<double>(&v)) return *d;
    if (auto* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
    if (auto* t = std::get_if<TileValuePtr>(&v)) {
      JAGTILE_CHECK((*t)->data.size() == 1, << "scalar expected");
      return (*t)->data[0];
    }
    JAGTILE_CHECK(false, << "not a number");
    return 0;
  }
  int64_t integer(const NodePtr& n) {
    RVal v = get(n);
    if (auto* i = std::get_if<int64_t>(&v)) return *i;
    if (auto* b = std::get_if<bool>(&v)) return *b;
    return int64_t(apply_cast(DType::i64, num(v), DType::f64));
  }
  Tensor tensor(const NodePtr& n) {
    RVal v = get(n);
    JAGTILE_CHECK(std::holds_alternative<Tensor>(v), << "tensor expected");
    return std::get<Tensor>(v);
  }
  // A device operand: a device value, or a host scalar as a 0-d value.
  TileValuePtr tile(const NodePtr& n) {
    RVal v = get(n);
    if (auto* t = std::get_if<TileValuePtr>(&v)) return *t;
    auto s = std::make_shared<TileValue>();
    s->data = {num(v)};
    return s;
  }

  std::vector<int64_t> extents(const ir::Shape& shape) {
    std::vector<int64_t> ext;
    for (const Dim& d : shape) {
      switch (d.kind) {
        case Dim::Kind::tile:
          ext.push_back(k_.blocks[size_t(d.block)].block_size);
          break;
        case Dim::Kind::broadcast:
          ext.push_back(1);
          break;
        case Dim::Kind::full:
          ext.push_back(integer(d.size));
          break;
      }
    }
    // Values are whole tiles in memory: refuse sizes no tile could have.
    double elements = 1;
    for (int64_t e : ext) elements *= double(e);
    for (int64_t e : ext)
      if (e < 0 || elements > double(int64_t(1) << 31))
        fail(*current_,
             "a device value of extents " + shape_to_string(ext) +
                 " is negative or too large for one tile",
             "full dims (':' and integer sizes in hl.zeros) take a tensor dimension's size");
    return ext;
  }

  // The conjunction of the masks of a shape's dims, one byte per position.
  std::vector<uint8_t> mask_of(const ir::Shape& shape, const std::vector<int64_t>& ext) {
    int64_t n = numel_of(ext);
    size_t R = shape.size();
    // Per dim: a tile dim's validity by position; a jagged dim's extents and where its parents
    // sit in this shape.
    struct DimMask {
      bool jagged = false;
      std::vector<uint8_t> valid;  // tile dims
      const LoopState* loop = nullptr;
      std::vector<size_t> parent_pos;
      std::vector<int64_t> estride;
    };
    std::vector<DimMask> dims;
    std::vector<size_t> which;
    for (size_t d = 0; d < R; ++d) {
      if (shape[d].kind != Dim::Kind::tile) continue;
      const LoopState& L = loops_[size_t(shape[d].block)];
      JAGTILE_CHECK(L.active, << "tile dim of an inactive loop");
      DimMask m;
      m.loop = &L;
      if (L.kind != ir::LoopKind::jagged) {
        m.valid.resize(size_t(ext[d]));
        for (int64_t p = 0; p < ext[d]; ++p) m.valid[size_t(p)] = L.start + p < L.end;
      } else {
        m.jagged = true;
        const ir::Shape& es = *L.extents_shape;
        for (const Dim& pd : es) {
          size_t found = R;
          for (size_t j = 0; j < R; ++j)
            if (shape[j].kind == Dim::Kind::tile && shape[j].block == pd.block) found = j;
          JAGTILE_CHECK(found < R, << "jagged dim without its parent");
          m.parent_pos.push_back(found);
        }
        m.estride.assign(es.size(), 1);
        for (size_t j = es.size(); j-- > 1;) m.estride[j - 1] = m.estride[j] * L.extents->ext[j];
      }
      dims.push_back(std::move(m));
      which.push_back(d);
    }
    std::vector<uint8_t> out(size_t(n), 1);
    if (dims.empty()) return out;
    std::vector<int64_t> idx(R, 0);
    for (int64_t p = 0; p < n; ++p) {
      uint8_t ok = 1;
      for (size_t k = 0; k < dims.size() && ok; ++k) {
        const DimMask& m = dims[k];
        int64_t pos = idx[which[k]];
        if (!m.jagged) {
          ok = m.valid[size_t(pos)];
        } else {
          int64_t eoff = 0;
          for (size_t j = 0; j < m.parent_pos.size(); ++j)
            eoff += idx[m.parent_pos[j]] * m.estride[j];
          ok = double(m.loop->start + pos) < m.loop->extents->data[size_t(eoff)];
        }
      }
      out[size_t(p)] = ok;
      for (size_t d = R; d-- > 0;) {
        if (++idx[d] < ext[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  }

  // ---- execution ----
  void exec(const ir::Block& block) {
    for (const NodePtr& n : block) eval(*n, n);
  }

  void eval(const Node& n, const NodePtr& self) {
    current_ = &n;
    switch (n.kind) {
      case NodeKind::const_int:
      case NodeKind::const_float:
      case NodeKind::const_bool:
      case NodeKind::param:
        return;
      case NodeKind::size_of: {
        Tensor t = tensor(n.operand(0));
        return set(n, t.size(n.ival));
      }
      case NodeKind::numel:
        return set(n, tensor(n.operand(0)).numel());
      case NodeKind::scalar_read:
        return scalar_read(n);
      case NodeKind::alloc:
        return alloc(n);
      case NodeKind::view: {
        Tensor t = tensor(n.operand(0));
        Shape s;
        for (size_t i = 1; i < n.operands.size(); ++i) s.push_back(integer(n.operands[i]));
        try {
          return set(n, t.view(s));
        } catch (const UserError& e) {
          fail(n, e.message(), e.hint());
        }
      }
      case NodeKind::binary:
        return binary(n);
      case NodeKind::unary:
        return elementwise(n,
                           [&](const std::vector<double>& x) { return apply_unary(n.op, x[0]); });
      case NodeKind::where:
        return elementwise(n, [](const std::vector<double>& x) { return x[0] != 0 ? x[1] : x[2]; });
      case NodeKind::cast:
        if (n.type.is_host_scalar()) {
          double x = num(get(n.operand(0)));
          if (n.type.kind == ir::TypeKind::host_int)
            return set(n, int64_t(apply_cast(DType::i64, x, DType::f64)));
          if (n.type.kind == ir::TypeKind::host_bool) return set(n, x != 0);
          return set(n, x);
        }
        return elementwise(n, [&](const std::vector<double>& x) {
          return apply_cast(n.type.dtype, x[0], ir::operand_dtype(*n.operand(0)));
        });
      case NodeKind::tile_attr:
        return tile_attr(n);
      case NodeKind::iota: {
        auto v = std::make_shared<TileValue>();
        int64_t s = integer(n.operand(0));
        v->ext = {s};
        v->data.resize(size_t(s));
        for (int64_t i = 0; i < s; ++i) v->data[size_t(i)] = double(i);
        return set(n, TileValuePtr(v));
      }
      case NodeKind::full: {
        auto v = std::make_shared<TileValue>();
        v->ext = extents(n.type.shape);
        v->data.assign(size_t(numel_of(v->ext)),
                       round_compute(n.type.dtype, num(get(n.operand(0)))));
        return set(n, TileValuePtr(v));
      }
      case NodeKind::unsqueeze: {
        TileValuePtr a = tile(n.operand(0));
        auto v = std::make_shared<TileValue>(*a);
        v->ext.insert(v->ext.begin() + n.ival, 1);
        return set(n, TileValuePtr(v));
      }
      case NodeKind::permute:
        return set(n, permuted(*tile(n.operand(0)), n.ints));
      case NodeKind::reduce:
        return reduce(n);
      case NodeKind::scan:
        return scan(n);
      case NodeKind::matmul:
        return matmul(n);
      case NodeKind::load:
        return load(n);
      case NodeKind::store:
        return store(n);
      case NodeKind::tile_loop:
      case NodeKind::grid_loop:
      case NodeKind::jagged_loop:
        return loop(n);
      case NodeKind::if_:
        if (num(get(n.operand(0))) != 0)
          exec(n.regions.at(0));
        else if (n.regions.size() > 1)
          exec(n.regions[1]);
        return;
      case NodeKind::var_decl:
        return set(n, get(n.operand(0)));
      case NodeKind::var_read:
        return set(n, get(n.operand(0)));
      case NodeKind::var_assign:
        return var_assign(n);
      case NodeKind::assert_:
        if (num(get(n.operand(0))) == 0)
          fail(n, ir::assert_failure_text(n, [&](const NodePtr& o) { return number_text(o); }));
        return;
      case NodeKind::return_:
        JAGTILE_CHECK(false, << "return inside a device loop");
        return;
    }
    (void)self;
  }

  void scalar_read(const Node& n) {
    Tensor t = tensor(n.operand(0));
    if (!t.device().is_cpu()) fail(n, "the interpreter reads CPU tensors only");
    std::vector<int64_t> index;
    for (int64_t d = 0; d < t.dim(); ++d) index.push_back(integer(n.operands[size_t(d + 1)]));
    const int64_t flat = host::scalar_read_offset(k_, n, t, index);
    double v = core_detail::load_as_double(t.raw_data(), t.dtype(), flat);
    if (n.type.kind == ir::TypeKind::host_int)
      return set(n, core_detail::load_as_int64(t.raw_data(), t.dtype(), flat));
    if (n.type.kind == ir::TypeKind::host_bool) return set(n, v != 0);
    set(n, v);
  }

  void alloc(const Node& n) {
    size_t count = n.operands.size() - (n.op == Op::fill ? 1 : 0);
    Shape s;
    for (size_t i = 0; i < count; ++i) {
      int64_t v = integer(n.operands[i]);
      if (v < 0)
        fail(n, "tensor size " + std::to_string(v) + " in dimension " + std::to_string(i) +
                    " is negative");
      s.push_back(v);
    }
    if (!n.type.device.is_cpu())
      fail(n, "the interpreter allocates on the CPU only; this allocation asks for " +
                  n.type.device.str());
    double elements = 1;
    for (int64_t v : s) elements *= double(v);
    if (elements > double(int64_t(1) << 40))
      fail(n, "tensor of shape " + shape_to_string(s) + " is too large to allocate",
           "check the sizes");
    try {
      if (n.op == Op::fill)
        return set(n, Tensor::full(s, num(get(n.operands.back())), n.type.dtype));
      // empty is zero-filled too, so results never depend on uninitialised memory.
      set(n, Tensor::zeros(s, n.type.dtype));
    } catch (const std::bad_alloc&) {
      fail(n, "cannot allocate a tensor of shape " + shape_to_string(s), "check the sizes");
    } catch (const std::length_error&) {
      fail(n, "cannot allocate a tensor of shape " + shape_to_string(s), "check the sizes");
    }
  }

  template <typename Fn>
  void elementwise(const Node& n, Fn fn) {
    std::vector<TileValuePtr> ops;
    for (const NodePtr& o : n.operands) ops.push_back(tile(o));
    auto out = std::make_shared<TileValue>();
    out->ext = n.type.is_value() ? extents(n.type.shape) : std::vector<int64_t>{};
    int64_t count = numel_of(out->ext);
    // Operands of the result's extents or of one element need no broadcast map.
    enum class Access : uint8_t { same, scalar, mapped };
    std::vector<Access> how;
    std::vector<std::vector<int64_t>> maps;
    for (const auto& o : ops) {
      if (o->ext == out->ext) {
        how.push_back(Access::same);
        maps.emplace_back();
      } else if (o->data.size() == 1) {
        how.push_back(Access::scalar);
        maps.emplace_back();
      } else {
        how.push_back(Access::mapped);
        maps.push_back(broadcast_map(out->ext, o->ext));
      }
    }
    out->data.resize(size_t(count));
    std::vector<double> x(ops.size());
    DType d = n.type.dtype;
    for (int64_t p = 0; p < count; ++p) {
      for (size_t i = 0; i < ops.size(); ++i) {
        size_t at = how[i] == Access::same     ? size_t(p)
                    : how[i] == Access::scalar ? 0
                                               : size_t(maps[i][size_t(p)]);
        x[i] = ops[i]->data[at];
      }
      out->data[size_t(p)] = round_compute(d, fn(x));
    }
    if (n.type.is_host_scalar()) {
      double v = out->data[0];
      if (n.type.kind == ir::TypeKind::host_int) return set(n, int64_t(v));
      if (n.type.kind == ir::TypeKind::host_bool) return set(n, v != 0);
      return set(n, v);
    }
    set(n, TileValuePtr(out));
  }

  void binary(const Node& n) {
    if (n.type.is_host_scalar()) {
      RVal a = get(n.operand(0)), b = get(n.operand(1));
      bool ints = !std::holds_alternative<double>(a) && !std::holds_alternative<double>(b);
      if (ints && n.type.kind != ir::TypeKind::host_float) {
        int64_t x =
            std::holds_alternative<bool>(a) ? int64_t(std::get<bool>(a)) : std::get<int64_t>(a);
        int64_t y =
            std::holds_alternative<bool>(b) ? int64_t(std::get<bool>(b)) : std::get<int64_t>(b);
        std::optional<int64_t> r = ir::host_int_binary(n.op, x, y);
        if (!r)
          fail(n, "integer " + std::string(y == 0 ? "division by zero" : "overflow") +
                      " in host arithmetic (" + std::to_string(x) + " " +
                      std::string(ir::op_name(n.op)) + " " + std::to_string(y) + ")");
        if (n.type.kind == ir::TypeKind::host_bool) return set(n, *r != 0);
        return set(n, *r);
      }
      // Host float arithmetic is Python's: double precision.
      std::optional<double> folded = ir::host_float_binary(n.op, num(a), num(b));
      JAGTILE_CHECK(folded, << "no host float form for " << ir::op_name(n.op));
      const double r = *folded;
      if (n.type.kind == ir::TypeKind::host_bool) return set(n, r != 0);
      if (n.type.kind == ir::TypeKind::host_int) return set(n, int64_t(r));
      return set(n, r);
    }
    DType compute = DType(n.ival);
    elementwise(
        n, [&](const std::vector<double>& x) { return apply_binary(n.op, compute, x[0], x[1]); });
  }

  void tile_attr(const Node& n) {
    const LoopState& L = loops_[size_t(n.ival)];
    JAGTILE_CHECK(L.active, << "tile attribute of an inactive loop");
    int64_t bs = k_.blocks[size_t(n.ival)].block_size;
    auto v = std::make_shared<TileValue>();
    if (n.op == Op::index && !n.type.shape.empty()) {
      v->ext = {bs};
      for (int64_t p = 0; p < bs; ++p) v->data.push_back(double(L.start + p));
    } else {
      double x = 0;
      switch (n.op) {
        case Op::index:
        case Op::begin:
          x = double(L.start);
          break;
        case Op::end:
          x = double(std::min(L.start + bs, L.end));
          break;
        case Op::block_size:
          x = double(bs);
          break;
        case Op::id:
          x = double(L.id);
          break;
        default:
          JAGTILE_CHECK(false, << "bad tile attribute");
      }
      v->data = {x};
    }
    set(n, TileValuePtr(v));
  }

  void scan(const Node& n) {
    TileValuePtr a = tile(n.operand(0));
    const std::vector<uint8_t> m = mask_of(n.operand(0)->type.shape, a->ext);
    set(n, scan_tile(*a, m, n.ints.at(0), n.type.dtype));
  }

  void reduce(const Node& n) {
    TileValuePtr a = tile(n.operand(0));
    const std::vector<uint8_t> m = mask_of(n.operand(0)->type.shape, a->ext);
    set(n, reduce_tile(n.op, *a, m, n.ints, n.operand(0)->type.dtype, n.type.dtype));
  }

  void matmul(const Node& n) {
    TileValuePtr a = tile(n.operand(0)), b = tile(n.operand(1));
    std::vector<uint8_t> ma = mask_of(n.operand(0)->type.shape, a->ext);
    std::vector<uint8_t> mb = mask_of(n.operand(1)->type.shape, b->ext);
    auto out = std::make_shared<TileValue>();
    out->ext = extents(n.type.shape);
    size_t R = out->ext.size();
    int64_t I = out->ext[R - 2], J = out->ext[R - 1], K = a->ext.back();
    std::vector<int64_t> batch(out->ext.begin(), out->ext.end() - 2);
    std::vector<int64_t> abatch(a->ext.begin(), a->ext.end() - 2);
    std::vector<int64_t> bbatch(b->ext.begin(), b->ext.end() - 2);
    std::vector<int64_t> amap = broadcast_map(batch, abatch), bmap = broadcast_map(batch, bbatch);
    int64_t nb = numel_of(batch);
    out->data.assign(size_t(numel_of(out->ext)), 0.0);
    int64_t aI = a->ext[a->ext.size() - 2], bJ = b->ext.back();
    // A zero_a band (pass_band_matmuls.h): row i takes the products of k <= i + band only, as
    // every backend does.
    int64_t band = INT64_MAX / 2;
    if (n.ints.size() == 4 && n.ints[0] == int64_t(ir::MatmulBand::zero_a))
      band = loops_[size_t(n.ints[1])].start - loops_[size_t(n.ints[2])].start + n.ints[3];
    for (int64_t bi = 0; bi < nb; ++bi) {
      int64_t abase = amap[size_t(bi)] * aI * K, bbase = bmap[size_t(bi)] * K * bJ;
      for (int64_t i = 0; i < I; ++i)
        for (int64_t j = 0; j < J; ++j) {
          double s = 0;
          int64_t ia = aI == 1 ? 0 : i, jb = bJ == 1 ? 0 : j;
          for (int64_t k = 0; k < K && k <= i + band; ++k) {
            size_t pa = size_t(abase + ia * K + k), pb = size_t(bbase + k * bJ + jb);
            if (ma[pa] && mb[pb]) s += a->data[pa] * b->data[pb];
          }
          out->data[size_t((bi * I + i) * J + j)] = s;
        }
    }
    if (n.operands.size() > 2) {
      TileValuePtr c = tile(n.operand(2));
      std::vector<int64_t> cm = broadcast_map(out->ext, c->ext);
      for (size_t p = 0; p < out->data.size(); ++p) out->data[p] += c->data[size_t(cm[p])];
    }
    for (double& v : out->data) v = round_compute(n.type.dtype, v);
    set(n, TileValuePtr(out));
  }

  // Computes the flat element offset of position p of an access, or raises the bounds error.
  int64_t address(const Node& n, const Tensor& t, const std::vector<TileValuePtr>& idx,
                  const std::vector<std::vector<int64_t>>& maps, int64_t p, const char* what) {
    int64_t flat = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      double v = idx[d]->data[size_t(maps[d][size_t(p)])];
      int64_t size = t.size(int64_t(d));
      if (!(v >= 0 && v < double(size))) {
        std::ostringstream os;
        os << what << " of tensor '" << (n.operand(0)->name.empty() ? "?" : n.operand(0)->name)
           << "' at index ";
        if (std::isfinite(v) && std::fabs(v) < 9e18)
          os << int64_t(v);
        else
          os << v;
        os << " in dimension " << d << ", which has size " << size
           << " (out of bounds at a valid position)";
        fail(n, os.str(),
             "check the offsets and index arithmetic; positions outside the masks are never "
             "accessed, so this index is computed for a valid lane");
      }
      flat = flat * size + int64_t(v);
    }
    return flat;
  }

  void access_setup(const Node& n, const Tensor& t, const std::vector<int64_t>& ext,
                    std::vector<TileValuePtr>& idx, std::vector<std::vector<int64_t>>& maps) {
    if (!t.device().is_cpu()) fail(n, "the interpreter runs on CPU tensors only");
    for (int64_t d = 0; d < t.dim(); ++d) {
      idx.push_back(tile(n.operands[size_t(d + 1)]));
      maps.push_back(broadcast_map(ext, idx.back()->ext));
    }
  }

  void load(const Node& n) {
    Tensor t = tensor(n.operand(0));
    auto out = std::make_shared<TileValue>();
    out->ext = extents(n.type.shape);
    std::vector<TileValuePtr> idx;
    std::vector<std::vector<int64_t>> maps;
    access_setup(n, t, out->ext, idx, maps);
    std::vector<uint8_t> m = mask_of(n.type.shape, out->ext);
    if (n.ival) apply_extra_mask(n, m, out->ext);
    int64_t count = numel_of(out->ext);
    out->data.assign(size_t(count), 0.0);
    for (int64_t p = 0; p < count; ++p) {
      if (!m[size_t(p)]) continue;
      int64_t flat = address(n, t, idx, maps, p, "load");
      out->data[size_t(p)] =
          round_compute(t.dtype(), core_detail::load_as_double(t.raw_data(), t.dtype(), flat));
    }
    set(n, TileValuePtr(out));
  }

  void apply_extra_mask(const Node& n, std::vector<uint8_t>& m, const std::vector<int64_t>& ext) {
    TileValuePtr em = tile(n.operands.back());
    std::vector<int64_t> map = broadcast_map(ext, em->ext);
    for (size_t p = 0; p < m.size(); ++p)
      if (em->data[size_t(map[p])] == 0) m[p] = 0;
  }

  void store(const Node& n) {
    Tensor t = tensor(n.operand(0));
    std::vector<int64_t> ext = extents(n.type.shape);
    std::vector<TileValuePtr> idx;
    std::vector<std::vector<int64_t>> maps;
    access_setup(n, t, ext, idx, maps);
    std::vector<uint8_t> m = mask_of(n.type.shape, ext);
    if (n.ival) apply_extra_mask(n, m, ext);
    TileValuePtr v = tile(n.operands[size_t(t.dim() + 1)]);
    std::vector<int64_t> vmap = broadcast_map(ext, v->ext);
    int64_t count = numel_of(ext);
    DType d = t.dtype();
    for (int64_t p = 0; p < count; ++p) {
      if (!m[size_t(p)]) continue;
      int64_t flat = address(n, t, idx, maps, p, "store");
      double x = v->data[size_t(vmap[size_t(p)])];
      if (!dtype_is_float(d)) x = apply_cast(d, x, DType::f64);
      core_detail::store_from_double(t.raw_data(), d, flat, x);
    }
  }

  void var_assign(const Node& n) {
    const Node& decl = *n.operand(0);
    RVal v = get(n.operand(1));
    if (decl.type.is_value()) {
      TileValuePtr src = tile(n.operand(1));
      std::vector<int64_t> ext = extents(decl.type.shape);
      if (src->ext != ext) {
        auto out = std::make_shared<TileValue>();
        out->ext = ext;
        std::vector<int64_t> map = broadcast_map(ext, src->ext);
        out->data.resize(map.size());
        for (size_t p = 0; p < map.size(); ++p)
          out->data[p] = round_compute(decl.type.dtype, src->data[size_t(map[p])]);
        src = out;
      }
      return set(decl, src);
    }
    if (decl.type.kind == ir::TypeKind::host_float) return set(decl, num(v));
    set(decl, v);
  }

  void loop(const Node& n) {
    int b = int(n.ival);
    const ir::BlockInfo& info = k_.blocks[size_t(b)];
    LoopState saved = loops_[size_t(b)];
    LoopState L;
    L.active = true;
    L.kind = info.kind;
    int64_t begin = 0, end = 0;
    if (n.kind == NodeKind::jagged_loop) {
      L.extents = tile(n.operand(0));
      L.extents_shape = &n.operand(0)->type.shape;
      std::vector<uint8_t> m = mask_of(*L.extents_shape, L.extents->ext);
      double mx = 0;
      for (size_t p = 0; p < m.size(); ++p)
        if (m[p] && L.extents->data[p] > mx) mx = L.extents->data[p];
      end = int64_t(mx);
    } else {
      begin = integer(n.operand(0));
      end = integer(n.operand(1));
    }
    L.end = end;
    int64_t bs = info.block_size;
    int64_t id = 0;
    for (int64_t start = begin; start < end; ++id) {
      L.start = start;
      L.id = id;
      loops_[size_t(b)] = L;
      exec(n.regions.at(0));
      if (__builtin_add_overflow(start, bs, &start)) break;
    }
    loops_[size_t(b)] = saved;
  }

  const ir::Kernel& k_;
  const std::vector<ArgValue>& args_;
  std::unordered_map<const Node*, int> slots_;
  std::vector<RVal> values_;
  std::vector<LoopState> loops_;
  const Node* current_ = nullptr;  // the node being evaluated, for located errors
};

class InterpRunner : public host::NestRunner {
 public:
  InterpRunner(const host::HostProgram& program, const std::vector<ArgValue>& args)
      : program_(program), interp_(*program.kernel, args) {}
  void run_nest(const host::DeviceNest& nest, const host::HostEnv& env) override {
    interp_.run_nest(program_, nest, env);
  }

 private:
  const host::HostProgram& program_;
  Interpreter interp_;
};

}  // namespace

void check_cpu_tensors(const std::vector<ArgValue>& args) {
  for (const ArgValue& a : args)
    if (auto* t = std::get_if<Tensor>(&a))
      if (t->defined() && !t->device().is_cpu())
        throw UserError(
            "the interpreter runs on CPU tensors only; got a tensor on " + t->device().str(),
            "move the inputs to the CPU or choose another backend");
}

void run_nest(const host::HostProgram& program, const host::DeviceNest& nest,
              const host::HostEnv& env, const std::vector<ArgValue>& args) {
  Interpreter(*program.kernel, args).run_nest(program, nest, env);
}

std::vector<Tensor> run_kernel(const ir::Kernel& kernel, const std::vector<ArgValue>& args) {
  JAGTILE_CHECK(args.size() == kernel.params.size(), << "run_kernel: " << args.size()
                                                     << " arguments for " << kernel.params.size()
                                                     << " parameters");
  check_cpu_tensors(args);
  host::HostProgram program = host::split_host_device(kernel);
  InterpRunner runner(program, args);
  host::ExecOptions options;
  options.zero_fill_empty = true;
  return host::run_host(program, args, runner, options);
}

}  // namespace jagtile::interp
