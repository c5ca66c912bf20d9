// The generic CPU backend's JIT: compiles generated C++ with the system compiler ($CXX, default
// c++) into a shared object, caches it on disk (disk_cache.h), and loads it. Loaded code is kept
// by whoever asked for it (the runtime keeps it on the specialisation), not here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "codegen/cpu/abi.h"
#include "codegen/cpu/disk_cache.h"

namespace jagtile::codegen::cpu {

// A loaded shared object; dlclose'd when the last user lets go.
struct LoadedKernel {
  void* handle = nullptr;
  std::string key;
  std::string path;
  // The address of an exported function (InternalError when it has none of that name).
  void* symbol(const std::string& name) const;
  ~LoadedKernel();
};

// What a generated file is: native code (the generic CPU backend) or the CUDA host emulation's
// file (emulation.cpp), told by its first line.
enum class CodeKind : uint8_t { native, emulation };
CodeKind code_kind(const std::string& source);

// How the last load() was served.
struct JitStats {
  enum class Source : uint8_t { disk, compiled } source = Source::disk;
  double seconds = 0;  // wall time of the load (compile included)
};

class Jit {
 public:
  explicit Jit(std::string cache_dir);
  // The JIT over `dir`, or over default_cache_dir() when `dir` is empty (JAGTILE_CACHE_DIR is
  // read on every call, so a changed variable takes effect).
  static Jit& for_dir(const std::string& dir = {});

  // The kernel for `source` (which must export `function`): a verified disk entry, else
  // compiled now.
  // InternalError (naming the kept source file and the compiler's output) when the compiler
  // fails.
  std::shared_ptr<const LoadedKernel> load(const std::string& source, const std::string& function,
                                           JitStats* stats = nullptr);

  // The cache key: hash of source, compiler identity and version, flags and CPU features.
  std::string key_of(const std::string& source) const;
  const DiskCache& disk() const { return disk_; }

 private:
  // `source` with its shared prelude replaced by an #include of that prelude precompiled in the
  // shared folder (built on first use), or `source` itself where that cannot be done.
  std::string with_precompiled_prelude(const std::string& source);
  // A file with the matmul microkernel: its source without the microkernel's definitions and the
  // objects that hold them, to be linked with it; `source` itself and no objects where the file
  // calls no entry. build_objects() compiles the objects in the shared folder where they are
  // missing (false when one cannot be built).
  struct Linked {
    explicit Linked(std::string whole = {}) : source(std::move(whole)) {}
    std::string source;
    std::vector<std::string> objects;       // their paths
    std::vector<std::string> object_texts;  // what each is compiled from
    CodeKind kind = CodeKind::native;
  };
  Linked with_linked_matmul(const std::string& source);
  bool build_objects(const Linked& linked);
  // Where builds shared by the kernels go: the cache folder, or JAGTILE_PRELUDE_DIR when set.
  std::string shared_dir() const;
  // Builds `output` from `input`, written with `text`, by the compiler with `kind`'s flags and
  // `how` (such as "-c"), unless it exists: true when `output` is there. A failure is
  // remembered beside `input` and not tried again.
  bool build_shared(const std::string& input, const std::string& text, const std::string& output,
                    const std::string& how, CodeKind kind);
  // The key of `text` compiled as code of `kind` (a prelude takes its whole file's kind).
  std::string key_of(const std::string& text, CodeKind kind) const;

  DiskCache disk_;
  std::mutex mutex_;  // one compile at a time per folder and process
};

// The compiler command ($CXX or c++), its `--version` output (cached per process), the flags
// for code of `kind`.
std::string compiler_command();
std::string compiler_identity();
std::string compiler_flags(CodeKind kind = CodeKind::native);
// The part of compiler_flags() that JAGTILE_CPU_ISA sets ("" without it): also part of the CPU
// backend's in-memory code key.
std::string isa_flags();
// /proc/cpuinfo's first vendor_id, cpu family, model name and flags lines (flags ending in a
// space), read once; part of the JIT's cache key.
std::string cpu_features();
// Whether the CPU that `features` (cpu_features()'s text) describes has AVX-512 on 512-bit FMA
// units: Intel's AVX-512 cores, AMD's from Zen 5 (family 26) on. There the generated loops aim
// for 512-bit vectors and the f32 microkernel takes 6 x 4 register blocks.
bool avx512_on_wide_units(const std::string& features);

}  // namespace jagtile::codegen::cpu
