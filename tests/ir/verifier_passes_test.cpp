// The verifier rejects malformed IR with an InternalError (dominance, tile dims outside their
// loop, device accesses on the host, jagged parents that disagree with the extents), and the
// passes do what they claim: constants folded with Python semantics, dead code removed.
#include <gtest/gtest.h>

#include "helpers.h"
#include "ir/pass_dead_code.h"
#include "ir/pass_fold_constants.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace jagtile::testing {
namespace {

using namespace ir;

NodePtr param_tensor(int64_t index, const std::string& name, int rank) {
  Node n;
  n.kind = NodeKind::param;
  n.ival = index;
  n.name = name;
  n.type = Type::tensor(DType::f32, rank, Device::cpu());
  return make_node(std::move(n));
}

NodePtr size_of(NodePtr t, int64_t d) {
  Node n;
  n.kind = NodeKind::size_of;
  n.type = Type::host_int();
  n.operands = {std::move(t)};
  n.ival = d;
  return make_node(std::move(n));
}

Kernel one_param_kernel() {
  Kernel k;
  k.name = "bad";
  ParamSpec p;
  p.name = "x";
  p.rank = 1;
  k.params = {p};
  return k;
}

void expect_internal(const Kernel& k, const std::string& what) {
  try {
    verify(k);
    ADD_FAILURE() << "expected the verifier to reject: " << what;
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(Verifier, OperandUsedBeforeItsDefinition) {
  Kernel k = one_param_kernel();
  NodePtr s = size_of(param_tensor(0, "x", 1), 0);
  Node add;
  add.kind = NodeKind::binary;
  add.op = Op::add;
  add.type = Type::host_int();
  add.operands = {s, const_int(1)};
  k.body = {make_node(std::move(add)), s};  // s placed after its use
  expect_internal(k, "is not defined before this use");
}

TEST(Verifier, TileDimOutsideItsLoop) {
  Kernel k = one_param_kernel();
  BlockInfo b;
  b.id = 0;
  b.name = "t";
  k.blocks = {b};
  Node full;
  full.kind = NodeKind::full;
  full.operands = {const_float(0)};
  full.type = Type::value(DType::f32, {Dim::tile(0)});
  k.body = {make_node(std::move(full))};
  expect_internal(k, "outside its loop");
}

TEST(Verifier, LoadOnTheHost) {
  Kernel k = one_param_kernel();
  Node load;
  load.kind = NodeKind::load;
  load.operands = {param_tensor(0, "x", 1), const_int(0)};
  load.type = Type::value(DType::f32, {});
  k.body = {make_node(std::move(load))};
  expect_internal(k, "loads and stores live inside device loops");
}

TEST(Verifier, JaggedParentsMustMatchTheExtents) {
  ir::Kernel good =
      lower_source(R"(
@helion.kernel()
def k(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([lengths.size(0)], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(lengths.size(0)):
        acc = hl.zeros([tile_b], dtype=torch.float32)
        for tile_k in hl.jagged_tile(lengths[tile_b]):
            acc = acc + x[tile_b, tile_k].sum(dim=1)
        out[tile_b] = acc
    return out
)",
                   {tensor_spec("x", DType::f32, 2), tensor_spec("lengths", DType::i64, 1)});
  EXPECT_NO_THROW(verify(good));
  Kernel bad = good;
  bad.blocks[1].parents = {1};
  expect_internal(bad, "parents match extents");
}

TEST(Passes, FoldConstantsWithPythonSemantics) {
  Kernel k = one_param_kernel();
  auto binop = [](Op op, NodePtr a, NodePtr b, Type t) {
    Node n;
    n.kind = NodeKind::binary;
    n.op = op;
    n.type = t;
    n.operands = {std::move(a), std::move(b)};
    return make_node(std::move(n));
  };
  NodePtr q = binop(Op::floordiv, const_int(-7), const_int(2), Type::host_int());
  NodePtr r = binop(Op::mod, const_int(-7), const_int(2), Type::host_int());
  NodePtr d = binop(Op::div, const_int(7), const_int(2), Type::host_float());
  NodePtr c = binop(Op::lt, q, r, Type::host_bool());
  Node ret;  // keep them alive through an assert on c and an alloc sized by q, r
  ret.kind = NodeKind::assert_;
  ret.operands = {c};
  ret.name = "m";
  Node alloc;
  alloc.kind = NodeKind::alloc;
  alloc.op = Op::fill;
  alloc.operands = {r, d};
  alloc.type = Type::tensor(DType::f32, 1, Device::cpu());
  NodePtr a = make_node(std::move(alloc));
  Node rn;
  rn.kind = NodeKind::return_;
  rn.operands = {a};
  k.body = {q, r, d, c, make_node(std::move(ret)), a, make_node(std::move(rn))};
  verify(k);
  Kernel f = eliminate_dead_code(fold_constants(k));
  verify(f);
  std::string text = print_kernel(f);
  EXPECT_NE(text.find("assert_ True"), std::string::npos) << text;  // -4 < 1
  EXPECT_NE(text.find("alloc.fill f32 1, 3.5"), std::string::npos) << text;
  EXPECT_EQ(text.find("binary"), std::string::npos) << text;
}

TEST(Passes, DeadCodeRemovesUnusedValuesAndVariables) {
  ir::Kernel k = lower_source(R"(
@helion.kernel()
def k(x: torch.Tensor) -> torch.Tensor:
    unused = x.size(0) * 7
    out = torch.zeros_like(x)
    for t in hl.tile(x.size(0)):
        never_read = hl.zeros([t], dtype=torch.float32)
        for u in hl.tile(3):
            never_read = never_read + 1
        out[t] = x[t]
    return out
)",
                              {tensor_spec("x", DType::f32, 1)});
  std::string text = print_kernel(k);
  EXPECT_EQ(text.find("var_"), std::string::npos) << text;
  EXPECT_EQ(text.find("binary.mul"), std::string::npos) << text;
  EXPECT_EQ(text.find("full"), std::string::npos) << text;
  EXPECT_NE(text.find("store"), std::string::npos) << text;
}

}  // namespace
}  // namespace jagtile::testing
