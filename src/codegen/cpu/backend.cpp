// The generic CPU backend's launcher: finds (or generates and compiles) the kernel's code,
// hands it the arguments through the plain C ABI (abi.h), serves its host callbacks
// (allocation, views, the thread pool) and turns a recorded failure into a located UserError.
#include "codegen/cpu/backend.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <unordered_map>

#include "codegen/cpu/emit_cpp.h"
#include "jagtile/thread_pool.h"

namespace jagtile::codegen::cpu {

namespace {

struct Compiled {
  std::weak_ptr<const void> owner;
  bool checked = true;
  std::shared_ptr<const LoadedKernel> code;
  std::vector<Site> sites;
};

struct HostCtx {
  const ir::Kernel* kernel = nullptr;
  const std::vector<Site>* sites = nullptr;
  std::vector<Tensor> slots;
  std::exception_ptr error;
  ThreadPool* pool = nullptr;
};

[[noreturn]] void fail_at(const ir::Kernel& k, ir::Loc loc, const std::string& msg,
                          const std::string& hint = {}) {
  std::string line;
  if (loc.line > 0 && size_t(loc.line) <= k.source_lines.size())
    line = k.source_lines[size_t(loc.line - 1)];
  throw UserError("kernel '" + k.name + "': " + msg, hint, SourceLoc{k.file, loc.line, loc.column},
                  line);
}

const Site& site_of(const HostCtx& c, int32_t site) {
  JAGTILE_CHECK(site >= 0 && size_t(site) < c.sites->size(), << "bad site " << site);
  return (*c.sites)[size_t(site)];
}

void fill_view(JtTensor* out, const Tensor& t, int32_t slot) {
  out->data = t.numel() > 0 ? t.raw_data() : nullptr;
  out->rank = int32_t(t.dim());
  out->slot = slot;
  for (int d = 0; d < JT_MAX_RANK; ++d) out->size[d] = d < t.dim() ? t.size(d) : 1;
}

int host_alloc(void* ctx, JtTensor* out, int32_t dtype, int32_t rank, const int64_t* sizes,
               int32_t kind, double fill, int32_t site) {
  auto* c = static_cast<HostCtx*>(ctx);
  try {
    Shape s;
    for (int32_t i = 0; i < rank; ++i) {
      if (sizes[i] < 0)
        fail_at(*c->kernel, site_of(*c, site).loc,
                "tensor size " + std::to_string(sizes[i]) + " in dimension " + std::to_string(i) +
                    " is negative");
      s.push_back(sizes[i]);
    }
    DType d = DType(dtype);
    // `empty` stays uninitialised (the interpreter zero-fills it): a kernel that leaves rows
    // unwritten (jagged outputs outside every item) promises nothing about them, and filling
    // would cost a full extra pass over the output.
    Tensor t = kind == 2 ? Tensor::full(s, fill, d) : Tensor::empty(s, d);
    if (kind == 0 && t.nbytes() > 0) std::memset(t.raw_data(), 0, size_t(t.nbytes()));
    c->slots.push_back(t);
    fill_view(out, t, int32_t(c->slots.size() - 1));
    return 0;
  } catch (...) {
    c->error = std::current_exception();
    return 1;
  }
}

int host_view(void* ctx, JtTensor* out, const JtTensor* src, int32_t rank, const int64_t* sizes,
              int32_t site) {
  auto* c = static_cast<HostCtx*>(ctx);
  try {
    Shape s(sizes, sizes + rank);
    Tensor t = c->slots.at(size_t(src->slot)).view(s);
    c->slots.push_back(t);
    fill_view(out, t, int32_t(c->slots.size() - 1));
    return 0;
  } catch (...) {
    c->error = std::current_exception();
    return 1;
  }
}

void host_parallel_for(void* ctx, int64_t n, JtRangeFn fn, void* env) {
  if (n <= 0) return;
  auto* c = static_cast<HostCtx*>(ctx);
  int workers = int(std::min<int64_t>(c->pool->size(), n));
  if (workers <= 1) {
    fn(env, 0, n);
    return;
  }
  // Dynamic chunks: jagged programs differ wildly in cost, so workers take the next chunk.
  std::atomic<int64_t> next{0};
  int64_t chunk = std::max<int64_t>(1, n / (int64_t(workers) * 16));
  c->pool->run(workers, [&](int) {
    for (;;) {
      int64_t b = next.fetch_add(chunk, std::memory_order_relaxed);
      if (b >= n) break;
      fn(env, b, std::min(n, b + chunk));
    }
  });
}

ThreadPool& pool_for(int num_threads) {
  if (num_threads <= 0) return ThreadPool::global();
  static std::mutex m;
  static std::unordered_map<int, std::unique_ptr<ThreadPool>> pools;
  std::lock_guard<std::mutex> lock(m);
  auto& p = pools[num_threads];
  if (!p) p = std::make_unique<ThreadPool>(num_threads);
  return *p;
}

std::shared_ptr<const Compiled> compiled_for(const std::shared_ptr<const void>& owner,
                                             const ir::Kernel& kernel, const Options& options,
                                             JitStats* stats) {
  static std::mutex m;
  static std::unordered_map<const ir::Kernel*, std::vector<std::shared_ptr<const Compiled>>> cache;
  auto same_owner = [&](const std::weak_ptr<const void>& w) {
    return !w.expired() && !w.owner_before(owner) && !owner.owner_before(w);
  };
  if (owner) {
    std::lock_guard<std::mutex> lock(m);
    auto it = cache.find(&kernel);
    if (it != cache.end())
      for (const auto& c : it->second)
        if (c->checked == options.checked && same_owner(c->owner)) {
          if (stats) *stats = JitStats{JitStats::Source::memory, 0};
          return c;
        }
  }
  EmitOptions eo;
  eo.checked = options.checked;
  CpuSource src = generate_cpu_source(kernel, eo);
  auto c = std::make_shared<Compiled>();
  c->owner = owner;
  c->checked = options.checked;
  c->code = Jit::global().load(src.code, src.function, stats);
  c->sites = std::move(src.sites);
  if (owner) {
    std::lock_guard<std::mutex> lock(m);
    auto& v = cache[&kernel];
    v.erase(std::remove_if(v.begin(), v.end(), [](const auto& e) { return e->owner.expired(); }),
            v.end());
    v.push_back(c);
  }
  return c;
}

[[noreturn]] void raise(const ir::Kernel& k, const std::vector<Site>& sites, const JtError& e) {
  if (e.site < 0 || size_t(e.site) >= sites.size())
    JAGTILE_CHECK(false, << "generated kernel '" << k.name << "' reported failure " << e.code
                         << " at unknown site " << e.site);
  const Site& s = sites[size_t(e.site)];
  switch (e.code) {
    case 1: {
      const char* what = s.kind == Site::Kind::store       ? "store"
                         : s.kind == Site::Kind::host_read ? "host read"
                                                           : "load";
      std::string msg = std::string(what) + " of tensor '" + (s.tensor.empty() ? "?" : s.tensor) +
                        "' at index " + std::to_string(e.index) + " in dimension " +
                        std::to_string(e.dim) + ", which has size " + std::to_string(e.extent);
      if (s.kind == Site::Kind::host_read) fail_at(k, s.loc, msg);
      fail_at(k, s.loc, msg + " (out of bounds at a valid position)",
              "check the offsets and index arithmetic; positions outside the masks are never "
              "accessed, so this index is computed for a valid lane");
    }
    case 2:
      fail_at(k, s.loc, "assertion failed: " + s.message);
    case 4:
    case 6:
      fail_at(k, s.loc,
              std::string("integer ") + (e.code == 4 ? "division by zero" : "overflow") +
                  " in host arithmetic (" + std::to_string(e.index) + " " + s.message + " " +
                  std::to_string(e.extent) + ")");
    case 7:
      fail_at(k, s.loc,
              "a device value with a dimension of size " + std::to_string(e.index) +
                  " is negative or too large for one tile",
              "full dims (':' and integer sizes in hl.zeros) take a tensor dimension's size");
    case 5:
      fail_at(
          k, s.loc,
          "the generic CPU backend allocates on the CPU only; this allocation asks for " + s.tensor,
          "allocate on x.device, or run with --backend cuda");
    default:
      break;
  }
  JAGTILE_CHECK(false, << "generated kernel '" << k.name << "' reported failure code " << e.code);
  throw;  // unreachable
}

}  // namespace

std::string generate_cpu_source(const ir::Kernel& kernel, const Options& options) {
  EmitOptions eo;
  eo.checked = options.checked;
  return generate_cpu_source(kernel, eo).code;
}

std::string cpu_unsupported_reason(const ir::Kernel& kernel) {
  return unsupported_reason(kernel);
}

std::vector<Tensor> run_generic_cpu(const std::shared_ptr<const void>& owner,
                                    const ir::Kernel& kernel, const std::vector<ArgValue>& args,
                                    const Options& options, JitStats* stats) {
  JAGTILE_CHECK(args.size() == kernel.params.size(), << "run_generic_cpu: " << args.size()
                                                     << " arguments for " << kernel.params.size()
                                                     << " parameters");
  for (const ArgValue& a : args)
    if (auto* t = std::get_if<Tensor>(&a))
      if (t->defined() && !t->device().is_cpu())
        throw UserError("the generic CPU backend runs on CPU tensors only; got a tensor on " +
                            t->device().str(),
                        "move the inputs to the CPU or choose --backend cuda");
  std::shared_ptr<const Compiled> c = compiled_for(owner, kernel, options, stats);

  HostCtx ctx;
  ctx.kernel = &kernel;
  ctx.sites = &c->sites;
  ctx.pool = &pool_for(options.num_threads);
  size_t np = args.size();
  std::vector<JtTensor> params(std::max<size_t>(np, 1));
  std::vector<int64_t> ints(std::max<size_t>(np, 1), 0);
  std::vector<double> floats(std::max<size_t>(np, 1), 0.0);
  ctx.slots.reserve(np + 8);
  for (size_t i = 0; i < np; ++i) {
    const ArgValue& a = args[i];
    if (auto* t = std::get_if<Tensor>(&a)) {
      ctx.slots.push_back(*t);
      if (t->defined()) fill_view(&params[i], *t, int32_t(i));
      continue;
    }
    ctx.slots.emplace_back();
    if (auto* v = std::get_if<int64_t>(&a)) {
      ints[i] = *v;
      floats[i] = double(*v);
    } else if (auto* d = std::get_if<double>(&a)) {
      floats[i] = *d;
      ints[i] = std::isfinite(*d) ? int64_t(*d) : 0;
    }
  }
  JtError err{};
  int32_t returns[16] = {};
  JtHost h{};
  h.ctx = &ctx;
  h.alloc = host_alloc;
  h.view = host_view;
  h.parallel_for = host_parallel_for;
  h.params = params.data();
  h.int_args = ints.data();
  h.float_args = floats.data();
  h.error = &err;
  h.returns = returns;
  h.num_returns = 0;
  h.max_returns = 16;
  int rc = c->code->fn(&h);
  if (ctx.error) std::rethrow_exception(ctx.error);
  if (err.code != 0) raise(kernel, c->sites, err);
  JAGTILE_CHECK(rc == 0, << "generated kernel '" << kernel.name << "' failed without a reason");
  std::vector<Tensor> out;
  for (int32_t i = 0; i < h.num_returns; ++i) out.push_back(ctx.slots.at(size_t(returns[i])));
  return out;
}

}  // namespace jagtile::codegen::cpu
