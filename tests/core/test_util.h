// Helpers shared by the core tests: catching a UserError and returning its what() text, and
// temporary files that clean up after themselves.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "jagtile/error.h"

namespace jagtile::test {

// Runs fn, expects a UserError, returns its full what() text ("" and a failure otherwise).
template <typename Fn>
std::string user_error_text(Fn&& fn) {
  try {
    fn();
  } catch (const UserError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected UserError, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected UserError, nothing was thrown";
  return {};
}

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("jagtile_core_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace jagtile::test

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "jagtile/tensor.h"

namespace jagtile::test {

// Counters of the fake device allocator below.
struct FakeDeviceCounters {
  std::atomic<int> allocations{0};
  std::atomic<int> releases{0};
  std::atomic<int> copies{0};
};

inline FakeDeviceCounters& fake_device_counters() {
  static FakeDeviceCounters counters;
  return counters;
}

// Registers a "CUDA" allocator backed by host memory for its lifetime, so device code paths
// (copies to and from the device, device checks) run on machines without a GPU. Leaves a real
// backend alone if one is registered already (installed() is then false).
class FakeCudaAllocator {
 public:
  FakeCudaAllocator() {
    if (device_allocator_registered(Device::Kind::cuda)) return;
    DeviceAllocator a;
    a.allocate = [](int64_t bytes, int) -> void* {
      fake_device_counters().allocations++;
      return std::malloc(size_t(bytes > 0 ? bytes : 1));
    };
    a.release = [](void* p, int) {
      fake_device_counters().releases++;
      std::free(p);
    };
    a.copy = [](void* dst, Device, const void* src, Device, int64_t bytes) {
      fake_device_counters().copies++;
      std::memcpy(dst, src, size_t(bytes));
    };
    register_device_allocator(Device::Kind::cuda, a);
    installed_ = true;
  }
  ~FakeCudaAllocator() {
    if (installed_) unregister_device_allocator(Device::Kind::cuda);
  }
  FakeCudaAllocator(const FakeCudaAllocator&) = delete;
  FakeCudaAllocator& operator=(const FakeCudaAllocator&) = delete;
  bool installed() const { return installed_; }

 private:
  bool installed_ = false;
};

}  // namespace jagtile::test
