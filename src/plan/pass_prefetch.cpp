// Planning pass: the rows of the next work item prefetched (see pass_prefetch.h).
#include "plan/pass_prefetch.h"

#include <cstdlib>
#include <cstring>
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
    for (const StmtPtr& s : f.body)
      visit(s, [&](const Stmt& st) {
        if (st.kind == StmtKind::let) lets_[st.name] = st.value;
      });
  }

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
    scan(q->body, *q, *q, g, inside_g, sources, seen);
    if (sources.empty()) return q;

    const int64_t block = block_size(*q);
    const ExprPtr s_q = var(tile_name("s", *q), CType::i64);
    const ExprPtr end_q = var(tile_name("end", *q), CType::i64);
    const ExprPtr next_g = binop(Op::add, var(s_g, CType::i64), int_imm(1));
    // G's whole extent: a split inner program loop runs one index per program. After its last
    // index the next program is the next outer item, whose rows in the common order (items in
    // turn; not after longest items first) follow Q's range: its first block is guessed there.
    const bool program_loop = g->ival == func_.inner_block;
    const ExprPtr g_total = program_loop ? func_.inner_end : var(tile_name("end", *g), CType::i64);
    const std::string more = names_.fresh("pf_more"), in_g = names_.fresh("pf_in_grid"),
                      row = names_.fresh("pf_row"), index = names_.fresh("pf_index"),
                      rows = names_.fresh("pf_rows");
    const ExprPtr more_v = var(more, CType::boolean), in_g_v = var(in_g, CType::boolean),
                  row_v = var(row, CType::i64);
    const ExprPtr next_q = binop(Op::add, s_q, int_imm(block));
    std::vector<StmtPtr> body = {
        let(more, CType::boolean, binop(Op::lt, next_q, end_q)),
        let(in_g, CType::boolean, binop(Op::lt, next_g, g_total)),
        let(row, CType::i64, select(more_v, next_q, select(in_g_v, q->begin, end_q))),
        let(index, CType::i64,
            select(more_v, var(s_g, CType::i64), select(in_g_v, next_g, int_imm(0)))),
        let(rows, CType::i64,
            select(binop(Op::logical_or, more_v, in_g_v),
                   call("jt_min64", CType::i64, {int_imm(block), binop(Op::sub, end_q, row_v)}),
                   int_imm(program_loop ? block : 0)))};
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
      const ExprPtr last_k = binop(Op::ge, tile_end(k), var(tile_name("end", k), CType::i64));
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
  // where Q begins and ends at Q's tile end), into `sources`.
  void scan(const std::vector<StmtPtr>& stmts, const Stmt& q, const Stmt& rows_of, const StmtPtr& g,
            const std::set<std::string>& inside_g, std::vector<RowSource>& sources,
            std::set<std::string>& seen) {
    const std::string q_begin = expr_key(strip_widening(inline_lets(q.begin, lets_)));
    const std::string q_tile_end = expr_key(tile_end(q));
    for (const StmtPtr& s : stmts) {
      if (s->kind == StmtKind::nest && s->role == NestRole::value) {
        if (auto src = fill_rows(*s, rows_of, g, inside_g)) {
          std::string key = std::to_string(src->capture) + "@" + std::to_string(src->dim);
          for (const ExprPtr& e : src->first) key += "," + expr_key(e);
          if (seen.insert(key).second) sources.push_back(*src);
        }
      } else if (s->kind == StmtKind::tile_loop && &rows_of == &q && block_size(*s) > 0 &&
                 expr_key(strip_widening(inline_lets(s->begin, lets_))) == q_begin &&
                 expr_key(strip_widening(inline_lets(s->end, lets_))) == q_tile_end) {
        const size_t found = sources.size();
        scan(s->body, q, *s, g, inside_g, sources, seen);
        if (sources.size() > found && !k_loop_) k_loop_ = s.get();
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
  const Stmt* k_loop_ = nullptr;         // the inner tile loop K of the Q at hand, if any
};

bool prefetch_enabled() {
  const char* v = std::getenv("JAGTILE_PREFETCH");
  return !(v && std::strcmp(v, "0") == 0);
}

}  // namespace

void prefetch_next_rows(Plan& plan) {
  if (!prefetch_enabled()) return;
  for (DeviceFunc& f : plan.funcs) {
    NameGen names(f);
    Prefetcher p(plan, f, names);
    f.body = p.list(f.body, nullptr);
  }
}

}  // namespace jagtile::plan
