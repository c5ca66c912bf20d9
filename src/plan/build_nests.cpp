// Lowering to the loop-nest form (see build_nests.h). One Builder per device function walks the
// outermost loop's body: a device value becomes `array_decl` + a `value` nest that stores every
// valid position; reductions, matmul, stores and variables become nests of their own roles;
// inner loops become `tile_loop`s; scalars (0-d values, host-typed values inside loops) become
// lets. Operands are read from their arrays, captures (host values) or scalar locals.
#include "plan/build_nests.h"

#include "plan/nest_builder.h"

namespace jagtile::plan {

namespace nest_builder {

// Scalars inside device code: 0-d values and host-typed values computed per program.
void Builder::scalar_value(const Node& n, std::vector<StmtPtr>& out) {
  const std::string nm = name(n);
  const CType ct = ctype_of(n.type);
  auto put = [&](ExprPtr e) { out.push_back(tagged(let(nm, ct, std::move(e)), n)); };
  switch (n.kind) {
    case NodeKind::size_of:
      return put(tensor_size(scalar(n.operand(0)), int(n.ival)));
    case NodeKind::numel: {
      ExprPtr t = scalar(n.operand(0)), e = int_imm(1);
      for (int d = 0; d < n.operand(0)->type.rank; ++d) e = binop(Op::mul, e, tensor_size(t, d));
      return put(e);
    }
    case NodeKind::var_read:
      return put(scalar(n.operand(0)));
    case NodeKind::tile_attr: {
      const int b = int(n.ival);
      switch (n.op) {
        case Op::index:
        case Op::begin:
          return put(tile_start(b));
        case Op::end:
          return put(add(tile_start(b), tile_limit(b)));
        case Op::block_size:
          return put(int_imm(k_.blocks[size_t(b)].block_size));
        case Op::id:
          return put(var("id" + std::to_string(b), CType::i64));
        default:
          JAGTILE_CHECK(false, << "bad tile attribute");
      }
      return;
    }
    case NodeKind::load: {
      std::vector<StmtPtr> body;
      ExprPtr e = load_element(n, {}, body);
      for (StmtPtr& s : body) out.push_back(s);
      return put(e);
    }
    case NodeKind::binary:
      if (n.type.is_host_scalar() && n.type.kind != ir::TypeKind::host_float &&
          n.operand(0)->type.kind != ir::TypeKind::host_float &&
          n.operand(1)->type.kind != ir::TypeKind::host_float) {
        // Host integers are Python's: overflow and division by zero are errors.
        const bool div = n.op == Op::floordiv || n.op == Op::mod;
        const bool arith = n.op == Op::add || n.op == Op::sub || n.op == Op::mul;
        if (div || (arith && n.type.kind == ir::TypeKind::host_int)) {
          Stmt s;
          s.kind = StmtKind::checked_int;
          s.name = nm;
          s.op = n.op;
          s.value = convert(scalar(n.operand(0)), ir::operand_dtype(*n.operand(0)), DType::i64);
          s.extent = convert(scalar(n.operand(1)), ir::operand_dtype(*n.operand(1)), DType::i64);
          s.site = add_site(div ? Site::Kind::div_zero : Site::Kind::overflow, n, {},
                            std::string(ir::op_name(n.op)));
          s.node = &n;
          s.ctype = ct;
          if (div) {
            // The check, then the plain operation.
            out.push_back(std::make_shared<const Stmt>(std::move(s)));
            break;
          }
          out.push_back(std::make_shared<const Stmt>(std::move(s)));
          return;
        }
      }
      break;
    case NodeKind::alloc:
    case NodeKind::view:
    case NodeKind::scalar_read:
      JAGTILE_CHECK(false, << ir::kind_name(n.kind) << " inside a device loop");
      return;
    default:
      break;
  }
  std::vector<ExprPtr> ops;
  for (const NodePtr& o : n.operands) ops.push_back(scalar(o));
  put(compute(&n, ct, std::move(ops)));
}

}  // namespace nest_builder

Plan build_nests(const ir::Kernel& kernel, const host::HostProgram& host, bool checked,
                 bool matmul_blocks) {
  Plan plan;
  plan.kernel = &kernel;
  plan.host = &host;
  plan.checked = checked;
  plan.matmul_blocks = matmul_blocks;
  // Program order over the whole kernel names the values (v<seq>), as the tile IR printer
  // numbers them, so generated code and IR dumps can be read side by side.
  std::unordered_map<const ir::Node*, int> seq;
  int next = 0;
  ir::walk(kernel.body, [&](const ir::NodePtr& n) { seq[n.get()] = next++; });
  for (const host::DeviceNest& nest : host.nests)
    plan.funcs.push_back(nest_builder::Builder(kernel, host, nest, plan, seq).run());
  return plan;
}

}  // namespace jagtile::plan
