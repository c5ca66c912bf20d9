// Shared by the generic CPU backend tests: a cache directory for the whole test binary (so each
// distinct kernel compiles once per binary, and once per machine while the folder lives), fresh
// temporary folders for the cache tests, and example sources.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "jagtile/compiler.h"
#include "jagtile/error.h"
#include "testing/examples.h"

namespace jagtile::testing {

// The example tests' cache: $JAGTILE_CACHE_DIR when set, else a folder under /tmp that
// survives between runs (entries are content-addressed and verified, so sharing is safe).
inline void use_shared_cache_dir() {
  static bool done = [] {
    const char* d = std::getenv("JAGTILE_CACHE_DIR");
    if (!d || !*d) {
      std::string dir = "/tmp/jagtile-test-codegen-cache-" + std::to_string(::getuid());
      ::setenv("JAGTILE_CACHE_DIR", dir.c_str(), 1);
    }
    return true;
  }();
  (void)done;
}

// A new empty folder, removed (with its files) when the object dies.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/jagtile-codegen-test-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    EXPECT_NE(p, nullptr);
    path_ = p ? p : "/tmp";
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path_ + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The outputs of `kernel` of a kernel source, run on `backend` (compiled code shared through the
// tests' cache folder).
inline std::vector<Tensor> run_source(const std::string& source, const std::string& file,
                                      Backend backend, const std::string& kernel,
                                      const ArgMap& args) {
  use_shared_cache_dir();
  Program p = Program::from_source(source, file);
  Options o;
  o.backend = backend;
  return p.call(kernel, args, o).outputs;
}

inline std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(JAGTILE_SOURCE_DIR) + "/" + relative);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Options cpu_options(bool checked = true, int threads = 0) {
  Options o;
  o.backend = Backend::cpu;
  o.checked = checked;
  o.num_threads = threads;
  return o;
}

// The generated C++ of bundled example `name` on the inputs it generates for `shape` (`values`
// floats, i64 offsets), planned for the CPU backend (checked). A new Program each time, so a
// planning setting changed in between takes effect.
inline std::string example_cpu_source(const std::string& name, const JaggedShape& shape,
                                      DType values) {
  use_shared_cache_dir();
  const ExampleInfo& info = *find_example(name);
  const Program p = Program::from_source(read_source_file(info.file), name + ".py");
  const ArgMap args = info.make_inputs(shape, values, DType::i64);
  return p.specialise("", args, cpu_options()).source(Backend::cpu);
}

// The UserError text of a call, or "(no error)".
inline std::string error_of(const Program& p, const std::string& kernel, const ArgMap& args,
                            const Options& o) {
  try {
    p.call(kernel, args, o);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace jagtile::testing
