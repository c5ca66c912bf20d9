// Planning pass: tile loads memoised across an outer tile loop (see pass_memoize.h).
#include "plan/pass_memoize.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "plan/nest_util.h"

namespace jagtile::plan {

namespace {

using ir::Op;

// What the pass knows of an inner tile loop K inside an outer tile loop Q.
struct Loops {
  const Stmt& k;
  int64_t block = 0;                      // K's block size
  ExprPtr begin, end;                     // K's start and the end of Q's range (fixed across Q)
  const std::set<std::string>& inside_q;  // names Q defines
  const std::map<std::string, ExprPtr>& lets;  // every let of Q, by name
  const std::set<int64_t>& stored;             // the captures the function stores to
  // Where K starts at Q's tile (`hl.tile(tile_q.begin, end)`, blocks of Q's size): Q's block id,
  // added to K's so that a block keeps one id, counted from Q's fixed start, from one Q tile to
  // the next. Null where K's start is fixed.
  ExprPtr id_offset;
};

// Whether `nest` fills `array` (declared [K's block, ...]) from tensor loads at indices that
// depend only on K's tile and on values fixed across Q: guards, then one loop chain whose
// outermost loop runs over K's limit, holding lets, loops and one store to the array.
bool fills_from_fixed_loads(const Stmt& nest, const Stmt& decl, const Loops& l) {
  if (nest.role != NestRole::value || decl.indices.empty() ||
      decl.indices[0]->kind != ExprKind::int_imm || decl.indices[0]->ival != l.block)
    return false;
  const StmtPtr self = std::make_shared<const Stmt>(nest);
  std::set<std::string> own;
  defined_names(self, own);
  std::set<std::string> moving = l.inside_q;  // what may change from one Q iteration to the next
  for (const std::string& n : own) moving.erase(n);
  moving.erase(tile_name("s", l.k));
  moving.erase(tile_name("lim", l.k));
  bool ok = true, chain = false;
  int stores = 0;
  for (const StmtPtr& b : nest.body) {
    if (is_guard(b)) continue;
    ok = ok && !chain && b->kind == StmtKind::for_ && b->extent->kind == ExprKind::var &&
         b->extent->name == tile_name("lim", l.k);
    chain = true;
  }
  visit(self, [&](const Stmt& st) {
    switch (st.kind) {
      case StmtKind::nest:
      case StmtKind::for_:
      case StmtKind::let:
      case StmtKind::if_:
      case StmtKind::fail:
        break;
      case StmtKind::array_store:
        ok = ok && st.name == decl.name && st.update == Update::none;
        ++stores;
        break;
      default:
        ok = false;
    }
    for (const ExprPtr& e : own_exprs(st))
      visit(e, [&](const Expr& x) {
        if (x.kind == ExprKind::array_read) ok = false;  // another tile array may change
        if (x.kind == ExprKind::load && l.stored.count(x.ival)) ok = false;
      });
    for (const ExprPtr& e : own_exprs(st)) ok = ok && !mentions_any(inline_lets(e, l.lets), moving);
  });
  return ok && chain && stores == 1;
}

// Reads of `array` at [i, rest...] as reads of the cache at [first_row + i, rest...].
ExprPtr to_cache(const ExprPtr& e, const std::string& array, const std::string& cache,
                 const ExprPtr& first_row) {
  return rewrite(e, [&](const ExprPtr& x) {
    if (x->kind != ExprKind::array_read || x->name != array) return x;
    std::vector<ExprPtr> idx = x->args;
    idx[0] = binop(Op::add, first_row, idx[0]);
    return array_read(cache, x->ctype, std::move(idx));
  });
}

StmtPtr stmt_to_cache(const StmtPtr& s, const std::string& array, const std::string& cache,
                      const ExprPtr& first_row) {
  StmtPtr r =
      map_own_exprs(s, [&](const ExprPtr& e) { return to_cache(e, array, cache, first_row); });
  if (r->kind == StmtKind::array_store && r->name == array) {
    Stmt copy = *r;
    copy.name = cache;
    copy.indices[0] = binop(Op::add, first_row, copy.indices[0]);
    r = std::make_shared<const Stmt>(std::move(copy));
  }
  if (r->kind == StmtKind::nest && r->name == array) {
    Stmt copy = *r;
    copy.name = cache;
    r = std::make_shared<const Stmt>(std::move(copy));
  }
  return map_bodies(r, [&](const std::vector<StmtPtr>& b) {
    std::vector<StmtPtr> out;
    for (const StmtPtr& x : b) out.push_back(stmt_to_cache(x, array, cache, first_row));
    return out;
  });
}

// The bytes a cache may take, L2-sized: a cache past it would be read back from L3 or memory, as
// the block's source is. Helion's jagged_hstu_attn_2 loads every head's rows per block (1 MiB
// blocks of 32 heads of 128, a 9 MiB cache) and ran 5% slower with one.
constexpr int64_t kCacheBytes = int64_t(1) << 20;

// The rows a cache may hold: JAGTILE_MEMO_ROWS (tests set a few, to have blocks share slots),
// else 16384, 8 MiB of float32 rows of 128.
int64_t cache_rows() {
  const char* v = std::getenv("JAGTILE_MEMO_ROWS");
  char* end = nullptr;
  long long n = v && *v ? std::strtoll(v, &end, 10) : -1;
  return !v || !*v || *end || n < 1 ? 16384 : n;
}

class Memoizer {
 public:
  Memoizer(const DeviceFunc& f, NameGen& names) : names_(names), stored_(stored_tensors(f.body)) {}

  // A statement list with every tile loop in it memoised, innermost first.
  std::vector<StmtPtr> list(const std::vector<StmtPtr>& stmts) {
    std::vector<StmtPtr> out;
    for (const StmtPtr& s : stmts) {
      if (s->kind == StmtKind::nest) {  // no tile loops inside nests
        out.push_back(s);
        continue;
      }
      StmtPtr r = map_bodies(s, [&](const std::vector<StmtPtr>& b) { return list(b); });
      if (r->kind == StmtKind::tile_loop) {
        std::vector<StmtPtr> before;
        r = memoize(r, before);
        for (StmtPtr& b : before) out.push_back(std::move(b));
      }
      out.push_back(r);
    }
    return out;
  }

 private:
  // Q with the tile loops directly in its body memoised; the caches' declarations go to `before`.
  StmtPtr memoize(const StmtPtr& q, std::vector<StmtPtr>& before) {
    OuterLoop outer{*q, {}, {}};
    defined_names(q, outer.inside);
    visit(q, [&](const Stmt& st) {
      if (st.kind == StmtKind::let) outer.lets[st.name] = st.value;
    });
    return map_bodies(q, [&](const std::vector<StmtPtr>& b) { return in_q(outer, b, before); });
  }

  // The outer loop Q, with what every inner loop's analysis reads of it.
  struct OuterLoop {
    const Stmt& q;
    std::set<std::string> inside;         // names Q defines
    std::map<std::string, ExprPtr> lets;  // every let of Q, by name
  };

  // Q's body (or a container's inside it): each inner tile loop K rewritten.
  std::vector<StmtPtr> in_q(const OuterLoop& outer, const std::vector<StmtPtr>& stmts,
                            std::vector<StmtPtr>& before) {
    std::vector<StmtPtr> out;
    for (const StmtPtr& s : stmts) {
      if (s->kind == StmtKind::tile_loop) {
        out.push_back(inner_loop(outer, s, before));
      } else if (s->kind == StmtKind::scope || s->kind == StmtKind::seq ||
                 s->kind == StmtKind::if_) {
        out.push_back(
            map_bodies(s, [&](const std::vector<StmtPtr>& b) { return in_q(outer, b, before); }));
      } else {
        out.push_back(s);
      }
    }
    return out;
  }

  StmtPtr inner_loop(const OuterLoop& outer, const StmtPtr& k, std::vector<StmtPtr>& before) {
    const Stmt& q = outer.q;
    Loops l{*k, 0, nullptr, nullptr, outer.inside, outer.lets, stored_, nullptr};
    l.block = block_size(*k);
    l.begin = inline_lets(k->begin, l.lets);
    if (l.block <= 0) return k;
    if (mentions_any(l.begin, l.inside_q)) {
      // K from Q's tile on, in blocks of Q's size: K's blocks lie on Q's grid (Helion's
      // pretuned HSTU dK / dV kernel: `hl.tile(max(start, tile_kv.begin), end)`).
      if (expr_key(strip_widening(l.begin)) != expr_key(var(tile_name("s", q), CType::i64)) ||
          block_size(q) != l.block || mentions_any(inline_lets(q.begin, l.lets), l.inside_q))
        return k;
      l.begin = inline_lets(q.begin, l.lets);
      l.id_offset = var(tile_name("id", q), CType::i64);
      const ExprPtr fixed_end = strip_widening(inline_lets(k->end, l.lets));
      if (mentions_any(fixed_end, l.inside_q)) return k;
      l.end = fixed_end;
      return map_bodies(k, [&](const std::vector<StmtPtr>& b) { return in_k(l, b, before); });
    }
    const ExprPtr end = strip_widening(inline_lets(k->end, l.lets));
    if (!mentions_any(end, l.inside_q))
      l.end = end;
    else if (expr_key(end) == expr_key(tile_end(q)))
      l.end = inline_lets(q.end, l.lets);
    else
      return k;
    return map_bodies(k, [&](const std::vector<StmtPtr>& b) { return in_k(l, b, before); });
  }

  // K's body (or an if's or a scope's inside it): each tile array filled by a memoisable nest
  // becomes a slice of a cache declared before Q.
  std::vector<StmtPtr> in_k(const Loops& l, const std::vector<StmtPtr>& stmts,
                            std::vector<StmtPtr>& before) {
    std::vector<StmtPtr> out;
    for (const StmtPtr& s : stmts)
      out.push_back(
          s->kind == StmtKind::scope || s->kind == StmtKind::seq || s->kind == StmtKind::if_
              ? map_bodies(s, [&](const std::vector<StmtPtr>& b) { return in_k(l, b, before); })
              : s);
    for (size_t i = 0; i < out.size();) {
      const Stmt& decl = *out[i++];
      if (decl.kind != StmtKind::array_decl) continue;
      const size_t at = i - 1;
      size_t fill = out.size();
      int writers = 0;
      for (size_t j = at + 1; j < out.size(); ++j)
        visit(out[j], [&](const Stmt& st) {
          const bool writes = (st.kind == StmtKind::array_store && st.name == decl.name) ||
                              (st.kind == StmtKind::array_fill && st.name == decl.name);
          writers += writes;
          if (st.kind == StmtKind::nest && st.name == decl.name && fill == out.size()) fill = j;
        });
      if (fill == out.size() || writers != 1 || out[fill]->kind != StmtKind::nest ||
          out[fill]->name != decl.name || !fills_from_fixed_loads(*out[fill], decl, l))
        continue;
      std::vector<StmtPtr> rewritten = cached(l, out, at, fill, before);
      if (rewritten.size() < out.size()) i = at;  // the declaration went: look at what followed
      out = std::move(rewritten);
    }
    return out;
  }

  // The list with the array declared at `decl` and filled by the nest at `fill` turned into a
  // cache slice: the declaration goes (the cache and its bookkeeping are declared before Q), the
  // fill runs unless the block's slot already holds that block with at least K's limit of rows,
  // and every read reads the slot. The cache is direct-mapped, block id & (slots - 1), with a
  // power of two of slots holding at most cache_rows() rows; it holds Q's whole range when that
  // spans at most `slots` blocks (then the slot is the block id): a longer range costs refills, not
  // memory.
  std::vector<StmtPtr> cached(const Loops& l, const std::vector<StmtPtr>& list, size_t decl,
                              size_t fill, std::vector<StmtPtr>& before) {
    int64_t slots = 1;
    while (slots * 2 * l.block <= cache_rows()) slots *= 2;
    const Stmt& a = *list[decl];
    ExprPtr row = int_imm(1);  // elements per row of the tile array
    for (size_t d = 1; d < a.indices.size(); ++d) {
      const ExprPtr e = inline_lets(a.indices[d], l.lets);
      if (mentions_any(e, l.inside_q)) return list;
      row = binop(Op::mul, row, e);
    }
    const std::string cache = names_.fresh("memo"), owner = names_.fresh("memo_block"),
                      rows = names_.fresh("memo_rows"), mask = names_.fresh("memo_mask"),
                      extent = names_.fresh("memo_extent");
    // Block ids run below ceil((end - begin) / block), so (end - begin) + block rows hold them.
    const ExprPtr range = call(
        "jt_min64", CType::i64,
        {binop(Op::add, call("jt_max64", CType::i64, {binop(Op::sub, l.end, l.begin), int_imm(0)}),
               int_imm(l.block)),
         int_imm(slots * l.block)});
    // A cache larger than kCacheBytes would not stay in L2: then one slot, refilled for every
    // block, as the plain copy was.
    const int64_t element = a.ctype == CType::boolean ? 1 : a.ctype == CType::f32 ? 4 : 8;
    const ExprPtr fits = binop(Op::le, binop(Op::mul, range, row), int_imm(kCacheBytes / element));
    before.push_back(let(mask, CType::i64, select(fits, int_imm(slots - 1), int_imm(0))));
    before.push_back(let(extent, CType::i64, select(fits, range, int_imm(l.block))));
    std::vector<ExprPtr> extents = {var(extent, CType::i64)};
    for (size_t d = 1; d < a.indices.size(); ++d)
      extents.push_back(inline_lets(a.indices[d], l.lets));
    before.push_back(array_decl(cache, a.ctype, extents));
    before.push_back(array_decl(owner, CType::i64, {int_imm(slots)}));
    before.push_back(array_fill(owner, int_imm(-1)));
    before.push_back(array_decl(rows, CType::i64, {int_imm(slots)}));
    before.push_back(array_fill(rows, int_imm(0)));
    const ExprPtr k_id = var(tile_name("id", l.k), CType::i64);
    const ExprPtr id = l.id_offset ? binop(Op::add, k_id, l.id_offset) : k_id;
    const ExprPtr lim = var(tile_name("lim", l.k), CType::i64);
    const ExprPtr slot = binop(Op::bit_and, id, var(mask, CType::i64));
    const ExprPtr first_row = binop(Op::mul, slot, int_imm(l.block));
    std::vector<StmtPtr> out;
    size_t fill_at = 0;
    for (size_t i = 0; i < list.size(); ++i) {
      if (i == decl) continue;
      StmtPtr s = stmt_to_cache(list[i], a.name, cache, first_row);
      if (i == fill) fill_at = out.size();
      out.push_back(s);
    }
    const ExprPtr miss =
        binop(Op::logical_or, binop(Op::ne, array_read(owner, CType::i64, {slot}), id),
              binop(Op::lt, array_read(rows, CType::i64, {slot}), lim));
    const std::vector<StmtPtr> mark = {array_store(owner, {slot}, id),
                                       array_store(rows, {slot}, lim)};
    if (!panels_kept(out, fill_at, cache, l.block, a)) {
      out[fill_at] = if_(miss, {out[fill_at], mark[0], mark[1]});
      return out;
    }
    // The block's packed panels kept beside its rows, packed by the first matmul after a fill:
    // a slot's panels take its rows rounded up to whole panels (`spread` times its rows).
    const std::string panels = names_.fresh("memo_panels"), ready = names_.fresh("memo_ready");
    const int64_t spread = panel_rows(l.block) / l.block;
    auto spread_rows = [&](const ExprPtr& rows) {
      return spread == 1 ? rows : binop(Op::mul, rows, int_imm(spread));
    };
    std::vector<ExprPtr> panel_extents = extents;
    panel_extents[0] = spread_rows(extents[0]);
    before.push_back(array_decl(panels, CType::f32, panel_extents));
    const ExprPtr slot_panels =
        array_read(panels, CType::f32, {spread_rows(first_row), int_imm(0)});
    for (size_t i = fill_at + 1; i < out.size(); ++i)
      out[i] = with_kept_panels(out[i], cache, slot_panels, var(ready, CType::boolean));
    out[fill_at] = if_(not_(var(ready, CType::boolean)), {out[fill_at], mark[0], mark[1]});
    out.insert(out.begin() + std::ptrdiff_t(fill_at), let(ready, CType::boolean, not_(miss)));
    return out;
  }

  // A block's rows rounded up to whole panels of the widest kind (AVX-512's 4 vectors of 16).
  static int64_t panel_rows(int64_t block) { return (block + 63) / 64 * 64; }

  // Whether the cache's blocks can keep their packed panels: float32 rows of a block a multiple
  // of 32 whose slots spread evenly over whole panels (32, or a multiple of 64), read only as the B
  // of float32 matmul blocks that pack it (its columns strided, b_k = 1), each in a matmul nest
  // that runs after the fill whenever the fill runs (an element of the same list, no skip between).
  static bool panels_kept(const std::vector<StmtPtr>& out, size_t fill_at, const std::string& cache,
                          int64_t block, const Stmt& decl) {
    if (decl.ctype != CType::f32 || decl.indices.size() != 2 || block % 32 != 0 ||
        panel_rows(block) % block != 0)
      return false;
    bool ok = true;
    int blocks = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      if (i == fill_at) continue;
      if (i > fill_at && out[i]->kind == StmtKind::skip_unless) ok = false;
      visit(out[i], [&](const Stmt& st) {
        const bool packs =
            st.kind == StmtKind::matmul_block && matmul_operand_count(st) == st.indices.size() &&
            MatmulInputs(st.ival) == MatmulInputs::f32 &&
            st.indices[6]->kind == ExprKind::array_read && st.indices[6]->name == cache &&
            st.indices[7]->kind == ExprKind::int_imm && st.indices[7]->ival == 1;
        if (packs) {
          blocks += out[i]->kind == StmtKind::nest && i > fill_at;
          ok = ok && out[i]->kind == StmtKind::nest && i > fill_at;
        }
        std::vector<ExprPtr> exprs = own_exprs(st);
        if (packs) {  // every expression but B itself
          exprs = {st.value, st.mask};
          for (size_t o = 0; o < st.indices.size(); ++o)
            if (o != 6) exprs.push_back(st.indices[o]);
        }
        for (const ExprPtr& x : exprs)
          if (x && mentions_any(x, {cache})) ok = false;
      });
    }
    return ok && blocks > 0;
  }

  // s with every matmul block that reads `cache` as B given the kept panels and their state.
  static StmtPtr with_kept_panels(const StmtPtr& s, const std::string& cache, const ExprPtr& panels,
                                  const ExprPtr& ready) {
    if (s->kind == StmtKind::matmul_block && s->indices[6]->kind == ExprKind::array_read &&
        s->indices[6]->name == cache) {
      Stmt b = *s;
      b.indices.push_back(panels);
      b.indices.push_back(ready);
      return std::make_shared<const Stmt>(std::move(b));
    }
    return map_bodies(s, [&](const std::vector<StmtPtr>& body) {
      std::vector<StmtPtr> r;
      for (const StmtPtr& x : body) r.push_back(with_kept_panels(x, cache, panels, ready));
      return r;
    });
  }

  int64_t block_size(const Stmt& tile_loop) const { return block_sizes_.at(tile_loop.ival); }

 public:
  std::map<int64_t, int64_t> block_sizes_;

 private:
  NameGen& names_;
  std::set<int64_t> stored_;
};

}  // namespace

void memoize_block_loads(Plan& plan) {
  for (DeviceFunc& f : plan.funcs) {
    NameGen names(f);
    Memoizer m(f, names);
    for (size_t b = 0; b < plan.kernel->blocks.size(); ++b)
      m.block_sizes_[int64_t(b)] = plan.kernel->blocks[b].block_size;
    f.body = m.list(f.body);
  }
}

}  // namespace jagtile::plan
