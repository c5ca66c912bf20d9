// Disk cache entries for compiled kernels (see disk_cache.h): trailer layout, verification and
// atomic publication.
#include "codegen/cpu/disk_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "jagtile/error.h"

namespace jagtile::codegen::cpu {

namespace {

constexpr char kMagic[8] = {'J', 'T', 'C', 'P', 'U', 'S', 'O', '1'};
constexpr char kEndMagic[8] = {'J', 'T', 'E', 'N', 'D', '0', '0', '1'};

// Trailer: magic[8] key[16 hex] size u64 checksum u64 reserved[16] end_magic[8] = 64 bytes.
struct Trailer {
  char magic[8];
  char key[16];
  uint64_t size;
  uint64_t checksum;
  char reserved[16];
  char end_magic[8];
};
static_assert(sizeof(Trailer) == DiskCache::kTrailerSize);

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

void make_dirs(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty()) ::mkdir(cur.c_str(), 0755);
    }
    if (i < dir.size()) cur += dir[i];
  }
}

void write_all(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      JAGTILE_CHECK(false, << "cannot write '" << path << "': " << std::strerror(errno));
    }
    data += w;
    n -= size_t(w);
  }
}

}  // namespace

std::string default_cache_dir() {
  if (const char* d = std::getenv("JAGTILE_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/jagtile";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/jagtile";
  return "/tmp/jagtile-cache-" + std::to_string(::getuid());
}

DiskCache::DiskCache(std::string dir, std::string extension)
    : dir_(std::move(dir)), extension_(std::move(extension)) {
  make_dirs(dir_);
}

std::string DiskCache::entry_path(const std::string& key) const {
  return dir_ + "/" + key + extension_;
}

bool DiskCache::verify(const std::string& key) const {
  std::string payload;
  return read(key, &payload);
}

bool DiskCache::read(const std::string& key, std::string* payload) const {
  std::string bytes;
  if (!read_file(entry_path(key), bytes) || bytes.size() < kTrailerSize) return false;
  Trailer t;
  std::memcpy(&t, bytes.data() + bytes.size() - kTrailerSize, kTrailerSize);
  if (std::memcmp(t.magic, kMagic, 8) != 0 || std::memcmp(t.end_magic, kEndMagic, 8) != 0)
    return false;
  if (key.size() != 16 || std::memcmp(t.key, key.data(), 16) != 0) return false;
  if (t.size != bytes.size() - kTrailerSize) return false;
  if (t.checksum != fnv1a64(std::string_view(bytes.data(), size_t(t.size)))) return false;
  bytes.resize(size_t(t.size));
  *payload = std::move(bytes);
  return true;
}

void DiskCache::publish(const std::string& key, const std::string& so_path) const {
  std::string bytes;
  JAGTILE_CHECK(read_file(so_path, bytes), << "cannot read compiled kernel '" << so_path << "'");
  publish_bytes(key, bytes);
}

void DiskCache::publish_bytes(const std::string& key, const std::string& bytes) const {
  Trailer t{};
  std::memcpy(t.magic, kMagic, 8);
  std::memcpy(t.end_magic, kEndMagic, 8);
  JAGTILE_CHECK(key.size() == 16, << "cache key must be 16 hex digits");
  std::memcpy(t.key, key.data(), 16);
  t.size = bytes.size();
  t.checksum = fnv1a64(bytes);
  static std::atomic<uint64_t> counter{0};
  std::string tmp = dir_ + "/." + key + ".tmp-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  JAGTILE_CHECK(fd >= 0, << "cannot create '" << tmp << "': " << std::strerror(errno));
  write_all(fd, bytes.data(), bytes.size(), tmp);
  write_all(fd, reinterpret_cast<const char*>(&t), sizeof t, tmp);
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), entry_path(key).c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    JAGTILE_CHECK(
        false, << "cannot publish cache entry '" << entry_path(key) << "': " << std::strerror(e));
  }
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace jagtile::codegen::cpu
