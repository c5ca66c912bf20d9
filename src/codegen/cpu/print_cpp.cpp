// The C++ printer of the loop-nest form (see print_cpp.h): expressions and statements one to one,
// the frame of captured host values per device nest, and the file around them.
#include "codegen/cpu/print_cpp.h"

#include "codegen/common/c_printer.h"
#include "codegen/cpu/abi.h"
#include "plan/nest_util.h"

namespace jagtile::codegen::cpu {

namespace {

using plan::CType;
using plan::ExprKind;
using plan::Stmt;
using plan::Update;

// One device function.
class FuncPrinter : public NestPrinter {
 public:
  FuncPrinter(const plan::Plan& plan, const plan::DeviceFunc& func, int index)
      : NestPrinter(plan, func), index_(index) {}

  // The frame struct, the program function and the extern "C" entry.
  std::string run(std::string* entry) {
    const std::string b = std::to_string(func_.block);
    const std::string bs = "INT64_C(" + std::to_string(func_.block_size) + ")";
    const std::string frame = "Frame" + std::to_string(index_);
    Writer w;
    w.line("// ---- device nest " + std::to_string(index_) + ": the loop over " +
           k_.blocks[size_t(func_.block)].name + " at line " +
           std::to_string(func_.nest->loop->loc.line) + " ----");
    w.line("// The host values it reads (captured by the runtime) and its loop's bounds.");
    w.open("struct " + frame + " {");
    w.line("JtError* err;");
    for (const host::Capture& c : func_.nest->captures)
      w.line(std::string(capture_ctype(c)) + " " + field(c) + ";" +
             (c.node->name.empty() ? "" : "  // " + c.node->name));
    w.line("int64_t loop_begin;");
    w.line("int64_t loop_end;");
    w.close("};");
    w.line("");
    w.line("// One program (iteration) of the loop over " + k_.blocks[size_t(func_.block)].name +
           ".");
    // The frame is passed by value: a local copy cannot alias the tensors the body stores to,
    // so the compiler keeps its data pointers and sizes in registers across those stores (by
    // reference they were reloaded after every store, 4-11% slower on jagged_dense_add).
    w.open("static int " + func_.name + "(const " + frame + " F, int64_t id" + b + ") {");
    w.line("const int64_t s" + b + " = F.loop_begin + id" + b + " * " + bs + ";");
    w.line("const int64_t end" + b + " = F.loop_end;");
    w.line("const int64_t lim" + b + " = jt_min64(" + bs + ", end" + b + " - s" + b + ");");
    w.line("(void)lim" + b + ";");
    stmts(func_.body, w);
    w.line("return 0;");
    w.close();
    w.line("");
    *entry = "jagtile_" + sanitize(k_.name) + "_nest" + std::to_string(index_);
    w.line("// Runs programs [begin, end) of device nest " + std::to_string(index_) +
           " (abi.h: JtNestFn).");
    w.open("extern \"C\" int " + *entry + "(const JtCaptures* c, int64_t begin, int64_t end) {");
    w.line(frame + " F;");
    w.line("F.err = c->error;");
    for (const host::Capture& c : func_.nest->captures) {
      std::string src = c.kind == host::Capture::Kind::tensor  ? "c->tensors"
                        : c.kind == host::Capture::Kind::int64 ? "c->ints"
                                                               : "c->floats";
      std::string v = src + "[" + std::to_string(c.index) + "]";
      if (c.node->type.kind == ir::TypeKind::host_bool) v = "(" + v + " != 0)";
      w.line("F." + field(c) + " = " + v + ";");
    }
    w.line("F.loop_begin = c->loop_begin;");
    w.line("F.loop_end = c->loop_end;");
    w.open("for (int64_t id = begin; id < end; ++id) {");
    w.line("if (jt_failed(F.err)) return 1;");
    w.line("if (" + func_.name + "(F, id)) return 1;");
    w.close();
    w.line("return 0;");
    w.close();
    return w.str();
  }

 private:
  // ---- the statements C++ prints its own way ----
  void array_decl(const Stmt& s, Writer& w) override {
    const char* ct = c_type(s.ctype);
    std::string n = count(s.name);
    int64_t size = s.ctype == CType::boolean ? 1 : s.ctype == CType::f32 ? 4 : 8;
    bool fixed = n.find_first_not_of("0123456789") == std::string::npos;
    if (fixed && std::stoll(n) * size <= 64 * 1024)
      return w.line("alignas(64) " + std::string(ct) + " " + s.name + "[" + n + "];");
    // Past 64 KiB (big block sizes) the heap: a worker's stack never overflows.
    w.line("JtHeapArray<" + std::string(ct) + "> " + s.name + "_heap(" + n + "); " + ct +
           "* const " + s.name + " = " + s.name + "_heap.p;");
  }

  void array_fill(const Stmt& s, Writer& w) override {
    std::string value = s.update == Update::mean ? s.value->name + "[o]" : expr(s.value);
    w.line("for (int64_t o = 0; o < " + count(s.name) + "; ++o) " +
           update(s.name + "[o]", s.update, value, s.ctype));
  }

  void for_loop(const Stmt& s, Writer& w) override {
    std::string ext = expr(s.extent);
    if (s.loop == plan::LoopKind::endpoints) {
      w.open("for (int64_t " + s.name + " = 0; " + s.name + " < " + ext + "; " + s.name +
             " += jt_max64(" + ext + " - 1, 1)) {  // monotone indices: the ends bound the rest");
    } else {
      if (s.loop == plan::LoopKind::simd) {
        std::string pragma = "#pragma omp simd";
        for (const plan::Reduction& r : s.reductions)
          pragma +=
              std::string(" reduction(") + (r.op == Update::bit_or ? "|" : "+") + ":" + r.var + ")";
        w.line(pragma);
      }
      w.open("for (int64_t " + s.name + " = 0; " + s.name + " < " + ext + "; ++" + s.name + ") {");
    }
    loop_body(s, w);
    w.close();
  }

  void matmul_block(const Stmt& s, Writer& w) override {
    w.line("jt_matmul_f32(" + matmul_operands(s) + ");");
  }

  std::string overflow_builtin(ir::Op op) const override {
    return op == ir::Op::add   ? "__builtin_add_overflow"
           : op == ir::Op::sub ? "__builtin_sub_overflow"
                               : "__builtin_mul_overflow";
  }

  const int index_;
};

}  // namespace

std::string unsupported_reason(const ir::Kernel& kernel) {
  std::string reason;
  ir::walk(kernel.body, [&](const ir::NodePtr& n) {
    if (!reason.empty()) return;
    if (n->type.is_tensor() && n->type.rank > JT_MAX_RANK)
      reason = "tensors of rank above " + std::to_string(JT_MAX_RANK) + " are not supported";
  });
  return reason;
}

CpuSource print_cpp(const plan::Plan& plan) {
  const ir::Kernel& k = *plan.kernel;
  std::string why = unsupported_reason(k);
  JAGTILE_CHECK(
      why.empty(), << "the generic CPU backend cannot compile kernel '" << k.name << "': " << why);
  CpuSource src;
  std::string out = "// Generated by jagtile from kernel '" + k.name + "' (" + k.file + ").\n";
  out +=
      "// Bounds checks: " + std::string(plan.checked ? "on" : "off (--unchecked)") + ". Blocks:";
  for (const ir::BlockInfo& b : k.blocks) out += " " + b.name + "=" + std::to_string(b.block_size);
  out += "\n";
  out += prelude();
  out += "\n";
  if (plan::has_matmul_blocks(plan)) out += matmul_prelude() + "\n";
  for (size_t i = 0; i < plan.funcs.size(); ++i) {
    std::string entry;
    out += FuncPrinter(plan, plan.funcs[i], int(i)).run(&entry) + "\n";
    src.functions.push_back(entry);
  }
  src.code = std::move(out);
  return src;
}

}  // namespace jagtile::codegen::cpu
