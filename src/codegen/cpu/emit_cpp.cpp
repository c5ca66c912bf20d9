// The C++ emitter's driver: assembles the generated file (prelude, the Frame that holds every
// host value, one function per outermost device loop, the extern "C" entry point) and emits the
// host part and the statements of device bodies. Host values live in the Frame so the loop
// functions, which run on the runtime's threads, read them without any capture machinery.
#include <algorithm>
#include <cctype>

#include "codegen/cpu/emit_impl.h"

namespace jagtile::codegen::cpu::detail {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// The C type of a host-level value.
std::string host_ctype(const ir::Type& t) {
  switch (t.kind) {
    case ir::TypeKind::host_int:
      return "int64_t";
    case ir::TypeKind::host_float:
      return "double";
    case ir::TypeKind::host_bool:
      return "bool";
    case ir::TypeKind::tensor:
      return "JtTensor";
    case ir::TypeKind::value:
      return compute_ctype(t.dtype);
    case ir::TypeKind::none:
      break;
  }
  return "int";
}

std::string sanitize(const std::string& name) {
  std::string s;
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return s;
}

}  // namespace

Emitter::Emitter(const ir::Kernel& kernel, const EmitOptions& options)
    : k_(kernel), options_(options) {}

std::string Emitter::name(const Node& n) const {
  if (n.kind == NodeKind::param) return "F.p" + std::to_string(n.ival);
  const NodeFacts& f = facts(n);
  return (f.depth == 0 ? "F.v" : "v") + std::to_string(f.seq);
}

std::string Emitter::scalar(const NodePtr& n) {
  switch (n->kind) {
    case NodeKind::const_int:
      return "INT64_C(" + std::to_string(n->ival) + ")";
    case NodeKind::const_float:
      return double_literal(n->fval);
    case NodeKind::const_bool:
      return n->ival ? "true" : "false";
    default:
      break;
  }
  auto t = temp_arrays_.find(n.get());
  JAGTILE_CHECK(t == temp_arrays_.end(), << "scalar of a tile value");
  return name(*n);
}

std::string Emitter::tensor_ref(const NodePtr& n) {
  JAGTILE_CHECK(n->type.is_tensor(), << "tensor expected, got " << ir::kind_name(n->kind));
  return name(*n);
}

int Emitter::add_site(Site::Kind kind, const Node& n, std::string tensor, std::string message) {
  for (size_t i = 0; i < sites_.size(); ++i)
    if (sites_[i].kind == kind && sites_[i].loc.line == n.loc.line &&
        sites_[i].loc.column == n.loc.column && sites_[i].tensor == tensor &&
        sites_[i].message == message)
      return int(i);
  Site s;
  s.kind = kind;
  s.loc = n.loc;
  s.tensor = std::move(tensor);
  s.message = std::move(message);
  sites_.push_back(std::move(s));
  return int(sites_.size() - 1);
}

std::string Emitter::fail_return(int code, int site, const std::string& index,
                                 const std::string& extent, const std::string& dim) {
  return "return jt_fail(F.h, " + std::to_string(code) + ", " + std::to_string(site) + ", " +
         index + ", " + extent + ", " + dim + ");";
}

void Emitter::source_comment(const Node& n, Writer& w) {
  if (n.loc.line <= 0 || n.loc.line == last_comment_line_) return;
  last_comment_line_ = n.loc.line;
  std::string text;
  if (size_t(n.loc.line) <= k_.source_lines.size())
    text = trim(k_.source_lines[size_t(n.loc.line - 1)]);
  w.line("// line " + std::to_string(n.loc.line) + (text.empty() ? "" : ": " + text));
}

void Emitter::block(const ir::Block& b, Writer& w) {
  for (const NodePtr& n : b) stmt(n, w);
}

void Emitter::stmt(const NodePtr& np, Writer& w) {
  const Node& n = *np;
  switch (n.kind) {
    case NodeKind::const_int:
    case NodeKind::const_float:
    case NodeKind::const_bool:
    case NodeKind::param:
      return;
    default:
      break;
  }
  if (inlined(n)) return;  // computed inside its consumers
  source_comment(n, w);
  current_ = &n;
  switch (n.kind) {
    case NodeKind::tile_loop:
    case NodeKind::grid_loop:
    case NodeKind::jagged_loop:
      if (is_host_level(n)) return top_level_loop(n, w);
      return loop(n, w);
    case NodeKind::if_:
      w.open("if (" + scalar(n.operand(0)) + ") {");
      block(n.regions.at(0), w);
      if (n.regions.size() > 1 && !n.regions[1].empty()) {
        w.close("} else {");
        w.set_indent(w.indent() + 1);
        block(n.regions[1], w);
      }
      w.close();
      return;
    case NodeKind::assert_: {
      int site = add_site(Site::Kind::assert_, n, {}, n.name);
      w.line("if (!(" + scalar(n.operand(0)) + ")) " + fail_return(2, site));
      return;
    }
    case NodeKind::return_: {
      w.open("{");
      w.line("if (F.h->max_returns < " + std::to_string(n.operands.size()) + ") return 1;");
      for (size_t i = 0; i < n.operands.size(); ++i)
        w.line("F.h->returns[" + std::to_string(i) + "] = " + tensor_ref(n.operands[i]) + ".slot;");
      w.line("F.h->num_returns = " + std::to_string(n.operands.size()) + ";");
      w.line("return 0;");
      w.close();
      return;
    }
    case NodeKind::store:
      return store(n, w);
    case NodeKind::var_decl:
      return var_decl(n, w);
    case NodeKind::var_assign:
      return var_assign(n, w);
    case NodeKind::reduce:
      return reduce(n, w);
    case NodeKind::matmul:
      return matmul(n, w);
    default:
      break;
  }
  if (is_device_value(n)) return materialise(n, w);
  host_value(n, w);
}

// Host values, and scalars (host or 0-d device) computed inside device code.
void Emitter::host_value(const Node& n, Writer& w) {
  std::string target = name(n);
  bool frame = is_host_level(n);
  std::string decl = frame ? target : "const " + host_ctype(n.type) + " " + target;
  if (frame)
    frame_fields_.push_back(host_ctype(n.type) + " v" + std::to_string(facts(n).seq) + ";");
  switch (n.kind) {
    case NodeKind::size_of:
      w.line(decl + " = " + tensor_ref(n.operand(0)) + ".size[" + std::to_string(n.ival) + "];");
      return;
    case NodeKind::numel: {
      std::string t = tensor_ref(n.operand(0)), e = "INT64_C(1)";
      for (int d = 0; d < n.operand(0)->type.rank; ++d)
        e += " * " + t + ".size[" + std::to_string(d) + "]";
      w.line(decl + " = " + e + ";");
      return;
    }
    case NodeKind::scalar_read: {
      const NodePtr& t = n.operand(0);
      std::string tr = tensor_ref(t);
      int site = add_site(Site::Kind::host_read, n, t->name);
      std::string addr;
      for (int d = 0; d < t->type.rank; ++d) {
        std::string i = scalar(n.operand(size_t(d + 1)));
        std::string sz = tr + ".size[" + std::to_string(d) + "]";
        w.line("if (!((uint64_t)(" + i + ") < (uint64_t)" + sz + ")) " +
               fail_return(1, site, "(int64_t)(" + i + ")", sz, std::to_string(d)));
        addr = addr.empty() ? "(" + i + ")" : "(" + addr + ") * " + sz + " + (" + i + ")";
      }
      if (addr.empty()) addr = "0";
      std::string raw = from_storage("((const " + std::string(storage_ctype(t->type.dtype)) + "*)" +
                                         tr + ".data)[" + addr + "]",
                                     t->type.dtype);
      std::string e;
      if (n.type.kind == ir::TypeKind::host_int)
        e = dtype_is_float(t->type.dtype) ? "jt_f2i(" + raw + ")" : "(int64_t)(" + raw + ")";
      else if (n.type.kind == ir::TypeKind::host_bool)
        e = "((" + raw + ") != 0)";
      else
        e = "(double)(" + raw + ")";
      w.line(decl + " = " + e + ";");
      return;
    }
    case NodeKind::alloc: {
      JAGTILE_CHECK(frame, << "allocation inside a device loop");
      if (!n.type.device.is_cpu()) {
        int site = add_site(Site::Kind::device, n, n.type.device.str());
        w.line(fail_return(5, site));
        return;
      }
      size_t count = n.operands.size() - (n.op == Op::fill ? 1 : 0);
      std::string sizes;
      for (size_t i = 0; i < count; ++i) sizes += (i ? ", " : "") + scalar(n.operands[i]);
      int kind = n.op == Op::zeros ? 0 : n.op == Op::empty ? 1 : 2;
      std::string fill = n.op == Op::fill ? "(double)(" + scalar(n.operands.back()) + ")" : "0.0";
      int site = add_site(Site::Kind::host_call, n);
      w.open("{");
      w.line("const int64_t sizes[" + std::to_string(std::max<size_t>(count, 1)) + "] = {" +
             (sizes.empty() ? "0" : sizes) + "};");
      w.line("if (F.h->alloc(F.h->ctx, &" + target + ", " + std::to_string(int(n.type.dtype)) +
             ", " + std::to_string(count) + ", sizes, " + std::to_string(kind) + ", " + fill +
             ", " + std::to_string(site) + ")) return 1;");
      w.close();
      return;
    }
    case NodeKind::view: {
      JAGTILE_CHECK(frame, << "view inside a device loop");
      std::string sizes;
      size_t count = n.operands.size() - 1;
      for (size_t i = 1; i < n.operands.size(); ++i)
        sizes += (i > 1 ? ", " : "") + scalar(n.operands[i]);
      int site = add_site(Site::Kind::host_call, n);
      w.open("{");
      w.line("const int64_t sizes[" + std::to_string(std::max<size_t>(count, 1)) + "] = {" +
             (sizes.empty() ? "0" : sizes) + "};");
      w.line("if (F.h->view(F.h->ctx, &" + target + ", &" + tensor_ref(n.operand(0)) + ", " +
             std::to_string(count) + ", sizes, " + std::to_string(site) + ")) return 1;");
      w.close();
      return;
    }
    case NodeKind::var_read:
      w.line(decl + " = " + name(*n.operand(0)) + ";");
      return;
    case NodeKind::tile_attr: {
      std::string b = std::to_string(n.ival);
      int64_t bs = k_.blocks[size_t(n.ival)].block_size;
      std::string e;
      switch (n.op) {
        case Op::index:
        case Op::begin:
          e = "s" + b;
          break;
        case Op::end:
          e = "(s" + b + " + lim" + b + ")";
          break;
        case Op::block_size:
          e = "INT64_C(" + std::to_string(bs) + ")";
          break;
        case Op::id:
          e = "id" + b;
          break;
        default:
          JAGTILE_CHECK(false, << "bad tile attribute");
      }
      w.line(decl + " = (" + host_ctype(n.type) + ")(" + e + ");");
      return;
    }
    case NodeKind::load: {
      std::map<std::string, std::string> memo;
      auto* saved = memo_;
      memo_ = &memo;
      CheckMode saved_mode = mode_;
      mode_ = options_.checked ? CheckMode::diagnose : CheckMode::unchecked;
      std::string e = load_elem(n, {}, w);
      mode_ = saved_mode;
      memo_ = saved;
      w.line(decl + " = " + e + ";");
      return;
    }
    case NodeKind::binary:
      if (n.type.is_host_scalar() && n.type.kind != ir::TypeKind::host_float &&
          n.operand(0)->type.kind != ir::TypeKind::host_float &&
          n.operand(1)->type.kind != ir::TypeKind::host_float) {
        // Host integers are Python's: overflow and division by zero are errors, not wraps.
        std::string x = "(int64_t)(" + scalar(n.operand(0)) + ")";
        std::string y = "(int64_t)(" + scalar(n.operand(1)) + ")";
        if (n.op == Op::floordiv || n.op == Op::mod) {
          int site = add_site(Site::Kind::div_zero, n, {}, std::string(ir::op_name(n.op)));
          w.line("if (" + y + " == 0) " + fail_return(4, site, x, y));
        }
        const char* builtin = n.op == Op::add   ? "__builtin_add_overflow"
                              : n.op == Op::sub ? "__builtin_sub_overflow"
                              : n.op == Op::mul ? "__builtin_mul_overflow"
                                                : nullptr;
        if (builtin && n.type.kind == ir::TypeKind::host_int) {
          int site = add_site(Site::Kind::overflow, n, {}, std::string(ir::op_name(n.op)));
          std::string tmp = "ov" + std::to_string(facts(n).seq);
          w.line("int64_t " + tmp + ";");
          w.line("if (" + std::string(builtin) + "(" + x + ", " + y + ", &" + tmp + ")) " +
                 fail_return(6, site, x, y));
          w.line(decl + " = " + tmp + ";");
          return;
        }
      }
      [[fallthrough]];
    default: {
      std::vector<std::string> ops;
      for (const NodePtr& o : n.operands) ops.push_back(scalar(o));
      w.line(decl + " = " + elementwise(n, ops) + ";");
      return;
    }
  }
}

void Emitter::loop_body(const Node& n, Writer& w) {
  std::string b = std::to_string(n.ival);
  int64_t bs = k_.blocks[size_t(n.ival)].block_size;
  w.line("const int64_t lim" + b + " = jt_min64(INT64_C(" + std::to_string(bs) + "), e" + b +
         " - s" + b + ");");
  w.line("(void)lim" + b + ";");
  block(n.regions.at(0), w);
}

void Emitter::loop(const Node& n, Writer& w) {
  std::string b = std::to_string(n.ival);
  int64_t bs = k_.blocks[size_t(n.ival)].block_size;
  w.open("{");
  if (n.kind == NodeKind::jagged_loop) {
    const NodePtr& ext = n.operand(0);
    ensure_array(ext, w);
    jagged_extents_[int(n.ival)] = ext.get();
    w.line("int64_t e" + b + " = 0;");
    DType d = ext->type.dtype;
    nest(
        ext->type.shape, w,
        [&](Writer& iw, const std::vector<std::string>& idx) {
          std::string x = at(ext, idx, iw);
          std::string xi = dtype_is_float(d) ? "jt_f2i(" + x + ")" : "(int64_t)(" + x + ")";
          iw.line("if (" + xi + " > e" + b + ") e" + b + " = " + xi + ";");
        },
        {}, false);
    w.line("const int64_t b" + b + " = 0;");
  } else {
    auto bound = [&](const NodePtr& v) {
      std::string s = scalar(v);
      bool fl = v->type.kind == ir::TypeKind::host_float ||
                (v->type.is_value() && dtype_is_float(v->type.dtype));
      return fl ? "jt_f2i(" + s + ")" : "(int64_t)(" + s + ")";
    };
    w.line("const int64_t b" + b + " = " + bound(n.operand(0)) + ";");
    w.line("const int64_t e" + b + " = " + bound(n.operand(1)) + ";");
  }
  w.open("for (int64_t s" + b + " = b" + b + ", id" + b + " = 0; s" + b + " < e" + b + "; s" + b +
         " += " + std::to_string(bs) + ", ++id" + b + ") {");
  w.line("(void)id" + b + ";");
  loop_body(n, w);
  w.close();
  w.close();
}

// An outermost device loop: its iterations (programs) are spread over the runtime's threads.
void Emitter::top_level_loop(const Node& n, Writer& w) {
  JAGTILE_CHECK(n.kind != NodeKind::jagged_loop, << "jagged_tile as the outermost loop");
  std::string b = std::to_string(n.ival);
  std::string fn = "jt_loop" + std::to_string(facts(n).seq);
  int64_t bs = k_.blocks[size_t(n.ival)].block_size;
  std::string bss = "INT64_C(" + std::to_string(bs) + ")";
  frame_fields_.push_back("int64_t lb" + b + ";");
  frame_fields_.push_back("int64_t le" + b + ";");
  auto bound = [&](const NodePtr& v) {
    std::string s = scalar(v);
    bool fl = v->type.kind == ir::TypeKind::host_float;
    return fl ? "jt_f2i(" + s + ")" : "(int64_t)(" + s + ")";
  };
  w.line("F.lb" + b + " = " + bound(n.operand(0)) + ";");
  w.line("F.le" + b + " = " + bound(n.operand(1)) + ";");
  w.open("{");
  w.line("const int64_t programs = F.le" + b + " > F.lb" + b + " ? (F.le" + b + " - F.lb" + b +
         " + " + bss + " - 1) / " + bss + " : 0;");
  w.line("F.h->parallel_for(F.h->ctx, programs, " + fn + "_range, &F);");
  w.line("if (jt_failed(F.h)) return 1;");
  w.close();

  Writer fw;
  int saved_line = last_comment_line_;
  last_comment_line_ = -1;
  fw.line("// One program (iteration) of the loop over " + k_.blocks[size_t(n.ival)].name +
          " at line " + std::to_string(n.loc.line) + ".");
  fw.open("static int " + fn + "(const Frame F, int64_t id" + b + ") {");
  fw.line("const int64_t s" + b + " = F.lb" + b + " + id" + b + " * " + bss + ";");
  fw.line("const int64_t e" + b + " = F.le" + b + ";");
  loop_body(n, fw);
  fw.line("return 0;");
  fw.close();
  fw.line("");
  fw.open("static void " + fn + "_range(void* env, int64_t begin, int64_t end) {");
  fw.line("const Frame F = *(const Frame*)env;");
  fw.open("for (int64_t id = begin; id < end; ++id) {");
  fw.line("if (jt_failed(F.h)) return;");
  fw.line("if (" + fn + "(F, id)) return;");
  fw.close();
  fw.close();
  functions_.push_back(fw.str());
  last_comment_line_ = saved_line;
}

CpuSource Emitter::run() {
  std::string why = unsupported_reason(k_);
  JAGTILE_CHECK(
      why.empty(), << "the generic CPU backend cannot compile kernel '" << k_.name << "': " << why);
  plan();
  // A host variable assigned inside a device loop would be shared by all programs.
  ir::walk(k_.body, [&](const NodePtr& n) {
    if (n->kind == NodeKind::var_assign)
      JAGTILE_CHECK(facts(*n).depth == 0 || facts(*n->operand(0)).depth > 0,
                    << "host variable '" << n->operand(0)->name << "' assigned inside a loop");
  });
  Writer main;
  std::string fn = "jagtile_" + sanitize(k_.name);
  main.line("// The kernel's entry point: the host part runs here; outermost loops run on the");
  main.line("// runtime's threads through h->parallel_for.");
  main.open("extern \"C\" int " + fn + "(JtHost* h) {");
  main.line("Frame F;");
  main.line("memset(&F, 0, sizeof F);");
  main.line("F.h = h;");
  for (size_t i = 0; i < k_.params.size(); ++i) {
    const ir::ParamSpec& p = k_.params[i];
    std::string f = "p" + std::to_string(i), a = "[" + std::to_string(i) + "]";
    switch (p.kind) {
      case ir::ParamKind::tensor:
        frame_fields_.push_back("JtTensor " + f + ";  // " + p.name);
        main.line("F." + f + " = h->params" + a + ";");
        break;
      case ir::ParamKind::int_scalar:
        frame_fields_.push_back("int64_t " + f + ";  // " + p.name);
        main.line("F." + f + " = h->int_args" + a + ";");
        break;
      case ir::ParamKind::float_scalar:
        frame_fields_.push_back("double " + f + ";  // " + p.name);
        main.line("F." + f + " = h->float_args" + a + ";");
        break;
      case ir::ParamKind::bool_scalar:
        frame_fields_.push_back("bool " + f + ";  // " + p.name);
        main.line("F." + f + " = h->int_args" + a + " != 0;");
        break;
      case ir::ParamKind::none:
        break;
    }
  }
  block(k_.body, main);
  main.line("return 0;");
  main.close();

  std::ostringstream out;
  out << "// Generated by jagtile from kernel '" << k_.name << "' (" << k_.file << ").\n";
  out << "// Bounds checks: " << (options_.checked ? "on" : "off (--unchecked)") << ". Blocks:";
  for (const ir::BlockInfo& b : k_.blocks) out << " " << b.name << "=" << b.block_size;
  out << "\n" << prelude() << "\n";
  out << "// Every host value of the kernel, shared read-only with the loop functions.\n";
  out << "struct Frame {\n  JtHost* h;\n";
  for (const std::string& f : frame_fields_) out << "  " << f << "\n";
  out << "};\n\n";
  for (const std::string& f : functions_) out << f << "\n";
  out << main.str();
  CpuSource src;
  src.code = out.str();
  src.function = fn;
  src.sites = sites_;
  return src;
}

CpuSource generate_cpu_source(const ir::Kernel& kernel, const EmitOptions& options) {
  return Emitter(kernel, options).run();
}

}  // namespace jagtile::codegen::cpu::detail

namespace jagtile::codegen::cpu {
CpuSource generate_cpu_source(const ir::Kernel& kernel, const EmitOptions& options) {
  return detail::generate_cpu_source(kernel, options);
}
}  // namespace jagtile::codegen::cpu
