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

CompiledCpu compile_cpu(const ir::Kernel& kernel, bool checked, Jit& jit, JitStats* stats) {
  EmitOptions eo;
  eo.checked = checked;
  CpuSource src = generate_cpu_source(kernel, eo);
  CompiledCpu c;
  c.code = jit.load(src.code, src.function, stats);
  c.sites = std::move(src.sites);
  return c;
}

std::vector<Tensor> run_compiled_cpu(const CompiledCpu& compiled, const ir::Kernel& kernel,
                                     const std::vector<ArgValue>& args, int num_threads) {
  JAGTILE_CHECK(args.size() == kernel.params.size(), << "run_compiled_cpu: " << args.size()
                                                     << " arguments for " << kernel.params.size()
                                                     << " parameters");
  const CompiledCpu* c = &compiled;

  HostCtx ctx;
  ctx.kernel = &kernel;
  ctx.sites = &c->sites;
  ctx.pool = &pool_for(num_threads);
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
