// The parts of the generated-CUDA launcher that need no GPU: the frame bytes handed to a kernel
// (checked against the host executor's own values, and against the size the generated code
// static_asserts), the launch grid, the cubin cache's keys, and the cache's handling of corrupt
// and truncated entries.
#include "codegen/cuda/launch.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "../codegen/codegen_helpers.h"
#include "codegen/cuda/backend.h"
#include "codegen/cuda/nvrtc.h"
#include "cuda_test_util.h"
#include "plan/planner.h"
#include "runtime/program_state.h"
#include "testing/examples.h"

namespace jagtile::testing {
namespace {

using codegen::cuda::FrameLayout;

// Runs a kernel's host program and hands every device nest to `check` (nothing runs on a device).
class Inspector : public host::NestRunner {
 public:
  using Check = std::function<void(const host::DeviceNest&, const host::HostEnv&)>;
  explicit Inspector(Check check) : check_(std::move(check)) {}
  void run_nest(const host::DeviceNest& nest, const host::HostEnv& env) override {
    check_(nest, env);
  }

 private:
  Check check_;
};

struct Specialised {
  Program program;
  std::shared_ptr<const runtime::Specialisation> spec;
  std::vector<ArgValue> args;
};

Specialised specialise_example(const std::string& kernel, const JaggedShape& shape) {
  const ExampleInfo* info = find_example(kernel);
  Specialised s{Program::from_file(source_path(info->file)), nullptr, {}};
  const runtime::ProgramState& ps = s.program.state();
  size_t ki = ps.kernel_index(kernel);
  runtime::BoundArgs bound = ps.bind(ki, info->make_inputs(shape, DType::f32, DType::i32));
  s.spec = ps.specialise(ki, bound, Options{});
  s.args = bound.values;
  return s;
}

JaggedShape small_shape() {
  JaggedShape shape;
  shape.batch = 5;
  shape.features = 6;
  shape.max_len = 7;
  return shape;
}

TEST(PackFrame, PlacesEveryCaptureAtItsLayoutOffset) {
  Specialised s = specialise_example("jagged_softmax", small_shape());
  int nests = 0;
  Inspector inspector([&](const host::DeviceNest& nest, const host::HostEnv& env) {
    ++nests;
    const FrameLayout layout = codegen::cuda::frame_layout(nest);
    const host::NestBounds bounds = host::nest_bounds(s.spec->host, nest, env);
    JtError error{};
    std::vector<unsigned char> bytes =
        codegen::cuda::pack_frame(layout, s.spec->host, nest, env, bounds, &error);
    ASSERT_EQ(int64_t(bytes.size()), layout.size);
    JtError* packed_error = nullptr;
    std::memcpy(&packed_error, bytes.data(), 8);
    EXPECT_EQ(packed_error, &error);
    for (size_t i = 0; i < nest.captures.size(); ++i) {
      const host::Capture& c = nest.captures[i];
      const unsigned char* at = bytes.data() + layout.capture_offsets[i];
      if (c.kind == host::Capture::Kind::tensor) {
        JtTensor t;
        std::memcpy(&t, at, sizeof t);
        const Tensor& want = env.slots[size_t(c.slot)].t;
        EXPECT_EQ(t.data, want.raw_data()) << "capture " << i;
        ASSERT_EQ(t.rank, want.dim());
        for (int d = 0; d < t.rank; ++d) EXPECT_EQ(t.size[d], want.size(d));
      } else if (c.kind == host::Capture::Kind::int64) {
        int64_t v;
        std::memcpy(&v, at, 8);
        EXPECT_EQ(v, host::slot_integer(s.spec->host, env, c.slot)) << "capture " << i;
      }
    }
    int64_t begin, end;
    std::memcpy(&begin, bytes.data() + layout.loop_begin_offset, 8);
    std::memcpy(&end, bytes.data() + layout.loop_end_offset, 8);
    EXPECT_EQ(begin, bounds.begin);
    EXPECT_EQ(end, bounds.end);
  });
  host::run_host(s.spec->host, s.args, inspector);
  EXPECT_EQ(nests, 1);
}

// The generated code states the size the launcher packs; NVRTC (and the emulation's host
// compiler) check the static_assert, so a layout drift cannot compile.
TEST(PackFrame, GeneratedFrameStaticAssertsTheLayoutSize) {
  Specialised s = specialise_example("jagged_dense_add", small_shape());
  const FrameLayout layout = codegen::cuda::frame_layout(s.spec->host.nests.at(0));
  Program p = Program::from_file(source_path("examples/jagged_dense_add.py"));
  ArgMap args =
      find_example("jagged_dense_add")->make_inputs(small_shape(), DType::f32, DType::i32);
  std::string code = p.specialise("jagged_dense_add", args, cuda_options()).source(Backend::cuda);
  EXPECT_NE(code.find("static_assert(sizeof(Frame0) == " + std::to_string(layout.size) + ","),
            std::string::npos);
}

// Tile arrays sized by a full dimension (hstu's [tile_q, D] accumulators) get their bytes from
// the captures: the launcher's total grows with D exactly as the arrays do.
TEST(TileMemory, SizedArraysGrowWithTheirCapturedDimension) {
  auto bytes_for = [](int64_t head_dim) {
    JaggedShape shape = small_shape();
    shape.heads = 2;
    shape.head_dim = head_dim;
    Specialised s = specialise_example("jagged_hstu_attention", shape);
    plan::Plan plan = plan::plan_kernel(s.spec->kernel, s.spec->host, true);
    codegen::cuda::CudaSource src = codegen::cuda::print_cuda(plan);
    int64_t total = -1, sized = 0;
    Inspector inspector([&](const host::DeviceNest& nest, const host::HostEnv& env) {
      total = codegen::cuda::tile_bytes_per_block(src, size_t(nest.index), s.spec->host, nest, env);
      sized = int64_t(src.sized_arrays.at(size_t(nest.index)).size());
    });
    host::run_host(s.spec->host, s.args, inspector);
    EXPECT_GT(sized, 0);
    return std::pair{total, sized};
  };
  auto [bytes8, n] = bytes_for(8);
  auto [bytes16, n16] = bytes_for(16);
  ASSERT_EQ(n, n16);
  // Each sized array is [block, D] floats: 8 more columns add block * 8 * 4 bytes to each.
  EXPECT_GT(bytes16, bytes8);
  EXPECT_EQ((bytes16 - bytes8) % (n * 8 * 4), 0) << bytes8 << " -> " << bytes16;
}

TEST(LaunchGrid, OneBlockPerProgramUpToTheResidentBlocks) {
  using codegen::cuda::launch_grid;
  EXPECT_EQ(launch_grid(0, 132, 128).blocks, 0);
  EXPECT_EQ(launch_grid(5, 132, 128).blocks, 5);
  EXPECT_EQ(launch_grid(1000000, 1056, 128).blocks, 1056);
  EXPECT_EQ(launch_grid(7, 0, 64).blocks, 1);
  EXPECT_EQ(launch_grid(7, 0, 64).threads, 64);
  EXPECT_THROW(launch_grid(7, 8, codegen::cuda::kMaxThreadsPerBlock + 1), InternalError);
}

TEST(CubinKey, ChangesWithSourceArchitectureNvrtcVersionAndOptions) {
  using codegen::cuda::cubin_key;
  const std::string base = cubin_key("src", "sm_80", "13.0", "-std=c++17");
  EXPECT_EQ(base.size(), 16u);
  EXPECT_EQ(base, cubin_key("src", "sm_80", "13.0", "-std=c++17"));
  EXPECT_NE(base, cubin_key("src2", "sm_80", "13.0", "-std=c++17"));
  EXPECT_NE(base, cubin_key("src", "sm_90a", "13.0", "-std=c++17"));
  EXPECT_NE(base, cubin_key("src", "sm_80", "12.9", "-std=c++17"));
  EXPECT_NE(base, cubin_key("src", "sm_80", "13.0", "-std=c++20"));
}

TEST(CubinCache, CompilesOnceThenLoadsFromDiskAndRebuildsCorruptEntries) {
  if (!codegen::cuda::nvrtc_available()) {
    if (codegen::cuda::cuda_switched_off()) GTEST_SKIP() << "CUDA switched off";
    FAIL() << "this build has no NVRTC; install the CUDA toolkit or -DJAGTILE_ENABLE_CUDA=OFF";
  }
  TempDir dir;
  codegen::cpu::DiskCache cache(dir.path(), ".cubin");
  const std::string src = "extern \"C\" __global__ void k(float* x) { x[threadIdx.x] = 1.0f; }";
  codegen::cuda::CubinStats first, second, rebuilt, truncated;
  std::string a = codegen::cuda::load_or_compile_cubin(cache, src, "k", "sm_80", &first);
  std::string b = codegen::cuda::load_or_compile_cubin(cache, src, "k", "sm_80", &second);
  EXPECT_TRUE(first.compiled);
  EXPECT_FALSE(second.compiled);
  EXPECT_EQ(a, b);
  const std::string path = cache.entry_path(first.key);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(a.size() / 2));
    f.put('\x5a');
  }
  std::string c = codegen::cuda::load_or_compile_cubin(cache, src, "k", "sm_80", &rebuilt);
  EXPECT_TRUE(rebuilt.compiled) << "a corrupt entry was trusted";
  EXPECT_EQ(c, a);
  std::filesystem::resize_file(path, 100);
  std::string d = codegen::cuda::load_or_compile_cubin(cache, src, "k", "sm_80", &truncated);
  EXPECT_TRUE(truncated.compiled) << "a truncated entry was trusted";
  EXPECT_EQ(d, a);
}

TEST(CubinCache, InvalidSourceIsAnInternalErrorWithTheNvrtcLog) {
  if (!codegen::cuda::nvrtc_available()) {
    if (codegen::cuda::cuda_switched_off()) GTEST_SKIP() << "CUDA switched off";
    FAIL() << "this build has no NVRTC; install the CUDA toolkit or -DJAGTILE_ENABLE_CUDA=OFF";
  }
  TempDir dir;
  codegen::cpu::DiskCache cache(dir.path(), ".cubin");
  try {
    codegen::cuda::load_or_compile_cubin(cache, "__global__ void k() { nope(); }", "bad", "sm_80");
    FAIL() << "no error";
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace jagtile::testing

namespace jagtile::testing {
namespace {

// The driver is opened at run time: where it is missing the reason names it (and nothing else
// fails); where it is present, the device's architecture is what NVRTC gets.
TEST(Driver, SaysWhyItCannotLoadOrNamesTheArchitecture) {
  const std::string why = codegen::cuda::driver_unavailable_reason(0);
  if (why.empty()) {
    EXPECT_EQ(codegen::cuda::device_arch(0).rfind("sm_", 0), 0u);
    EXPECT_GT(codegen::cuda::device_multiprocessors(0), 0);
  } else {
    EXPECT_TRUE(why.find("libcuda.so.1") != std::string::npos ||
                why.find("CUDA device") != std::string::npos)
        << why;
  }
}

}  // namespace
}  // namespace jagtile::testing
