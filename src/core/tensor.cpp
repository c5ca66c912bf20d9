// Tensor and Storage: shapes, views, device memory through the allocator registry (CPU built in,
// CUDA registered by its backend), copies between devices and dtype conversion.
#include "jagtile/tensor.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>

#include "core/element.h"
#include "jagtile/error.h"

namespace jagtile {

std::string Device::str() const {
  if (kind == Kind::cpu) return "cpu";
  return "cuda:" + std::to_string(index);
}

namespace {

DeviceAllocator make_cpu_allocator() {
  DeviceAllocator a;
  a.allocate = [](int64_t bytes, int) -> void* { return host_allocate(bytes); };
  a.release = [](void* p, int) { host_release(p); };
  a.copy = [](void* dst, Device, const void* src, Device, int64_t bytes) {
    if (bytes > 0) std::memcpy(dst, src, size_t(bytes));
  };
  return a;
}

struct AllocatorRegistry {
  std::mutex mutex;
  std::array<std::optional<DeviceAllocator>, 2> by_kind;
  AllocatorRegistry() { by_kind[size_t(Device::Kind::cpu)] = make_cpu_allocator(); }
};

AllocatorRegistry& registry() {
  static AllocatorRegistry r;
  return r;
}

UserError no_cuda_error() {
  return UserError("no CUDA support in this build",
                   "rebuild with -DJAGTILE_ENABLE_CUDA=ON on a machine with the CUDA toolkit, or "
                   "keep tensors on the CPU");
}

// A copy of the allocator for a device kind (copied so no lock is held while it runs).
DeviceAllocator allocator_for(Device::Kind kind) {
  AllocatorRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const auto& entry = r.by_kind[size_t(kind)];
  if (!entry) throw no_cuda_error();
  return *entry;
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, int64_t bytes) {
  // Whichever side is not the host owns the copy routine.
  Device::Kind kind = dst_device.is_cpu() ? src_device.kind : dst_device.kind;
  allocator_for(kind).copy(dst, dst_device, src, src_device, bytes);
}

void check_shape(const Shape& shape, DType dtype) {
  for (int64_t d : shape) {
    if (d < 0) {
      throw UserError("shape " + shape_to_string(shape) + " has a negative dimension",
                      "every dimension must be 0 or more");
    }
  }
  // The byte count must fit in int64; a product that wraps would allocate a wrong-sized buffer.
  int64_t bytes = dtype_size(dtype);
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(bytes, d, &bytes)) {
      throw UserError("shape " + shape_to_string(shape) + " of " + std::string(dtype_name(dtype)) +
                          " is too large: its size in bytes overflows 64 bits",
                      "check the shape for a corrupted or uninitialised dimension");
    }
  }
}

}  // namespace

void register_device_allocator(Device::Kind kind, DeviceAllocator allocator) {
  JAGTILE_CHECK(allocator.allocate && allocator.release && allocator.copy,
                << "incomplete allocator registered");
  AllocatorRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.by_kind[size_t(kind)] = std::move(allocator);
}

void unregister_device_allocator(Device::Kind kind) {
  JAGTILE_CHECK(kind != Device::Kind::cpu, << "the CPU allocator cannot be unregistered");
  AllocatorRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.by_kind[size_t(kind)].reset();
}

bool device_allocator_registered(Device::Kind kind) {
  AllocatorRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.by_kind[size_t(kind)].has_value();
}

Storage::Storage(int64_t bytes, Device device) : bytes_(bytes), device_(device) {
  JAGTILE_CHECK(bytes >= 0, << "negative storage size " << bytes);
  data_ = allocator_for(device.kind).allocate(bytes, device.index);
  JAGTILE_CHECK(data_ != nullptr || bytes == 0,
                << "allocator returned null for " << bytes << " bytes on " << device.str());
}

Storage::Storage(void* external_data, int64_t bytes, Device device,
                 std::function<void()> on_release)
    : data_(external_data),
      bytes_(bytes),
      device_(device),
      on_release_(std::move(on_release)),
      external_(true) {
  JAGTILE_CHECK(bytes >= 0, << "negative storage size " << bytes);
  JAGTILE_CHECK(external_data != nullptr || bytes == 0,
                << "null external data of " << bytes << " bytes");
}

Storage::~Storage() {
  if (external_) {
    if (on_release_) {
      try {
        on_release_();
      } catch (...) {
        // A destructor must not throw; the owner's reference is then leaked, never freed twice.
      }
    }
    return;
  }
  if (!data_) return;
  try {
    allocator_for(device_.kind).release(data_, device_.index);
  } catch (...) {
    // A destructor must not throw; the allocator vanished, so there is nothing to release with.
  }
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, dtype);
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.storage_ = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  return t;
}

Tensor Tensor::from_external(void* data, const Shape& shape, DType dtype, Device device,
                             std::function<void()> on_release) {
  check_shape(shape, dtype);
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.storage_ = std::make_shared<Storage>(data, shape_numel(shape) * dtype_size(dtype), device,
                                         std::move(on_release));
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  if (device.is_cpu()) {
    Tensor t = empty(shape, dtype, device);
    if (t.nbytes() > 0) std::memset(t.raw_data(), 0, size_t(t.nbytes()));
    return t;
  }
  return zeros(shape, dtype, Device::cpu()).to(device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, Device::cpu());
  int64_t n = t.numel();
  if (n > 0) {
    // Convert once, then replicate the element's bytes.
    core_detail::store_from_double(t.raw_data(), dtype, 0, value);
    auto* bytes = static_cast<uint8_t*>(t.raw_data());
    int64_t size = dtype_size(dtype);
    for (int64_t i = 1; i < n; ++i) std::memcpy(bytes + i * size, bytes, size_t(size));
  }
  return device.is_cpu() ? t : t.to(device);
}

Tensor Tensor::from_doubles(const Shape& shape, const std::vector<double>& values, DType dtype) {
  Tensor t = empty(shape, dtype, Device::cpu());
  if (int64_t(values.size()) != t.numel()) {
    throw UserError("from_doubles: shape " + shape_to_string(shape) + " has " +
                        std::to_string(t.numel()) + " elements but " +
                        std::to_string(values.size()) + " values were given",
                    "pass exactly one value per element");
  }
  for (int64_t i = 0; i < t.numel(); ++i) {
    core_detail::store_from_double(t.raw_data(), dtype, i, values[size_t(i)]);
  }
  return t;
}

int64_t Tensor::size(int64_t d) const {
  int64_t rank = dim();
  int64_t index = d < 0 ? d + rank : d;
  if (index < 0 || index >= rank) {
    throw UserError(
        "dimension " + std::to_string(d) + " is out of range for a tensor of shape " + shape_str() +
            " (rank " + std::to_string(rank) + ")",
        "use a dimension in [" + std::to_string(-rank) + ", " + std::to_string(rank - 1) + "]");
  }
  return shape_[size_t(index)];
}

int64_t Tensor::numel() const {
  return shape_numel(shape_);
}

Device Tensor::device() const {
  return storage_ ? storage_->device() : Device::cpu();
}

void* Tensor::raw_data() const {
  if (!storage_) return nullptr;
  return static_cast<uint8_t*>(storage_->data()) + byte_offset_;
}

namespace {
void require_defined(const Tensor& t, const char* operation) {
  if (!t.defined()) {
    throw UserError(std::string(operation) + " on an undefined tensor",
                    "create the tensor first (Tensor::empty, zeros, from_doubles or read_npy)");
  }
}
}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  require_defined(*this, "view");
  Shape resolved = shape;
  int inferred = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (inferred >= 0) {
        throw UserError("cannot view a tensor of shape " + shape_str() + " as " +
                            shape_to_string(shape) + ": only one dimension may be -1",
                        "give every dimension but one explicitly");
      }
      inferred = int(i);
    } else if (shape[i] < 0) {
      throw UserError("cannot view a tensor of shape " + shape_str() + " as " +
                          shape_to_string(shape) + ": dimension " + std::to_string(i) + " is " +
                          std::to_string(shape[i]),
                      "dimensions must be 0 or more, or -1 for one inferred dimension");
    } else {
      known *= shape[i];
    }
  }
  int64_t n = numel();
  if (inferred >= 0) {
    if (known == 0 || n % known != 0) {
      throw UserError("cannot view a tensor of shape " + shape_str() + " (" + std::to_string(n) +
                          " elements) as " + shape_to_string(shape) +
                          ": the -1 dimension cannot be inferred",
                      "the other dimensions must be non-zero and divide the element count");
    }
    resolved[size_t(inferred)] = n / known;
  } else if (known != n) {
    throw UserError("cannot view a tensor of shape " + shape_str() + " (" + std::to_string(n) +
                        " elements) as " + shape_to_string(shape) + " (" + std::to_string(known) +
                        " elements)",
                    "the new shape must have the same number of elements");
  }
  Tensor t = *this;
  t.shape_ = std::move(resolved);
  return t;
}

Tensor Tensor::clone() const {
  require_defined(*this, "clone");
  Tensor t = empty(shape_, dtype_, device());
  copy_bytes(t.raw_data(), t.device(), raw_data(), device(), nbytes());
  return t;
}

Tensor Tensor::to(Device target) const {
  require_defined(*this, "to");
  if (target == device()) return *this;
  Tensor t = empty(shape_, dtype_, target);
  copy_bytes(t.raw_data(), target, raw_data(), device(), nbytes());
  return t;
}

Tensor Tensor::to_dtype(DType target) const {
  require_defined(*this, "to_dtype");
  Tensor host = to(Device::cpu());
  if (target == dtype_) return host.device() == device() ? host.clone() : host;
  Tensor t = empty(shape_, target, Device::cpu());
  core_detail::convert_elements(host.raw_data(), dtype_, t.raw_data(), target, numel());
  return t;
}

namespace {
void check_element_access(const Tensor& t, int64_t flat_index, const char* operation) {
  require_defined(t, operation);
  if (!t.device().is_cpu()) {
    throw UserError(std::string(operation) + " needs a CPU tensor, got one on " + t.device().str(),
                    "copy it to the host first with .to(Device::cpu())");
  }
  if (flat_index < 0 || flat_index >= t.numel()) {
    throw UserError(std::string(operation) + ": index " + std::to_string(flat_index) +
                        " is out of range for a tensor of shape " + t.shape_str() + " (" +
                        std::to_string(t.numel()) + " elements)",
                    "use a flat index in [0, numel)");
  }
}
}  // namespace

double Tensor::item_as_double(int64_t flat_index) const {
  check_element_access(*this, flat_index, "item_as_double");
  return core_detail::load_as_double(raw_data(), dtype_, flat_index);
}

void Tensor::set_from_double(int64_t flat_index, double value) {
  check_element_access(*this, flat_index, "set_from_double");
  core_detail::store_from_double(raw_data(), dtype_, flat_index, value);
}

std::string Tensor::shape_str() const {
  return shape_to_string(shape_);
}

}  // namespace jagtile
