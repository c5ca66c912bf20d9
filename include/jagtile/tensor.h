// Tensor: an owning, contiguous, row-major buffer with a shape, a dtype and a device.
// Copies of a Tensor share storage (like torch); view()/reshape() share storage too.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "jagtile/dtype.h"

namespace jagtile {

using Shape = std::vector<int64_t>;

struct Device {
  enum class Kind : uint8_t { cpu, cuda };
  Kind kind = Kind::cpu;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int index = 0) { return {Kind::cuda, index}; }
  bool is_cpu() const { return kind == Kind::cpu; }
  bool is_cuda() const { return kind == Kind::cuda; }
  bool operator==(const Device&) const = default;
  std::string str() const;  // "cpu", "cuda:0"
};

// Device memory hooks. The CPU allocator is built in; a backend (CUDA) registers its own.
struct DeviceAllocator {
  std::function<void*(int64_t bytes, int device_index)> allocate;
  std::function<void(void* ptr, int device_index)> release;
  // Copy `bytes` between two buffers; either side may be host or device memory.
  std::function<void(void* dst, Device dst_device, const void* src, Device src_device,
                     int64_t bytes)>
      copy;
};
void register_device_allocator(Device::Kind kind, DeviceAllocator allocator);
bool device_allocator_registered(Device::Kind kind);
// Removes a backend's allocator (tests, backend shutdown); storage still alive on that device is
// then leaked rather than released. The CPU allocator cannot be removed.
void unregister_device_allocator(Device::Kind kind);

// CPU memory behind tensors. Blocks of 1 MiB and more are kept after release and handed to the
// next allocation of (nearly) the same size, so a kernel called in a loop does not pay page
// faults on a fresh output every call. The cache holds at most JAGTILE_HOST_CACHE_MB MiB
// (default 1024; 0 turns it off; always off under AddressSanitizer), oldest block evicted first.
struct HostCacheStats {
  int64_t cached_bytes = 0;  // held for reuse now
  int64_t limit_bytes = 0;
  int64_t hits = 0;    // large allocations served from the cache
  int64_t misses = 0;  // large allocations that needed fresh memory
};
void* host_allocate(int64_t bytes);  // 64-byte aligned; UserError when out of memory
void host_release(void* ptr);
HostCacheStats host_cache_stats();
void set_host_cache_limit(int64_t bytes);  // evicts down to the new limit
void clear_host_cache();                   // frees every cached block

// A block of memory, freed when the last Tensor using it goes away. CPU storage is 64-byte
// aligned, except external storage, which is memory someone else owns (a numpy array, a torch
// tensor) wrapped without a copy: it is never released through the allocator; `on_release`
// runs instead when the last Tensor goes (it drops the owner's reference).
class Storage {
 public:
  Storage(int64_t bytes, Device device);
  Storage(void* external_data, int64_t bytes, Device device, std::function<void()> on_release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  int64_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  int64_t bytes_ = 0;
  Device device_;
  std::function<void()> on_release_;  // set for external storage only
  bool external_ = false;
};

class Tensor {
 public:
  Tensor() = default;  // undefined tensor: defined() is false

  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype, Device device = Device::cpu());
  // A CPU tensor holding `values` converted to dtype (16-bit floats rounded to nearest even).
  static Tensor from_doubles(const Shape& shape, const std::vector<double>& values, DType dtype);
  template <typename T>
  static Tensor from_vector(const Shape& shape, const std::vector<T>& values, DType dtype);
  // A tensor over memory owned elsewhere, C-contiguous with `shape` and `dtype`, without a copy
  // (the Python package wraps DLPack tensors this way). `on_release` runs once, when the last
  // Tensor sharing the storage goes away, on whichever thread drops it: it must be safe there
  // (the Python package takes the GIL in it). `data` may be null only when the shape is empty.
  static Tensor from_external(void* data, const Shape& shape, DType dtype, Device device,
                              std::function<void()> on_release);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim() const { return int64_t(shape_.size()); }
  // Size of dimension d; negative d counts from the end. Raises UserError when out of range.
  int64_t size(int64_t d) const;
  int64_t numel() const;
  int64_t nbytes() const { return numel() * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const;

  void* raw_data() const;
  template <typename T>
  T* data() const {
    return static_cast<T*>(raw_data());
  }

  // Same storage, new shape; one dimension may be -1 (inferred). UserError when numel differs.
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const { return view(shape); }
  // A deep copy (same device), or a copy on another device.
  Tensor clone() const;
  Tensor to(Device device) const;
  // A new CPU tensor with the elements converted to dtype.
  Tensor to_dtype(DType dtype) const;

  // Element access for CPU tensors by flat index, converted through double. Slow; for tests,
  // references and small host reads.
  double item_as_double(int64_t flat_index) const;
  void set_from_double(int64_t flat_index, double value);

  std::string shape_str() const;  // "[3, 4]"

  // Whether two tensors share one storage (views of each other, or copies of one handle).
  bool shares_storage(const Tensor& other) const {
    return storage_ != nullptr && storage_ == other.storage_;
  }

 private:
  std::shared_ptr<Storage> storage_;
  int64_t byte_offset_ = 0;
  Shape shape_;
  DType dtype_ = DType::f32;
};

int64_t shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);

template <typename T>
Tensor Tensor::from_vector(const Shape& shape, const std::vector<T>& values, DType dtype) {
  std::vector<double> as_double(values.begin(), values.end());
  return from_doubles(shape, as_double, dtype);
}

// .npy files (numpy format versions 1.0-3.0, little-endian, C order). bf16 is stored as '<u2'
// with the header carrying 'jagtile_dtype': 'bfloat16' (see docs/npy.md). Raises UserError
// naming the file for anything unsupported or malformed.
Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace jagtile
