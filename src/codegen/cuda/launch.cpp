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
