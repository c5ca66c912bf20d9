// The autotuner's search space (jagtile/autotune.h): derived from the specialised kernel's IR
// (its tunable tile loops, their nesting) and from the backend that runs it (the template's
// chunk rows and workers), bounded by the argument sizes.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "jagtile/autotune.h"
#include "jagtile/thread_pool.h"
#include "runtime/backend.h"
#include "runtime/program_state.h"
#include "runtime/tune_store.h"

namespace jagtile {

namespace {

int64_t next_pow2(int64_t n) {
  int64_t p = 1;
  while (p < n && p < (int64_t(1) << 40)) p <<= 1;
  return p;
}

// Powers of two in [lo, hi], plus the default (a decorator may set a non-power of two).
std::vector<int64_t> pow2_values(int64_t lo, int64_t hi, int64_t def) {
  std::vector<int64_t> v;
  for (int64_t x = lo; x <= hi; x <<= 1) v.push_back(x);
  if (std::find(v.begin(), v.end(), def) == v.end()) v.push_back(def);
  std::sort(v.begin(), v.end());
  return v;
}

// Knob indices of enclosing tunable loops, per knob, from one walk of the IR.
void collect_nesting(const ir::Block& block, const std::vector<int>& knob_of_block,
                     std::vector<size_t>& stack, std::vector<std::vector<size_t>>& enclosing) {
  for (const ir::NodePtr& n : block) {
    const bool loop = n->kind == ir::NodeKind::tile_loop || n->kind == ir::NodeKind::jagged_loop ||
                      n->kind == ir::NodeKind::grid_loop;
    int knob = -1;
    if (loop && n->ival >= 0 && size_t(n->ival) < knob_of_block.size())
      knob = knob_of_block[size_t(n->ival)];
    if (knob >= 0) {
      std::vector<size_t>& e = enclosing[size_t(knob)];
      for (size_t k : stack)
        if (std::find(e.begin(), e.end(), k) == e.end()) e.push_back(k);
      stack.push_back(size_t(knob));
    }
    for (const ir::Block& r : n->regions) collect_nesting(r, knob_of_block, stack, enclosing);
    if (knob >= 0) stack.pop_back();
  }
}

// The knobs of every distinct tile value's tiled dims (sorted, one entry per set), from the
// types of the kernel's nodes.
std::vector<std::vector<size_t>> collect_tile_shapes(const ir::Block& body,
                                                     const std::vector<int>& knob_of_block) {
  std::vector<std::vector<size_t>> shapes;
  ir::walk(body, [&](const ir::NodePtr& n) {
    std::vector<size_t> knobs;
    for (const ir::Dim& d : n->type.shape) {
      if (d.kind != ir::Dim::Kind::tile || d.block < 0 || size_t(d.block) >= knob_of_block.size())
        continue;
      const int knob = knob_of_block[size_t(d.block)];
      if (knob >= 0 && std::find(knobs.begin(), knobs.end(), size_t(knob)) == knobs.end())
        knobs.push_back(size_t(knob));
    }
    std::sort(knobs.begin(), knobs.end());
    if (knobs.size() > 1 && std::find(shapes.begin(), shapes.end(), knobs) == shapes.end())
      shapes.push_back(std::move(knobs));
  });
  return shapes;
}

// Size bounds from the arguments: the largest tensor dimension and the longest jagged item.
struct ArgSizes {
  int64_t largest_dim = 1;
  int64_t longest_item = 0;  // 0: no offsets-like argument
};

ArgSizes arg_sizes(const ArgMap& args) {
  ArgSizes s;
  for (const auto& [name, v] : args) {
    const Tensor* t = std::get_if<Tensor>(&v);
    if (!t || !t->defined()) continue;
    for (int64_t d = 0; d < t->dim(); ++d) s.largest_dim = std::max(s.largest_dim, t->size(d));
    if (auto stats = runtime::length_stats(*t))
      s.longest_item = std::max(s.longest_item, stats->longest);
  }
  return s;
}

const char* kNotHonoured =
    "the generic CPU code generator does not read it yet (its loops follow the kernel's order "
    "and its vector loops are left to the C++ compiler)";

void add_block_knobs(const runtime::Specialisation& spec, const ArgMap& args, TuneSpace& space) {
  const ir::Kernel& k = spec.kernel;
  std::vector<int> knob_of_block(k.blocks.size(), -1);
  const ArgSizes sizes = arg_sizes(args);
  const int64_t dim_cap = next_pow2(std::max<int64_t>(sizes.largest_dim, 1));
  const int64_t len_cap = sizes.longest_item > 0 ? next_pow2(sizes.longest_item) : dim_cap;
  // Block ids are made in program order, so knobs come out in block_sizes order.
  std::vector<const ir::BlockInfo*> tunable;
  for (const ir::BlockInfo& b : k.blocks)
    if (b.config_index >= 0) tunable.push_back(&b);
  std::sort(tunable.begin(), tunable.end(),
            [](auto* a, auto* b) { return a->config_index < b->config_index; });
  for (const ir::BlockInfo* b : tunable) {
    TuneKnob knob;
    knob.field = TuneKnob::Field::block_size;
    knob.block_index = size_t(b->config_index);
    knob.name = "block_sizes[" + std::to_string(b->config_index) + "]";
    knob.default_value = b->block_size;
    knob_of_block[size_t(b->id)] = int(space.knobs.size());
    space.knobs.push_back(std::move(knob));
  }
  space.enclosing.assign(space.knobs.size(), {});
  std::vector<size_t> stack;
  collect_nesting(k.body, knob_of_block, stack, space.enclosing);
  for (const ir::BlockInfo* b : tunable) {
    const size_t i = size_t(knob_of_block[size_t(b->id)]);
    TuneKnob& knob = space.knobs[i];
    int64_t lo = 8, hi = std::min<int64_t>(1024, dim_cap);
    if (b->kind == ir::LoopKind::jagged) {
      knob.role = b->name + ": hl.jagged_tile rows per step";
      lo = 4, hi = std::min<int64_t>(256, len_cap);
    } else if (space.enclosing[i].empty()) {
      knob.role = b->name + ": outermost hl.tile (items per program)";
      lo = 1, hi = std::min<int64_t>(128, dim_cap);
    } else {
      knob.role = b->name + ": inner hl.tile";
    }
    hi = std::max<int64_t>(hi, 1);
    knob.values = pow2_values(std::min(lo, hi), hi, knob.default_value);
  }
  // The limit bounds each tile value's own dims, not every enclosing loop's: jagged_dense_bmm's
  // four loops (items, rows, columns, k) nest, but its arrays are [rows, k], [k, columns] and
  // [rows, columns]. With the nesting product, its defaults (1/128/64/128) were already at the
  // limit and the search could only shrink blocks, while on AMX 1/256/256/256 ran 1.55x faster
  // (docs/performance.md, "On an AMX Xeon").
  space.tile_shapes = collect_tile_shapes(k.body, knob_of_block);
  int64_t default_tile = 1;
  for (const std::vector<size_t>& shape : space.tile_shapes) {
    int64_t p = 1;
    for (size_t knob : shape) p *= space.knobs[knob].default_value;
    default_tile = std::max(default_tile, p);
  }
  space.max_tile_elements = std::max<int64_t>(int64_t(1) << 19, default_tile);
  space.constraints.push_back("block sizes are powers of two (or the decorator's value)");
  space.constraints.push_back(
      "outer hl.tile <= min(128, S), inner hl.tile in [8, min(1024, S)], jagged rows in [4, "
      "min(256, L)], where S = " +
      std::to_string(dim_cap) +
      " (largest argument dimension, rounded up to a power of two) and L = " +
      std::to_string(len_cap) + " (longest item, rounded up)");
  space.constraints.push_back("product of the block sizes of a tile value's dims <= " +
                              std::to_string(space.max_tile_elements) +
                              " elements (a tile array's size)");
  space.not_tunable = {
      "loop order: " + std::string(kNotHonoured),
      "vector width and unroll hints: " + std::string(kNotHonoured),
      "matmul register blocking: the microkernel's is fixed per instruction set (rows and "
      "vectors of a register block, AMX's 2 x 2 tiles); the block sizes above set "
      "the operand blocks it takes",
      "template chunk_rows / workers: this kernel runs on the generic path"};
}

void add_template_knobs(const runtime::Specialisation& spec, const Options& options,
                        TuneSpace& space) {
  TuneKnob chunk;
  chunk.field = TuneKnob::Field::chunk_rows;
  chunk.name = "chunk_rows";
  chunk.role = "jagged_reduce rows per work chunk (changes the order partials combine in)";
  chunk.default_value = spec.config.reduce_chunk_rows > 0 ? spec.config.reduce_chunk_rows : 64;
  chunk.values = pow2_values(16, 1024, chunk.default_value);
  space.knobs.push_back(chunk);
  const int pool = options.num_threads > 0 ? options.num_threads : ThreadPool::global().size();
  if (pool > 1) {
    TuneKnob workers;
    workers.field = TuneKnob::Field::workers;
    workers.name = "workers";
    workers.role = "jagged_reduce workers (results are bitwise equal for any count)";
    workers.default_value = spec.config.reduce_workers > 0 ? spec.config.reduce_workers : pool;
    for (int w = 1; w <= pool; ++w) workers.values.push_back(w);
    workers.keeps_result_bits = true;
    space.knobs.push_back(workers);
  }
  space.enclosing.assign(space.knobs.size(), {});
  space.constraints.push_back("chunk_rows a power of two in [16, 1024]; workers in [1, " +
                              std::to_string(pool) + "] (the thread pool's size)");
  space.not_tunable = {"block sizes: the template does not use the kernel's tile loops",
                       "prefetch distance: a compile-time constant of the template's SIMD kernels "
                       "(measured best: 4 KiB for 16-bit rows, 2 KiB for whole small items)"};
}

}  // namespace

TuneSpace tune_space(const Program& program, const std::string& kernel, const ArgMap& args,
                     const Options& options) {
  Options o = options;
  o.use_tuned_config = false;  // the space is around the config a call gets without the store
  Specialised s = program.specialise(kernel, args, o);
  const runtime::Specialisation& spec = *s.state().spec;
  TuneSpace space;
  space.kernel = s.kernel();
  space.backend = std::string(backend_name(s.backend()));
  space.defaults = spec.config;
  if (s.backend() == Backend::template_lib)
    add_template_knobs(spec, o, space);
  else
    add_block_knobs(spec, args, space);
  return space;
}

int64_t TuneKnob::value_in(const Config& c) const {
  switch (field) {
    case Field::chunk_rows:
      return c.reduce_chunk_rows;
    case Field::workers:
      return c.reduce_workers;
    case Field::block_size:
      break;
  }
  return block_index < c.block_sizes.size() ? c.block_sizes[block_index] : 0;
}

void TuneKnob::set_in(Config& c, int64_t value) const {
  switch (field) {
    case Field::chunk_rows:
      c.reduce_chunk_rows = value;
      return;
    case Field::workers:
      c.reduce_workers = int(value);
      return;
    case Field::block_size:
      if (c.block_sizes.size() <= block_index) c.block_sizes.resize(block_index + 1, 0);
      c.block_sizes[block_index] = value;
      return;
  }
}

Config TuneSpace::config_at(const std::vector<size_t>& point) const {
  if (point == default_point()) return defaults;
  // Every knob set explicitly, so the config is complete whatever the decorator says.
  Config c = defaults;
  for (size_t i = 0; i < knobs.size() && i < point.size(); ++i)
    knobs[i].set_in(c, knobs[i].values[point[i]]);
  return c;
}

std::vector<size_t> TuneSpace::default_point() const {
  std::vector<size_t> p;
  for (const TuneKnob& k : knobs)
    p.push_back(
        size_t(std::find(k.values.begin(), k.values.end(), k.default_value) - k.values.begin()));
  return p;
}

bool TuneSpace::admits(const std::vector<size_t>& point) const {
  if (point.size() != knobs.size()) return false;
  for (size_t i = 0; i < knobs.size(); ++i)
    if (point[i] >= knobs[i].values.size()) return false;
  for (const std::vector<size_t>& shape : tile_shapes) {
    if (max_tile_elements <= 0) break;
    int64_t p = 1;
    for (size_t knob : shape) p *= knobs[knob].values[point[knob]];
    if (p > max_tile_elements) return false;
  }
  return true;
}

double TuneSpace::size() const {
  double n = 1;
  for (const TuneKnob& k : knobs) n *= double(k.values.size());
  return n;
}

std::string TuneSpace::str() const {
  std::ostringstream os;
  os << "kernel " << kernel << ", backend " << backend << ": " << knobs.size() << " knobs, "
     << size() << " points before constraints\n";
  for (const TuneKnob& k : knobs) {
    os << "  " << k.name << "  " << k.role << "\n    values:";
    for (int64_t v : k.values) os << " " << v;
    os << "   default: " << k.default_value
       << (k.keeps_result_bits ? "   (outputs must match bit for bit)" : "") << "\n";
  }
  os << "defaults: " << (defaults.str().empty() ? "(built-in defaults)" : defaults.str()) << "\n";
  os << "constraints:\n";
  for (const std::string& c : constraints) os << "  " << c << "\n";
  os << "not tunable yet:\n";
  for (const std::string& c : not_tunable) os << "  " << c << "\n";
  return os.str();
}

}  // namespace jagtile
