// The JIT's disk cache: a cold compile publishes an entry, a new process (here: a new Jit over
// the same folder) loads it without compiling; a corrupt, truncated or foreign entry is
// detected and rebuilt, never loaded; two compilers racing on one key both succeed; a compiler
// failure is an InternalError that keeps the generated file; the CUDA host emulation's files
// compile at -O1, native code at -O3.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "testing/scoped_env.h"
#include "codegen/cpu/jit.h"
#include "codegen_helpers.h"
#include "jagtile/error.h"

namespace jagtile::testing {
namespace {

using codegen::cpu::DiskCache;
using codegen::cpu::Jit;
using codegen::cpu::JitStats;

std::string tiny_source(int value) {
  return "#include <stdint.h>\nstruct JtHost;\nextern \"C\" int jt_answer(struct JtHost* h) { "
         "return " +
         std::to_string(value) + "; }\n";
}

int answer(const codegen::cpu::LoadedKernel& k) {
  return reinterpret_cast<int (*)(void*)>(k.symbol("jt_answer"))(nullptr);
}

// Compiles and publishes, then lets go of the loaded object so the file can be damaged.
std::string publish(const std::string& dir, const std::string& src) {
  Jit jit(dir);
  JitStats st;
  auto k = jit.load(src, "jt_answer", &st);
  EXPECT_EQ(st.source, JitStats::Source::compiled);
  EXPECT_EQ(answer(*k), 42);
  return jit.key_of(src);
}

// A fresh Jit (as in a new process) loads the entry: rebuilt when `expect_compile`.
void expect_loads(const std::string& dir, const std::string& src, bool expect_compile) {
  Jit jit(dir);
  JitStats st;
  auto k = jit.load(src, "jt_answer", &st);
  EXPECT_EQ(st.source, expect_compile ? JitStats::Source::compiled : JitStats::Source::disk);
  EXPECT_EQ(answer(*k), 42);
  EXPECT_TRUE(jit.disk().verify(jit.key_of(src)));
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// The JIT keeps nothing in memory (loaded code lives on the specialisation that asked for it):
// every load after the first compile is a verified disk load.
TEST(DiskCache, EveryLoadAfterTheCompileComesFromDisk) {
  TempDir dir;
  std::string src = tiny_source(42);
  publish(dir.path(), src);
  Jit jit(dir.path());
  JitStats st;
  auto a = jit.load(src, "jt_answer", &st);
  EXPECT_EQ(st.source, JitStats::Source::disk);
  auto b = jit.load(src, "jt_answer", &st);
  EXPECT_EQ(st.source, JitStats::Source::disk);
  EXPECT_EQ(answer(*a), answer(*b));
  EXPECT_NE(jit.key_of(src), jit.key_of(tiny_source(43)));
}

// Prepared code lives on the specialisation: a second prepare of the same one is served from
// memory; a fresh Program (as a new process) loads the disk entry the first one compiled.
TEST(DiskCache, PreparedCodeLivesOnTheSpecialisation) {
  TempDir dir;
  Options o = cpu_options();
  o.cache_dir = dir.path();
  const std::string file = std::string(JAGTILE_SOURCE_DIR) + "/examples/jagged_sum.py";
  ArgMap args{{"x_values", Tensor::zeros({4, 3}, DType::f32)},
              {"x_offsets", Tensor::from_doubles({3}, {0, 1, 4}, DType::i32)}};
  Program p = Program::from_file(file);
  Specialised s = p.specialise("", args, o);
  EXPECT_EQ(s.prepare().source, PrepareStats::Source::compiled);
  EXPECT_EQ(s.prepare().source, PrepareStats::Source::memory);
  EXPECT_EQ(p.specialise("", args, o).prepare().source, PrepareStats::Source::memory);
  EXPECT_EQ(Program::from_file(file).specialise("", args, o).prepare().source,
            PrepareStats::Source::disk);
  // The bounds-check setting changes the code: its own entry.
  o.checked = false;
  EXPECT_EQ(p.specialise("", args, o).prepare().source, PrepareStats::Source::compiled);
}

// With GCC, generated files share their prelude through one precompiled header per flavour,
// which each file includes relative to itself: so a cache folder given as a relative path works
// too (the differential fuzzer's are), and two kernels of one flavour share one header.
TEST(DiskCache, KernelsShareAPrecompiledPreludeInARelativeFolder) {
  if (codegen::cpu::compiler_identity().find("Free Software Foundation") == std::string::npos)
    GTEST_SKIP() << "the precompiled prelude is made with GCC only; this compiler is "
                 << codegen::cpu::compiler_command();
  TempDir dir;
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  Options o = cpu_options();
  o.cache_dir = "relative/cache";
  ArgMap args{{"x_values", Tensor::from_doubles({4, 1}, {1, 2, 3, 4}, DType::f32)},
              {"x_offsets", Tensor::from_doubles({3}, {0, 1, 4}, DType::i32)}};
  std::vector<double> got;
  for (const char* kernel : {"jagged_sum", "jagged_max"}) {
    const std::string file = std::string(JAGTILE_SOURCE_DIR) + "/examples/" + kernel + ".py";
    Tensor out = Program::from_file(file).call("", args, o).outputs.at(0);
    got.push_back(out.item_as_double(1));
  }
  int headers = 0;
  for (const auto& entry : std::filesystem::directory_iterator("relative/cache")) {
    const std::string name = entry.path().filename().string();
    headers += name.rfind("prelude-", 0) == 0 && name.size() > 6 &&
               name.compare(name.size() - 6, 6, ".h.gch") == 0;
  }
  ASSERT_EQ(::chdir(cwd), 0);
  EXPECT_EQ(got, (std::vector<double>{2 + 3 + 4, 4}));
  EXPECT_EQ(headers, 1) << "jagged_sum and jagged_max should share one precompiled prelude";
}

TEST(DiskCache, CorruptEntryIsRebuilt) {
  TempDir dir;
  std::string src = tiny_source(42);
  std::string key = publish(dir.path(), src);
  DiskCache disk(dir.path());
  std::string bytes = read_all(disk.entry_path(key));
  bytes[bytes.size() / 2] ^= 0x5a;
  write_all(disk.entry_path(key), bytes);
  EXPECT_FALSE(disk.verify(key));
  expect_loads(dir.path(), src, /*expect_compile=*/true);
}

TEST(DiskCache, TruncatedEntryIsRebuilt) {
  TempDir dir;
  std::string src = tiny_source(42);
  std::string key = publish(dir.path(), src);
  DiskCache disk(dir.path());
  std::string bytes = read_all(disk.entry_path(key));
  write_all(disk.entry_path(key), bytes.substr(0, bytes.size() / 3));
  EXPECT_FALSE(disk.verify(key));
  write_all(disk.entry_path(key), "");
  EXPECT_FALSE(disk.verify(key));
  expect_loads(dir.path(), src, true);
}

TEST(DiskCache, ForeignEntriesAreRebuilt) {
  TempDir dir;
  std::string src = tiny_source(42);
  std::string key = publish(dir.path(), src);
  DiskCache disk(dir.path());
  std::string good = read_all(disk.entry_path(key));
  // Wrong magic in the trailer.
  std::string bad_magic = good;
  bad_magic[bad_magic.size() - DiskCache::kTrailerSize] = 'X';
  write_all(disk.entry_path(key), bad_magic);
  EXPECT_FALSE(disk.verify(key));
  // A valid entry of another key, put under this key's name.
  std::string other_key = std::string(16, 'a');
  write_all(disk.entry_path(other_key), good);
  EXPECT_FALSE(disk.verify(other_key));
  // Not a cache entry at all.
  write_all(disk.entry_path(key), "#!/bin/sh\necho not a shared object\n");
  EXPECT_FALSE(disk.verify(key));
  expect_loads(dir.path(), src, true);
}

TEST(DiskCache, TwoThreadsCompilingTheSameKeyBothSucceed) {
  TempDir dir;
  std::string src = tiny_source(42);
  int results[2] = {0, 0};
  std::thread t[2];
  for (int i = 0; i < 2; ++i)
    t[i] = std::thread([&, i] {
      Jit jit(dir.path());  // separate caches, like separate processes
      results[i] = answer(*jit.load(src, "jt_answer"));
    });
  for (auto& th : t) th.join();
  EXPECT_EQ(results[0], 42);
  EXPECT_EQ(results[1], 42);
  expect_loads(dir.path(), src, false);
}

TEST(DiskCache, TwoProcessesCompilingTheSameKeyBothSucceed) {
  TempDir dir;
  std::string src = tiny_source(42);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int ok = 0;
    try {
      Jit jit(dir.path());
      ok = answer(*jit.load(src, "jt_answer")) == 42;
    } catch (...) {
    }
    ::_exit(ok ? 0 : 1);
  }
  Jit jit(dir.path());
  EXPECT_EQ(answer(*jit.load(src, "jt_answer")), 42);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  expect_loads(dir.path(), src, false);
}

TEST(DiskCache, CompilerFailureKeepsTheGeneratedFile) {
  TempDir dir;
  Jit jit(dir.path());
  std::string src = "this is not C++ (generated by a buggy emitter)\n";
  std::string msg;
  try {
    jit.load(src, "jt_answer");
  } catch (const InternalError& e) {
    msg = e.what();
  }
  EXPECT_THAT(msg, ::testing::HasSubstr("the C++ compiler failed"));
  std::string kept = dir.path() + "/failed-" + jit.key_of(src) + ".cpp";
  EXPECT_THAT(msg, ::testing::HasSubstr(kept));
  EXPECT_EQ(read_all(kept), src);
  EXPECT_FALSE(jit.disk().verify(jit.key_of(src)));
}

TEST(DiskCache, MissingCompilerIsAUserError) {
  TempDir dir;
  const char* old = std::getenv("CXX");
  std::string saved = old ? old : "";
  ::setenv("CXX", "/nonexistent/jagtile-test-cxx", 1);
  std::string msg;
  try {
    Jit(dir.path()).load(tiny_source(42), "jt_answer");
  } catch (const UserError& e) {
    msg = e.what();
  }
  if (old)
    ::setenv("CXX", saved.c_str(), 1);
  else
    ::unsetenv("CXX");
  EXPECT_THAT(msg,
              ::testing::HasSubstr("cannot run the C++ compiler '/nonexistent/jagtile-test-cxx'"));
}

// The compiler is a script that logs its arguments, then runs c++: the emulation's file is
// compiled at -O1 and a native file at -O3.
TEST(DiskCache, EmulationFilesCompileAtO1AndNativeFilesAtO3) {
  TempDir dir;
  const std::string log = dir.path() + "/compiles.txt", cxx = dir.path() + "/cxx.sh";
  {
    std::ofstream script(cxx);
    script << "#!/bin/sh\necho \"$*\" >> " << log << "\nexec c++ \"$@\"\n";
  }
  std::filesystem::permissions(cxx, std::filesystem::perms::owner_all);
  ScopedEnv compiler("CXX", cxx.c_str());
  const std::string native = "// Generated by jagtile from kernel 't' (t.py).\n" + tiny_source(42);
  const std::string emulated =
      "// Generated by jagtile (CUDA) from kernel 't' (t.py).\n" + tiny_source(42);
  EXPECT_EQ(codegen::cpu::code_kind(native), codegen::cpu::CodeKind::native);
  EXPECT_EQ(codegen::cpu::code_kind(emulated), codegen::cpu::CodeKind::emulation);
  Jit jit(dir.path() + "/cache");
  EXPECT_EQ(answer(*jit.load(emulated, "jt_answer")), 42);
  EXPECT_EQ(answer(*jit.load(native, "jt_answer")), 42);
  std::ifstream in(log);
  std::vector<std::string> compiles;
  for (std::string line; std::getline(in, line);)
    if (line.find("kernel.cpp") != std::string::npos) compiles.push_back(line);
  ASSERT_EQ(compiles.size(), 2u);
  EXPECT_THAT(compiles[0], ::testing::HasSubstr("-O1 "));
  EXPECT_THAT(compiles[0], ::testing::Not(::testing::HasSubstr("-O3")));
  EXPECT_THAT(compiles[1], ::testing::HasSubstr("-O3 "));
}

}  // namespace
}  // namespace jagtile::testing
