// The matmul microkernel compiled once (Jit::with_linked_matmul): matmul kernels in one cache
// folder link the same objects, one per entry they call (jt_matmul_f32; jt_matmul_bf16 for bf16
// operands), compiled once; their results are the reference's; the kernel's shared object exports
// no microkernel symbol; where an object cannot be built the kernel is compiled whole, as before,
// and the object is not tried again; a damaged object is replaced.
#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "../common/matmul_cases.h"
#include "testing/scoped_env.h"
#include "codegen_helpers.h"

namespace jagtile::testing {
namespace {

// A compiler script that logs each command line, then runs c++; `fail_objects` makes it fail
// every object compile (-c), as a compiler that cannot build one would.
std::string logging_compiler(const TempDir& dir, bool fail_objects) {
  const std::string cxx = dir.path() + "/cxx.sh";
  std::ofstream script(cxx);
  script << "#!/bin/sh\necho \"$*\" >> " << dir.path() << "/compiles.txt\n";
  if (fail_objects) script << "case \" $* \" in *\" -c \"*) exit 1 ;; esac\n";
  script << "exec c++ \"$@\"\n";
  script.close();
  std::filesystem::permissions(cxx, std::filesystem::perms::owner_all);
  return cxx;
}

std::vector<std::string> logged(const TempDir& dir, const std::string& part) {
  std::ifstream in(dir.path() + "/compiles.txt");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (line.find(part) != std::string::npos) lines.push_back(line);
  return lines;
}

// Files in `folder` whose names start with `prefix` and end with `suffix`.
int count_files(const std::string& folder, const std::string& prefix, const std::string& suffix) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    n += name.rfind(prefix, 0) == 0 && name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return n;
}

// item_matmul on `c` in the cache folder `cache`, checked against the double reference.
void expect_item_matmul(const std::string& cache, const ItemCase& c) {
  const ItemInputs in = item_matmul_inputs(c);
  Options o = cpu_options(true, 2);
  o.cache_dir = cache;
  o.config.block_sizes = c.blocks;
  Program p = Program::from_source(kMatmulKernels, "mm.py");
  expect_close(p.call("item_matmul", in.args, o).outputs.at(0),
               item_matmul_reference(in.offs, in.x, in.w, in.bias, c.D, c.K), double(c.D));
}

TEST(LinkedMatmul, KernelsInAFolderLinkTheEntriesTheyCallCompiledOnce) {
  TempDir dir;
  ScopedEnv compiler("CXX", logging_compiler(dir, false).c_str());
  ScopedEnv in_cache("JAGTILE_PRELUDE_DIR", nullptr);  // the objects go in the cache folder
  const std::string cache = dir.path() + "/cache";
  // Two f32 kernels (different blocks: two entries), then bf16 operands (the bf16 entry).
  expect_item_matmul(cache, ItemCase{{5, 0, 17, 33}, 37, 45, {4, 16, 32, 16}});
  expect_item_matmul(cache, ItemCase{{32, 64, 16}, 64, 64, {2, 32, 32, 32}});
  expect_item_matmul(cache, ItemCase{{70, 0, 1, 57}, 53, 70, {1, 64, 64, 64}, DType::bf16});
  EXPECT_EQ(count_files(cache, "matmul-1-", ".o"), 1);
  EXPECT_EQ(count_files(cache, "matmul-2-", ".o"), 1);
  EXPECT_EQ(logged(dir, " -c ").size(), 2u) << "each object is compiled once";
  const std::vector<std::string> kernels = logged(dir, "kernel.cpp");
  ASSERT_EQ(kernels.size(), 3u);
  for (const std::string& line : kernels) EXPECT_THAT(line, ::testing::HasSubstr("/matmul-1-"));
  EXPECT_THAT(kernels[0], ::testing::Not(::testing::HasSubstr("/matmul-2-")));
  EXPECT_THAT(kernels[2], ::testing::HasSubstr("/matmul-2-"));
  // The entries are hidden: no kernel's shared object exports them.
  int kernel_objects = 0;
  for (const auto& entry : std::filesystem::directory_iterator(cache)) {
    if (entry.path().extension() != ".so") continue;
    ++kernel_objects;
    void* handle = ::dlopen(entry.path().c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle, nullptr) << ::dlerror();
    EXPECT_EQ(::dlsym(handle, "_Z13jt_matmul_f32RK8JtMatmul"), nullptr);
    EXPECT_EQ(::dlsym(handle, "_Z14jt_matmul_bf16RK8JtMatmul"), nullptr);
    ::dlclose(handle);
  }
  EXPECT_EQ(kernel_objects, 3);
}

TEST(LinkedMatmul, AnObjectThatCannotBeBuiltLeavesTheKernelWholeAndIsNotTriedAgain) {
  TempDir dir;
  ScopedEnv compiler("CXX", logging_compiler(dir, true).c_str());
  ScopedEnv in_cache("JAGTILE_PRELUDE_DIR", nullptr);
  const std::string cache = dir.path() + "/cache";
  expect_item_matmul(cache, ItemCase{{5, 0, 17, 33}, 37, 45, {4, 16, 32, 16}});
  expect_item_matmul(cache, ItemCase{{32, 64, 16}, 64, 64, {2, 32, 32, 32}});
  EXPECT_EQ(logged(dir, " -c ").size(), 1u);
  EXPECT_EQ(count_files(cache, "matmul-1-", ".cpp.failed"), 1);
  EXPECT_EQ(count_files(cache, "matmul-1-", ".o"), 0);
  const std::vector<std::string> kernels = logged(dir, "kernel.cpp");
  ASSERT_EQ(kernels.size(), 2u);
  for (const std::string& line : kernels)
    EXPECT_THAT(line, ::testing::Not(::testing::HasSubstr("/matmul-")));
}

TEST(LinkedMatmul, ADamagedObjectLeavesTheKernelWholeAndIsRebuiltForTheNext) {
  TempDir dir;
  ScopedEnv in_cache("JAGTILE_PRELUDE_DIR", nullptr);
  const std::string cache = dir.path() + "/cache";
  expect_item_matmul(cache, ItemCase{{5, 0, 17, 33}, 37, 45, {4, 16, 32, 16}});
  std::string object;
  for (const auto& entry : std::filesystem::directory_iterator(cache))
    if (entry.path().extension() == ".o") object = entry.path().string();
  ASSERT_FALSE(object.empty());
  std::ofstream(object, std::ios::trunc) << "not an object";
  expect_item_matmul(cache, ItemCase{{32, 64, 16}, 64, 64, {2, 32, 32, 32}});
  EXPECT_FALSE(std::filesystem::exists(object)) << "the damaged object is removed";
  expect_item_matmul(cache, ItemCase{{9, 3}, 24, 40, {2, 16, 16, 16}});
  EXPECT_TRUE(std::filesystem::exists(object)) << "and built again";
}

// Two cache folders sharing one JAGTILE_PRELUDE_DIR, compiling in two threads at once: both
// kernels are right, one object is built, and no temporary file is left behind.
TEST(LinkedMatmul, TwoFoldersSharingOneObjectFolderBuildConcurrently) {
  TempDir dir;
  const std::string shared = dir.path() + "/shared";
  ScopedEnv prelude_dir("JAGTILE_PRELUDE_DIR", shared.c_str());
  std::thread other([&] {
    expect_item_matmul(dir.path() + "/a", ItemCase{{5, 0, 17}, 37, 45, {4, 16, 32, 16}});
  });
  expect_item_matmul(dir.path() + "/b", ItemCase{{9, 3}, 24, 40, {2, 16, 16, 16}});
  other.join();
  EXPECT_EQ(count_files(shared, "matmul-1-", ".o"), 1);
  for (const auto& entry : std::filesystem::directory_iterator(shared))
    EXPECT_NE(entry.path().extension(), ".tmp") << "left behind: " << entry.path();
}

}  // namespace
}  // namespace jagtile::testing
