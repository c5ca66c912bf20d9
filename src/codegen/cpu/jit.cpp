// The JIT (see jit.h): compiler identity and flags, compiling in a private temporary folder,
// publishing into the disk cache, dlopen / dlsym.
#include "codegen/cpu/jit.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jagtile/error.h"

namespace jagtile::codegen::cpu {

namespace {

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  JAGTILE_CHECK(out.good(), << "cannot write '" << path << "'");
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

LoadedKernel::~LoadedKernel() {
  if (handle) ::dlclose(handle);
}

void* LoadedKernel::symbol(const std::string& name) const {
  void* f = ::dlsym(handle, name.c_str());
  JAGTILE_CHECK(f, << "compiled kernel '" << path << "' has no function '" << name << "'");
  return f;
}

std::string compiler_command() {
  const char* cxx = std::getenv("CXX");
  return cxx && *cxx ? cxx : "c++";
}

std::string compiler_identity() {
  static std::mutex m;
  static std::map<std::string, std::string> cache;
  std::string cmd = compiler_command();
  std::lock_guard<std::mutex> lock(m);
  auto it = cache.find(cmd);
  if (it != cache.end()) return it->second;
  std::string id = cmd + "\n" + run_capture(cmd + " --version 2>&1");
  cache[cmd] = id;
  return id;
}

namespace {

// In a sanitizer build of jagtile (JAGTILE_SANITIZE), kernels are compiled with ASan and UBSan
// too, so that their memory accesses are checked like the rest of the process. Only when the
// JIT's compiler is the compiler (family and version) that built this process: a kernel holds
// no sanitizer runtime of its own and uses the process's, and GCC's and clang's runtimes do not
// mix. Any other compiler builds plain kernels, which a sanitized process loads safely.
std::string sanitizer_flags() {
#ifdef JAGTILE_SANITIZE
  const std::string id = compiler_identity();
#if defined(__clang__)
  const std::string version = "clang version " + std::to_string(__clang_major__) + "." +
                              std::to_string(__clang_minor__) + "." +
                              std::to_string(__clang_patchlevel__);
  const bool same = id.find(version) != std::string::npos;
#else
  const std::string version = ") " + std::to_string(__GNUC__) + "." +
                              std::to_string(__GNUC_MINOR__) + "." +
                              std::to_string(__GNUC_PATCHLEVEL__);
  const bool same = id.find("clang") == std::string::npos &&
                    id.find("Free Software Foundation") != std::string::npos &&
                    id.find(version) != std::string::npos;
#endif
  if (same) {
    return " -fsanitize=address,undefined -fno-sanitize-recover=undefined "
           "-fno-omit-frame-pointer";
  }
#endif
  return "";
}

}  // namespace

// JAGTILE_CPU_ISA lowers the instruction set below the CPU's own, as it does for the reduce
// templates: `avx512` drops AVX512-BF16 (the matmul's bf16 pairs), `avx2` drops AVX-512 (AVX2 +
// FMA remain), `portable` drops AVX and everything after it. Read on every compile: the flags are
// part of the cache key.
std::string isa_flags() {
  const char* forced = std::getenv("JAGTILE_CPU_ISA");
  std::string isa = forced ? forced : "";
  if (isa == "avx512") return " -mno-avx512bf16";
  if (isa == "avx2") return " -mno-avx512f";
  if (isa == "portable") return " -mno-avx";
  return "";
}

std::string compiler_flags() {
  // -fwrapv: integer overflow wraps (the IR's int64 arithmetic); -fno-math-errno lets sqrtf
  // vectorise, -fno-trapping-math lets floorf (in jt_floordiv) vectorise; -fopenmp-simd honours
  // the emitted `omp simd` pragmas without an OpenMP runtime; -fno-tree-loop-distribute-patterns
  // keeps a tile row's copy an inline vector loop instead of a memcpy call (at 32 floats the
  // call cost more than the copy: 14% of jagged_dense_bmm's time). The flags are part of the key
  // (Jit::key_of), so sanitized and plain kernels never share an entry.
  return "-O3 -march=native" + isa_flags() +
         " -fPIC -shared -std=c++17 -fopenmp-simd -fno-math-errno -fno-trapping-math -fwrapv -w"
         " -fno-tree-loop-distribute-patterns" +
         sanitizer_flags();
}

std::string cpu_features() {
  static const std::string features = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line, model, flags;
    while (std::getline(in, line)) {
      if (model.empty() && line.rfind("model name", 0) == 0) model = line;
      if (flags.empty() && line.rfind("flags", 0) == 0) flags = line;
      if (!model.empty() && !flags.empty()) break;
    }
    return model + "\n" + flags;
  }();
  return features;
}

Jit::Jit(std::string cache_dir) : disk_(std::move(cache_dir)) {}

Jit& Jit::for_dir(const std::string& folder) {
  static std::mutex m;
  static std::map<std::string, std::unique_ptr<Jit>> jits;
  std::string dir = folder.empty() ? default_cache_dir() : folder;
  std::lock_guard<std::mutex> lock(m);
  auto& j = jits[dir];
  if (!j) j = std::make_unique<Jit>(dir);
  return *j;
}

std::string Jit::key_of(const std::string& source) const {
  uint64_t h = fnv1a64(source);
  h = fnv1a64(std::string_view("\0compiler\0", 10), h);
  h = fnv1a64(compiler_identity(), h);
  h = fnv1a64(std::string_view("\0flags\0", 7), h);
  h = fnv1a64(compiler_flags(), h);
  h = fnv1a64(std::string_view("\0cpu\0", 5), h);
  h = fnv1a64(cpu_features(), h);
  return hex64(h);
}

// Every generated file of one flavour (with or without the matmul microkernel) shares its text
// from the first #include to the first device nest: the includes, the calling convention, the
// helpers. Parsing it was half of a cold compile (0.8 of 1.6 s for the HSTU kernel, GCC 12), so
// GCC compiles it once into a precompiled header beside the cache entries, named by the same
// kind of key as an entry (text, compiler, flags, CPU), and the kernel's file includes it. GCC
// falls back to the header's text if the .gch does not fit, so a stale one costs time, not
// correctness. Other compilers get the whole source, as before.
std::string Jit::with_precompiled_prelude(const std::string& source) {
  const std::string identity = compiler_identity();
  // GCC's --version names its copyright holder whatever the command is called (c++, g++-12).
  const bool gcc = identity.find("clang") == std::string::npos &&
                   identity.find("Free Software Foundation") != std::string::npos;
  // Generated files only: generated C++, and the CUDA emulation's file (its kernel-specific
  // opening comments come before the emulation header, emulation.cpp).
  const bool cpp = source.rfind("// Generated by jagtile from kernel", 0) == 0 ||
                   source.rfind("// Generated by jagtile (CUDA) from kernel", 0) == 0;
  const size_t first = source.find("#include");
  const size_t nests = source.find("\n// ---- device nest ");
  if (!gcc || !cpp || first == std::string::npos || nests == std::string::npos || nests < first)
    return source;
  const std::string prelude = source.substr(first, nests + 1 - first);
  const std::string name = "prelude-" + key_of(prelude) + ".h";
  // JAGTILE_PRELUDE_DIR shares the precompiled headers between cache folders (the differential
  // fuzzer gives every kernel a scratch cache folder of its own, and would rebuild them for each).
  const char* shared = std::getenv("JAGTILE_PRELUDE_DIR");
  std::string dir = disk_.dir();
  if (shared && *shared) {
    std::error_code ec;
    std::filesystem::create_directories(shared, ec);
    const std::filesystem::path absolute = std::filesystem::absolute(shared, ec);
    if (!ec) dir = absolute.string();
  }
  const std::string header = dir + "/" + name;
  const std::string gch = header + ".gch";
  const std::string failed = header + ".failed";  // a header GCC could not precompile
  struct stat st;
  if (::stat(failed.c_str(), &st) == 0) return source;
  if (::stat(gch.c_str(), &st) != 0) {
    // Written under private names, then renamed: other processes see whole files or none.
    const std::string tag = "." + std::to_string(::getpid()) + ".tmp";
    write_text(header + tag, prelude);
    if (std::rename((header + tag).c_str(), header.c_str()) != 0) return source;
    const std::string cmd = compiler_command() + " " + compiler_flags() + " -x c++-header -o " +
                            shell_quote(gch + tag) + " " + shell_quote(header) +
                            " > /dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      ::unlink((gch + tag).c_str());
      write_text(failed, "");  // not tried again for this flavour
      return source;
    }
    if (std::rename((gch + tag).c_str(), gch.c_str()) != 0) return source;
  }
  // Relative to the kernel's file, which is compiled in a build folder inside the cache folder:
  // right whether the cache folder's path is absolute or relative. A shared folder: absolute.
  const std::string include = dir == disk_.dir() ? "../" + name : header;
  return source.substr(0, first) + "#include \"" + include + "\"\n" + source.substr(nests + 1);
}

std::shared_ptr<const LoadedKernel> Jit::load(const std::string& source,
                                              const std::string& function, JitStats* stats) {
  auto t0 = std::chrono::steady_clock::now();
  auto finish = [&](JitStats::Source s) {
    if (stats) {
      stats->source = s;
      stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  };
  std::string key = key_of(source);
  std::lock_guard<std::mutex> lock(mutex_);
  JitStats::Source src = JitStats::Source::disk;
  if (!disk_.verify(key)) {
    src = JitStats::Source::compiled;
    static std::atomic<uint64_t> counter{0};
    std::string work = disk_.dir() + "/.build-" + key + "-" + std::to_string(::getpid()) + "-" +
                       std::to_string(counter.fetch_add(1));
    JAGTILE_CHECK(::mkdir(work.c_str(), 0755) == 0,
                  << "cannot create build folder '" << work << "'");
    std::string cpp = work + "/kernel.cpp", so = work + "/kernel.so", err = work + "/errors.txt";
    write_text(cpp, with_precompiled_prelude(source));
    std::string cmd = compiler_command() + " " + compiler_flags() + " -o " + shell_quote(so) + " " +
                      shell_quote(cpp) + " > " + shell_quote(err) + " 2>&1";
    int rc = std::system(cmd.c_str());
    if (rc != 0 && WIFEXITED(rc) && WEXITSTATUS(rc) == 127) {
      ::unlink(cpp.c_str());
      ::unlink(err.c_str());
      ::rmdir(work.c_str());
      throw UserError("cannot run the C++ compiler '" + compiler_command() +
                          "' that the generic CPU backend needs",
                      "install a C++ compiler or point CXX at one; --backend interp runs "
                      "without a compiler");
    }
    if (rc != 0) {
      std::string kept = disk_.dir() + "/failed-" + key + ".cpp";
      write_text(kept, source);  // whole, without the precompiled prelude's #include
      ::unlink(cpp.c_str());
      std::string errors = read_text(err);
      ::unlink(err.c_str());
      ::unlink(so.c_str());
      ::rmdir(work.c_str());
      JAGTILE_CHECK(false, << "the C++ compiler failed on the generated code of kernel function '"
                           << function << "' (a jagtile bug). Command: " << cmd
                           << "\nThe generated file is kept at " << kept << "\nCompiler output:\n"
                           << errors);
    }
    disk_.publish(key, so);
    ::unlink(cpp.c_str());
    ::unlink(so.c_str());
    ::unlink(err.c_str());
    ::rmdir(work.c_str());
  }
  auto k = std::make_shared<LoadedKernel>();
  k->key = key;
  k->path = disk_.entry_path(key);
  k->handle = ::dlopen(k->path.c_str(), RTLD_NOW | RTLD_LOCAL);
  JAGTILE_CHECK(k->handle, << "cannot load compiled kernel '" << k->path << "': " << ::dlerror());
  k->symbol(function);
  finish(src);
  return k;
}

}  // namespace jagtile::codegen::cpu
