// The driver API through dlopen (see driver.h). The few types and attribute numbers used are
// those of cuda.h, declared here so this file compiles without the toolkit.
#include "codegen/cuda/driver.h"

#include <dlfcn.h>

#include <mutex>

#include "jagtile/error.h"

namespace jagtile::codegen::cuda {

namespace {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
constexpr int kAttrMultiprocessors = 16;  // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
constexpr int kAttrMajor = 75;            // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int kAttrMinor = 76;            // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR

struct Driver {
  void* lib = nullptr;
  std::string error;  // why it did not load
  CUresult (*cuInit)(unsigned) = nullptr;
  CUresult (*cuDeviceGetCount)(int*) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice*, int) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int*, int, CUdevice) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(void**, CUdevice) = nullptr;
  CUresult (*cuCtxSetCurrent)(void*) = nullptr;
  CUresult (*cuModuleLoadData)(void**, const void*) = nullptr;
  CUresult (*cuModuleUnload)(void*) = nullptr;
  CUresult (*cuModuleGetFunction)(void**, void*, const char*) = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr*, size_t) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr) = nullptr;
  CUresult (*cuMemsetD8)(CUdeviceptr, unsigned char, size_t) = nullptr;
  CUresult (*cuMemcpyDtoH)(void*, CUdeviceptr, size_t) = nullptr;
  CUresult (*cuLaunchKernel)(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, void*, void**, void**) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char**) = nullptr;
};

template <typename F>
bool bind(Driver& d, F& fn, const char* name) {
  fn = reinterpret_cast<F>(::dlsym(d.lib, name));
  if (!fn && d.error.empty()) d.error = std::string("libcuda.so.1 has no ") + name;
  return fn != nullptr;
}

const Driver& driver() {
  static const Driver d = [] {
    Driver d;
    d.lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!d.lib) {
      const char* e = ::dlerror();
      d.error = "the CUDA driver (libcuda.so.1) could not be loaded: " +
                std::string(e ? e : "unknown error");
      return d;
    }
    bind(d, d.cuInit, "cuInit");
    bind(d, d.cuDeviceGetCount, "cuDeviceGetCount");
    bind(d, d.cuDeviceGet, "cuDeviceGet");
    bind(d, d.cuDeviceGetAttribute, "cuDeviceGetAttribute");
    bind(d, d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    bind(d, d.cuCtxSetCurrent, "cuCtxSetCurrent");
    bind(d, d.cuModuleLoadData, "cuModuleLoadData");
    bind(d, d.cuModuleUnload, "cuModuleUnload");
    bind(d, d.cuModuleGetFunction, "cuModuleGetFunction");
    bind(d, d.cuMemAlloc, "cuMemAlloc_v2");
    bind(d, d.cuMemFree, "cuMemFree_v2");
    bind(d, d.cuMemsetD8, "cuMemsetD8_v2");
    bind(d, d.cuMemcpyDtoH, "cuMemcpyDtoH_v2");
    bind(d, d.cuLaunchKernel, "cuLaunchKernel");
    bind(d, d.cuCtxSynchronize, "cuCtxSynchronize");
    bind(d, d.cuGetErrorString, "cuGetErrorString");
    if (d.error.empty() && d.cuInit(0) != 0) d.error = "cuInit failed: no usable CUDA device";
    return d;
  }();
  return d;
}

void check(CUresult r, const char* what) {
  if (r == 0) return;
  const char* s = nullptr;
  if (driver().cuGetErrorString) driver().cuGetErrorString(r, &s);
  throw UserError(std::string("CUDA driver call ") + what +
                      " failed: " + (s ? s : "error " + std::to_string(r)),
                  "check the GPU with nvidia-smi; `--backend cpu` runs the kernel on the CPU");
}

// The device's primary context, current on this thread.
void use_device(int index) {
  const Driver& d = driver();
  CUdevice dev = 0;
  check(d.cuDeviceGet(&dev, index), "cuDeviceGet");
  void* ctx = nullptr;
  check(d.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
  check(d.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
}

int attribute(int index, int attr) {
  const Driver& d = driver();
  CUdevice dev = 0;
  check(d.cuDeviceGet(&dev, index), "cuDeviceGet");
  int v = 0;
  check(d.cuDeviceGetAttribute(&v, attr, dev), "cuDeviceGetAttribute");
  return v;
}

}  // namespace

std::string driver_unavailable_reason(int device_index) {
  const Driver& d = driver();
  if (!d.error.empty()) return d.error;
  int count = 0;
  if (d.cuDeviceGetCount(&count) != 0 || device_index >= count)
    return "there is no CUDA device " + std::to_string(device_index) + " (" +
           std::to_string(count) + " found)";
  return {};
}

std::string device_arch(int device_index) {
  const int major = attribute(device_index, kAttrMajor);
  const int minor = attribute(device_index, kAttrMinor);
  return "sm_" + std::to_string(major) + std::to_string(minor) + (major == 9 ? "a" : "");
}

int device_multiprocessors(int device_index) {
  return attribute(device_index, kAttrMultiprocessors);
}

Module::Module(int device_index, const std::string& cubin, const std::vector<std::string>& kernels)
    : device_(device_index) {
  if (std::string why = driver_unavailable_reason(device_index); !why.empty())
    throw UserError("cannot load generated CUDA: " + why,
                    "run on a machine with an NVIDIA GPU and driver, or use --backend cpu");
  const Driver& d = driver();
  use_device(device_);
  check(d.cuModuleLoadData(&module_, cubin.data()), "cuModuleLoadData");
  for (const std::string& k : kernels) {
    void* f = nullptr;
    check(d.cuModuleGetFunction(&f, module_, k.c_str()), "cuModuleGetFunction");
    functions_.push_back(f);
  }
  check(d.cuMemAlloc(&scratch_, 64), "cuMemAlloc");
}

Module::~Module() {
  const Driver& d = driver();
  if (scratch_) d.cuMemFree(scratch_);
  if (module_) d.cuModuleUnload(module_);
}

void Module::launch(size_t k, const std::vector<unsigned char>& frame, int64_t programs,
                    int64_t blocks, int threads, int64_t tile_bytes, void* error,
                    size_t error_bytes) const {
  const Driver& d = driver();
  use_device(device_);
  // One launch at a time per process: launches share the scratch words.
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  check(d.cuMemsetD8(scratch_, 0, 64), "cuMemsetD8");
  CUdeviceptr tiles = 0;
  if (tile_bytes > 0) check(d.cuMemAlloc(&tiles, size_t(blocks * tile_bytes)), "cuMemAlloc");
  struct Work {  // JtWork of the generated prelude
    CUdeviceptr counter;
    int64_t programs;
    CUdeviceptr tiles;
    int64_t tile_bytes;
  } work{scratch_ + 48, programs, tiles, tile_bytes};
  void* params[] = {const_cast<unsigned char*>(frame.data()), &work};
  CUresult r = d.cuLaunchKernel(functions_.at(k), unsigned(blocks), 1, 1, unsigned(threads), 1, 1,
                                0, nullptr, params, nullptr);
  if (r == 0) r = d.cuCtxSynchronize();
  if (tiles) d.cuMemFree(tiles);
  check(r, "cuLaunchKernel");
  check(d.cuMemcpyDtoH(error, scratch_, error_bytes), "cuMemcpyDtoH");
}

}  // namespace jagtile::codegen::cuda
