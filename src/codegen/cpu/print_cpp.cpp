// The C++ printer of the loop-nest form (see print_cpp.h): expressions and statements one to one,
// the frame of captured host values per device nest, and the file around them.
#include "codegen/cpu/print_cpp.h"

#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "codegen/common/c_printer.h"
#include "codegen/cpu/abi.h"
#include "codegen/cpu/loop_shapes.h"
#include "plan/nest_util.h"

namespace jagtile::codegen::cpu {

namespace {

// A non-negative integer from the environment variable `name`, else `fallback` (unset, empty or
// not such a number).
int64_t size_setting(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  char* end = nullptr;
  long long n = v && *v ? std::strtoll(v, &end, 10) : -1;
  return !v || !*v || *end || n < 0 ? fallback : int64_t(n);
}

// The largest tile array of a fixed size declared on the stack; larger ones, and those sized at
// run time, live on the entry's scratch stack. JAGTILE_STACK_ARRAY_BYTES (the differential
// fuzzer sets 0 for some kernels, putting every array there), else 64 KiB.
int64_t stack_array_max_bytes() {
  return size_setting("JAGTILE_STACK_ARRAY_BYTES", int64_t(64) << 10);
}

using plan::CType;
using plan::ExprKind;
using plan::Stmt;
using plan::Update;

// One device function.
class FuncPrinter : public NestPrinter {
 public:
  FuncPrinter(const plan::Plan& plan, const plan::DeviceFunc& func, int index)
      : NestPrinter(plan, func), index_(index), read_(plan::read_tensors(func.body)) {}

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
    w.line("JtScratch* scratch;  // the entry call's, for tile arrays past 64 KiB");
    for (const host::Capture& c : func_.nest->captures)
      w.line(std::string(capture_ctype(c)) + " " + field(c) + ";" +
             (c.node->name.empty() ? "" : "  // " + c.node->name));
    w.line("int64_t loop_begin;");
    w.line("int64_t loop_end;");
    if (func_.inner_block >= 0) w.line("int64_t inner_split;  // JtCaptures::inner_split");
    for (int64_t t : streamed_tensors())
      w.line("int stream_" + field(func_.nest->captures.at(size_t(t))) +
             ";  // its rows go out with streaming stores (the entry decides, jt_stream_worth)");
    w.close("};");
    w.line("");
    w.line("// One program (iteration) of the loop over " + k_.blocks[size_t(func_.block)].name +
           ".");
    // The frame is passed by value: a local copy cannot alias the tensors the body stores to,
    // so the compiler keeps its data pointers and sizes in registers across those stores (by
    // reference they were reloaded after every store, 4-11% slower on jagged_dense_add).
    w.open("static int " + func_.name + "(const " + frame + " F, int64_t " + program_param() +
           (func_.next_program ? ", int64_t jt_next_program" : "") + ") {");
    program_ids(w, "F.inner_split");  // run_cpu_nest decides per call
    w.line("const int64_t s" + b + " = F.loop_begin + id" + b + " * " + bs + ";");
    w.line("const int64_t end" + b + " = F.loop_end;");
    w.line("const int64_t lim" + b + " = jt_min64(" + bs + ", end" + b + " - s" + b + ");");
    w.line("(void)lim" + b + ";");
    for (int64_t t : streamed_tensors()) {
      const std::string f = field(func_.nest->captures.at(size_t(t)));
      w.line("const int jt_stream_" + f + " = F.stream_" + f + ";");
    }
    operand_prefetches(w);
    find_counted_scans();
    stmts(func_.body, w);
    w.line("return 0;");
    w.close();
    w.line("");
    *entry = "jagtile_" + sanitize(k_.name) + "_nest" + std::to_string(index_);
    w.line("// Runs positions [begin, end) of device nest " + std::to_string(index_) +
           " (abi.h: JtNestFn, JtCaptures::order).");
    w.open("extern \"C\" int " + *entry + "(const JtCaptures* c, int64_t begin, int64_t end) {");
    w.line(frame + " F;");
    w.line("JT_SCRATCH_STORAGE JtScratch scratch;  // kept across calls (cpp_prelude.cpp)");
    w.line("F.err = c->error;");
    w.line("F.scratch = &scratch;");
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
    if (func_.inner_block >= 0) w.line("F.inner_split = c->inner_split;");
    stream_flags(w);
    w.line("int rc = 0;");
    w.open("for (int64_t id = begin; id < end && !rc; ++id) {");
    if (func_.next_program) {
      // The program after this one on this worker: the next position, or the first of the
      // chunk the worker has claimed next (JtCaptures::next_position).
      w.line("const int64_t next = id + 1 < end ? id + 1 : c->next_position;");
      w.line("rc = jt_failed(F.err) || " + func_.name +
             "(F, c->order ? c->order[id] : id, next < 0 ? INT64_C(-1) : c->order ? "
             "c->order[next] : next);");
    } else {
      w.line("rc = jt_failed(F.err) || " + func_.name + "(F, c->order ? c->order[id] : id);");
    }
    w.close();
    if (!streamed_tensors().empty()) w.line("jt_store_fence();");
    w.line("jt_scratch_trim(&scratch);");
    w.line("return rc;");
    w.close();
    return w.str();
  }

 private:
  // ---- the statements C++ prints its own way ----
  void array_decl(const Stmt& s, Writer& w) override {
    if (auto it = counted_.find(s.name); it != counted_.end()) {
      const CountedScan& c = it->second;
      w.line("alignas(64) uint64_t " + s.name + "_bits[" + std::to_string(c.rows * c.words) +
             "];  // a running count of a mask, kept as the mask's bits (counted scan)");
      w.line("int64_t " + s.name + "_base[" + std::to_string(c.rows) + "];");
      return;
    }
    // Bool tile arrays hold uint8_t 0 / 1: GCC's vectoriser finds no vector type for loads of C++
    // bool in a loop that also handles 64-bit values (a bounds check `bad |= m & !(i < n)`, a
    // select on a mask) and leaves the whole loop scalar; bytes vectorise.
    const char* ct = s.ctype == CType::boolean ? "uint8_t" : c_type(s.ctype);
    std::string n = count(s.name);
    int64_t size = s.ctype == CType::boolean ? 1 : s.ctype == CType::f32 ? 4 : 8;
    bool fixed = n.find_first_not_of("0123456789") == std::string::npos;
    if (fixed && std::stoll(n) * size <= stack_array_max_bytes())
      return w.line("alignas(64) " + std::string(ct) + " " + s.name + "[" + n + "];");
    // Past 64 KiB (big block sizes) the entry's scratch stack: a worker's stack never overflows.
    w.line("JtHeapArray<" + std::string(ct) + "> " + s.name + "_heap(F.scratch, " + n + "); " + ct +
           "* const " + s.name + " = " + s.name + "_heap.p;");
  }

  void array_fill(const Stmt& s, Writer& w) override {
    std::string value = s.update == Update::mean ? s.value->name + "[o]" : expr(s.value);
    w.line("for (int64_t o = 0; o < " + count(s.name) + "; ++o) " +
           update(s.name + "[o]", s.update, value, s.ctype));
  }

  // ---- streaming stores (cpp_prelude.cpp: jt_store_row_f32, jt_store_row_16) ----
  // The bytes of an element of a float tensor whose rows may be streamed: 4 (f32) or 2 (bf16,
  // f16); 0 for other dtypes.
  static int streamed_element_bytes(DType t) {
    return t == DType::f32 ? 4 : (t == DType::bf16 || t == DType::f16) ? 2 : 0;
  }
  // The tensor store of a simd loop that writes one contiguous row of a float tensor, or null:
  // the loop's body is lets and that one unmasked store, whose last index is the loop index
  // plus values the loop does not change, and whose other indices the loop does not change.
  // Not of a tensor the function reads: a pass reading back a streamed row misses (a three-pass
  // softmax, 1.10x slower streamed), and a row read first needs no read for ownership anyway.
  const Stmt* row_store(const Stmt& loop) const {
    const Stmt* store = final_store(loop);
    if (!store || store->mask || read_.count(store->ival)) return nullptr;
    if (!streamed_element_bytes(tensor_dtype(store->ival))) return nullptr;
    return consecutive_along(loop, *store) ? store : nullptr;
  }
  // Whether a store writes consecutive elements along the innermost loop being printed, a simd
  // loop.
  bool contiguous_in_loop(const Stmt& store) const {
    return loop_ && loop_->loop == plan::LoopKind::simd && consecutive_along(*loop_, store);
  }
  // The entry's decision, once per call, for each tensor whose rows the function stores
  // (jt_stream_worth in cpp_prelude.cpp has the rule and its reasons): from the tensor's rows
  // and size, the bytes of the nest's tensors together, and whether the nest holds matmuls.
  void stream_flags(Writer& w) {
    if (streamed_tensors().empty()) return;
    std::string footprint;
    for (size_t i = 0; i < func_.nest->captures.size(); ++i)
      if (func_.nest->captures[i].kind == host::Capture::Kind::tensor)
        footprint += std::string(footprint.empty() ? "" : " + ") + "jt_tensor_bytes(&" +
                     capture(int64_t(i)) + ", " +
                     std::to_string(dtype_size(tensor_dtype(int64_t(i)))) + ")";
    bool products = false;
    for (const plan::StmtPtr& s : func_.body)
      plan::visit(s, [&](const Stmt& st) {
        products = products || st.kind == plan::StmtKind::matmul_block;
      });
    w.line("const int64_t jt_footprint = " + footprint + ";");
    for (int64_t t : streamed_tensors()) {
      const std::string element = std::to_string(streamed_element_bytes(tensor_dtype(t)));
      w.line("F.stream_" + field(func_.nest->captures.at(size_t(t))) + " = jt_stream_worth(&" +
             capture(t) + ", " + element + ", jt_footprint, JT_STREAM_MIN_BYTES, " +
             (products ? "1" : "0") + ");");
    }
  }
  // The captures of the tensors this function stores rows of (each gets a jt_stream_ flag).
  const std::set<int64_t>& streamed_tensors() {
    if (!streamed_) {
      streamed_.emplace();
      for (const plan::StmtPtr& s : func_.body)
        plan::visit(s, [&](const Stmt& st) {
          if (st.kind == plan::StmtKind::for_)
            if (const Stmt* store = row_store(st)) streamed_->insert(store->ival);
        });
    }
    return *streamed_;
  }
  // Whether a loop's element values take long-latency arithmetic (a transcendental function,
  // square roots included, a power or a float division).
  static bool costly_elements(const Stmt& loop) {
    auto costly = [](const plan::Expr& e) {
      if (e.kind != plan::ExprKind::compute || !e.node) return false;
      const ir::Op op = e.node->op;
      return ir::op_is_transcendental(op) || op == ir::Op::pow ||
             (op == ir::Op::div && dtype_is_float(e.dtype));
    };
    bool found = false;
    for (const plan::StmtPtr& st : loop.body)
      plan::visit(st, [&](const Stmt& each) {
        for (const plan::ExprPtr& e : plan::own_exprs(each))
          found = found || plan::any_expr(e, costly);
      });
    return found;
  }
  // A row store's loop, in chunks of 64-byte lines (16 floats or 32 16-bit floats to a line):
  // the values into a chunk on the stack, then jt_store_row_f32 or jt_store_row_16, streaming
  // where the tensor is large (its jt_stream_ flag). A bf16 chunk holds the floats and
  // jt_store_row_bf16 narrows them 32 at once. A chunk is one line where the values are cheap:
  // such a loop is bound by memory, and chunks of 8 lines, whose streaming stores leave in
  // bursts, made jagged_dense_add 1.08x slower. Where they take long-latency arithmetic, the
  // chunk is 8 lines, so that the loop's overhead per chunk (its first element's address, the
  // vector loop's entry and exit, the store's checks) is paid once per 8 vectors of 16 floats
  // rather than for each: jagged_softmax (exp and a division per element) 1.14x faster on an
  // AMX Xeon (docs/performance.md, "jagged_softmax: exp in fewer instructions; row
  // chunks of 8 lines").
  void streamed_loop(const Stmt& s, const Stmt& store, Writer& w) {
    const std::string n = std::to_string(rows_++), i = s.name;
    const std::string ext = "jt_ext" + n, c = "jt_c" + n, len = "jt_n" + n, row = "jt_row" + n,
                      to = "jt_to" + n;
    const DType t = tensor_dtype(store.ival);
    const bool bf16 = t == DType::bf16;
    const std::string type = storage_ctype(t), chunk_type = bf16 ? "float" : type;
    const int64_t lines = costly_elements(s) ? 8 : 1;
    const std::string chunk = std::to_string(lines * 64 / streamed_element_bytes(t));
    std::vector<plan::StmtPtr> lets(s.body.begin(), s.body.end() - 1);
    w.line("const int64_t " + ext + " = " + expr(s.extent) + ";");
    w.open("for (int64_t " + c + " = 0; " + c + " < " + ext + "; " + c + " += " + chunk + ") {");
    w.line("const int64_t " + len + " = jt_min64(" + chunk + ", " + ext + " - " + c + ");");
    w.line("alignas(64) " + chunk_type + " " + row + "[" + chunk + "];");
    w.line(type + "* " + to + ";");
    w.open("{  // the row's first element: its address");
    w.line("const int64_t " + i + " = " + c + ";");
    stmts(lets, w);
    w.line(to + " = &((" + type + "*)" + capture(store.ival) + ".data)[" +
           address(store.ival, store.indices) + "];");
    w.close();
    w.line("#pragma omp simd");
    w.open("for (int64_t " + i + " = " + c + "; " + i + " < " + c + " + " + len + "; ++" + i +
           ") {");
    stmts(lets, w);
    const std::string value = bf16 ? float_to_narrow(expr(store.value), store.value->dtype)
                                   : to_storage(expr(store.value), store.value->dtype, t);
    w.line(row + "[" + i + " - " + c + "] = " + value + ";");
    w.close();
    const char* store_row = t == DType::f32 ? "jt_store_row_f32("
                            : bf16          ? "jt_store_row_bf16("
                                            : "jt_store_row_16(";
    w.line(store_row + to + ", " + row + ", " + len + ", jt_stream_" +
           field(func_.nest->captures.at(size_t(store.ival))) + ");");
    w.close();
  }

  // ---- stream compaction (cpp_prelude.cpp: jt_compact_store) ----
  // The masked tensor store of a simd loop that compacts along the loop, or null: the loop's body
  // is lets and that one store, whose IR store is a compaction (compaction_cumsum) and whose
  // index reads the cumsum's tile array at the loop index in its last dim (so the loop runs
  // along the dim the cumsum counts on).
  const Stmt* compacting_store(const Stmt& loop) const {
    const Stmt* store = final_store(loop);
    if (!store || !store->mask || store->indices.size() != 1 || !store->node) return nullptr;
    const ir::Node* cumsum = plan::compaction_cumsum(*store->node);
    if (!cumsum) return nullptr;
    std::string array;
    for (const plan::StmtPtr& st : func_.body)
      plan::visit(st, [&](const Stmt& n) {
        if (n.kind == plan::StmtKind::nest && n.node == cumsum) array = n.name;
      });
    return !array.empty() && reads_along(store->indices[0], array, loop.name, lets_of(loop))
               ? store
               : nullptr;
  }
  // The load a compacting store's value is, when it reads consecutive elements of a tensor of the
  // store's own dtype along the loop (through the body's lets), or null. The kept values can then
  // be packed straight from the tensor's row. Only for dtypes whose compute type keeps every bit
  // of the stored one (f32, f64, i32, i64; the vector paths' 4- and 8-byte values): a 16-bit
  // float's round trip through f32 quiets a signalling NaN, and a bool's makes any nonzero byte 1.
  const plan::Expr* row_source(const Stmt& loop, const Stmt& store) const {
    const DType t = tensor_dtype(store.ival);
    if (t != DType::f32 && t != DType::f64 && t != DType::i32 && t != DType::i64) return nullptr;
    const std::map<std::string, plan::ExprPtr> lets = lets_of(loop);
    const plan::Expr* v = through_lets_and_casts(store.value.get(), lets);
    if (!v || v->kind != ExprKind::load || v->has_mask || v->args.empty() ||
        v->from != tensor_dtype(store.ival))
      return nullptr;
    for (size_t d = 0; d + 1 < v->args.size(); ++d)
      if (varies(v->args[d], loop.name, lets)) return nullptr;
    return unit_step(v->args.back(), loop.name, lets) ? v : nullptr;
  }
  // The store's mask when it is an element of a bool tile array along the loop (counted_in_array):
  // each chunk's mask bytes are then a run of that array, read in place. Null otherwise.
  const plan::Expr* mask_row(const Stmt& loop, const Stmt& store) const {
    const plan::Expr* m = through_lets_and_casts(store.mask.get(), lets_of(loop));
    return m && counted_in_array(*m, loop) ? m : nullptr;
  }
  // A compacting store's loop, 64 elements at a time: the mask of each (unless it is a bool tile
  // array's row, mask_row) and its value (unless it is a tensor's row, row_source) into arrays on
  // the stack, in one vectorised pass that is left out when both are rows; then the chunk's kept
  // positions (jt_kept), the loop body's lets once more at the first kept position only, for the
  // element index the store names there, and jt_compact_store packs the kept values and copies
  // them to it. The other kept positions' indices follow from the first (the store is a
  // compaction), so they are never computed.
  void compacted_loop(const Stmt& s, const Stmt& store, Writer& w) {
    const std::string n = std::to_string(rows_++), i = s.name;
    const std::string ext = "jt_ext" + n, c = "jt_c" + n, len = "jt_n" + n, vals = "jt_v" + n,
                      keep = "jt_k" + n, kept = "jt_f" + n, row = "jt_r" + n;
    const DType t = tensor_dtype(store.ival);
    const std::string type = storage_ctype(t);
    const plan::Expr* source = row_source(s, store);
    const plan::Expr* mask = mask_row(s, store);
    std::vector<plan::StmtPtr> lets(s.body.begin(), s.body.end() - 1);
    w.line("const int64_t " + ext + " = " + expr(s.extent) + ";");
    w.open("for (int64_t " + c + " = 0; " + c + " < " + ext + "; " + c + " += 64) {");
    w.line("const int64_t " + len + " = jt_min64(64, " + ext + " - " + c + ");");
    if (!source) w.line("alignas(64) " + type + " " + vals + "[64];");
    if (mask) {
      w.line("const uint8_t* " + keep + ";");
      w.open("{  // the chunk's mask bytes: a run of " + mask->name);
      w.line("const int64_t " + i + " = " + c + ";");
      w.line(keep + " = &" + mask->name + "[" + flat(mask->name, mask->args) + "];");
      w.close();
    } else {
      w.line("alignas(64) uint8_t " + keep + "[64];");
    }
    if (!source || !mask) {
      w.line("#pragma omp simd");
      w.open("for (int64_t " + i + " = " + c + "; " + i + " < " + c + " + " + len + "; ++" + i +
             ") {");
      stmts(lets, w);
      const std::string at = "[" + i + " - " + c + "]";
      if (!source)
        w.line(vals + at + " = " + to_storage(expr(store.value), store.value->dtype, t) + ";");
      if (!mask) w.line(keep + at + " = " + expr(store.mask) + ";");
      w.close();
    }
    w.line("const JtKept " + kept + " = jt_kept(" + keep + ", " + len + ");");
    w.open("if (" + kept + ".first < " + len +
           ") {  // the first kept position: its element index");
    if (source) {
      const size_t rank = source->args.size();
      const std::vector<plan::ExprPtr> idx(source->args.begin(), source->args.begin() + rank);
      w.line("const " + type + "* " + row + ";");
      w.open("{  // the chunk's first element in the row the values are loaded from");
      w.line("const int64_t " + i + " = " + c + ";");
      stmts(lets, w);
      w.line(row + " = &((const " + type + "*)" + capture(source->ival) + ".data)[" +
             address(source->ival, idx) + "];");
      w.close();
    }
    w.line("const int64_t " + i + " = " + c + " + " + kept + ".first;");
    stmts(lets, w);
    w.line(std::string(source ? "jt_compact_store_row" : "jt_compact_store") + "(&((" + type +
           "*)" + capture(store.ival) + ".data)[" + address(store.ival, store.indices) + "], " +
           (source ? row : vals) + ", " + keep + ", " + kept + ", " + len + ");");
    w.close();
    w.close();
  }

  // ---- integer running sums (torch.cumsum) as OpenMP scans ----
  // An integer running sum as an inclusive scan: GCC vectorises it (partial sums in log steps
  // across the lanes) where the plain loop waits on each add before the next. Integer adds wrap,
  // so the sums are the same in any order; float running sums stay serial loops, since their
  // order is their rounding.
  void scanned_loop(const Stmt& s, const Stmt& add, Writer& w) {
    const std::string sum = "jt_s" + std::to_string(rows_++);
    const Stmt& out = *s.body.back();
    const std::string carry = expr(out.value);
    w.open("{");
    w.line("int64_t " + sum + " = " + carry + ";");
    w.line("#pragma omp simd reduction(inscan, +:" + sum + ")");
    w.open("for (int64_t " + s.name + " = 0; " + s.name + " < " + expr(s.extent) + "; ++" + s.name +
           ") {");
    stmts(std::vector<plan::StmtPtr>(s.body.begin(), s.body.end() - 2), w);
    w.line(sum + " += " + expr(add.value) + ";");
    w.line("#pragma omp scan inclusive(" + sum + ")");
    w.line(out.name + "[" + flat(out.name, out.indices) + "] = " + sum + ";");
    w.close();
    w.line(carry + " = " + sum + ";");
    w.close();
  }

  // ---- running counts of a mask kept as its bits (counted scans) ----
  // A torch.cumsum of a mask (a bool value cast to integers) whose elements are read only where
  // few of them are needed: by the bounds checks (endpoint loops) and their diagnosis, and in a
  // compacting store's loop, which names an index at each chunk's first kept position only. Its
  // array is then not filled: the scan stores the mask's bits and the count before the row, and
  // reading element i counts the bits up to i (jt_count_upto). With packing from the row
  // (row_source), masked_select_jagged_1d's compaction kernel ran 1.31x faster
  // (docs/performance.md, "Counted scans").
  struct CountedScan {
    int64_t length = 0;  // the array's last extent, along which it counts
    int64_t words = 0;   // 64-bit words of bits per row
    int64_t rows = 0;    // the product of its other extents
  };

  // The 0 / 1 value a counting scan adds up (a bool value cast to int64: an element of a bool tile
  // array, or a comparison computed in the loop), or null when `loop` is not a running sum of one.
  plan::ExprPtr counted_mask(const Stmt& loop) const {
    const Stmt* add = running_sum(loop);
    if (!add) return nullptr;
    const std::map<std::string, plan::ExprPtr> lets = lets_of(loop);
    plan::ExprPtr e = add->value;
    bool zero_one = false;
    for (;;) {
      if (e->kind == ExprKind::var && lets.count(e->name)) {
        e = lets.at(e->name);
      } else if (e->kind == ExprKind::convert && e->from == DType::boolean) {
        zero_one = true;
        e = e->args[0];
      } else {
        break;
      }
    }
    if (e->kind == ExprKind::array_read) {
      auto type = array_types_.find(e->name);
      zero_one = zero_one || (type != array_types_.end() && type->second == CType::boolean);
    }
    return zero_one ? e : nullptr;
  }
  // Whether a counted value is an element of a bool tile array along the loop, at indices that
  // read no let of the loop's body: its row's bytes can be read without running the body.
  bool counted_in_array(const plan::Expr& e, const Stmt& loop) const {
    if (e.kind != ExprKind::array_read || e.args.empty()) return false;
    auto type = array_types_.find(e.name);
    if (type == array_types_.end() || type->second != CType::boolean) return false;
    const plan::ExprPtr& last = e.args.back();
    if (last->kind != ExprKind::var || last->name != loop.name) return false;
    const std::map<std::string, plan::ExprPtr> lets = lets_of(loop);
    for (size_t d = 0; d + 1 < e.args.size(); ++d)
      if (plan::any_expr(e.args[d], [&](const plan::Expr& x) {
            return x.kind == ExprKind::var && (x.name == loop.name || lets.count(x.name));
          }))
        return false;
    return true;
  }

  // The arrays of this function that are counted scans (counted_).
  void find_counted_scans() {
    // A tile array is declared before the loops that use it, so one pass in order sees each
    // array's type before a scan reads it.
    std::map<std::string, const Stmt*> decls;
    std::map<std::string, int> scans;  // array -> the counting scans that fill it
    for (const plan::StmtPtr& st : func_.body)
      plan::visit(st, [&](const Stmt& n) {
        if (n.kind == plan::StmtKind::array_decl)
          decls[n.name] = &n, array_types_[n.name] = n.ctype;
        if (n.kind == plan::StmtKind::for_ && counted_mask(n)) ++scans[n.body.back()->name];
      });
    std::set<std::string> counted;
    for (const auto& [name, n] : scans) {
      auto d = decls.find(name);
      bool fixed = n == 1 && d != decls.end() && !d->second->indices.empty();
      for (size_t k = 0; fixed && k < d->second->indices.size(); ++k)
        fixed = d->second->indices[k]->kind == ExprKind::int_imm;
      if (fixed) counted.insert(name);
    }
    // Every other write, and every read outside the places that read few elements, keeps the
    // array as it is.
    std::function<void(const Stmt&, bool)> walk = [&](const Stmt& n, bool few) {
      const bool scan = n.kind == plan::StmtKind::for_ && counted_mask(n);
      few = few || (n.kind == plan::StmtKind::for_ && compacting_store(n)) ||
            (n.kind == plan::StmtKind::nest &&
             (n.role == plan::NestRole::check || n.role == plan::NestRole::diagnose));
      if (n.kind == plan::StmtKind::array_store || n.kind == plan::StmtKind::array_fill ||
          n.kind == plan::StmtKind::matmul_block)
        counted.erase(n.name);
      auto reads = [&](const plan::ExprPtr& e) {
        plan::visit(e, [&](const plan::Expr& x) {
          if (x.kind == ExprKind::array_read && !few) counted.erase(x.name);
        });
      };
      for (const plan::ExprPtr& e : {n.value, n.extent, n.begin, n.end, n.mask}) reads(e);
      for (const plan::ExprPtr& e : n.indices) reads(e);
      // A counting scan's own store fills its array; the rest of its body is looked at.
      const size_t body = scan ? n.body.size() - 1 : n.body.size();
      for (size_t k = 0; k < body; ++k) walk(*n.body[k], few);
      for (const plan::StmtPtr& b : n.orelse) walk(*b, few);
    };
    for (const plan::StmtPtr& st : func_.body) walk(*st, false);
    for (const std::string& name : counted) {
      const std::vector<plan::ExprPtr>& ext = decls.at(name)->indices;
      CountedScan c;
      c.length = ext.back()->ival;
      c.words = (c.length + 63) / 64;
      c.rows = 1;
      for (size_t d = 0; d + 1 < ext.size(); ++d) c.rows *= ext[d]->ival;
      counted_[name] = c;
    }
  }

  // A counting scan: the row's count before it, then the bits of the row's mask (none past the
  // loop's extent) and the count after it into the scan's carry. A mask computed in the loop is
  // first written to bytes on the stack, by the loop's body.
  void counted_loop(const Stmt& s, Writer& w) {
    const plan::ExprPtr mask_ptr = counted_mask(s);
    const plan::Expr& mask = *mask_ptr;
    const Stmt& out = *s.body.back();
    const CountedScan& c = counted_.at(out.name);
    const std::string carry = expr(out.value), ext = expr(s.extent);
    w.open("{  // counted scan into " + out.name);
    std::string keep;
    if (!counted_in_array(mask, s)) {
      keep = "jt_m" + std::to_string(rows_++);
      w.line("alignas(64) uint8_t " + keep + "[" + std::to_string(c.length) + "];");
      w.line("#pragma omp simd");
      w.open("for (int64_t " + s.name + " = 0; " + s.name + " < " + ext + "; ++" + s.name + ") {");
      stmts(std::vector<plan::StmtPtr>(s.body.begin(), s.body.end() - 2), w);
      w.line(keep + "[" + s.name + "] = (uint8_t)((" + expr(mask_ptr) + ") != 0);");
      w.close();
    }
    w.line("const int64_t " + s.name + " = 0;  // the row's first element");
    if (keep.empty()) keep = "&" + mask.name + "[" + flat(mask.name, mask.args) + "]";
    w.line("const int64_t jt_row = (" + flat(out.name, out.indices) + ") / " +
           std::to_string(c.length) + ";");
    w.line(out.name + "_base[jt_row] = " + carry + ";");
    w.line(carry + " += jt_mask_bits(&" + out.name + "_bits[jt_row * " + std::to_string(c.words) +
           "], " + keep + ", " + ext + ");");
    w.close();
  }

  std::string array_element(const std::string& array,
                            const std::vector<plan::ExprPtr>& idx) const override {
    auto it = counted_.find(array);
    if (it == counted_.end()) return NestPrinter::array_element(array, idx);
    std::vector<plan::ExprPtr> start(idx);
    start.back() = plan::int_imm(0);
    // Appended piece by piece: GCC 12 warns (-Wrestrict, wrongly) on "literal" + a temporary.
    std::string row = "(";
    row += flat(array, start);
    row += ") / " + std::to_string(it->second.length);
    std::string read = "jt_count_upto(&";
    read += array + "_bits[" + row + " * " + std::to_string(it->second.words) + "], ";
    read += expr(idx.back());
    read += ", " + array + "_base[" + row + "])";
    return read;
  }

  // ---- sums of a mask counted as bits ----
  // `acc += (int64)keep[.., i]` over a row of a bool tile array or a bool tensor
  // (`mask.to(torch.int64).sum()`): GCC widens each byte to a 64-bit lane and adds those, several
  // unpack steps per 8 elements (18% of masked_select_jagged_1d's compaction kernel on Zen 4);
  // the same integer is the row's count of set bytes, a byte test and a popcount per 64
  // (jt_count_true). The counted row's first element (a bool array element or an unmasked load
  // of a bool tensor, along the loop by one), or null where `loop` is not such a sum: lets, then
  // one `+=` to an integer variable or array element the loop does not move along, of the bool
  // cast to an integer.
  plan::ExprPtr counted_sum(const Stmt& loop) const {
    const std::vector<plan::StmtPtr>& body = loop.body;
    if (loop.loop == plan::LoopKind::endpoints || body.empty()) return nullptr;
    for (size_t k = 0; k + 1 < body.size(); ++k)
      if (body[k]->kind != plan::StmtKind::let && body[k]->kind != plan::StmtKind::comment)
        return nullptr;
    const Stmt& add = *body.back();
    const bool to_array = add.kind == plan::StmtKind::array_store;
    if (add.update != Update::add || (!to_array && add.kind != plan::StmtKind::assign))
      return nullptr;
    const std::map<std::string, plan::ExprPtr> lets = lets_of(loop);
    for (const plan::ExprPtr& i : add.indices)
      if (varies(i, loop.name, lets)) return nullptr;
    plan::ExprPtr e = add.value;
    if (!dtype_is_int(e->dtype)) return nullptr;
    for (;;) {  // casts of the 0 / 1 value, through the lets
      if (e->kind == ExprKind::var && lets.count(e->name))
        e = lets.at(e->name);
      else if (zero_one_cast(*e))
        e = e->args[0];
      else
        break;
    }
    if (counted_in_array(*e, loop)) return e;
    if (e->kind != ExprKind::load || e->has_mask || e->args.empty() ||
        tensor_dtype(e->ival) != DType::boolean)
      return nullptr;
    for (size_t d = 0; d + 1 < e->args.size(); ++d)
      if (varies(e->args[d], loop.name, lets)) return nullptr;
    return unit_step(e->args.back(), loop.name, lets) ? e : nullptr;
  }
  // The row's count at its first element; the lets (the load's index) evaluated there, on a
  // non-empty row only, as the loop would.
  void counted_sum_loop(const Stmt& s, const plan::Expr& row, Writer& w) {
    const Stmt& add = *s.body.back();
    const std::string target = add.kind == plan::StmtKind::assign
                                   ? add.name
                                   : add.name + "[" + flat(add.name, add.indices) + "]";
    const std::string ext = expr(s.extent);
    w.open("if (" + ext + " > 0) {  // a sum of a mask: its set bytes counted");
    w.line("const int64_t " + s.name + " = 0;  // the row's first element");
    std::string first;
    if (row.kind == ExprKind::array_read) {
      first = row.name + "[" + flat(row.name, row.args) + "]";
    } else {
      stmts(std::vector<plan::StmtPtr>(s.body.begin(), s.body.end() - 1), w);
      first =
          "((const uint8_t*)" + capture(row.ival) + ".data)[" + address(row.ival, row.args) + "]";
    }
    w.line(target + " += jt_count_true(&" + first + ", " + ext + ");");
    w.close();
  }

  void for_loop(const Stmt& s, Writer& w) override {
    if (plan::ExprPtr row = counted_sum(s)) return counted_sum_loop(s, *row, w);
    if (const Stmt* store = row_store(s)) return streamed_loop(s, *store, w);
    if (const Stmt* store = compacting_store(s)) return compacted_loop(s, *store, w);
    if (const Stmt* add = running_sum(s))
      return counted_.count(s.body.back()->name) ? counted_loop(s, w) : scanned_loop(s, *add, w);
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
    const Stmt* outer = loop_;
    loop_ = &s;
    loop_body(s, w);
    loop_ = outer;
    w.close();
  }

  void matmul_block(const Stmt& s, Writer& w) override {
    const bool bf16 = plan::MatmulInputs(s.ival) == plan::MatmulInputs::bf16;
    const std::string stream = func_.operand_prefetches.empty() ? "" : "&jt_operands";
    w.line(std::string(bf16 ? "jt_matmul_bf16(" : "jt_matmul_f32(") + matmul_operands(s, stream) +
           ");");
  }

  // A prefetch's rows as jt_prefetch_rows and jt_prefetch_add take them: the tensor's data, byte
  // offsets of the first element and of the rows' stride (the product of the sizes after the
  // rows' dim), the row count and the bytes of each row.
  std::string prefetch_rows(const Stmt& s) {
    const std::string t = capture(s.ival);
    const std::string bytes = std::to_string(dtype_size(tensor_dtype(s.ival)));
    std::string stride = "INT64_C(" + bytes + ")";
    for (size_t d = size_t(s.dim) + 1; d < s.indices.size(); ++d)
      stride += " * " + t + ".size[" + std::to_string(d) + "]";
    return t + ".data, (" + address(s.ival, s.indices) + ") * INT64_C(" + bytes + "), " + stride +
           ", " + expr(s.extent) + ", (" + expr(s.value) + ") * INT64_C(" + bytes + ")";
  }
  void prefetch(const Stmt& s, Writer& w) override {
    w.line("jt_prefetch_rows(" + prefetch_rows(s) + ");");
  }
  // The stream of the next program's operand rows that the matmul blocks fetch
  // (pass_prefetch_operands.h).
  void operand_prefetches(Writer& w) {
    if (func_.operand_prefetches.empty()) return;
    w.line("// The next program's operand rows, fetched by this program's matmul blocks.");
    w.line("JtPrefetch jt_operands = {};");
    for (const plan::StmtPtr& p : func_.operand_prefetches)
      w.line("jt_prefetch_add(&jt_operands, " + prefetch_rows(*p) + ");");
    w.line("jt_prefetch_start(&jt_operands);");
  }

  // A masked scatter without a branch (the prelude's JT_MASKED_STORE). A masked store to
  // consecutive elements of a simd loop keeps its branch: the vectorizer makes it a masked
  // vector store.
  void tensor_store(const Stmt& s, Writer& w) override {
    if (!s.mask || contiguous_in_loop(s)) return NestPrinter::tensor_store(s, w);
    const DType t = tensor_dtype(s.ival);
    const std::string type = storage_ctype(t);
    w.line("JT_MASKED_STORE(" + type + ", " + expr(s.mask) + ", ((" + type + "*)" +
           capture(s.ival) + ".data), " + address(s.ival, s.indices) + ", " +
           to_storage(expr(s.value), s.value->dtype, t) + ");");
  }

  std::string overflow_builtin(ir::Op op) const override {
    return op == ir::Op::add   ? "__builtin_add_overflow"
           : op == ir::Op::sub ? "__builtin_sub_overflow"
                               : "__builtin_mul_overflow";
  }

  const int index_;
  const Stmt* loop_ = nullptr;    // the innermost for_ being printed
  const std::set<int64_t> read_;  // the tensors this function reads (plan::read_tensors)
  std::optional<std::set<int64_t>> streamed_;
  std::map<std::string, CountedScan> counted_;
  std::map<std::string, CType> array_types_;  // every tile array's (find_counted_scans)
  int rows_ = 0;
};

// The size from which an f32 output is written with streaming stores: JAGTILE_STREAM_MIN_BYTES
// (tests set 0 to take the streaming path on small data), else 32 MiB, past the share of the
// last-level cache a core can count on, where the next reader finds the output in memory anyway.
std::string stream_min_bytes() {
  const int64_t n = size_setting("JAGTILE_STREAM_MIN_BYTES", int64_t(32) << 20);
  return "#define JT_STREAM_MIN_BYTES INT64_C(" + std::to_string(n) + ")\n";
}

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
  out += stream_min_bytes() + "\n";
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
