// The disk cache of compiled kernels (the CPU backend's shared objects, the CUDA backend's
// cubins). One file per entry, `<dir>/<key><extension>`: the compiled bytes followed by a fixed
// trailer (magic, key, payload size, payload checksum), published atomically (temporary file in the
// same directory, fsync, rename). An entry is loaded only after its trailer and checksum verify, so
// a truncated, corrupt or foreign file is rebuilt, never handed to dlopen.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/hash.h"

namespace jagtile::codegen::cpu {

using jagtile::fnv1a64;  // core/hash.h
using jagtile::hex64;

// JAGTILE_CACHE_DIR, else $XDG_CACHE_HOME/jagtile, else $HOME/.cache/jagtile, else a folder
// under /tmp. Created on demand.
std::string default_cache_dir();

class DiskCache {
 public:
  explicit DiskCache(std::string dir, std::string extension = ".so");
  const std::string& dir() const { return dir_; }

  std::string entry_path(const std::string& key) const;
  // True when the entry exists and its trailer and checksum match `key`.
  bool verify(const std::string& key) const;
  // Publishes the shared object at `so_path` as the entry for `key` (atomic; a concurrent
  // publisher of the same key simply wins or loses the rename, both files being valid).
  void publish(const std::string& key, const std::string& so_path) const;
  // Publishes `bytes` as the entry for `key` (atomic, as publish).
  void publish_bytes(const std::string& key, const std::string& bytes) const;
  // The entry's bytes (trailer removed) when it verifies; false (and `payload` untouched) when
  // it is missing, truncated, corrupt or another key's.
  bool read(const std::string& key, std::string* payload) const;

  static constexpr size_t kTrailerSize = 64;

 private:
  std::string dir_;
  std::string extension_;
};

}  // namespace jagtile::codegen::cpu
