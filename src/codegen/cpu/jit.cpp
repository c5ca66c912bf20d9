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
#include <future>
#include <sstream>

#include "codegen/cpu/print_cpp.h"
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

// Whether the CPU's own choices for AVX-512 on 512-bit units apply (avx512_on_wide_units): on
// such a CPU, unless the instruction set is lowered below AVX-512.
bool wide_defaults(const std::string& isa) {
  // Read once: this runs on every call (the backend's code key).
  static const bool wide = avx512_on_wide_units(cpu_features());
  return isa != "avx2" && isa != "portable" && wide;
}
// The value of the environment setting `name`, "" where unset; `a` or `b`, else a UserError.
std::string setting(const char* name, const char* what, const char* a, const char* b) {
  const char* forced = std::getenv(name);
  if (!forced || !*forced) return "";
  const std::string value = forced;
  if (value != a && value != b)
    throw UserError(std::string(name) + "='" + value + "' is not a " + what + "; set it to " + a +
                    " or " + b + ", or unset it");
  return value;
}

// The width GCC's vectoriser aims for where AVX-512 is on: it prefers 256-bit vectors for every
// x86 CPU it knows, so the generated elementwise and reduction loops (not the microkernels, which
// are written in 512-bit intrinsics) ran at half width. On cores whose two FMA units are 512 bits
// wide, 512 is faster: Xeon with AMX, 2 threads, alternated: bundled jagged_sum 1.26x,
// jagged_softmax 1.17x, jagged_layer_norm 1.10x, HSTU 1.02-1.08x, the memory-bound
// jagged_dense_add and the matmul kernels unchanged; Zen 5: jagged_softmax 1.62-1.73x,
// jagged_layer_norm 1.26-2.0x, jagged_dense_add 0.91-0.95x (docs/performance.md, "On an Intel
// Xeon with AMX: 512-bit vectors, ..." and "Zen 5: ..."). AMD's Zen 4 splits 512-bit operations in
// two and was not measured: there, and on every CPU without AVX-512, the compiler's own choice
// stands. JAGTILE_VECTOR_WIDTH=256|512 sets it either way.
std::string vector_width_flag(const std::string& isa) {
  std::string width = setting("JAGTILE_VECTOR_WIDTH", "vector width", "256", "512");
  if (width.empty() && wide_defaults(isa)) width = "512";
  return width.empty() ? "" : " -mprefer-vector-width=" + width;
}

// The f32 microkernel's register block on AVX-512 (cpp_matmul.cpp, JtVec): 6 rows by 4 vectors
// (JT_MM_6X4) on cores whose FMA units are 512 bits wide, where 8 rows by 2 vectors are bound by
// their loads (AMX Xeon: jagged_dense_bmm 1.03-1.06x; Zen 5: 1.10-1.13x); 8 by 2 on AMD's Zen 4,
// which splits 512-bit operations in two and ran 6 by 4 at 0.94-0.99x of it.
// JAGTILE_REGISTER_BLOCK=8x2|6x4 sets it either way.
std::string register_block_flag(const std::string& isa) {
  std::string block = setting("JAGTILE_REGISTER_BLOCK", "register block", "8x2", "6x4");
  if (block.empty() && wide_defaults(isa)) block = "6x4";
  return block == "6x4" ? " -DJT_MM_6X4=1" : "";
}

}  // namespace

// JAGTILE_CPU_ISA lowers the instruction set below the CPU's own, as it does for the reduce
// templates: `avx512bf16` drops AMX (the matmul's bf16 tiles), `avx512` AVX512-BF16 too (the
// bf16 pairs), `avx2` drops AVX-512 (AVX2 + FMA remain), `portable` drops AVX and everything
// after it. With it, the vector width (vector_width_flag) and the microkernel's register block
// (register_block_flag). Read on every compile: the flags are part of the cache key.
std::string isa_flags() {
  const char* forced = std::getenv("JAGTILE_CPU_ISA");
  const std::string isa = forced ? forced : "";
#define JT_NO_AMX " -mno-amx-tile -mno-amx-bf16 -mno-amx-int8"
  const char* lowered = isa == "avx512bf16" ? JT_NO_AMX
                        : isa == "avx512"   ? " -mno-avx512bf16" JT_NO_AMX
                        : isa == "avx2"     ? " -mno-avx512f"
                        : isa == "portable" ? " -mno-avx"
                                            : "";
#undef JT_NO_AMX
  return lowered + vector_width_flag(isa) + register_block_flag(isa);
}

CodeKind code_kind(const std::string& source) {
  return source.rfind("// Generated by jagtile (CUDA)", 0) == 0 ? CodeKind::emulation
                                                                : CodeKind::native;
}

std::string compiler_flags(CodeKind kind) {
  // The CUDA host emulation runs generated GPU code on small inputs to check it, never for speed:
  // -O1 compiles it in about half the time of -O3 (0.32 against 0.64 s for a fuzzer's kernel,
  // GCC 12), and the emulation's compile was the largest part of a differential fuzzer run.
  const char* level = kind == CodeKind::emulation ? "-O1" : "-O3";
  // -fwrapv: integer overflow wraps (the IR's int64 arithmetic); -fno-math-errno lets sqrtf
  // vectorise, -fno-trapping-math lets floorf (in jt_floordiv) vectorise; -fopenmp-simd honours
  // the emitted `omp simd` pragmas without an OpenMP runtime; -fno-tree-loop-distribute-patterns
  // keeps a tile row's copy an inline vector loop instead of a memcpy call (at 32 floats the
  // call cost more than the copy: 14% of jagged_dense_bmm's time). The flags are part of the key
  // (Jit::key_of), so sanitized and plain kernels never share an entry.
  return level + std::string(" -march=native") + isa_flags() +
         " -fPIC -shared -std=c++17 -fopenmp-simd -fno-math-errno -fno-trapping-math -fwrapv -w"
         " -fno-tree-loop-distribute-patterns" +
         sanitizer_flags();
}

std::string cpu_features() {
  static const std::string features = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line, vendor, family, model, flags;
    while (std::getline(in, line)) {
      if (vendor.empty() && line.rfind("vendor_id", 0) == 0) vendor = line;
      if (family.empty() && line.rfind("cpu family", 0) == 0) family = line;
      if (model.empty() && line.rfind("model name", 0) == 0) model = line;
      if (flags.empty() && line.rfind("flags", 0) == 0) flags = line + " ";
      if (!vendor.empty() && !family.empty() && !model.empty() && !flags.empty()) break;
    }
    return vendor + "\n" + family + "\n" + model + "\n" + flags;
  }();
  return features;
}

bool avx512_on_wide_units(const std::string& features) {
  if (features.find(" avx512f ") == std::string::npos) return false;
  if (features.find("GenuineIntel") != std::string::npos) return true;
  if (features.find("AuthenticAMD") == std::string::npos) return false;
  // AMD: Zen 4 (family 25) runs a 512-bit operation on its two 256-bit units; Zen 5 (family 26)
  // and later server and desktop parts have 512-bit units. Zen 5's laptop parts, which split
  // them again, were not measured; JAGTILE_REGISTER_BLOCK and JAGTILE_VECTOR_WIDTH set them.
  const size_t at = features.find("cpu family");
  if (at == std::string::npos) return false;
  const size_t colon = features.find(':', at);
  if (colon == std::string::npos) return false;
  return std::atoi(features.c_str() + colon + 1) >= 26;
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
  return key_of(source, code_kind(source));
}

std::string Jit::key_of(const std::string& text, CodeKind kind) const {
  uint64_t h = fnv1a64(text);
  h = fnv1a64(std::string_view("\0compiler\0", 10), h);
  h = fnv1a64(compiler_identity(), h);
  h = fnv1a64(std::string_view("\0flags\0", 7), h);
  h = fnv1a64(compiler_flags(kind), h);
  h = fnv1a64(std::string_view("\0cpu\0", 5), h);
  h = fnv1a64(cpu_features(), h);
  return hex64(h);
}

std::string Jit::shared_dir() const {
  // JAGTILE_PRELUDE_DIR shares the builds between cache folders (the differential fuzzer gives
  // every kernel a scratch cache folder of its own, and would rebuild them for each).
  const char* shared = std::getenv("JAGTILE_PRELUDE_DIR");
  if (shared && *shared) {
    std::error_code ec;
    std::filesystem::create_directories(shared, ec);
    const std::filesystem::path absolute = std::filesystem::absolute(shared, ec);
    if (!ec) return absolute.string();
  }
  return disk_.dir();
}

bool Jit::build_shared(const std::string& input, const std::string& text, const std::string& output,
                       const std::string& how, CodeKind kind) {
  const std::string failed = input + ".failed";  // not tried again for this text
  struct stat st;
  if (::stat(failed.c_str(), &st) == 0) return false;
  if (::stat(output.c_str(), &st) == 0) return true;
  // Written under private names, then renamed: other processes see whole files or none. The
  // counter keeps two threads apart too (two cache folders sharing JAGTILE_PRELUDE_DIR).
  static std::atomic<uint64_t> builds{0};
  const std::string tag =
      "." + std::to_string(::getpid()) + "-" + std::to_string(builds.fetch_add(1)) + ".tmp";
  write_text(input + tag, text);
  if (std::rename((input + tag).c_str(), input.c_str()) != 0) return false;
  const std::string cmd = compiler_command() + " " + compiler_flags(kind) + " " + how + " -o " +
                          shell_quote(output + tag) + " " + shell_quote(input) +
                          " > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    ::unlink((output + tag).c_str());
    write_text(failed, "");
    return false;
  }
  return std::rename((output + tag).c_str(), output.c_str()) == 0;
}

// The matmul microkernel (cpp_matmul.cpp) is the same text in every matmul kernel, and compiling
// it was most of such a kernel's cold compile: 0.63 of the bundled jagged_dense_bmm's 1.10 s
// (GCC 12, without the precompiled prelude). So its definitions are compiled once per flavour
// (text, compiler, flags, CPU, as an entry's key) into objects in the shared folder, one per
// entry the kernel calls, and the kernel's file keeps only the declarations. The entries are
// hidden functions: each kernel's shared object holds its own copy, as it did inline, and
// exports none. Where an object cannot be built, the file is compiled whole, as before.
Jit::Linked Jit::with_linked_matmul(const std::string& source) {
  const size_t first = source.find("#include");
  const size_t nests = source.find("\n// ---- device nest ");
  const size_t opening = source.find(kMatmulOpening);
  const size_t definitions = source.find(kMatmulDefinitions);
  if (first == std::string::npos || nests == std::string::npos || opening == std::string::npos ||
      definitions == std::string::npos ||
      !(first < opening && opening < definitions && definitions < nests))
    return Linked(source);
  const std::string body = source.substr(nests);
  const bool bf16 = body.find("jt_matmul_bf16(") != std::string::npos;
  if (!bf16 && body.find("jt_matmul_f32(") == std::string::npos) return Linked(source);
  const size_t opened = source.find('\n', opening) + 1;
  // Inside the prelude, so that its precompiled header sees the same definition.
  const std::string head = source.substr(first, opened - first) +
                           "#define JT_MATMUL_ENTRY __attribute__((visibility(\"hidden\")))\n";
  const std::string declarations = source.substr(opened, definitions - opened);
  const CodeKind kind = code_kind(source);
  const std::string dir = shared_dir();
  Linked linked;
  linked.kind = kind;
  for (int part = 1; part <= (bf16 ? 2 : 1); ++part) {
    const std::string text = head + "#define JT_MATMUL_PART " + std::to_string(part) + "\n" +
                             declarations + source.substr(definitions, nests + 1 - definitions);
    linked.objects.push_back(dir + "/matmul-" + std::to_string(part) + "-" + key_of(text, kind) +
                             ".o");
    linked.object_texts.push_back(text);
  }
  linked.source = source.substr(0, first) + head + declarations + source.substr(nests + 1);
  return linked;
}

bool Jit::build_objects(const Linked& linked) {
  for (size_t i = 0; i < linked.objects.size(); ++i) {
    const std::string& object = linked.objects[i];
    const std::string input = object.substr(0, object.rfind('.')) + ".cpp";  // beside the .o
    if (!build_shared(input, linked.object_texts[i], object, "-c", linked.kind)) return false;
  }
  return true;
}

// Every generated file of one flavour (with or without the matmul microkernel) shares its text
// from the first #include to the first device nest: the includes, the calling convention, the
// helpers. Parsing it was half of a cold compile (0.8 of 1.6 s for the HSTU kernel, GCC 12), so
// GCC compiles it once into a precompiled header in the shared folder, named by the same kind
// of key as an entry (text, compiler, flags, CPU), and the kernel's file includes it. GCC falls
// back to the header's text if the .gch does not fit, so a stale one costs time, not
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
  const CodeKind kind = code_kind(source);  // the header is compiled with the file's own flags
  const std::string name = "prelude-" + key_of(prelude, kind) + ".h";
  const std::string dir = shared_dir();
  const std::string header = dir + "/" + name;
  if (!build_shared(header, prelude, header + ".gch", "-x c++-header", kind)) return source;
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
    std::string cmd;
    auto compile = [&](const std::string& text, const std::vector<std::string>& objects) {
      write_text(cpp, text);
      cmd = compiler_command() + " " + compiler_flags(code_kind(source)) + " -o " +
            shell_quote(so) + " " + shell_quote(cpp);
      for (const std::string& object : objects) cmd += " " + shell_quote(object);
      cmd += " > " + shell_quote(err) + " 2>&1";
      return std::system(cmd.c_str());
    };
    Linked linked = with_linked_matmul(source);
    std::string text;
    if (linked.objects.empty()) {
      text = with_precompiled_prelude(source);
    } else {
      // The objects build on another thread while this one builds the kernel file's precompiled
      // prelude: in a new folder, the first matmul kernel then waits for the longer of the two.
      std::future<bool> objects =
          std::async(std::launch::async, [&] { return build_objects(linked); });
      text = with_precompiled_prelude(linked.source);
      if (!objects.get()) {
        linked = Linked(source);
        text = with_precompiled_prelude(source);
      }
    }
    int rc = compile(text, linked.objects);
    if (rc != 0 && !linked.objects.empty() && compile(with_precompiled_prelude(source), {}) == 0) {
      // Only the link failed: an object damaged after it was built. Removed, to be rebuilt.
      for (const std::string& object : linked.objects) ::unlink(object.c_str());
      rc = 0;
    }
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
