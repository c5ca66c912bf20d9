// The CUDA printer of the loop-nest form (see print_cuda.h). Expressions and most statements are
// the C++ printer's (common/c_printer.h); this file decides which loops the block's threads share
// and where the barriers go.
//
// Execution model of one program (one block):
//  * "uniform" code, run by every thread alike: lets, scalar variables, tile loops, ifs, and the
//    loops that are not spread. Every thread computes the same values, so its branches agree and
//    a barrier inside it is reached by all threads.
//  * "spread" loops: the outer `for` of a loop nest, when each of its iterations writes only its
//    own positions (array stores indexed by the loop index, tensor stores, locals of its own, or
//    an |-reduction into a flag, combined with __syncthreads_or). Iteration i runs on thread
//    i mod blockDim.x. Where the nest holds an inner loop that can be shared out too (the tile's
//    columns, below a jagged loop over rows), the threads take (outer, inner) pairs instead, so
//    neighbouring threads read neighbouring columns.
//  * Tile arrays of uniform code live in shared memory, up to a budget; past it (big block
//    sizes) in the block's slice of a global "tile memory" the launcher allocates. A spread loop is
//    bracketed by barriers; a write of uniform code to shared or global memory is made by thread 0
//    between barriers.
//  * A failure in uniform code is the same on every thread, which all return. A failure inside a
//    spread loop is recorded, the thread leaves the loop, and the barrier after the loop
//    (__syncthreads_or) makes every thread return together.
#include "codegen/cuda/print_cuda.h"

#include <algorithm>
#include <map>
#include <set>

#include "codegen/common/c_printer.h"
#include "codegen/cpu/abi.h"
#include "plan/nest_util.h"

namespace jagtile::codegen::cuda {

namespace {

using plan::CType;
using plan::ExprKind;
using plan::ExprPtr;
using plan::Stmt;
using plan::StmtKind;
using plan::StmtPtr;
using plan::Update;

int64_t ctype_bytes(CType t) {
  return t == CType::boolean ? 1 : t == CType::f32 ? 4 : 8;
}

void collect_vars(const ExprPtr& e, std::set<std::string>& out) {
  if (!e) return;
  if (e->kind == ExprKind::var) out.insert(e->name);
  for (const ExprPtr& a : e->args) collect_vars(a, out);
}

// The captures of the tensors an expression loads from.
void collect_loads(const ExprPtr& e, std::set<int64_t>& out) {
  if (!e) return;
  if (e->kind == ExprKind::load) out.insert(e->ival);
  for (const ExprPtr& a : e->args) collect_loads(a, out);
}

// Every name a statement list reads (deep).
void collect_reads(const std::vector<StmtPtr>& body, std::set<std::string>& out) {
  for (const StmtPtr& s : body) {
    for (const ExprPtr* e : {&s->value, &s->extent, &s->begin, &s->end, &s->mask})
      collect_vars(*e, out);
    for (const ExprPtr& e : s->indices) collect_vars(e, out);
    collect_reads(s->body, out);
    collect_reads(s->orelse, out);
  }
}

// Whether the iterations of a loop write disjoint positions (see the file comment): every write
// is to a local of the iteration, to an array position indexed by the loop's index, to a tensor
// the loop does not also load, or an |= into an outer flag that the loop never reads (combined
// across threads afterwards). Stores to one tensor position from two iterations (a scatter with
// repeated indices) are not detected: their order is unspecified, as on any GPU.
class SpreadCheck {
 public:
  explicit SpreadCheck(const Stmt& loop) : index_(loop.name) {
    for (const plan::Reduction& r : loop.reductions) {
      if (r.op == Update::bit_or)
        or_vars_.insert(r.var);
      else
        ok_ = false;  // sums would need a block reduction: the loop stays uniform
    }
    walk(loop.body);
    std::set<std::string> reads;
    collect_reads(loop.body, reads);
    for (const std::string& v : or_vars_)
      if (reads.count(v)) ok_ = false;  // a partial flag would be read
    // A tensor the loop both loads and stores (an in-place update, maybe shifted) could be read
    // by one thread after another stored it: such a loop keeps the sequential order.
    for (int64_t t : stored_)
      if (loaded_.count(t)) ok_ = false;
  }
  bool ok() const { return ok_; }
  const std::set<std::string>& or_vars() const { return or_vars_; }

 private:
  bool indexed_by_loop(const std::vector<ExprPtr>& idx) const {
    for (const ExprPtr& e : idx)
      if (e->kind == ExprKind::var && e->name == index_) return true;
    return false;
  }
  void walk(const std::vector<StmtPtr>& body) {
    for (const StmtPtr& s : body) {
      switch (s->kind) {
        case StmtKind::let:
        case StmtKind::decl:
        case StmtKind::array_decl:
          local_.insert(s->name);
          break;
        case StmtKind::assign:
          if (local_.count(s->name)) break;
          if (s->update == Update::bit_or)
            or_vars_.insert(s->name);
          else
            ok_ = false;
          break;
        case StmtKind::array_store:
          if (!local_.count(s->name) && !indexed_by_loop(s->indices)) ok_ = false;
          break;
        case StmtKind::array_fill:
          if (!local_.count(s->name)) ok_ = false;
          break;
        case StmtKind::tensor_store:
          stored_.insert(s->ival);
          break;
        case StmtKind::matmul_block:
          ok_ = false;  // the whole block computes it together
          break;
        default:
          break;
      }
      for (const ExprPtr* e : {&s->value, &s->extent, &s->begin, &s->end, &s->mask})
        collect_loads(*e, loaded_);
      for (const ExprPtr& e : s->indices) collect_loads(e, loaded_);
      walk(s->body);
      walk(s->orelse);
    }
  }

  std::string index_;
  std::set<std::string> local_;
  std::set<std::string> or_vars_;
  std::set<int64_t> stored_, loaded_;
  bool ok_ = true;
};

// The loop whose iterations a spread loop shares out together with its own (threads over the
// inner tile dimension as well): the innermost loop of a perfect chain below `outer` (each body
// lets and then one loop), whose extent no loop of the chain changes and whose iterations write
// disjoint positions; null when there is none. Iterating (outer, inner) pairs, each with the
// loops between run in order, computes what the nest does: only the inner loop moved outward,
// past loops that hold nothing but lets.
const Stmt* inner_spread_loop(const Stmt& outer) {
  std::vector<const Stmt*> chain = {&outer};
  std::set<std::string> varying = {outer.name};
  const Stmt* found = nullptr;
  for (const Stmt* cur = &outer;;) {
    if (cur->body.empty()) break;
    const Stmt& last = *cur->body.back();
    bool perfect = last.kind == StmtKind::for_ && last.loop != plan::LoopKind::endpoints &&
                   last.reductions.empty();
    for (size_t i = 0; i + 1 < cur->body.size() && perfect; ++i) {
      const StmtKind k = cur->body[i]->kind;
      if (k == StmtKind::let)
        varying.insert(cur->body[i]->name);
      else if (k != StmtKind::comment)
        perfect = false;
    }
    if (!perfect) break;
    std::set<std::string> extent_reads;
    collect_vars(last.extent, extent_reads);
    bool uniform = true;
    for (const std::string& v : extent_reads) uniform = uniform && !varying.count(v);
    if (uniform && SpreadCheck(last).ok() && SpreadCheck(last).or_vars().empty()) found = &last;
    varying.insert(last.name);
    cur = &last;
  }
  return found;
}

class CudaFuncPrinter : public NestPrinter {
 public:
  CudaFuncPrinter(const plan::Plan& plan, const plan::DeviceFunc& func, int index)
      : NestPrinter(plan, func), index_(index) {}

  // The frame struct, the program function, the kernel and its emulated host entry.
  std::string run(std::string* kernel, std::string* emulated) {
    const std::string b = std::to_string(func_.block);
    const std::string bs = "INT64_C(" + std::to_string(func_.block_size) + ")";
    const std::string frame = "Frame" + std::to_string(index_);
    const FrameLayout layout = frame_layout(*func_.nest);
    Writer w;
    w.line("// ---- device nest " + std::to_string(index_) + ": the loop over " +
           k_.blocks[size_t(func_.block)].name + " at line " +
           std::to_string(func_.nest->loop->loc.line) + " ----");
    w.line("// The host values it reads (packed by the launcher: launch.h) and its loop's bounds.");
    w.open("struct " + frame + " {");
    w.line("JtError* err;");
    for (const host::Capture& c : func_.nest->captures) {
      const char* type = c.kind == host::Capture::Kind::tensor    ? "JtTensor"
                         : c.kind == host::Capture::Kind::float64 ? "double"
                                                                  : "int64_t";
      w.line(std::string(type) + " " + field(c) + ";" +
             (c.node->name.empty() ? "" : "  // " + c.node->name));
    }
    w.line("int64_t loop_begin;");
    w.line("int64_t loop_end;");
    w.close("};");
    w.line("static_assert(sizeof(" + frame + ") == " + std::to_string(layout.size) +
           ", \"the launcher packs this frame at 8-byte fields\");");
    w.line("");
    w.line("// One program (iteration) of the loop over " + k_.blocks[size_t(func_.block)].name +
           ", run by the whole block.");
    w.open("static __device__ int " + func_.name + "(const " + frame + "& F, int64_t " +
           program_param() + ", unsigned char* jt_tiles) {");
    JAGTILE_CHECK(!func_.next_program, << "a CUDA program cannot know the program after it");
    program_ids(w, "1");  // every pair a program: a GPU wants the parallelism
    w.line("const int64_t s" + b + " = F.loop_begin + id" + b + " * " + bs + ";");
    w.line("const int64_t end" + b + " = F.loop_end;");
    w.line("const int64_t lim" + b + " = jt_min64(" + bs + ", end" + b + " - s" + b + ");");
    w.line("(void)lim" + b + ";");
    w.line("int jt_thread_failed = 0;  // set by a failure inside a spread loop");
    w.line("(void)jt_thread_failed;");
    place_sized_arrays(w);
    stmts(func_.body, w);
    w.line("return 0;");
    w.close();
    w.line("");
    *kernel = "jagtile_" + sanitize(k_.name) + "_nest" + std::to_string(index_);
    w.line(
        "// Blocks claim programs from the launch's worklist until it is empty or a program "
        "failed.");
    w.open("extern \"C\" __global__ void __launch_bounds__(" + std::to_string(kMaxThreadsPerBlock) +
           ") " + *kernel + "(const " + frame + " F, const JtWork W) {");
    w.line("__shared__ int64_t jt_claim;");
    w.line("unsigned char* const jt_tiles = W.tiles + (int64_t)blockIdx.x * W.tile_bytes;");
    w.open("for (;;) {");
    w.line("__syncthreads();  // every thread has read the last claim");
    w.line("if (threadIdx.x == 0) jt_claim = (int64_t)atomicAdd(W.counter, 1ULL);");
    w.line("const int stop = __syncthreads_or(threadIdx.x == 0 && jt_failed(F.err));");
    w.line("const int64_t id = jt_claim;");
    w.line("if (stop || id >= W.programs) return;");
    w.line("if (" + func_.name + "(F, id, jt_tiles)) return;");
    w.close();
    w.close();
    *emulated = *kernel + "_emulated";
    w.line("#ifdef JAGTILE_CUDA_EMULATION");
    w.line(
        "// The same kernel on the host (codegen/cuda/emulation.h): blocks in turn, threads as "
        "host threads taking turns.");
    w.open("extern \"C\" int " + *emulated +
           "(const void* frame, int64_t programs, int blocks, int threads, int64_t tile_bytes) {");
    w.line(frame + " F;");
    w.line("memcpy(&F, frame, sizeof F);");
    w.line("unsigned long long counter = 0;");
    w.line("std::vector<unsigned char> tiles((size_t)(blocks * tile_bytes) + 16);");
    w.line("const JtWork W = {&counter, programs, tiles.data(), tile_bytes};");
    w.line("return jt_emu::launch(blocks, threads, [&] { " + *kernel + "(F, W); });");
    w.close();
    w.line("#endif");
    return w.str();
  }

  int64_t shared_bytes() const { return shared_bytes_; }
  int64_t global_bytes() const { return global_bytes_; }
  const std::vector<SizedArray>& sized_arrays() const { return sized_; }
  const std::string& unsupported() const { return unsupported_; }

 private:
  // ---- tile arrays of run-time size ----
  // Every let of the function (names are unique), so that a size can be restated in captures.
  void collect_lets(const std::vector<StmtPtr>& body) {
    for (const StmtPtr& st : body) {
      if (st->kind == StmtKind::let) lets_[st->name] = st->value;
      collect_lets(st->body);
      collect_lets(st->orelse);
    }
  }
  // `e` with every let replaced by its value; null when it reads anything else that varies
  // within the program (a loop index, a variable), which the launcher could not evaluate.
  ExprPtr in_captures(const ExprPtr& e) const {
    if (e->kind == ExprKind::var) {
      auto it = lets_.find(e->name);
      return it == lets_.end() ? nullptr : in_captures(it->second);
    }
    if (e->kind == ExprKind::array_read || e->kind == ExprKind::load) return nullptr;
    auto copy = std::make_shared<plan::Expr>(*e);
    for (ExprPtr& a : copy->args) {
      a = in_captures(a);
      if (!a) return nullptr;
    }
    return copy;
  }
  void find_sized_arrays(const std::vector<StmtPtr>& body) {
    for (const StmtPtr& st : body) {
      if (st->kind == StmtKind::array_decl) {
        ExprPtr n = int_count(st->indices);
        for (const ExprPtr& e : st->indices)
          if (e->kind != ExprKind::int_imm) n = n ? product(n, in_captures(e)) : nullptr;
        if (st->indices.empty() ||
            std::all_of(st->indices.begin(), st->indices.end(),
                        [](const ExprPtr& e) { return e->kind == ExprKind::int_imm; }))
          n = nullptr;  // a fixed size: placed while printing
        else if (!n && unsupported_.empty())
          unsupported_ = "the size of tile array '" + st->name +
                         "' depends on values computed inside the kernel's loops";
        if (n) sized_.push_back(SizedArray{st->name, n, ctype_bytes(st->ctype)});
      }
      find_sized_arrays(st->body);
      find_sized_arrays(st->orelse);
    }
  }
  static ExprPtr int_count(const std::vector<ExprPtr>& extents) {
    int64_t c = 1;
    for (const ExprPtr& e : extents)
      if (e->kind == ExprKind::int_imm) c *= e->ival;
    return plan::int_imm(c);
  }
  static ExprPtr product(const ExprPtr& a, const ExprPtr& b) {
    return b ? plan::binop(ir::Op::mul, a, b) : nullptr;
  }
  // Offsets of the run-time-sized arrays at the start of the block's tile memory, computed once
  // per program from the captures (the launcher computes the same total: launch.h).
  void place_sized_arrays(Writer& w) {
    collect_lets(func_.body);
    find_sized_arrays(func_.body);
    std::string at = "INT64_C(0)";
    for (size_t i = 0; i < sized_.size(); ++i) {
      const std::string name = "jt_sized" + std::to_string(i);
      w.line("const int64_t " + name + " = " + at + ";  // " + sized_[i].array);
      at = name + " + (jt_max64(" + expr(sized_[i].count) + ", 0) * " +
           std::to_string(sized_[i].bytes) + " + 15) / 16 * 16";
    }
    w.line("unsigned char* const jt_fixed_tiles = jt_tiles + " + at + ";");
    w.line("(void)jt_fixed_tiles;");
  }

  // ---- barriers ----
  void barrier(Writer& w) {
    if (!synced_) w.line("__syncthreads();");
    synced_ = true;
  }
  // Ends a statement with a barrier (the next one may skip its own).
  void end_with_barrier(Writer& w) {
    w.line("__syncthreads();");
    ends_synced_ = true;
  }

  // ---- statements ----
  void stmt(const Stmt& s, Writer& w) override {
    if (s.kind == StmtKind::comment || s.kind == StmtKind::array_decl)
      return NestPrinter::stmt(s, w);
    if (s.kind == StmtKind::nest) {
      // Only a nest's own outer loops may be spread over the threads; never a diagnosing copy
      // (it runs only once a check failed), which keeps the sequential order so that the error
      // reported is the first one, as on the CPU and in the interpreter.
      comment(s, w);
      for (const StmtPtr& child : s.body) {
        candidate_ = s.role != plan::NestRole::diagnose;
        stmt(*child, w);
      }
      candidate_ = false;
      return;
    }
    const bool candidate = candidate_;
    candidate_ = false;
    // The statements that place their own barriers say whether they end on one.
    const bool places_barriers = s.kind == StmtKind::for_ || s.kind == StmtKind::array_fill ||
                                 s.kind == StmtKind::array_store ||
                                 s.kind == StmtKind::tensor_store || s.kind == StmtKind::seq ||
                                 s.kind == StmtKind::matmul_block;
    if (!places_barriers) synced_ = false;  // bodies start after their condition or bounds
    spread_candidate_ = candidate;
    ends_synced_ = false;
    NestPrinter::stmt(s, w);
    if (s.kind != StmtKind::seq) synced_ = places_barriers && ends_synced_;
  }

  void array_decl(const Stmt& s, Writer& w) override {
    const char* ct = c_type(s.ctype);
    std::string n = count(s.name);
    if (n.find_first_not_of("0123456789") != std::string::npos) {
      for (size_t i = 0; i < sized_.size(); ++i) {
        if (sized_[i].array != s.name) continue;
        if (spread_depth_ > 0 && unsupported_.empty())
          unsupported_ = "tile array '" + s.name + "' of run-time size inside a spread loop";
        return w.line(std::string(ct) + "* const " + s.name + " = (" + ct +
                      "*)(jt_tiles + jt_sized" + std::to_string(i) +
                      ");  // global tile memory: a run-time size");
      }
      return w.line("// unsupported: " + s.name + " of run-time size");
    }
    if (spread_depth_ > 0) return w.line(std::string(ct) + " " + s.name + "[" + n + "];");
    const int64_t bytes = std::stoll(n) * ctype_bytes(s.ctype);
    if (shared_bytes_ + bytes <= kSharedTileBudget) {
      shared_bytes_ += bytes;
      return w.line("__shared__ " + std::string(ct) + " " + s.name + "[" + n + "];");
    }
    // Past the shared-memory budget (big block sizes): the block's slice of global tile memory.
    const int64_t at = (global_bytes_ + 15) / 16 * 16;
    global_bytes_ = at + bytes;
    w.line(std::string(ct) + "* const " + s.name + " = (" + ct + "*)(jt_fixed_tiles + " +
           std::to_string(at) + ");  // global tile memory: over the shared budget");
  }

  void array_fill(const Stmt& s, Writer& w) override {
    std::string value = s.update == Update::mean ? s.value->name + "[o]" : expr(s.value);
    std::string step = update(s.name + "[o]", s.update, value, s.ctype);
    if (spread_depth_ > 0)
      return w.line("for (int64_t o = 0; o < " + count(s.name) + "; ++o) " + step);
    barrier(w);
    w.line("for (int64_t o = threadIdx.x; o < " + count(s.name) + "; o += blockDim.x) " + step);
    end_with_barrier(w);
  }

  void array_store(const Stmt& s, Writer& w) override {
    if (spread_depth_ > 0) return NestPrinter::array_store(s, w);
    barrier(w);
    w.line("if (threadIdx.x == 0) " +
           update(s.name + "[" + flat(s.name, s.indices) + "]", s.update, expr(s.value), s.ctype));
    end_with_barrier(w);
  }

  void tensor_store(const Stmt& s, Writer& w) override {
    if (spread_depth_ > 0) return NestPrinter::tensor_store(s, w);
    barrier(w);
    std::string cond = "threadIdx.x == 0";
    if (s.mask) cond += " && (" + expr(s.mask) + ")";
    w.line("if (" + cond + ") " + tensor_store_text(s));
    end_with_barrier(w);
  }

  // Every thread calls the block matmul alike; the barriers make its operands, written by other
  // threads, visible, and its output to every thread after it.
  void matmul_block(const Stmt& s, Writer& w) override {
    JAGTILE_CHECK(spread_depth_ == 0, << "a matmul block inside a spread loop");
    barrier(w);
    w.line("jt_block_matmul(" + matmul_operands(s) + ", " + std::to_string(s.ival) + ");");
    end_with_barrier(w);
  }

  void for_loop(const Stmt& s, Writer& w) override {
    const std::string i = s.name, ext = expr(s.extent);
    if (&s == collapsed_) {  // one iteration of the inner loop shared out with the outer one
      w.open("{");
      w.line("const int64_t " + i + " = " + collapsed_index_ + ";");
      synced_ = false;
      loop_body(s, w);
      w.close();
      return;
    }
    const bool spread = spread_candidate_ && spread_depth_ == 0 &&
                        s.loop != plan::LoopKind::endpoints && SpreadCheck(s).ok();
    if (!spread) {
      if (s.loop == plan::LoopKind::endpoints)
        w.open("for (int64_t " + i + " = 0; " + i + " < " + ext + "; " + i + " += jt_max64(" + ext +
               " - 1, 1)) {  // monotone indices: the ends bound the rest");
      else
        w.open("for (int64_t " + i + " = 0; " + i + " < " + ext + "; ++" + i + ") {");
      synced_ = false;
      loop_body(s, w);
      w.close();
      return;
    }
    SpreadCheck check(s);
    barrier(w);
    const std::string n = std::to_string(labels_++);
    const std::string label = "jt_spread_done" + n;
    const Stmt* inner = check.or_vars().empty() ? inner_spread_loop(s) : nullptr;
    if (inner) {
      const std::string flat = "jt_flat" + n, inner_n = "jt_inner" + n;
      w.line("const int64_t " + inner_n + " = " + expr(inner->extent) + ";");
      w.open("for (int64_t " + flat + " = threadIdx.x; " + flat + " < (" + ext + ") * " + inner_n +
             "; " + flat + " += blockDim.x) {  // (" + i + ", " + inner->name +
             ") pairs spread over the block's threads");
      w.line("const int64_t " + i + " = " + flat + " / " + inner_n + ";");
      w.line("const int64_t jt_at" + n + " = " + flat + " % " + inner_n + ";");
      collapsed_ = inner;
      collapsed_index_ = "jt_at" + n;
      spread_position_ = flat;
    } else {
      spread_position_ = i;
      w.open("for (int64_t " + i + " = threadIdx.x; " + i + " < " + ext + "; " + i +
             " += blockDim.x) {  // spread over the block's threads");
    }
    ++spread_depth_;
    const std::string outer_label = fail_label_;
    const bool outer_failed = loop_can_fail_;
    fail_label_ = label;
    loop_can_fail_ = false;
    synced_ = false;
    loop_body(s, w);
    --spread_depth_;
    collapsed_ = nullptr;
    w.close();
    if (loop_can_fail_) {
      w.line(label + ":;");
      w.line("if (__syncthreads_or(jt_thread_failed)) return 1;");
    } else {
      w.line("__syncthreads();");
    }
    fail_label_ = outer_label;
    loop_can_fail_ = outer_failed;
    for (const std::string& v : check.or_vars())
      w.line(v + " = __syncthreads_or(" + v + " != 0) != 0;  // combine the threads' flags");
    ends_synced_ = true;
  }

  std::string fail(const std::string& call) const override {
    if (spread_depth_ == 0) return "return " + call + ";";
    loop_can_fail_ = true;
    return "{ " + call + "; jt_thread_failed = 1; goto " + fail_label_ + "; }";
  }

  // The program's index (the program function's parameter) and the lane's place in the spread
  // loop order the launch's failures (jt_fail_ordered).
  std::string fail_record() const override {
    return "jt_fail_ordered(F.err, " + program_param() + ", " +
           (spread_depth_ > 0 ? spread_position_ : std::string("0")) + ", ";
  }

  std::string overflow_builtin(ir::Op op) const override {
    return op == ir::Op::add   ? "jt_add_overflow"
           : op == ir::Op::sub ? "jt_sub_overflow"
                               : "jt_mul_overflow";
  }

  std::string capture(int64_t i) const override {
    const host::Capture& c = func_.nest->captures.at(size_t(i));
    std::string f = "F." + field(c);
    return c.node->type.kind == ir::TypeKind::host_bool ? "(" + f + " != 0)" : f;
  }

  const int index_;
  bool synced_ = false;       // the last thing every thread did was a barrier
  bool ends_synced_ = false;  // the statement being printed ended with a barrier
  bool candidate_ = false;    // the next statement is a nest's own
  bool spread_candidate_ = false;
  int spread_depth_ = 0;
  std::string spread_position_;  // the spread loop's lane counter (row-major over its pairs)
  int labels_ = 0;
  std::string fail_label_;
  mutable bool loop_can_fail_ = false;
  const Stmt* collapsed_ = nullptr;  // the inner loop of the spread pair being printed
  std::string collapsed_index_;
  int64_t shared_bytes_ = 0;
  int64_t global_bytes_ = 0;
  std::string unsupported_;
  std::map<std::string, ExprPtr> lets_;
  std::vector<SizedArray> sized_;
};

std::string rank_reason(const ir::Kernel& kernel) {
  std::string reason;
  ir::walk(kernel.body, [&](const ir::NodePtr& n) {
    if (reason.empty() && n->type.is_tensor() && n->type.rank > JT_MAX_RANK)
      reason = "tensors of rank above " + std::to_string(JT_MAX_RANK) + " are not supported";
  });
  return reason;
}

CudaSource print(const plan::Plan& plan, std::string* why) {
  const ir::Kernel& k = *plan.kernel;
  CudaSource src;
  std::string out =
      "// Generated by jagtile (CUDA) from kernel '" + k.name + "' (" + k.file + ").\n";
  out +=
      "// Bounds checks: " + std::string(plan.checked ? "on" : "off (--unchecked)") + ". Blocks:";
  for (const ir::BlockInfo& b : k.blocks) out += " " + b.name + "=" + std::to_string(b.block_size);
  out += "\n" + prelude() + "\n";
  if (plan::has_matmul_blocks(plan)) out += matmul_prelude() + "\n";
  for (size_t i = 0; i < plan.funcs.size(); ++i) {
    CudaFuncPrinter printer(plan, plan.funcs[i], int(i));
    std::string kernel, emulated;
    out += printer.run(&kernel, &emulated) + "\n";
    src.kernels.push_back(kernel);
    src.emulated.push_back(emulated);
    src.shared_bytes.push_back(printer.shared_bytes());
    src.frames.push_back(frame_layout(*plan.funcs[i].nest));
    if (why->empty()) *why = printer.unsupported();
    src.global_tile_bytes.push_back(printer.global_bytes());
    src.sized_arrays.push_back(printer.sized_arrays());
  }
  src.code = std::move(out);
  return src;
}

}  // namespace

FrameLayout frame_layout(const host::DeviceNest& nest) {
  FrameLayout f;
  int64_t at = 8;  // JtError* err
  for (const host::Capture& c : nest.captures) {
    f.capture_offsets.push_back(at);
    at += c.kind == host::Capture::Kind::tensor ? int64_t(sizeof(JtTensor)) : 8;
  }
  f.loop_begin_offset = at;
  f.loop_end_offset = at + 8;
  f.size = at + 16;
  return f;
}

std::string unsupported_reason(const plan::Plan& plan) {
  if (std::string r = rank_reason(*plan.kernel); !r.empty()) return r;
  std::string why;
  print(plan, &why);
  return why;
}

CudaSource print_cuda(const plan::Plan& plan) {
  std::string why = rank_reason(*plan.kernel);
  CudaSource src = print(plan, &why);
  JAGTILE_CHECK(why.empty(), << "the CUDA printer cannot print kernel '" << plan.kernel->name
                             << "': " << why);
  return src;
}

}  // namespace jagtile::codegen::cuda
