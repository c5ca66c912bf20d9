// Planning pass: the rows of the next work item prefetched (see pass_prefetch.h).
#include "plan/pass_prefetch.h"

#include <functional>
#include <map>
#include <optional>
#include <set>

#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

using ir::Op;

// Rows of a tensor that a fill in Q reads: the indices of a row's first element, the row's own
// index (at `dim`) left as 0 for the prefetch to name, and how many elements of each row it reads.
struct RowSource {
  int capture = 0;
  std::vector<ExprPtr> first;
  int dim = 0;
  ExprPtr elements;
};

// The one statement of a list that is not a let (nor, with guards, a size check), or null.
const Stmt* only_stmt(const std::vector<StmtPtr>& body, bool guards) {
  const Stmt* found = nullptr;
  for (const StmtPtr& s : body) {
    if (s->kind == StmtKind::let || (guards && is_guard(s))) continue;
    if (found) return nullptr;
    found = s.get();
  }
  return found;
}

class Prefetcher {
 public:
  Prefetcher(const Plan& plan, const DeviceFunc& f, NameGen& names)
      : plan_(plan), func_(f), names_(names), stored_(stored_tensors(f.body)) {
    for (const StmtPtr& s : f.body) {
      visit(s, [&](const Stmt& st) {
        if (st.kind == StmtKind::let) lets_[st.name] = st.value;
      });
      defined_names(s, program_names_);
    }
    for (const std::string& v : program_names(f)) program_names_.insert(v);
  }

  // Whether a prefetch reads the program this worker runs next (DeviceFunc::next_program).
  bool reads_next_program() const { return next_program_; }

  // A statement list with each Q directly inside a grid loop G given its prefetches; `grid` is
  // the G the list sits directly in (through scopes and ifs), or null.
  std::vector<StmtPtr> list(const std::vector<StmtPtr>& stmts, const StmtPtr& grid) {
    std::vector<StmtPtr> out;
    for (const StmtPtr& s : stmts) {
      if (s->kind == StmtKind::nest) {
        out.push_back(s);
      } else if (s->kind == StmtKind::tile_loop && block_size(*s) == 1) {
        out.push_back(map_bodies(s, [&](const std::vector<StmtPtr>& b) { return list(b, s); }));
      } else if (s->kind == StmtKind::tile_loop && grid && block_size(*s) > 1) {
        out.push_back(with_prefetch(grid, s));
      } else {
        const StmtPtr g =
            s->kind == StmtKind::scope || s->kind == StmtKind::seq || s->kind == StmtKind::if_
                ? grid
                : nullptr;
        out.push_back(map_bodies(s, [&](const std::vector<StmtPtr>& b) { return list(b, g); }));
      }
    }
    return out;
  }

 private:
  // Q with the lets that name the next rows at the top of its body and the prefetches of them
  // (pass_prefetch.h); Q itself where nothing qualifies.
  StmtPtr with_prefetch(const StmtPtr& g, const StmtPtr& q) {
    std::set<std::string> inside_g;
    defined_names(g, inside_g);
    if (mentions_any(inline_lets(q->begin, lets_), inside_g) ||
        mentions_any(inline_lets(q->end, lets_), inside_g))
      return q;
    const std::string s_g = tile_name("s", *g);
    std::vector<RowSource> sources;
    std::set<std::string> seen;
    k_loop_ = nullptr;
    k_to_range_end_ = false;
    scan(q->body, *q, *q, g, inside_g, sources, seen);
    if (sources.empty()) return q;

    const int64_t block = block_size(*q);
    const ExprPtr s_q = var(tile_name("s", *q), CType::i64);
    const ExprPtr end_q = var(tile_name("end", *q), CType::i64);
    const ExprPtr next_g = binop(Op::add, var(s_g, CType::i64), int_imm(1));
    // G's whole extent: a split inner program loop runs one index per program. After its last
    // index comes the program this worker runs next (DeviceFunc::next_program): Q's first block
    // of that program's item, at its first G index.
    const bool program_loop = g->ival == func_.inner_block;
    const ExprPtr g_total = program_loop ? func_.inner_end : var(tile_name("end", *g), CType::i64);
    ExprPtr next_begin, next_end;
    if (program_loop) {
      next_begin = in_next_program(q->begin);
      next_end = in_next_program(q->end);
    }
    const bool next_item = next_begin && next_end;
    next_program_ = next_program_ || next_item;
    const std::string more = names_.fresh("pf_more"), in_g = names_.fresh("pf_in_grid"),
                      row = names_.fresh("pf_row"), index = names_.fresh("pf_index"),
                      rows = names_.fresh("pf_rows");
    const ExprPtr more_v = var(more, CType::boolean), in_g_v = var(in_g, CType::boolean),
                  row_v = var(row, CType::i64);
    const ExprPtr next_q = binop(Op::add, s_q, int_imm(block));
    std::vector<StmtPtr> body;
    body.push_back(let(more, CType::boolean, binop(Op::lt, next_q, end_q)));
    body.push_back(let(in_g, CType::boolean, binop(Op::lt, next_g, g_total)));
    ExprPtr after_g_row = end_q, after_g_index = int_imm(0), after_g_rows = int_imm(0);
    if (next_item) {
      const std::string nb = names_.fresh("pf_next_begin"), ne = names_.fresh("pf_next_end");
      body.push_back(let(nb, CType::i64, next_begin));
      body.push_back(let(ne, CType::i64, next_end));
      after_g_row = var(nb, CType::i64);
      after_g_index = var("jt_next_inner", CType::i64);
      after_g_rows = select(
          binop(Op::ge, var("jt_next_s" + std::to_string(func_.block), CType::i64), int_imm(0)),
          call("jt_clamp_len", CType::i64,
               {binop(Op::sub, var(ne, CType::i64), after_g_row), int_imm(block)}),
          int_imm(0));
    }
    body.push_back(
        let(row, CType::i64, select(more_v, next_q, select(in_g_v, q->begin, after_g_row))));
    body.push_back(
        let(index, CType::i64,
            select(more_v, var(s_g, CType::i64), select(in_g_v, next_g, after_g_index))));
    body.push_back(
        let(rows, CType::i64,
            select(binop(Op::logical_or, more_v, in_g_v),
                   call("jt_min64", CType::i64, {int_imm(block), binop(Op::sub, end_q, row_v)}),
                   after_g_rows)));
    const std::map<std::string, ExprPtr> at_next = {{s_g, var(index, CType::i64)}};
    // The rows from `from` on, `count` of them, of every source.
    auto prefetches = [&](const ExprPtr& from, const ExprPtr& count) {
      std::vector<StmtPtr> out;
      for (const RowSource& src : sources) {
        std::vector<ExprPtr> first;
        for (size_t d = 0; d < src.first.size(); ++d)
          first.push_back(int(d) == src.dim ? from : substitute(src.first[d], at_next));
        out.push_back(prefetch(src.capture, first, src.dim, count, src.elements));
      }
      return out;
    };
    // Spread over a row loop where there is one, not a burst (docs/performance.md, "HSTU: the next
    // item's rows prefetched").
    if (const Stmt* loop = spread_loop(*q)) {
      const Stmt& k = *k_loop_;
      // K's block that holds Q's last row: K's last where K ends at Q's tile end; where K runs
      // over Q's whole range (Helion's jagged_hstu_attn_2, whose masked key blocks the causal
      // skip leaves out), the one whose end reaches Q's tile end and whose start is below it.
      const ExprPtr last_k =
          k_to_range_end_ ? binop(Op::logical_and, binop(Op::ge, tile_end(k), tile_end(*q)),
                                  binop(Op::lt, var(tile_name("s", k), CType::i64), tile_end(*q)))
                          : binop(Op::ge, tile_end(k), var(tile_name("end", k), CType::i64));
      const ExprPtr r = var(loop->name, CType::i64);
      std::vector<StmtPtr> loop_body = {
          if_(binop(Op::logical_and, last_k, binop(Op::lt, r, var(rows, CType::i64))),
              prefetches(binop(Op::add, row_v, r), int_imm(1)))};
      for (const StmtPtr& b : loop->body) loop_body.push_back(b);
      const StmtPtr spread = with_body(std::make_shared<const Stmt>(*loop), std::move(loop_body));
      for (const StmtPtr& s : q->body) body.push_back(replace_stmt(s, loop, spread));
    } else {
      for (const StmtPtr& p : prefetches(row_v, var(rows, CType::i64))) body.push_back(p);
      for (const StmtPtr& s : q->body) body.push_back(s);
    }
    return with_body(q, std::move(body));
  }

  // e (a bound of Q's range, fixed across G) in the program this worker runs next: the outer
  // loop's start replaced by that program's (jt_next_s<b>, -1 where there is none), each load
  // read only where its indices are in bounds (else 0: that program's own checks will report
  // them), so that nothing is read out of range for a hint; null where e reads other names of
  // the program or a masked load.
  ExprPtr in_next_program(const ExprPtr& e) const {
    const std::string s_outer = "s" + std::to_string(func_.block);
    const std::string next_s = "jt_next_s" + std::to_string(func_.block);
    const ExprPtr inlined = inline_lets(e, lets_);
    std::set<std::string> program = program_names_;
    program.erase(s_outer);
    if (mentions_any(inlined, program)) return nullptr;
    bool masked = false;
    const ExprPtr out =
        rewrite(substitute(inlined, {{s_outer, var(next_s, CType::i64)}}), [&](const ExprPtr& x) {
          if (x->kind != ExprKind::load) return x;
          masked = masked || x->has_mask;
          return in_bounds_hint(*x, x->args);
        });
    return masked ? nullptr : out;
  }

  // In the inner loop K the sources came from, the row loop over Q's rows of the first value nest
  // after K's first matmul (the scores' silu pass in attention), or null.
  const Stmt* spread_loop(const Stmt& q) const {
    if (!k_loop_) return nullptr;
    bool after_matmul = false, done = false;
    const Stmt* found = nullptr;
    // K's statements in program order, into ifs and scopes (its body sits in the if that skips
    // the blocks a causal mask zeroes).
    std::function<void(const std::vector<StmtPtr>&)> walk = [&](const std::vector<StmtPtr>& list) {
      for (const StmtPtr& s : list) {
        if (done) return;
        if (s->kind == StmtKind::if_ || s->kind == StmtKind::scope || s->kind == StmtKind::seq) {
          walk(s->body);
        } else if (!after_matmul) {
          after_matmul =
              any_stmt(s, [](const Stmt& x) { return x.kind == StmtKind::matmul_block; });
        } else if (s->kind == StmtKind::nest && s->role == NestRole::value) {
          const Stmt* loop = only_stmt(s->body, true);
          if (loop && loop->kind == StmtKind::for_ && loop->extent->kind == ExprKind::var &&
              loop->extent->name == tile_name("lim", q))
            found = loop;
          done = true;
        }
      }
    };
    walk(k_loop_->body);
    return found;
  }

  // The fills of a list in Q whose rows follow `rows_of` (Q, or an inner tile loop K that begins
  // where Q begins and ends at Q's tile end or at Q's end), into `sources`. Either way the rows K
  // reads first in Q's next block, or in the next item, are Q's next rows.
  void scan(const std::vector<StmtPtr>& stmts, const Stmt& q, const Stmt& rows_of, const StmtPtr& g,
            const std::set<std::string>& inside_g, std::vector<RowSource>& sources,
            std::set<std::string>& seen) {
    const std::string q_begin = expr_key(strip_widening(inline_lets(q.begin, lets_)));
    const std::string q_tile_end = expr_key(tile_end(q));
    const std::string q_end = expr_key(strip_widening(inline_lets(q.end, lets_)));
    for (const StmtPtr& s : stmts) {
      const std::string s_end = s->kind == StmtKind::tile_loop
                                    ? expr_key(strip_widening(inline_lets(s->end, lets_)))
                                    : "";
      if (s->kind == StmtKind::nest && s->role == NestRole::value) {
        if (auto src = fill_rows(*s, rows_of, g, inside_g)) {
          std::string key = std::to_string(src->capture) + "@" + std::to_string(src->dim);
          for (const ExprPtr& e : src->first) key += "," + expr_key(e);
          if (seen.insert(key).second) sources.push_back(*src);
        }
      } else if (s->kind == StmtKind::tile_loop && &rows_of == &q && block_size(*s) > 0 &&
                 expr_key(strip_widening(inline_lets(s->begin, lets_))) == q_begin &&
                 (s_end == q_tile_end || s_end == q_end)) {
        const size_t found = sources.size();
        scan(s->body, q, *s, g, inside_g, sources, seen);
        if (sources.size() > found && !k_loop_) {
          k_loop_ = s.get();
          k_to_range_end_ = s_end != q_tile_end;
        }
      } else if (s->kind == StmtKind::scope || s->kind == StmtKind::seq ||
                 s->kind == StmtKind::if_) {
        scan(s->body, q, rows_of, g, inside_g, sources, seen);
        scan(s->orelse, q, rows_of, g, inside_g, sources, seen);
      }
    }
  }

  // A value nest read as whole rows: guards, then `for r < lim(rows_of)` over lets and
  // `for c < E` over lets and one array store of a value with one unmasked load, whose indices
  // are rows_of's start + r at one dim, c at the last, and elsewhere values fixed across G but
  // for G's own index, which one of them is.
  std::optional<RowSource> fill_rows(const Stmt& nest, const Stmt& rows_of, const StmtPtr& g,
                                     const std::set<std::string>& inside_g) const {
    const Stmt* outer = only_stmt(nest.body, true);
    if (!outer || outer->kind != StmtKind::for_ || outer->extent->kind != ExprKind::var ||
        outer->extent->name != tile_name("lim", rows_of))
      return std::nullopt;
    const Stmt* inner = only_stmt(outer->body, false);
    if (!inner || inner->kind != StmtKind::for_) return std::nullopt;
    const Stmt* store = only_stmt(inner->body, false);
    if (!store || store->kind != StmtKind::array_store) return std::nullopt;
    const ExprPtr value = inline_lets(store->value, lets_);  // keeps `load` alive
    const Expr* load = nullptr;
    int loads = 0;
    visit(value, [&](const Expr& x) {
      if (x.kind == ExprKind::load) load = &x, ++loads;
    });
    if (loads != 1 || load->has_mask || stored_.count(load->ival) || load->args.size() < 2)
      return std::nullopt;
    const std::string s_g = tile_name("s", *g);
    std::set<std::string> moving = inside_g;  // what the other indices may not read
    moving.erase(s_g);
    moving.insert(outer->name);
    moving.insert(inner->name);
    const ExprPtr row =
        binop(Op::add, var(tile_name("s", rows_of), CType::i64), var(outer->name, CType::i64));
    RowSource src;
    src.capture = int(load->ival);
    src.elements = inline_lets(inner->extent, lets_);
    if (mentions_any(src.elements, inside_g)) return std::nullopt;
    const size_t last = load->args.size() - 1;
    int row_dims = 0;
    bool reads_g = false;
    for (size_t d = 0; d < load->args.size(); ++d) {
      const ExprPtr e = strip_widening(inline_lets(load->args[d], lets_));
      if (d == last) {
        if (!(e->kind == ExprKind::var && e->name == inner->name)) return std::nullopt;
        src.first.push_back(int_imm(0));
      } else if (expr_key(e) == expr_key(row)) {
        ++row_dims;
        src.dim = int(d);
        src.first.push_back(int_imm(0));  // named at the prefetch: the same rows for q and k
      } else {
        if (mentions_any(e, moving)) return std::nullopt;
        reads_g = reads_g || mentions_var(e, s_g);
        src.first.push_back(e);
      }
    }
    if (row_dims != 1 || !reads_g) return std::nullopt;
    return src;
  }

  int64_t block_size(const Stmt& tile_loop) const {
    return plan_.kernel->blocks.at(size_t(tile_loop.ival)).block_size;
  }

  const Plan& plan_;
  const DeviceFunc& func_;
  NameGen& names_;
  std::map<std::string, ExprPtr> lets_;  // every let of the function (each name bound once)
  std::set<int64_t> stored_;             // the captures the function stores to
  std::set<std::string> program_names_;  // every name the program defines, its own s<b> etc.
  const Stmt* k_loop_ = nullptr;         // the inner tile loop K of the Q at hand, if any
  bool k_to_range_end_ = false;          // K ends at Q's end, not at Q's tile end
  bool next_program_ = false;
};

}  // namespace

void prefetch_next_rows(Plan& plan) {
  if (pass_turned_off("JAGTILE_PREFETCH")) return;
  for (DeviceFunc& f : plan.funcs) {
    NameGen names(f);
    Prefetcher p(plan, f, names);
    f.body = p.list(f.body, nullptr);
    f.next_program = f.next_program || p.reads_next_program();
  }
}

}  // namespace jagtile::plan
