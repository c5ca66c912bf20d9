// jagtile._torch_bridge: torch tensors in and out of jagtile._core without torch's Python-level
// exports (see torch_bridge_api.h for why and how _core uses it). Built against the torch that
// the package was built with; the module's `torch_version` says which.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/python_variable.h>

#include <exception>

#include "torch_bridge_api.h"

namespace {

int dtype_code(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return JT_BRIDGE_F32;
    case at::kDouble:
      return JT_BRIDGE_F64;
    case at::kHalf:
      return JT_BRIDGE_F16;
    case at::kBFloat16:
      return JT_BRIDGE_BF16;
    case at::kInt:
      return JT_BRIDGE_I32;
    case at::kLong:
      return JT_BRIDGE_I64;
    case at::kBool:
      return JT_BRIDGE_BOOL;
    default:
      return -1;
  }
}

at::ScalarType scalar_type(int32_t code) {
  switch (code) {
    case JT_BRIDGE_F64:
      return at::kDouble;
    case JT_BRIDGE_F16:
      return at::kHalf;
    case JT_BRIDGE_BF16:
      return at::kBFloat16;
    case JT_BRIDGE_I32:
      return at::kInt;
    case JT_BRIDGE_I64:
      return at::kLong;
    case JT_BRIDGE_BOOL:
      return at::kBool;
    default:
      return at::kFloat;
  }
}

int read_tensor(PyObject* obj, JtTorchView* view) {
  if (!THPVariable_Check(obj)) return 0;
  try {
    const at::Tensor& t = THPVariable_Unpack(obj);
    // Sparse and nested layouts, conjugate or negative views, tensor subclasses without
    // storage (torch.compile's fake tensors) and other devices keep the general path, which
    // reports them as it always has.
    if (!t.defined() || t.layout() != at::kStrided || t.is_nested() || t.is_conj() || t.is_neg() ||
        !t.has_storage())
      return 0;
    const int dtype = dtype_code(t.scalar_type());
    if (dtype < 0) return 0;
    const at::Device device = t.device();
    if (!device.is_cpu() && !device.is_cuda()) return 0;
    view->data = t.data_ptr();
    view->ndim = t.dim();
    view->shape = t.sizes().data();
    view->strides = t.strides().data();
    view->dtype = dtype;
    view->device_type = device.is_cuda() ? 1 : 0;
    view->device_index = device.is_cuda() ? device.index() : 0;
    return 1;
  } catch (...) {
    return 0;  // a tensor torch will not expose this way: the general path says why
  }
}

PyObject* wrap_cpu(void* data, int64_t ndim, const int64_t* shape, int32_t dtype,
                   void (*release)(void*), void* ctx) {
  try {
    at::Tensor t = at::for_blob(data, at::IntArrayRef(shape, size_t(ndim)))
                       .context(ctx, release)
                       .options(at::TensorOptions().dtype(scalar_type(dtype)).device(at::kCPU))
                       .make_tensor();
    return THPVariable_Wrap(std::move(t));
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
}

int num_threads() {
  try {
    return at::get_num_threads();
  } catch (...) {
    return 1;
  }
}

// One chunk of one index per thread: at::parallel_for gives each of its threads one contiguous
// chunk, and the body claims jagtile's logical workers itself.
[[maybe_unused]] void run_on_threads(int threads, void (*body)(void*), void* context) {
  try {
    at::parallel_for(0, threads, 1, [&](int64_t, int64_t) { body(context); });
  } catch (...) {
    // body does not throw; if torch cannot start its threads, the caller runs what is left.
  }
}

// ATen built with OpenMP runs at::parallel_for through an inline `#pragma omp parallel`, which
// only a compile with OpenMP turns into threads; without it, the pool is out of reach.
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
constexpr auto kRunOnThreads = nullptr;
#else
constexpr auto kRunOnThreads = &run_on_threads;
#endif

const JtTorchBridgeApi kApi = {JT_TORCH_BRIDGE_VERSION, read_tensor, wrap_cpu, num_threads,
                               kRunOnThreads};

PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_torch_bridge",
                          "torch tensors in and out of jagtile._core (internal)", -1};

}  // namespace

extern "C" PyMODINIT_FUNC PyInit__torch_bridge() {
  PyObject* m = PyModule_Create(&module_def);
  if (!m) return nullptr;
  PyObject* api =
      PyCapsule_New(const_cast<JtTorchBridgeApi*>(&kApi), "jagtile.torch_bridge_api", nullptr);
  if (!api || PyModule_AddObject(m, "api", api) < 0 ||
      PyModule_AddStringConstant(m, "torch_version", JAGTILE_TORCH_VERSION) < 0) {
    Py_XDECREF(api);
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}
