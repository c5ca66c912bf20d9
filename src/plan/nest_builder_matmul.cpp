// Matmul nests of the loop-nest builder (see nest_builder.h): element loops, or with
// Plan::matmul_blocks one matmul_block statement per batch position (the CPU microkernel, the
// CUDA block matmul).
#include "plan/nest_builder.h"

namespace jagtile::plan::nest_builder {

// True when every jagged tile dim of `shape` has all its parents among dims [0, before).
bool Builder::parents_within(const ir::Shape& shape, size_t before) const {
  for (const Dim& d : shape) {
    if (d.kind != Dim::Kind::tile) continue;
    for (int p : k_.blocks[size_t(d.block)].parents) {
      bool found = false;
      for (size_t q = 0; q < before && q < shape.size(); ++q)
        found |= shape[q].kind == Dim::Kind::tile && shape[q].block == p;
      if (!found) return false;
    }
  }
  return true;
}

// How many leading positions of dim d of `shape` are valid at position idx: the valid positions
// of a dim are a prefix (a tile's limit, clamped by a jagged extent), as mask_cond tests them.
ExprPtr Builder::valid_count(const ir::Shape& shape, size_t d, const Idx& idx) {
  const Dim& dim = shape[d];
  if (dim.kind == Dim::Kind::broadcast) return int_imm(1);
  if (dim.kind == Dim::Kind::full) return scalar(dim.size);
  const int b = dim.block;
  if (k_.blocks[size_t(b)].kind != ir::LoopKind::jagged) return tile_limit(b);
  return call("jt_clamp_len", CType::i64,
              {binop(Op::sub, jagged_extent_at(b, shape, idx), tile_start(b)), tile_limit(b)});
}

void Builder::find_read_through_permutes() {
  std::unordered_map<const Node*, bool> only_matmuls;
  ir::walk(nest_.loop->regions.at(0), [&](const NodePtr& user) {
    for (size_t i = 0; i < user->operands.size(); ++i) {
      const Node* o = user->operands[i].get();
      if (o->kind != NodeKind::permute) continue;
      bool ok = user->kind == NodeKind::matmul && i < 2;
      auto [it, fresh] = only_matmuls.emplace(o, ok);
      if (!fresh) it->second = it->second && ok;
    }
  });
  for (const auto& [p, ok] : only_matmuls)
    if (ok && is_device_value(*p) && is_device_value(*p->operand(0)) &&
        ctype_of(p->type) == CType::f32)
      read_through_.insert(p);
}

// Element strides of each dim of a tile array of `shape`: row-major, 0 for a broadcast dim.
std::vector<ExprPtr> Builder::strides_of(const ir::Shape& shape) {
  std::vector<ExprPtr> e = extents(shape), s(shape.size());
  ExprPtr step = int_imm(1);
  for (size_t d = shape.size(); d-- > 0;) {
    s[d] = shape[d].kind == Dim::Kind::broadcast ? int_imm(0) : step;
    const bool step_imm = step->kind == ExprKind::int_imm;
    if (step_imm && e[d]->kind == ExprKind::int_imm)
      step = int_imm(step->ival * e[d]->ival);
    else
      step = step_imm && step->ival == 1 ? e[d] : binop(Op::mul, step, e[d]);
  }
  return s;
}

// Element strides of each dim of a matmul operand where its elements live: its own array, or
// for a read-through permute its operand's, dims permuted.
std::vector<ExprPtr> Builder::strides_of(const NodePtr& operand) {
  if (!read_through_.count(operand.get())) return strides_of(operand->type.shape);
  std::vector<ExprPtr> inner = strides_of(operand->operand(0)), s(inner.size());
  for (size_t d = 0; d < s.size(); ++d) s[d] = inner[size_t(operand->ints[d])];
  return s;
}

// Element strides of the last two dims of a matmul operand (row, then column).
std::pair<ExprPtr, ExprPtr> Builder::last_strides(const std::vector<ExprPtr>& strides) {
  const size_t r = strides.size();
  if (r == 1) return {int_imm(0), strides[0]};
  return {strides[r - 2], strides[r - 1]};
}

// The 16-bit float type whose values a matmul operand holds exactly, or f32 (the tensor cores
// take such operands without changing them). A widening cast, a permute or an unsqueeze keeps
// its operand's values (`k[tile, :].to(torch.float32).T` holds bf16 values exactly).
DType Builder::sixteen_bit_values(const NodePtr& n) {
  const DType t = n->type.dtype;
  const bool sixteen = t == DType::bf16 || t == DType::f16;
  // A 16-bit tensor's loaded elements and a cast to a 16-bit type hold 16-bit values exactly.
  // Arithmetic typed bf16 or f16 does not: it is computed in fp32 and not rounded (the
  // interpreter's rule), and rounding it for the tensor cores changed results (differential
  // fuzzing, seed 210511: `a = alpha + x[rows, tile_d]` with bf16 x, then `a @ wt`).
  if (sixteen && (n->kind == NodeKind::load || n->kind == NodeKind::cast)) return t;
  if (n->kind == NodeKind::permute || n->kind == NodeKind::unsqueeze)
    return sixteen_bit_values(n->operand(0));
  if (n->kind == NodeKind::cast && t == DType::f32) return sixteen_bit_values(n->operand(0));
  return DType::f32;
}

// A float matmul as one matmul_block statement per batch position (the CPU backend's
// register-blocked microkernel, the CUDA backend's block matmul), when its operands are f32 tile
// arrays whose valid positions are prefixes the block can count. False leaves it to the element
// loops.
bool Builder::matmul_as_blocks(const Node& n, std::vector<StmtPtr>& out) {
  const NodePtr& a = n.operand(0);
  const NodePtr& b = n.operand(1);
  const NodePtr acc = n.operands.size() > 2 ? n.operand(2) : nullptr;
  const ir::Shape& so = n.type.shape;
  const ir::Shape& sa = a->type.shape;
  const ir::Shape& sb = b->type.shape;
  const size_t R = so.size();
  if (!plan_.matmul_blocks || ctype_of(n.type) != CType::f32) return false;
  for (const NodePtr& o : n.operands)
    if (!is_device_value(*o) || ctype_of(o->type) != CType::f32) return false;
  if (acc && acc->type.shape.size() > R) return false;
  const Dim& ka = sa.back();
  const Dim& kb = sb[sb.size() - 2];
  if (ka.kind != kb.kind || (ka.kind == Dim::Kind::tile && ka.block != kb.block)) return false;
  if (!parents_within(so, R - 2) || !parents_within(sa, sa.size() - 2) ||
      !parents_within(sb, sb.size() - 2))
    return false;
  const DType in =
      sixteen_bit_values(a) == sixteen_bit_values(b) ? sixteen_bit_values(a) : DType::f32;
  const MatmulInputs inputs = in == DType::bf16  ? MatmulInputs::bf16
                              : in == DType::f16 ? MatmulInputs::f16
                                                 : MatmulInputs::f32;
  const std::string nm = name(n);
  out.push_back(tagged(array_decl(nm, CType::f32, extents(so)), n));
  const ir::Shape batch(so.begin(), so.end() - 2);
  StmtPtr blocks = nest(
      NestRole::matmul, n, nm, batch,
      [&](const Idx& bidx) {
        Idx idx = bidx;
        idx.push_back(int_imm(0));
        idx.push_back(int_imm(0));
        const Idx ia = map_idx(sa, so, idx), ib = map_idx(sb, so, idx);
        auto [a_m, a_k] = last_strides(strides_of(a));
        auto [b_k, b_n] = last_strides(strides_of(b));
        auto [c_m, c_n] = last_strides(strides_of(so));
        (void)c_n;  // 1: the output's rows are contiguous
        std::vector<ExprPtr> ops = {valid_count(so, R - 2, idx),
                                    valid_count(so, R - 1, idx),
                                    valid_count(sa, sa.size() - 1, ia),
                                    at(a, ia),
                                    a_m,
                                    a_k,
                                    at(b, ib),
                                    b_k,
                                    b_n,
                                    array_read(nm, CType::f32, idx),
                                    c_m};
        if (acc) {
          auto [d_m, d_n] = last_strides(strides_of(acc));
          ops.push_back(at(acc, map_idx(acc->type.shape, so, idx)));
          ops.push_back(d_m);
          ops.push_back(d_n);
        }
        return std::vector<StmtPtr>{matmul_block(nm, std::move(ops), inputs, band(n))};
      },
      LoopKind::serial);
  // The full dims of the block itself fit a tile array, as every nest checks.
  std::vector<StmtPtr> body = size_checks(n, so, R - 2);
  body.insert(body.end(), blocks->body.begin(), blocks->body.end());
  out.push_back(with_body(blocks, std::move(body)));
  return true;
}

// The IR matmul's band (ir/pass_band_matmuls.h) with its offset as an expression:
// begin(row loop) - begin(column loop) + the constant.
MatmulBand Builder::band(const Node& n) {
  if (n.ints.size() != 4) return {};
  ExprPtr offset = binop(Op::sub, tile_start(int(n.ints[1])), tile_start(int(n.ints[2])));
  if (n.ints[3] != 0) offset = add(offset, int_imm(n.ints[3]));
  return MatmulBand{ir::MatmulBand(n.ints[0]), offset};
}

void Builder::matmul(const Node& n, std::vector<StmtPtr>& out) {
  if (matmul_as_blocks(n, out)) return;
  const NodePtr& a = n.operand(0);
  const NodePtr& b = n.operand(1);
  const ir::Shape& so = n.type.shape;
  const ir::Shape& sa = a->type.shape;
  const ir::Shape& sb = b->type.shape;
  const size_t R = so.size();
  const ExprPtr K = extents(sa).back();
  const std::string nm = name(n);
  const CType ct = ctype_of(n.type);
  out.push_back(tagged(array_decl(nm, ct, extents(so)), n));
  out.push_back(nest(NestRole::matmul, n, nm, so, [&](const Idx& idx) {
    Idx batch(idx.begin(), idx.end() - 2);
    ir::Shape sob(so.begin(), so.end() - 2), sab(sa.begin(), sa.end() - 2),
        sbb(sb.begin(), sb.end() - 2);
    Idx ia = map_idx(sab, sob, batch), ib = map_idx(sbb, sob, batch);
    ExprPtr kk = var("kk", CType::i64);
    ia.push_back(sa[sa.size() - 2].kind == Dim::Kind::broadcast ? int_imm(0) : idx[R - 2]);
    ia.push_back(kk);
    ib.push_back(kk);
    ib.push_back(sb.back().kind == Dim::Kind::broadcast ? int_imm(0) : idx[R - 1]);
    std::vector<StmtPtr> body;
    body.push_back(decl("acc", ct, convert(int_imm(0), DType::i64, n.type.dtype)));
    ExprPtr x = convert(at(a, ia), a->type.dtype, n.type.dtype);
    ExprPtr y = convert(at(b, ib), b->type.dtype, n.type.dtype);
    // Float products are summed with an explicit fused multiply-add: whether the compiler
    // contracts a masked `acc += x * y` depends on the ISA's masked FMA (AVX-512 yes, AVX2 no),
    // and the block microkernel must agree with these loops bit for bit.
    StmtPtr step = ct == CType::f32
                       ? assign("acc", call("jt_fma_f32", ct, {x, y, var("acc", ct)}), Update::none)
                       : assign("acc", binop(Op::mul, x, y), Update::add);
    ExprPtr take = binop(Op::logical_and, mask_cond(sa, ia), mask_cond(sb, ib));
    const MatmulBand mb = band(n);
    if (mb.mode == ir::MatmulBand::zero_a)  // the products the microkernel skips, skipped alike
      take = binop(Op::logical_and, take, binop(Op::le, kk, add(idx[R - 2], mb.offset)));
    body.push_back(for_("kk", K, {skip_unless(take), step}));
    if (n.operands.size() > 2) {
      const NodePtr& c = n.operand(2);
      body.push_back(assign(
          "acc", convert(at(c, map_idx(c->type.shape, so, idx)), c->type.dtype, n.type.dtype),
          Update::add));
    }
    body.push_back(array_store(nm, idx, var("acc", ct)));
    return body;
  }));
}

}  // namespace jagtile::plan::nest_builder
