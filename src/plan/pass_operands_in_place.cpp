// Planning pass: matmul operands read in place (see pass_operands_in_place.h).
#include "plan/pass_operands_in_place.h"

#include <algorithm>
#include <optional>

#include "plan/inline.h"
#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

// How index v enters e: not at all, once (v + terms without v, or such a sum times factors
// without v, through int64 additions, products and int64-to-int64 conversions: a flattened
// index `row * D + col`), or any other way (v twice, a narrower type). `coefficient` is what
// once multiplies v by (null: 1).
enum class Enters { no, once, otherwise };
struct Entry {
  Enters how = Enters::no;
  ExprPtr coefficient;
};
Entry enters(const ExprPtr& e, const std::string& v) {
  if (!mentions_var(e, v)) return {Enters::no, nullptr};
  if (e->kind == ExprKind::var && e->name == v) return {Enters::once, nullptr};
  if (e->kind == ExprKind::convert && e->dtype == DType::i64 && e->from == DType::i64)
    return enters(e->args[0], v);
  if (int64_op(e, ir::Op::add)) {
    const Entry a = enters(e->args[0], v), b = enters(e->args[1], v);
    if (a.how == Enters::otherwise || b.how == Enters::otherwise ||
        (a.how == Enters::once && b.how == Enters::once))
      return {Enters::otherwise, nullptr};
    return a.how == Enters::once ? a : b;
  }
  if (int64_op(e, ir::Op::mul)) {
    for (int side : {0, 1}) {
      const ExprPtr& factor = e->args[size_t(1 - side)];
      if (mentions_var(factor, v)) continue;
      const Entry x = enters(e->args[size_t(side)], v);
      if (x.how != Enters::once) return {Enters::otherwise, nullptr};
      return {Enters::once, x.coefficient ? binop(ir::Op::mul, x.coefficient, factor) : factor};
    }
  }
  return {Enters::otherwise, nullptr};
}

// The fors of a loop chain (innermost()'s), by index name.
void chain_extents(const Stmt& s, std::map<std::string, ExprPtr>& extents) {
  for (const StmtPtr& b : s.body) {
    if (b->kind == StmtKind::for_) extents[b->name] = b->extent;
    if (b->kind == StmtKind::for_ || b->kind == StmtKind::nest) chain_extents(*b, extents);
  }
}

// The extents of float32 array `name`, outer first; empty when it is not a float32 array.
std::vector<ExprPtr> float_array_extents(const DeviceFunc& f, const std::string& name) {
  const Stmt* decl = array_decl_of(f, name);
  return decl && decl->ctype == CType::f32 ? decl->indices : std::vector<ExprPtr>{};
}

// The row-major stride of each dim of an array with these extents, as keys (constants folded,
// as the planner writes a block's strides).
std::vector<std::string> array_stride_keys(const std::vector<ExprPtr>& extents) {
  std::vector<std::string> keys(extents.size());
  ExprPtr stride = int_imm(1);
  for (size_t d = extents.size(); d-- > 0;) {
    keys[d] = expr_key(stride);
    const ExprPtr& e = extents[d];
    stride = stride->kind == ExprKind::int_imm && e->kind == ExprKind::int_imm
                 ? int_imm(stride->ival * e->ival)
             : stride->kind == ExprKind::int_imm && stride->ival == 1
                 ? e
                 : binop(ir::Op::mul, e, stride);
  }
  return keys;
}

// Whether a dim of this extent holds one element (only ever read at its origin).
bool single(const ExprPtr& extent) {
  return extent->kind == ExprKind::int_imm && extent->ival <= 1;
}

// The product of the tensor's sizes after dim d: its row-major stride in elements.
ExprPtr tensor_stride(int capture, int rank, int d) {
  ExprPtr stride;
  const ExprPtr t = plan::capture(capture, CType::i64);
  for (int e = d + 1; e < rank; ++e)
    stride = stride ? binop(ir::Op::mul, stride, tensor_size(t, e)) : tensor_size(t, e);
  return stride ? stride : int_imm(1);
}

// A value nest as a copy: the guards at the top of its body (ifs that only fail: a tile size
// checked before its array is used) and the loop chain after them.
struct CopyNest {
  std::vector<StmtPtr> guards;
  const Stmt* loops = nullptr;
};
std::optional<CopyNest> copy_nest(const Stmt& nest) {
  CopyNest c;
  for (const StmtPtr& b : nest.body) {
    if (!c.loops && is_guard(b)) {
      c.guards.push_back(b);
    } else if (!c.loops && b->kind == StmtKind::for_) {
      c.loops = b.get();
    } else {
      return std::nullopt;
    }
  }
  if (!c.loops) return std::nullopt;
  return c;
}

// What an operand read in place becomes: the element at the operand's origin and the tensor
// strides of its two matmul dims.
struct InPlace {
  ExprPtr address, stride_first, stride_second;
  std::vector<StmtPtr> guards;  // the copy's guards, which stay where the copy was
};

// The copy nest `fill` of array `arr`, as the operand of matmul `block` at operand position op
// (3: A with rows and k; 6: B with k and columns), if it can be read in place.
std::optional<InPlace> in_place_operand(const DeviceFunc& f, const Stmt& fill, const Stmt& block,
                                        size_t op) {
  const ExprPtr& operand = block.indices[op];
  const std::string& arr = operand->name;
  std::optional<CopyNest> copy = copy_nest(fill);
  if (!copy) return std::nullopt;
  std::vector<std::string> loops;
  const Stmt* store = innermost(*copy->loops, &loops);
  if (!store || store->kind != StmtKind::array_store || store->name != arr ||
      store->update != Update::none)
    return std::nullopt;
  std::map<std::string, ExprPtr> lets, extents;
  innermost_lets(fill, lets);
  chain_extents(fill, extents);
  // Float32 elements copied as they are, or bf16 elements widened to float32 for a block that
  // takes bf16 inputs (its entry reads them as bf16).
  const bool bf16_block = MatmulInputs(block.ival) == MatmulInputs::bf16;
  auto element_type = [&](DType t) { return t == DType::f32 || (bf16_block && t == DType::bf16); };
  ExprPtr value = inline_lets(store->value, lets);
  if (value->kind == ExprKind::convert && value->dtype == DType::f32 && element_type(value->from))
    value = value->args[0];
  if (value->kind != ExprKind::load || value->has_mask || !element_type(value->from) ||
      (value->dtype != DType::f32 && value->dtype != value->from))
    return std::nullopt;
  const ir::Node* tensor = capture_node(f, value->ival);
  if (!tensor || tensor->type.dtype != value->from || int(value->args.size()) != tensor->type.rank)
    return std::nullopt;

  const std::vector<ExprPtr> dims = float_array_extents(f, arr);
  if (dims.empty() || dims.size() != store->indices.size() || operand->args.size() != dims.size())
    return std::nullopt;
  // The array's dims are the copy's loop indices, each plain or after a slot's first row that no
  // copy index moves (a memoised block's slice: memo[first_row + i, j], read by the matmul at
  // [first_row + 0, 0]); `at_origin` gets each index's value at the operand's origin.
  std::vector<std::string> index_of_dim;
  std::map<std::string, ExprPtr> at_origin;
  for (size_t d = 0; d < store->indices.size(); ++d) {
    const ExprPtr& i = store->indices[d];
    const ExprPtr& at = operand->args[d];
    if (i->kind == ExprKind::var && extents.count(i->name)) {
      index_of_dim.push_back(i->name);
      at_origin[i->name] = at;
      continue;
    }
    if (i->kind != ExprKind::binop || i->op != ir::Op::add || i->args[1]->kind != ExprKind::var ||
        !extents.count(i->args[1]->name) || at->kind != ExprKind::binop || at->op != ir::Op::add ||
        expr_key(at->args[0]) != expr_key(i->args[0]))
      return std::nullopt;
    for (const auto& [loop, extent] : extents)
      if (mentions_var(i->args[0], loop)) return std::nullopt;
    index_of_dim.push_back(i->args[1]->name);
    at_origin[i->args[1]->name] = at->args[1];
  }

  // The matmul's two dims of this operand: the array dims whose row-major strides its stride
  // operands name, read over the block's extents (A: M rows, K; B: K, N columns).
  const std::vector<std::string> array_stride = array_stride_keys(dims);
  const ExprPtr &first_stride = block.indices[op + 1], &second_stride = block.indices[op + 2];
  const ExprPtr &first_extent = block.indices[op == 3 ? 0 : 2],
                &second_extent = block.indices[op == 3 ? 2 : 1];
  int first_dim = -1, second_dim = -1;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (single(dims[d])) continue;  // a dim of one element is only ever read at its origin
    if (array_stride[d] == expr_key(first_stride) && first_dim < 0)
      first_dim = int(d);
    else if (array_stride[d] == expr_key(second_stride) && second_dim < 0)
      second_dim = int(d);
    else
      return std::nullopt;  // a dim of several elements the matmul does not walk
  }
  if (first_dim < 0 || second_dim < 0) return std::nullopt;

  // The copy covers exactly what the matmul reads: the loops over the two dims run over the
  // block's extents (the same expressions once the copy's other indices are the origin's).
  auto covers = [&](int dim, const ExprPtr& extent) {
    const ExprPtr loop =
        substitute(inline_lets(extents.at(index_of_dim[size_t(dim)]), lets), at_origin);
    return expr_key(loop) == expr_key(extent);
  };
  if (!covers(first_dim, first_extent) || !covers(second_dim, second_extent)) return std::nullopt;
  for (int d : {first_dim, second_dim}) {
    const ExprPtr& at = at_origin.at(index_of_dim[size_t(d)]);
    if (at->kind != ExprKind::int_imm || at->ival != 0) return std::nullopt;
  }

  // Each of the two indices enters exactly one tensor dim, once, times a coefficient that no
  // copy index moves (1, or a flattened index's row length: `x_flat[row * D + col]`).
  const int rank = tensor->type.rank;
  std::vector<ExprPtr> coefficient(2);
  auto tensor_dim_of = [&](const std::string& v, ExprPtr& coeff) -> int {
    int found = -1;
    for (int t = 0; t < rank; ++t) {
      const Entry e = enters(value->args[size_t(t)], v);
      if (e.how == Enters::otherwise) return -2;
      if (e.how == Enters::no) continue;
      if (found >= 0) return -2;
      for (const std::string& i : index_of_dim)
        if (e.coefficient && mentions_var(e.coefficient, i)) return -2;
      found = t;
      coeff = e.coefficient;
    }
    return found;
  };
  const int first_t = tensor_dim_of(index_of_dim[size_t(first_dim)], coefficient[0]);
  const int second_t = tensor_dim_of(index_of_dim[size_t(second_dim)], coefficient[1]);
  // Two indices in one dim are two strides of it only when they differ (a flattened row and
  // column: the row's coefficient is not 1).
  if (first_t < 0 || second_t < 0 ||
      (first_t == second_t && (!coefficient[0]) == (!coefficient[1])))
    return std::nullopt;
  // No other copy index may move the address: the rest are read at the operand's origin.
  for (size_t d = 0; d < dims.size(); ++d) {
    if (int(d) == first_dim || int(d) == second_dim) continue;
    for (const ExprPtr& i : value->args)
      if (mentions_var(i, index_of_dim[d]) && !single(dims[d])) return std::nullopt;
  }

  std::vector<ExprPtr> origin;
  for (const ExprPtr& i : value->args) origin.push_back(substitute(i, at_origin));
  InPlace r;
  r.address = tensor_address(int(value->ival), std::move(origin));
  auto scaled = [](ExprPtr stride, const ExprPtr& coeff) {
    return coeff ? binop(ir::Op::mul, coeff, stride) : stride;
  };
  r.stride_first = scaled(tensor_stride(int(value->ival), rank, first_t), coefficient[0]);
  r.stride_second = scaled(tensor_stride(int(value->ival), rank, second_t), coefficient[1]);
  r.guards = copy->guards;
  return r;
}

// The matmul_block of a matmul nest: the one statement inside its loops and scopes (lets and
// guards aside), or null.
const Stmt* block_of(const Stmt& nest) {
  const Stmt* at = &nest;
  while (at && at->kind != StmtKind::matmul_block) {
    if (at->kind != StmtKind::nest && at->kind != StmtKind::for_ && at->kind != StmtKind::scope)
      return nullptr;
    const Stmt* next = nullptr;
    for (const StmtPtr& b : at->body) {
      if (b->kind == StmtKind::let || is_guard(b)) continue;
      if (next) return nullptr;
      next = b.get();
    }
    at = next;
  }
  return at;
}

// Reads the first operand it can in place; true when it changed the function.
bool read_one_in_place(DeviceFunc& f) {
  Units units = collect_units(f);
  for (size_t m = 0; m < units.units.size(); ++m) {
    const Unit& M = units.units[m];
    if (M.stmt->kind != StmtKind::nest || M.stmt->role != NestRole::matmul) continue;
    const Stmt* block = block_of(*M.stmt);
    if (!block) continue;
    // Float32 blocks read A only: the microkernel packs a B with strided columns but reads a B
    // with contiguous columns directly, row by row, so a B read in place with rows far apart
    // (HSTU's v, 16 KiB) meets L1 set conflicts its copy avoided (measured 3% slower there;
    // docs/performance.md). bf16 blocks read both: the pair and tile paths pack both operands
    // anyway, now straight from the tensor instead of from a float copy of it.
    const bool bf16_block = MatmulInputs(block->ival) == MatmulInputs::bf16;
    // A B whose panels the block keeps (pass_memoize.h) is only ever packed, never read row by
    // row: read in place, its block's copy into the memo goes too.
    const bool packed_once = matmul_operand_count(*block) < block->indices.size() &&
                             block->indices[7]->kind == ExprKind::int_imm &&
                             block->indices[7]->ival == 1;
    for (size_t op : {size_t(3), size_t(6)}) {
      if (op == 6 && !bf16_block && !packed_once) continue;
      const ExprPtr& operand = block->indices[op];
      if (operand->kind != ExprKind::array_read) continue;
      const std::string& arr = operand->name;
      const int p = units.producer(arr);
      if (p < 0 || p >= int(m)) continue;
      const Unit& P = units.units[size_t(p)];
      // A bf16 operand's fallback (jt_matmul_bf16 on the f32 path) widens it on every call: only
      // where the copy also ran on every call, beside the matmul, is that no extra work.
      if (bf16_block && P.list != M.list) continue;
      // P may sit in an enclosing list (q's block copied once per q block, read by the matmul
      // of every k block): the units between, in program order, are checked the same way.
      if (P.stmt->kind != StmtKind::nest || P.stmt->role != NestRole::value) continue;
      const std::vector<int> readers = units.readers(arr, p);
      if (readers.size() != 1 || readers[0] != int(m)) continue;
      bool rewritten_between = false;
      for (int u = p + 1; u < int(m); ++u)
        rewritten_between = rewritten_between || units.units[size_t(u)].writes.count(arr) > 0;
      if (rewritten_between || !reads_unchanged(units, p, int(m))) continue;
      std::optional<InPlace> in_place = in_place_operand(f, *P.stmt, *block, op);
      if (!in_place) continue;
      // The copy froze the tensor's values where it ran; the matmul may run again later (inside
      // a loop), after a store that the units between the two do not show. Only a tensor the
      // function never stores to is read in place.
      const ir::Node* tensor = root_tensor(capture_node(f, in_place->address->ival));
      if (std::any_of(units.units.begin(), units.units.end(),
                      [&](const Unit& u) { return u.stores.count(tensor) > 0; }))
        continue;

      std::vector<ExprPtr> ops = block->indices;
      ops[op] = in_place->address;
      ops[op + 1] = in_place->stride_first;
      ops[op + 2] = in_place->stride_second;
      const std::string c_array = block->name;
      StmtPtr reading =
          matmul_block(c_array, std::move(ops), MatmulInputs(block->ival), band_of(*block));
      const int m_list = M.list, m_index = M.index, p_list = P.list, p_index = P.index;
      const bool diagnosed = [&] {
        for (size_t u = 0; u < units.units.size(); ++u)
          if (int(u) != p && units.units[u].writes.count(arr)) return true;
        return false;
      }();
      // The copy goes; its guards stay (they check the tile size the interpreter checks too).
      const std::vector<StmtPtr>& guards = in_place->guards;
      f = replace_unit(f, m_list, m_index, {replace_stmt(M.stmt, block, reading)});
      f = replace_unit(f, p_list, p_index,
                       guards.empty() ? std::vector<StmtPtr>{} : std::vector<StmtPtr>{seq(guards)});
      // Without a diagnosing copy (unchecked code) nothing else names the array.
      if (!diagnosed) f = remove_array(f, arr);
      return true;
    }
  }
  return false;
}

}  // namespace

void read_matmul_operands_in_place(Plan& plan) {
  for (DeviceFunc& f : plan.funcs)
    while (read_one_in_place(f)) {
    }
}

}  // namespace jagtile::plan
