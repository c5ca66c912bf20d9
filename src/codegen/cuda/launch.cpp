// Frame packing, launch grids and cache keys of generated CUDA (see launch.h).
#include "codegen/cuda/launch.h"

#include <algorithm>
#include <cstring>

#include "codegen/cpu/backend.h"
#include "core/hash.h"

namespace jagtile::codegen::cuda {

namespace {

template <typename T>
void put(std::vector<unsigned char>& bytes, int64_t offset, const T& value) {
  JAGTILE_CHECK(offset >= 0 && size_t(offset) + sizeof(T) <= bytes.size(),
                << "frame field at " << offset << " outside a frame of " << bytes.size());
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

}  // namespace

std::vector<unsigned char> pack_frame(const FrameLayout& layout, const host::HostProgram& program,
                                      const host::DeviceNest& nest, const host::HostEnv& env,
                                      const host::NestBounds& bounds, JtError* error) {
  JAGTILE_CHECK(layout.capture_offsets.size() == nest.captures.size(),
                << "frame layout of another nest");
  std::vector<unsigned char> bytes(size_t(layout.size), 0);
  put(bytes, 0, error);
  for (size_t i = 0; i < nest.captures.size(); ++i) {
    const host::Capture& c = nest.captures[i];
    const int64_t at = layout.capture_offsets[i];
    switch (c.kind) {
      case host::Capture::Kind::tensor: {
        JtTensor t{};
        cpu::fill_tensor(&t, env.slots[size_t(c.slot)].t);
        put(bytes, at, t);
        break;
      }
      case host::Capture::Kind::int64:
        put(bytes, at, host::slot_integer(program, env, c.slot));
        break;
      case host::Capture::Kind::float64:
        put(bytes, at, host::slot_number(program, env, c.slot));
        break;
    }
  }
  put(bytes, layout.loop_begin_offset, bounds.begin);
  put(bytes, layout.loop_end_offset, bounds.end);
  return bytes;
}

namespace {

// A sized array's element count (captures and constants only, see print_cuda.h) on the host.
int64_t evaluate_count(const plan::Expr& e, const host::HostProgram& program,
                       const host::DeviceNest& nest, const host::HostEnv& env) {
  auto arg = [&](size_t i) { return evaluate_count(*e.args.at(i), program, nest, env); };
  switch (e.kind) {
    case plan::ExprKind::int_imm:
      return e.ival;
    case plan::ExprKind::capture:
      return host::slot_integer(program, env, nest.captures.at(size_t(e.ival)).slot);
    case plan::ExprKind::tensor_size: {
      const plan::Expr& t = *e.args.at(0);
      JAGTILE_CHECK(t.kind == plan::ExprKind::capture, << "size of a tensor that is no capture");
      return env.slots[size_t(nest.captures.at(size_t(t.ival)).slot)].t.size(int(e.ival));
    }
    case plan::ExprKind::convert:
      return arg(0);
    case plan::ExprKind::binop:
      switch (e.op) {
        case ir::Op::add:
          return arg(0) + arg(1);
        case ir::Op::sub:
          return arg(0) - arg(1);
        case ir::Op::mul:
          return arg(0) * arg(1);
        default:
          break;
      }
      break;
    case plan::ExprKind::call:
      if (e.name == "jt_min64") return std::min(arg(0), arg(1));
      if (e.name == "jt_max64") return std::max(arg(0), arg(1));
      break;
    default:
      break;
  }
  JAGTILE_CHECK(false, << "a tile array size the launcher cannot evaluate ("
                       << plan::expr_kind_name(e.kind) << ")");
  return 0;
}

}  // namespace

int64_t tile_bytes_per_block(const CudaSource& source, size_t kernel,
                             const host::HostProgram& program, const host::DeviceNest& nest,
                             const host::HostEnv& env) {
  int64_t bytes = 0;
  for (const SizedArray& a : source.sized_arrays.at(kernel)) {
    const int64_t n = std::max<int64_t>(0, evaluate_count(*a.count, program, nest, env));
    bytes += (n * a.bytes + 15) / 16 * 16;  // as the kernel places them
  }
  return bytes + source.global_tile_bytes.at(kernel);
}

LaunchGrid launch_grid(int64_t programs, int64_t resident_blocks, int threads) {
  JAGTILE_CHECK(threads > 0 && threads <= kMaxThreadsPerBlock,
                << "a block of " << threads << " threads");
  LaunchGrid g;
  g.threads = threads;
  g.blocks = programs <= 0 ? 0 : std::min(programs, std::max<int64_t>(1, resident_blocks));
  return g;
}

std::string cubin_key(const std::string& source, const std::string& arch,
                      const std::string& nvrtc_version, const std::string& options) {
  std::string all = source;
  for (const std::string* part : {&arch, &nvrtc_version, &options}) {
    all += '\0';
    all += *part;
  }
  return hex64(fnv1a64(all));
}

}  // namespace jagtile::codegen::cuda
