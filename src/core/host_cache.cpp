// The CPU allocator behind Tensor storage, with a cache of large freed blocks.
//
// Why: a kernel's output is a fresh tensor on every call. A large block from malloc is a fresh
// mmap, and the first write to each page takes a fault in which the kernel zeroes the page, so
// a 256 MiB output costs a full extra write pass (and 65536 faults with 4 KiB pages) before the
// kernel's own stores land. Keeping freed blocks of 1 MiB and more for the next allocation of
// the same size makes repeated calls fault-free, as a framework's caching allocator does.
//
// Policy: blocks are matched best-fit, accepting up to 1/8 slack; the cache holds at most
// `limit` bytes (JAGTILE_HOST_CACHE_MB, default 1024; 0 turns it off) and evicts the oldest
// block first. Under AddressSanitizer the cache is off so use-after-free stays detectable.
// Blocks of 8 MiB and more are 2 MiB aligned and advised for transparent huge pages.
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "jagtile/error.h"
#include "jagtile/tensor.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JAGTILE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define JAGTILE_ASAN 1
#endif

namespace jagtile {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kMinCached = size_t(1) << 20;  // smaller blocks: malloc is fast enough
constexpr size_t kGranule = size_t(64) << 10;   // large sizes round up to this
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kHugeFrom = 4 * kHugePage;
// Requests beyond any machine's address space fail here rather than in malloc, which under
// sanitizers aborts instead of returning null.
constexpr int64_t kMaxHostBytes = int64_t(1) << 46;

// The setting is read and checked (a bad value is warned about) in every build, so that a
// sanitizer build behaves the same apart from the cache itself.
int64_t limit_from_environment() {
  constexpr int64_t kDefaultMb = 1024;
  int64_t limit = kDefaultMb << 20;
  const char* text = std::getenv("JAGTILE_HOST_CACHE_MB");
  if (text && *text) {
    char* end = nullptr;
    long long mb = std::strtoll(text, &end, 10);
    if (*end != '\0' || mb < 0 || mb > (int64_t(1) << 30)) {
      std::fprintf(
          stderr, "jagtile: warning: JAGTILE_HOST_CACHE_MB='%s' is not a size in MiB; using %lld\n",
          text, static_cast<long long>(kDefaultMb));
    } else {
      limit = int64_t(mb) << 20;
    }
  }
#ifdef JAGTILE_ASAN
  limit = 0;  // off, so that a use after free stays detectable
#endif
  return limit;
}

class HostBlockCache {
 public:
  void* allocate(int64_t bytes) {
    if (bytes > kMaxHostBytes) throw out_of_memory(bytes);
    size_t want = size_t(bytes);
    if (want < kMinCached) {
      size_t rounded = want == 0 ? kAlignment : (want + kAlignment - 1) / kAlignment * kAlignment;
      void* p = std::aligned_alloc(kAlignment, rounded);
      if (!p) throw out_of_memory(bytes);
      return p;
    }
    size_t rounded = (want + kGranule - 1) / kGranule * kGranule;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = by_size_.lower_bound(rounded);
      if (it != by_size_.end() && it->first <= rounded + rounded / 8) {
        Cached block = *it->second;
        order_.erase(it->second);
        by_size_.erase(it);
        cached_bytes_ -= int64_t(block.size);
        live_[block.ptr] = block.size;
        ++hits_;
        return block.ptr;
      }
      ++misses_;
    }
    void* p = fresh_block(rounded);
    if (!p) {
      // Cached blocks of other sizes may be what stands between this request and success.
      clear();
      p = fresh_block(rounded);
      if (!p) throw out_of_memory(bytes);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    live_[p] = rounded;
    return p;
  }

  void release(void* p) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    if (it == live_.end()) {  // a small block
      lock.unlock();
      std::free(p);
      return;
    }
    size_t size = it->second;
    live_.erase(it);
    if (int64_t(size) > limit_) {
      lock.unlock();
      std::free(p);
      return;
    }
    std::vector<void*> evicted;
    while (cached_bytes_ + int64_t(size) > limit_) evicted.push_back(evict_oldest());
    order_.push_back({p, size});
    by_size_.emplace(size, std::prev(order_.end()));
    cached_bytes_ += int64_t(size);
    lock.unlock();
    for (void* e : evicted) std::free(e);
  }

  void set_limit(int64_t bytes) {
    std::vector<void*> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = bytes < 0 ? 0 : bytes;
      while (cached_bytes_ > limit_) evicted.push_back(evict_oldest());
    }
    for (void* e : evicted) std::free(e);
  }

  void clear() {
    std::vector<void*> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (!order_.empty()) evicted.push_back(evict_oldest());
    }
    for (void* e : evicted) std::free(e);
  }

  HostCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {cached_bytes_, limit_, hits_, misses_};
  }

 private:
  struct Cached {
    void* ptr;
    size_t size;
  };

  static UserError out_of_memory(int64_t bytes) {
    return UserError("out of host memory allocating " + std::to_string(bytes) + " bytes",
                     "use smaller inputs or free memory");
  }

  static void* fresh_block(size_t rounded) {
    size_t align = rounded >= kHugeFrom ? kHugePage : kAlignment;
    size_t size = (rounded + align - 1) / align * align;
    void* p = std::aligned_alloc(align, size);
    // Where the system allows it, a 256 MiB block then takes 128 faults instead of 65536.
    if (p && align == kHugePage) ::madvise(p, size, MADV_HUGEPAGE);
    return p;
  }

  // Called with the mutex held; the caller frees the returned block after unlocking.
  void* evict_oldest() {
    Cached oldest = order_.front();
    auto range = by_size_.equal_range(oldest.size);
    for (auto it = range.first; it != range.second; ++it)
      if (it->second == order_.begin()) {
        by_size_.erase(it);
        break;
      }
    order_.pop_front();
    cached_bytes_ -= int64_t(oldest.size);
    return oldest.ptr;
  }

  std::mutex mutex_;
  std::list<Cached> order_;  // cached blocks, oldest first
  std::multimap<size_t, std::list<Cached>::iterator> by_size_;
  std::unordered_map<void*, size_t> live_;  // large blocks handed out, with their sizes
  int64_t cached_bytes_ = 0;
  int64_t limit_ = limit_from_environment();
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

// Never destroyed: tensors in static storage may be released after every other static is gone.
HostBlockCache& host_cache() {
  static HostBlockCache* cache = new HostBlockCache();
  return *cache;
}

}  // namespace

void* host_allocate(int64_t bytes) {
  return host_cache().allocate(bytes);
}
void host_release(void* ptr) {
  host_cache().release(ptr);
}
HostCacheStats host_cache_stats() {
  return host_cache().stats();
}
void set_host_cache_limit(int64_t bytes) {
  host_cache().set_limit(bytes);
}
void clear_host_cache() {
  host_cache().clear();
}

}  // namespace jagtile
