// The generic CPU backend's compile and run steps (see backend.h).
#include "codegen/cpu/backend.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>

namespace jagtile::codegen::cpu {

void raise_nest_error(const ir::Kernel& k, const std::vector<plan::Site>& sites, const JtError& e) {
  JAGTILE_CHECK(e.site >= 0 && size_t(e.site) < sites.size(), << "generated kernel '" << k.name
                                                              << "' reported failure " << e.code
                                                              << " at unknown site " << e.site);
  const plan::Site& s = sites[size_t(e.site)];
  switch (e.code) {
    case JT_ERR_BOUNDS: {
      const char* what = s.kind == plan::Site::Kind::store ? "store" : "load";
      throw ir::located_error(
          k, s.loc,
          std::string(what) + " of tensor '" + (s.tensor.empty() ? "?" : s.tensor) + "' at index " +
              std::to_string(e.index) + " in dimension " + std::to_string(e.dim) +
              ", which has size " + std::to_string(e.extent) +
              " (out of bounds at a valid position)",
          "check the offsets and index arithmetic; positions outside the masks are never "
          "accessed, so this index is computed for a valid lane");
    }
    case JT_ERR_ASSERT:
      throw ir::located_error(k, s.loc, "assertion failed: " + s.message);
    case JT_ERR_DIV_ZERO:
    case JT_ERR_OVERFLOW:
      throw ir::located_error(k, s.loc,
                              std::string("integer ") +
                                  (e.code == JT_ERR_DIV_ZERO ? "division by zero" : "overflow") +
                                  " in host arithmetic (" + std::to_string(e.index) + " " +
                                  s.message + " " + std::to_string(e.extent) + ")");
    case JT_ERR_TILE_SIZE:
      throw ir::located_error(
          k, s.loc,
          "a device value with a dimension of size " + std::to_string(e.index) +
              " is negative or too large for one tile",
          "full dims (':' and integer sizes in hl.zeros) take a tensor dimension's size");
    default:
      break;
  }
  JAGTILE_CHECK(false, << "generated kernel '" << k.name << "' reported failure code " << e.code);
  throw;  // unreachable
}

void fill_tensor(JtTensor* out, const Tensor& t) {
  out->data = t.defined() && t.numel() > 0 ? t.raw_data() : nullptr;
  out->rank = t.defined() ? int32_t(t.dim()) : 0;
  out->pad = 0;
  for (int d = 0; d < JT_MAX_RANK; ++d) out->size[d] = d < out->rank ? t.size(d) : 1;
}

namespace {

// Small fixed-capacity arrays for the captures, on the stack for the common case.
template <typename T>
class SmallArray {
 public:
  explicit SmallArray(size_t n) : heap_(n > kInline ? n : 0) {}
  T* data() { return heap_.empty() ? inline_ : heap_.data(); }

 private:
  static constexpr size_t kInline = 16;
  T inline_[kInline] = {};
  std::vector<T> heap_;
};

}  // namespace

ThreadPool& pool_for(int num_threads) {
  if (num_threads <= 0) return ThreadPool::global();
  static std::mutex m;
  static std::unordered_map<int, std::unique_ptr<ThreadPool>> pools;
  std::lock_guard<std::mutex> lock(m);
  auto& p = pools[num_threads];
  if (!p) p = std::make_unique<ThreadPool>(num_threads);
  return *p;
}

namespace {

// The item offsets of an item loop's programs, read on the host: valid() when they are a CPU i32
// / i64 tensor covering items [first, first + items]; length(i) is item first + i's row count.
class ItemOffsets {
 public:
  ItemOffsets(const Tensor& offsets, int64_t first, int64_t items)
      : t_(offsets), first_(first), items_(items) {}
  bool valid() const {
    return t_.device().is_cpu() && (t_.dtype() == DType::i32 || t_.dtype() == DType::i64) &&
           first_ >= 0 && first_ + items_ + 1 <= t_.numel();
  }
  int64_t length(int64_t i) const { return at(first_ + i + 1) - at(first_ + i); }
  int64_t total() const { return at(first_ + items_) - at(first_); }

 private:
  int64_t at(int64_t i) const {
    return t_.dtype() == DType::i32 ? int64_t(t_.data<const int32_t>()[i])
                                    : t_.data<const int64_t>()[i];
  }
  const Tensor& t_;
  int64_t first_, items_;
};

}  // namespace

std::vector<int64_t> longest_items_first(const Tensor& offsets, const host::NestBounds& bounds,
                                         int workers) {
  const int64_t per = bounds.per_outer > 0 ? bounds.per_outer : 1;
  const int64_t n = bounds.programs / per;  // items
  const ItemOffsets items_of(offsets, bounds.begin, n);
  if (n > int64_t(workers) * 64 || !items_of.valid()) return {};
  std::vector<std::pair<int64_t, int64_t>> items(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) items[size_t(p)] = {-items_of.length(p), p};
  const bool all_equal = std::all_of(
      items.begin(), items.end(), [&](const auto& item) { return item.first == items[0].first; });
  if (all_equal) return {};
  std::sort(items.begin(), items.end());  // by minus the length, then by item: deterministic
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(n * per));
  for (const auto& item : items)
    for (int64_t i = 0; i < per; ++i) order.push_back(item.second * per + i);
  return order;
}

bool split_inner_programs(const host::NestBounds& bounds, const Tensor* item_offsets,
                          bool matmul_inside, int workers) {
  if (workers <= 1 || bounds.per_outer <= 1) return false;
  const int64_t outer = bounds.programs / bounds.per_outer;
  if (outer < int64_t(workers)) return true;
  if (!matmul_inside || !item_offsets) return false;
  const ItemOffsets items(*item_offsets, bounds.begin, outer);
  if (!items.valid()) return false;
  int64_t longest = 0;
  for (int64_t i = 0; i < outer; ++i) longest = std::max(longest, items.length(i));
  const int64_t total = items.total();
  return total > 0 && longest * 4 * int64_t(workers) >= total;
}

std::vector<int64_t> ordered_chunks(int64_t programs, int64_t per_outer, int workers) {
  const int64_t per = per_outer > 0 ? per_outer : 1;
  std::vector<int64_t> starts;
  int64_t p = 0;
  for (int64_t item = 0; p < programs; ++item) {
    // The longest items in about 4 chunks per worker each: one program per chunk would make a
    // chunk of a program that costs less than claiming it (4 items x 4096 columns: 10x slower).
    const int64_t step = item < workers ? std::max<int64_t>(1, per / (4 * int64_t(workers))) : per;
    const int64_t item_end = std::min(programs, p + per);
    for (; p < item_end; p += step) starts.push_back(p);
  }
  starts.push_back(programs);
  return starts;
}

void run_chunks(ThreadPool& pool, int workers, int64_t chunks,
                const std::function<int64_t(int64_t)>& start,
                const std::function<bool(int, const JtCaptures*, int64_t, int64_t)>& run,
                const JtCaptures& captures) {
  std::atomic<int64_t> next{0};
  pool.run(workers, [&](int worker) {
    JtCaptures mine = captures;
    int64_t c = next.fetch_add(1, std::memory_order_relaxed);
    while (c < chunks) {
      // Claimed before chunk c runs, so that c's last program knows what follows it here.
      const int64_t after = next.fetch_add(1, std::memory_order_relaxed);
      mine.next_position = after < chunks ? start(after) : -1;
      if (run(worker, &mine, start(c), start(c + 1))) break;
      c = after;
    }
  });
}

CompiledCpu compile_cpu(const plan::Plan& plan, Jit& jit, JitStats* stats) {
  CpuSource src = print_cpp(plan);
  CompiledCpu c;
  JAGTILE_CHECK(!src.functions.empty(), << "a kernel without device nests is not compiled");
  c.code = jit.load(src.code, src.functions[0], stats);
  for (const std::string& f : src.functions)
    c.nests.push_back(reinterpret_cast<JtNestFn>(c.code->symbol(f)));
  c.sites = plan.sites;
  return c;
}

void run_cpu_nest(const CompiledCpu& compiled, const host::HostProgram& program,
                  const host::DeviceNest& nest, const host::HostEnv& env, ThreadPool& pool,
                  bool reverse) {
  host::NestBounds bounds = host::nest_bounds(program, nest, env);
  if (bounds.programs <= 0) return;
  // An inner program loop's pairs are programs only where that balances the workers (always in
  // reverse, so the order check covers them); else one program per outer iteration.
  const Tensor* items =
      nest.item_offsets_slot >= 0 ? &env.slots[size_t(nest.item_offsets_slot)].t : nullptr;
  const bool split =
      bounds.per_outer > 1 &&
      (reverse || split_inner_programs(bounds, items, nest.inner_matmul, pool.size()));
  if (!split) {
    bounds.programs /= bounds.per_outer;
    bounds.per_outer = 1;
  }
  SmallArray<JtTensor> tensors(size_t(nest.num_tensors));
  SmallArray<int64_t> ints(size_t(nest.num_ints));
  SmallArray<double> floats(size_t(nest.num_floats));
  for (const host::Capture& c : nest.captures) {
    const host::HostValue& v = env.slots[size_t(c.slot)];
    switch (c.kind) {
      case host::Capture::Kind::tensor:
        fill_tensor(&tensors.data()[c.index], v.t);
        break;
      case host::Capture::Kind::int64:
        ints.data()[c.index] = host::slot_integer(program, env, c.slot);
        break;
      case host::Capture::Kind::float64:
        floats.data()[c.index] = host::slot_number(program, env, c.slot);
        break;
    }
  }
  JtError error{};
  const JtNestFn fn = compiled.nests.at(size_t(nest.index));
  const int64_t n = bounds.programs;
  const int workers = int(std::min<int64_t>(pool.size(), n));
  // An item loop's longest items first: the last chunks to start are the shortest items, so the
  // workers finish together (a long item started last would leave the others idle).
  std::vector<int64_t> order;
  if (workers > 1 && !reverse && items) order = longest_items_first(*items, bounds, workers);
  const JtCaptures captures{tensors.data(),
                            ints.data(),
                            floats.data(),
                            bounds.begin,
                            bounds.end,
                            &error,
                            order.empty() ? nullptr : order.data(),
                            split ? 1 : 0,
                            -1};
  if (reverse) {
    JtCaptures mine = captures;
    for (int64_t p = n - 1; p >= 0; --p) {
      mine.next_position = p - 1;
      if (fn(&mine, p, p + 1)) break;
    }
  } else if (workers <= 1) {
    fn(&captures, 0, n);
  } else {
    // Longest first, chunk by chunk (ordered_chunks): a fixed chunk of the longest programs
    // would stay with one worker. Else dynamic chunks: jagged programs differ wildly in cost, so
    // workers take the next chunk.
    std::vector<int64_t> starts;
    int64_t chunk = 1;
    if (!order.empty())
      starts = ordered_chunks(n, bounds.per_outer, workers);
    else
      chunk = std::max<int64_t>(1, n / (int64_t(workers) * 16));
    const int64_t chunks = starts.empty() ? (n + chunk - 1) / chunk : int64_t(starts.size()) - 1;
    run_chunks(
        pool, workers, chunks,
        [&](int64_t c) { return starts.empty() ? std::min(n, c * chunk) : starts[size_t(c)]; },
        [&](int, const JtCaptures* mine, int64_t begin, int64_t end) {
          return fn(mine, begin, end) != 0;
        },
        captures);
  }
  if (error.code != JT_OK) raise_nest_error(*program.kernel, compiled.sites, error);
}

}  // namespace jagtile::codegen::cpu
