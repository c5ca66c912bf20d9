// The C++ emitter's device values: element expressions (with broadcasting), loop nests over
// the valid positions of a shape (tile dims run to their limit, jagged dims to their parent
// lane's extent, so masked positions are never visited), and the statements that consume
// values: tile arrays, loads and stores with bounds checks, reductions, matmul, variables.
#include <algorithm>

#include "codegen/cpu/emit_impl.h"

namespace jagtile::codegen::cpu::detail {

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

}  // namespace

std::vector<std::string> Emitter::extents(const ir::Shape& s) {
  std::vector<std::string> e;
  for (const Dim& d : s) {
    if (d.kind == Dim::Kind::tile)
      e.push_back(std::to_string(k_.blocks[size_t(d.block)].block_size));
    else if (d.kind == Dim::Kind::full)
      e.push_back("(" + scalar(d.size) + ")");
    else
      e.push_back("1");
  }
  return e;
}

namespace {
bool is_number(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}
}  // namespace

std::string Emitter::numel(const ir::Shape& s) {
  int64_t n = 1;
  std::string dynamic;
  for (const std::string& e : extents(s)) {
    if (is_number(e))
      n *= std::stoll(e);
    else
      dynamic += " * " + e;
  }
  return dynamic.empty() ? std::to_string(n)
                         : "(INT64_C(" + std::to_string(n) + ")" + dynamic + ")";
}

std::string Emitter::flat(const ir::Shape& s, const std::vector<std::string>& idx) {
  std::vector<std::string> e = extents(s);
  std::string f;
  for (size_t d = 0; d < e.size(); ++d) {
    if (e[d] == "1") continue;
    f = f.empty() ? idx[d] : "(" + f + ") * " + e[d] + " + " + idx[d];
  }
  return f.empty() ? "0" : f;
}

std::vector<std::string> Emitter::map_idx(const ir::Shape& from, const ir::Shape& to,
                                          const std::vector<std::string>& idx) const {
  JAGTILE_CHECK(from.size() <= to.size(),
                << "broadcast of rank " << from.size() << " into " << to.size());
  std::vector<std::string> r;
  size_t off = to.size() - from.size();
  for (size_t j = 0; j < from.size(); ++j)
    r.push_back(from[j].kind == Dim::Kind::broadcast ? "0" : idx[j + off]);
  return r;
}

// Tile arrays live on the stack up to 64 KiB; larger ones (big block sizes) on the heap, so a
// worker thread's stack never overflows.
std::string Emitter::array_decl(const std::string& ctype, const std::string& name,
                                const std::string& count) const {
  int64_t size = ctype == "bool" ? 1 : ctype == "float" ? 4 : 8;
  if (is_number(count) && std::stoll(count) * size <= 64 * 1024)
    return "alignas(64) " + ctype + " " + name + "[" + count + "];";
  return "JtHeapArray<" + ctype + "> " + name + "_heap(" + count + "); " + ctype + "* const " +
         name + " = " + name + "_heap.p;";
}

std::string Emitter::at(const NodePtr& n, const std::vector<std::string>& idx, Writer& w) {
  if (!is_device_value(*n)) return scalar(n);
  // Values that do not depend on the innermost index are computed once before that loop: the
  // vectoriser then sees plain invariants (and no loads it cannot hoist itself).
  bool invariant = hoist_ && std::find(idx.begin(), idx.end(), inner_var_) == idx.end();
  std::string array;
  auto t = temp_arrays_.find(n.get());
  if (t != temp_arrays_.end())
    array = t->second;
  else if (arrays_.count(n.get()))
    array = name(*n);
  if (!array.empty() && !invariant) return array + "[" + flat(n->type.shape, idx) + "]";
  JAGTILE_CHECK(!array.empty() || inlined(*n),
                << "value " << ir::kind_name(n->kind) << " used before computed");
  JAGTILE_CHECK(memo_, << "fused value outside a loop nest");
  std::string key = std::to_string(facts(*n).seq) + ":" + join(idx, ",");
  if (mode_ == CheckMode::check_only && index_depth_ > 0) key += ":index";
  auto it = memo_->find(key);
  if (it != memo_->end()) return it->second;
  // Loads stay in the loop: they may only run at valid positions.
  Writer& out = invariant && (!array.empty() || !has_load(*n)) ? *hoist_ : w;
  std::string e =
      !array.empty() ? array + "[" + flat(n->type.shape, idx) + "]" : at_inline(*n, idx, out);
  std::string local = "e" + std::to_string(temp_++);
  out.line("const " + std::string(compute_ctype(n->type.dtype)) + " " + local + " = " + e + ";");
  (*memo_)[key] = local;
  return local;
}

bool Emitter::has_load(const Node& n) {
  if (n.kind == NodeKind::load) return true;
  if (!inlined(n)) return false;
  for (const NodePtr& o : n.operands)
    if (is_device_value(*o) && inlined(*o) && has_load(*o)) return true;
  return false;
}

std::string Emitter::at_inline(const Node& n, const std::vector<std::string>& idx, Writer& w) {
  switch (n.kind) {
    case NodeKind::tile_attr:
      JAGTILE_CHECK(n.op == Op::index, << "tile attribute with a shape");
      return "(s" + std::to_string(n.ival) + " + " + idx[0] + ")";
    case NodeKind::iota:
      return "(int64_t)(" + idx[0] + ")";
    case NodeKind::unsqueeze: {
      std::vector<std::string> sub = idx;
      sub.erase(sub.begin() + n.ival);
      return at(n.operand(0), sub, w);
    }
    case NodeKind::load:
      return load_elem(n, idx, w);
    case NodeKind::var_read: {
      const Node& decl = *n.operand(0);
      return name(decl) + "[" + flat(decl.type.shape, idx) + "]";
    }
    default: {
      std::vector<std::string> ops;
      for (const NodePtr& o : n.operands)
        ops.push_back(at(o, map_idx(o->type.shape, n.type.shape, idx), w));
      return elementwise(n, ops);
    }
  }
}

// One element of a load: address, mask, bounds check (per mode), converted value.
std::string Emitter::load_elem(const Node& n, const std::vector<std::string>& idx, Writer& w) {
  const NodePtr& t = n.operand(0);
  std::string tr = tensor_ref(t);
  int rank = t->type.rank;
  std::string id = std::to_string(temp_++);
  std::vector<std::string> a;
  ++index_depth_;
  for (int d = 0; d < rank; ++d) {
    const NodePtr& o = n.operand(size_t(d + 1));
    std::string v = at(o, map_idx(o->type.shape, n.type.shape, idx), w);
    std::string nm = "a" + id + "_" + std::to_string(d);
    w.line("const int64_t " + nm + " = " + convert(v, operand_dtype(*o), DType::i64) + ";");
    a.push_back(nm);
  }
  std::string mask;
  if (n.ival) {
    const NodePtr& m = n.operands.back();
    std::string v = at(m, map_idx(m->type.shape, n.type.shape, idx), w);
    mask = "m" + id;
    w.line("const bool " + mask + " = (" + v + ") != 0;");
  }
  --index_depth_;
  std::string addr = a.empty() ? "0" : a[0];
  for (int d = 1; d < rank; ++d)
    addr = "(" + addr + ") * " + tr + ".size[" + std::to_string(d) + "] + " + a[size_t(d)];
  std::string ld = from_storage(
      "((const " + std::string(storage_ctype(t->type.dtype)) + "*)" + tr + ".data)[" + addr + "]",
      t->type.dtype);
  std::string cty = compute_ctype(n.type.dtype);
  ld = convert(ld, t->type.dtype, n.type.dtype);
  if (mode_ != CheckMode::unchecked) {
    int site = mode_ == CheckMode::diagnose ? add_site(Site::Kind::load, n, t->name) : -1;
    std::string in_bounds = check_access(n, idx, tr, a, mask, site, w);
    if (mode_ == CheckMode::check_only)
      return index_depth_ == 0 ? "(" + cty + ")0"
                               : "((" + in_bounds + ") ? " + ld + " : (" + cty + ")0)";
  }
  std::string cond = mask;
  if (cond.empty()) return ld;
  return "(" + cond + " ? " + ld + " : (" + cty + ")0)";
}

std::string Emitter::check_access(const Node& access, const std::vector<std::string>& idx,
                                  const std::string& tensor, const std::vector<std::string>& index,
                                  const std::string& mask, int site, Writer& w) {
  size_t rank = index.size();
  if (rank == 0) return mask.empty() ? "true" : mask;
  if (mode_ == CheckMode::diagnose) {
    for (size_t d = 0; d < rank; ++d) {
      std::string sz = tensor + ".size[" + std::to_string(d) + "]";
      w.line(std::string(mask.empty() ? "" : "if (" + mask + ") ") + "if (!((uint64_t)" + index[d] +
             " < (uint64_t)" + sz + ")) " + fail_return(1, site, index[d], sz, std::to_string(d)));
    }
    return {};
  }
  std::string c;
  for (size_t d = 0; d < rank; ++d)
    c += std::string(d ? " & " : "") + "((uint64_t)" + index[d] + " < (uint64_t)" + tensor +
         ".size[" + std::to_string(d) + "])";
  std::string in_bounds = (mask.empty() ? "" : mask + " & ") + "(" + c + ")";
  w.line("bad |= " + (mask.empty() ? "" : mask + " & ") + "!(" + c + ");");
  used_check_ = true;
  // Which dim of the access the innermost loop walks (none: every index is invariant there).
  int inner = -1;
  for (size_t q = 0; q < idx.size(); ++q)
    if (idx[q] == inner_var_) {
      if (inner >= 0) endpoint_ok_ = false;  // one loop walks two dims: a diagonal
      inner = int(q);
    }
  if (inner < 0) return in_bounds;
  if (!mask.empty()) endpoint_ok_ = false;  // a mask may skip either end
  const ir::Shape& shape = access.type.shape;
  for (size_t d = 0; d < rank; ++d) {
    const Node& o = *access.operand(d + 1);
    int od = inner - int(shape.size()) + int(o.type.shape.size());
    if (!monotone_in(o, od)) endpoint_ok_ = false;
  }
  return in_bounds;
}

bool Emitter::monotone_in(const Node& n, int dim) const {
  if (!is_device_value(n) || dim < 0 || n.type.shape[size_t(dim)].kind == Dim::Kind::broadcast)
    return true;  // the same value at every position of the loop
  auto operand_dim = [&](const NodePtr& o) {
    return dim - int(n.type.shape.size()) + int(o->type.shape.size());
  };
  auto invariant = [&](const NodePtr& o) {
    int od = operand_dim(o);
    return !is_device_value(*o) || od < 0 || o->type.shape[size_t(od)].kind == Dim::Kind::broadcast;
  };
  switch (n.kind) {
    case NodeKind::tile_attr:
      return n.op == Op::index;
    case NodeKind::iota:
      return true;
    case NodeKind::unsqueeze:
      return monotone_in(*n.operand(0), dim > n.ival ? dim - 1 : dim);
    case NodeKind::cast: {
      // Widening to int64 keeps the order; narrowing could wrap.
      const NodePtr& o = n.operand(0);
      return n.type.dtype == DType::i64 && dtype_is_int(operand_dtype(*o)) &&
             monotone_in(*o, operand_dim(o));
    }
    case NodeKind::binary: {
      // int64 only: a sum of index terms bounded by the tile sizes cannot wrap past 2^63 and
      // back, so both ends in bounds still bounds every position; int32 arithmetic could.
      if (DType(n.ival) != DType::i64) return false;
      const NodePtr& a = n.operand(0);
      const NodePtr& b = n.operand(1);
      if (n.op == Op::add)
        return monotone_in(*a, operand_dim(a)) && monotone_in(*b, operand_dim(b));
      if (n.op == Op::sub) return monotone_in(*a, operand_dim(a)) && invariant(b);
      return false;
    }
    default:
      return false;
  }
}

std::string Emitter::jagged_extent_at(int block, const ir::Shape& shape,
                                      const std::vector<std::string>& idx) {
  auto it = jagged_extents_.find(block);
  JAGTILE_CHECK(it != jagged_extents_.end(), << "jagged dim outside its loop");
  const Node& ext = *it->second;
  std::vector<std::string> eidx;
  for (const Dim& d : ext.type.shape) {
    if (d.kind != Dim::Kind::tile) {
      eidx.push_back("0");
      continue;
    }
    std::string found;
    for (size_t q = 0; q < shape.size(); ++q)
      if (shape[q].kind == Dim::Kind::tile && shape[q].block == d.block) found = idx[q];
    JAGTILE_CHECK(!found.empty(), << "jagged dim of '" << k_.blocks[size_t(block)].name
                                  << "' without its parent in a value's shape");
    eidx.push_back(found);
  }
  auto ta = temp_arrays_.find(&ext);
  std::string arr = ta != temp_arrays_.end() ? ta->second : name(ext);
  std::string v = arr + "[" + flat(ext.type.shape, eidx) + "]";
  return dtype_is_float(ext.type.dtype) ? "jt_f2i(" + v + ")" : "(int64_t)(" + v + ")";
}

std::string Emitter::mask_cond(const ir::Shape& shape, const std::vector<std::string>& idx) {
  std::vector<std::string> c;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d].kind != Dim::Kind::tile) continue;
    int b = shape[d].block;
    std::string s = "s" + std::to_string(b) + " + " + idx[d];
    if (k_.blocks[size_t(b)].kind == ir::LoopKind::jagged)
      c.push_back("(" + s + " < " + jagged_extent_at(b, shape, idx) + ")");
    c.push_back("(" + idx[d] + " < lim" + std::to_string(b) + ")");
  }
  return c.empty() ? "true" : join(c, " && ");
}

void Emitter::nest(const ir::Shape& shape, Writer& w,
                   const std::function<void(Writer&, const std::vector<std::string>&)>& body,
                   const std::string& simd_reductions, bool simd) {
  std::string nid = std::to_string(temp_++);
  size_t R = shape.size();
  std::vector<std::string> idx(R, "0");
  std::vector<size_t> loops;
  for (size_t d = 0; d < R; ++d)
    if (shape[d].kind != Dim::Kind::broadcast) {
      idx[d] = "i" + nid + "_" + std::to_string(d);
      loops.push_back(d);
    }
  for (size_t d = 0; d < R; ++d)
    if (shape[d].kind == Dim::Kind::full && current_) {
      std::string sz = "(" + scalar(shape[d].size) + ")";
      int site = add_site(Site::Kind::tile_size, *current_);
      w.line("if (" + sz + " < 0 || " + sz + " > (INT64_C(1) << 31)) " +
             fail_return(7, site, sz, "0", std::to_string(d)));
    }
  std::vector<std::string> deferred;
  std::string inner_limit;
  int opened = 0;
  for (size_t li = 0; li < loops.size(); ++li) {
    size_t d = loops[li];
    if (shape[d].kind == Dim::Kind::full) {  // every position of a full dim is valid
      inner_limit = "(" + scalar(shape[d].size) + ")";
      if (li + 1 == loops.size()) break;
      w.open("for (int64_t " + idx[d] + " = 0; " + idx[d] + " < " + inner_limit + "; ++" + idx[d] +
             ") {");
      ++opened;
      continue;
    }
    int b = shape[d].block;
    const ir::BlockInfo& info = k_.blocks[size_t(b)];
    std::string limit = "lim" + std::to_string(b);
    if (info.kind == ir::LoopKind::jagged) {
      bool parents_before = true;
      for (int p : info.parents) {
        bool ok = false;
        for (size_t q = 0; q < d; ++q)
          if (shape[q].kind == Dim::Kind::tile && shape[q].block == p) ok = true;
        parents_before &= ok;
      }
      std::string ext = jagged_extent_at(b, shape, idx);
      if (parents_before) {
        limit = "jl" + nid + "_" + std::to_string(d);
        w.line("const int64_t " + limit + " = jt_clamp_len(" + ext + " - s" + std::to_string(b) +
               ", lim" + std::to_string(b) + ");");
      } else {
        deferred.push_back("s" + std::to_string(b) + " + " + idx[d] + " < " + ext);
      }
    }
    inner_limit = limit;
    if (li + 1 == loops.size()) break;  // the innermost loop is written below
    w.open("for (int64_t " + idx[d] + " = 0; " + idx[d] + " < " + limit + "; ++" + idx[d] + ") {");
    ++opened;
  }
  std::map<std::string, std::string> memo;
  auto* saved = memo_;
  memo_ = &memo;
  if (loops.empty()) {
    w.open("{");
    body(w, idx);
    w.close();
  } else {
    // The innermost loop goes to its own writer so invariants can be hoisted in front of it.
    size_t d = loops.back();
    std::string limit = inner_limit;
    Writer hoisted, inner;
    hoisted.set_indent(w.indent());
    inner.set_indent(w.indent());
    Writer loop_body;
    loop_body.set_indent(w.indent() + 1);
    for (const std::string& c : deferred) loop_body.line("if (!(" + c + ")) continue;");
    Writer* saved_hoist = hoist_;
    std::string saved_var = inner_var_;
    bool saved_ok = endpoint_ok_;
    hoist_ = &hoisted;
    inner_var_ = idx[d];
    endpoint_ok_ = true;
    body(loop_body, idx);
    bool endpoints = mode_ == CheckMode::check_only && deferred.empty() && endpoint_ok_;
    hoist_ = saved_hoist;
    inner_var_ = saved_var;
    endpoint_ok_ = saved_ok;
    if (endpoints) {
      // Positions 0 and limit - 1 only.
      inner.open("for (int64_t " + idx[d] + " = 0; " + idx[d] + " < " + limit + "; " + idx[d] +
                 " += jt_max64(" + limit +
                 " - 1, 1)) {  // monotone indices: the ends bound "
                 "the rest");
    } else {
      if (simd) inner.line("#pragma omp simd" + simd_reductions);
      inner.open("for (int64_t " + idx[d] + " = 0; " + idx[d] + " < " + limit + "; ++" + idx[d] +
                 ") {");
    }
    inner.raw(loop_body.str());
    inner.close();
    w.raw(hoisted.str());
    w.raw(inner.str());
  }
  memo_ = saved;
  for (int i = 0; i < opened; ++i) w.close();
}

void Emitter::checked_nest(
    const ir::Shape& shape, Writer& w,
    const std::function<void(Writer&, const std::vector<std::string>&)>& body,
    const std::string& simd_reductions, bool simd) {
  if (options_.checked) {
    // First every index of the nest is checked (no loads, no writes: a cheap vectorised pass),
    // then the computing pass runs without checks. On a failure, a scalar rerun finds the
    // first bad access and reports it.
    Writer check;
    check.set_indent(w.indent() + 1);
    mode_ = CheckMode::check_only;
    used_check_ = false;
    nest(shape, check, body, " reduction(|:bad)", true);
    mode_ = CheckMode::unchecked;
    if (used_check_) {
      w.open("{");
      w.line("int bad = 0;");
      w.raw(check.str());
      w.open("if (bad) {  // find and report the first out-of-bounds access");
      mode_ = CheckMode::diagnose;
      nest(shape, w, body, {}, false);
      mode_ = CheckMode::unchecked;
      w.line("return jt_fail(F.h, 1, -1, 0, 0, 0);");
      w.close();
      w.close();
    }
  }
  mode_ = CheckMode::unchecked;
  nest(shape, w, body, simd_reductions, simd);
}

void Emitter::materialise(const Node& n, Writer& w) {
  std::string nm = name(n);
  std::string cty = compute_ctype(n.type.dtype);
  w.line(array_decl(cty, nm, numel(n.type.shape)));
  checked_nest(n.type.shape, w, [&](Writer& iw, const std::vector<std::string>& idx) {
    std::string e = at_inline(n, idx, iw);
    if (mode_ == CheckMode::check_only) return;
    iw.line(nm + "[" + flat(n.type.shape, idx) + "] = " + e + ";");
  });
  arrays_.insert(&n);
}

void Emitter::ensure_array(const NodePtr& n, Writer& w) {
  if (!is_device_value(*n) || arrays_.count(n.get()) || temp_arrays_.count(n.get())) return;
  std::string nm = "t" + std::to_string(temp_++);
  w.line(array_decl(compute_ctype(n->type.dtype), nm, numel(n->type.shape)));
  checked_nest(n->type.shape, w, [&](Writer& iw, const std::vector<std::string>& idx) {
    std::string e = at(n, idx, iw);
    if (mode_ == CheckMode::check_only) return;
    iw.line(nm + "[" + flat(n->type.shape, idx) + "] = " + e + ";");
  });
  temp_arrays_[n.get()] = nm;
}

void Emitter::reduce(const Node& n, Writer& w) {
  const NodePtr& a = n.operand(0);
  const ir::Shape& in = a->type.shape;
  DType t = n.type.dtype;
  std::string cty = compute_ctype(t);
  bool fl = dtype_is_float(t);
  std::string init = "0";
  if (n.op == Op::amax) init = fl ? "-INFINITY" : t == DType::boolean ? "false" : "INT64_MIN";
  if (n.op == Op::amin) init = fl ? "INFINITY" : t == DType::boolean ? "true" : "INT64_MAX";
  std::vector<bool> reduced(in.size(), false);
  for (int64_t d : n.ints) reduced[size_t(d)] = true;
  bool scalar_out = n.type.shape.empty();
  bool host = is_host_level(n);
  std::string nm = name(n);
  bool mean = n.op == Op::mean;
  std::string on = scalar_out ? std::string("1") : numel(n.type.shape);
  std::string cnt = "c" + std::to_string(facts(n).seq);
  if (scalar_out) {
    JAGTILE_CHECK(!host, << "device reduction at host level");
    w.line(cty + " " + nm + " = " + init + ";");
    if (mean) w.line("int64_t " + cnt + " = 0;");
  } else {
    w.line(array_decl(cty, nm, on));
    w.line("for (int64_t o = 0; o < " + on + "; ++o) " + nm + "[o] = " + init + ";");
    if (mean) {
      w.line(array_decl("int64_t", cnt, on));
      w.line("for (int64_t o = 0; o < " + on + "; ++o) " + cnt + "[o] = 0;");
    }
  }
  bool innermost_reduced = !in.empty() && reduced.back();
  std::string red;
  bool simd = true;
  if (scalar_out) {
    if (n.op == Op::sum || mean)
      red = " reduction(+:" + nm + (mean ? ", " + cnt : "") + ")";
    else
      simd = false;
  } else if (innermost_reduced) {
    simd = false;
  }
  checked_nest(
      in, w,
      [&](Writer& iw, const std::vector<std::string>& idx) {
        std::string x = convert(at(a, idx, iw), a->type.dtype, t);
        std::string target = nm, c = cnt;
        if (!scalar_out) {
          std::vector<std::string> oidx;
          for (size_t d = 0; d < in.size(); ++d)
            if (!reduced[d]) oidx.push_back(idx[d]);
          std::string o = flat(n.type.shape, oidx);
          target = nm + "[" + o + "]";
          c = cnt + "[" + o + "]";
        }
        if (mode_ == CheckMode::check_only) return;
        if (n.op == Op::amax)
          iw.line(target + " = jt_amax_step(" + target + ", " + x + ");");
        else if (n.op == Op::amin)
          iw.line(target + " = jt_amin_step(" + target + ", " + x + ");");
        else
          iw.line(target + " += " + x + ";");
        if (mean) iw.line(c + " += 1;");
      },
      red, simd);
  if (mean) {
    if (scalar_out)
      w.line(nm + " = " + nm + " / (" + cty + ")" + cnt + ";");
    else
      w.line("for (int64_t o = 0; o < " + on + "; ++o) " + nm + "[o] = " + nm + "[o] / (" + cty +
             ")" + cnt + "[o];");
  }
  if (!scalar_out) arrays_.insert(&n);
}

void Emitter::matmul(const Node& n, Writer& w) {
  const NodePtr& a = n.operand(0);
  const NodePtr& b = n.operand(1);
  ensure_array(a, w);
  ensure_array(b, w);
  if (n.operands.size() > 2) ensure_array(n.operand(2), w);
  const ir::Shape& so = n.type.shape;
  const ir::Shape& sa = a->type.shape;
  const ir::Shape& sb = b->type.shape;
  size_t R = so.size();
  std::string K = extents(sa).back();
  std::string nm = name(n);
  std::string cty = compute_ctype(n.type.dtype);
  w.line(array_decl(cty, nm, numel(so)));
  nest(so, w, [&](Writer& iw, const std::vector<std::string>& idx) {
    Writer* saved_hoist = hoist_;
    hoist_ = nullptr;  // operands are indexed by the local `kk`: nothing can move out
    std::vector<std::string> batch(idx.begin(), idx.end() - 2);
    ir::Shape sob(so.begin(), so.end() - 2);
    ir::Shape sab(sa.begin(), sa.end() - 2), sbb(sb.begin(), sb.end() - 2);
    std::vector<std::string> ia = map_idx(sab, sob, batch), ib = map_idx(sbb, sob, batch);
    ia.push_back(sa[sa.size() - 2].kind == Dim::Kind::broadcast ? "0" : idx[R - 2]);
    ia.push_back("kk");
    ib.push_back("kk");
    ib.push_back(sb.back().kind == Dim::Kind::broadcast ? "0" : idx[R - 1]);
    iw.line(cty + " acc = 0;");
    iw.open("for (int64_t kk = 0; kk < " + K + "; ++kk) {");
    iw.line("if (!(" + mask_cond(sa, ia) + " && " + mask_cond(sb, ib) + ")) continue;");
    iw.line("acc += (" + cty + ")" + at(a, ia, iw) + " * (" + cty + ")" + at(b, ib, iw) + ";");
    iw.close();
    if (n.operands.size() > 2) {
      const NodePtr& c = n.operand(2);
      iw.line("acc += (" + cty + ")" + at(c, map_idx(c->type.shape, so, idx), iw) + ";");
    }
    iw.line(nm + "[" + flat(so, idx) + "] = acc;");
    hoist_ = saved_hoist;
  });
  arrays_.insert(&n);
}

void Emitter::store(const Node& n, Writer& w) {
  const NodePtr& t = n.operand(0);
  std::string tr = tensor_ref(t);
  int rank = t->type.rank;
  const NodePtr& value = n.operand(size_t(rank + 1));
  const ir::Shape& shape = n.type.shape;
  int site = add_site(Site::Kind::store, n, t->name);
  checked_nest(shape, w, [&](Writer& iw, const std::vector<std::string>& idx) {
    std::string id = std::to_string(temp_++);
    std::vector<std::string> a;
    ++index_depth_;
    for (int d = 0; d < rank; ++d) {
      const NodePtr& o = n.operand(size_t(d + 1));
      std::string v = at(o, map_idx(o->type.shape, shape, idx), iw);
      std::string nm = "a" + id + "_" + std::to_string(d);
      iw.line("const int64_t " + nm + " = " + convert(v, operand_dtype(*o), DType::i64) + ";");
      a.push_back(nm);
    }
    std::string mask;
    if (n.ival) {
      const NodePtr& m = n.operands.back();
      mask = "m" + id;
      iw.line("const bool " + mask + " = (" + at(m, map_idx(m->type.shape, shape, idx), iw) +
              ") != 0;");
    }
    --index_depth_;
    std::string addr = a.empty() ? "0" : a[0];
    for (int d = 1; d < rank; ++d)
      addr = "(" + addr + ") * " + tr + ".size[" + std::to_string(d) + "] + " + a[size_t(d)];
    std::string v = at(value, map_idx(value->type.shape, shape, idx), iw);
    std::string st = "((" + std::string(storage_ctype(t->type.dtype)) + "*)" + tr + ".data)[" +
                     addr + "] = " + to_storage(v, operand_dtype(*value), t->type.dtype) + ";";
    if (mode_ != CheckMode::unchecked) {
      check_access(n, idx, tr, a, mask, site, iw);
      if (mode_ == CheckMode::check_only) return;
    }
    std::string cond = mask;
    iw.line(cond.empty() ? st : "if (" + cond + ") " + st);
  });
}

void Emitter::var_decl(const Node& n, Writer& w) {
  const NodePtr& init = n.operand(0);
  std::string nm = name(n);
  if (is_host_level(n)) {
    JAGTILE_CHECK(!is_device_value(n), << "device variable at host level");
    frame_fields_.push_back((n.type.is_tensor()                       ? std::string("JtTensor")
                             : n.type.kind == ir::TypeKind::host_int  ? std::string("int64_t")
                             : n.type.kind == ir::TypeKind::host_bool ? std::string("bool")
                             : n.type.kind == ir::TypeKind::host_float
                                 ? std::string("double")
                                 : std::string(compute_ctype(n.type.dtype))) +
                            " v" + std::to_string(facts(n).seq) + ";  // variable " + n.name);
    w.line(nm + " = " + scalar(init) + ";");
    return;
  }
  std::string cty = n.type.is_value()                        ? compute_ctype(n.type.dtype)
                    : n.type.kind == ir::TypeKind::host_int  ? "int64_t"
                    : n.type.kind == ir::TypeKind::host_bool ? "bool"
                                                             : "double";
  if (!is_device_value(n)) {
    std::string v = n.type.is_value() ? convert(scalar(init), operand_dtype(*init), n.type.dtype)
                                      : scalar(init);
    w.line(cty + " " + nm + " = " + v + ";  // variable " + n.name);
    return;
  }
  w.line(array_decl(cty, nm, numel(n.type.shape)) + "  // variable " + n.name);
  checked_nest(n.type.shape, w, [&](Writer& iw, const std::vector<std::string>& idx) {
    std::string v = at(init, map_idx(init->type.shape, n.type.shape, idx), iw);
    if (mode_ == CheckMode::check_only) return;
    iw.line(nm + "[" + flat(n.type.shape, idx) +
            "] = " + convert(v, operand_dtype(*init), n.type.dtype) + ";");
  });
}

void Emitter::var_assign(const Node& n, Writer& w) {
  const Node& decl = *n.operand(0);
  const NodePtr& value = n.operand(1);
  std::string nm = name(decl);
  if (!is_device_value(decl)) {
    std::string v = scalar(value);
    if (decl.type.is_value())
      v = convert(v, operand_dtype(*value), decl.type.dtype);
    else if (decl.type.kind == ir::TypeKind::host_float)
      v = "(double)(" + v + ")";
    w.line(nm + " = " + v + ";");
    return;
  }
  const ir::Shape& vs = decl.type.shape;
  bool same = is_device_value(*value) && value->type.shape.size() == vs.size();
  for (size_t d = 0; same && d < vs.size(); ++d) same = ir::same_dim(value->type.shape[d], vs[d]);
  if (!same && is_device_value(*value)) ensure_array(value, w);
  checked_nest(vs, w, [&](Writer& iw, const std::vector<std::string>& idx) {
    std::string v = at(value, map_idx(value->type.shape, vs, idx), iw);
    if (mode_ == CheckMode::check_only) return;
    iw.line(nm + "[" + flat(vs, idx) + "] = " + convert(v, operand_dtype(*value), decl.type.dtype) +
            ";");
  });
}

}  // namespace jagtile::codegen::cpu::detail
