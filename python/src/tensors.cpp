// DLPack in and out (tensors.h), through nanobind's ndarray: imports read the producer's
// DLPack capsule (or buffer) as it is; exports hand the consumer a capsule whose deleter drops
// our reference to the storage.
#include "tensors.h"

#include <nanobind/ndarray.h>

#include <atomic>
#include <functional>
#include <optional>
#include <sstream>
#include <vector>

#include "jagtile/error.h"
#include "jagtile/thread_pool.h"
#include "numpy_arrays.h"
#include "torch_bridge_api.h"

namespace nb = nanobind;

namespace jagtile::python {
namespace {

std::string describe(const nb::dlpack::dtype& d) {
  using Code = nb::dlpack::dtype_code;
  std::string base;
  switch (Code(d.code)) {
    case Code::Int:
      base = "int";
      break;
    case Code::UInt:
      base = "uint";
      break;
    case Code::Float:
      base = "float";
      break;
    case Code::Bfloat:
      base = "bfloat";
      break;
    case Code::Complex:
      base = "complex";
      break;
    case Code::Bool:
      return "bool";
    default:
      base = "dtype code " + std::to_string(int(d.code)) + " of ";
  }
  return base + std::to_string(int(d.bits));
}

DType dtype_from_dlpack(const nb::dlpack::dtype& d, const std::string& name) {
  using Code = nb::dlpack::dtype_code;
  if (d.lanes == 1) {
    if (Code(d.code) == Code::Float && d.bits == 32) return DType::f32;
    if (Code(d.code) == Code::Float && d.bits == 64) return DType::f64;
    if (Code(d.code) == Code::Float && d.bits == 16) return DType::f16;
    if (Code(d.code) == Code::Bfloat && d.bits == 16) return DType::bf16;
    if (Code(d.code) == Code::Int && d.bits == 32) return DType::i32;
    if (Code(d.code) == Code::Int && d.bits == 64) return DType::i64;
    if (Code(d.code) == Code::Bool && d.bits == 8) return DType::boolean;
  }
  std::string got = describe(d);
  std::string hint =
      "jagtile takes float32, float64, float16, bfloat16, int32, int64 and bool tensors";
  if (got == "uint64" || got == "uint32" || got == "int16" || got == "int8" || got == "uint8" ||
      got == "uint16")
    hint = "cast to int32 or int64: x.astype(numpy.int64) (numpy) or x.long() (torch)";
  throw UserError("argument '" + name + "' has dtype " + got + ", which jagtile does not take",
                  hint);
}

std::string dims_text(const std::vector<int64_t>& v) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << "]";
  return os.str();
}

nb::dlpack::dtype dtype_to_dlpack(DType t) {
  using Code = nb::dlpack::dtype_code;
  switch (t) {
    case DType::f32:
      return {uint8_t(Code::Float), 32, 1};
    case DType::f64:
      return {uint8_t(Code::Float), 64, 1};
    case DType::f16:
      return {uint8_t(Code::Float), 16, 1};
    case DType::bf16:
      return {uint8_t(Code::Bfloat), 16, 1};
    case DType::i32:
      return {uint8_t(Code::Int), 32, 1};
    case DType::i64:
      return {uint8_t(Code::Int), 64, 1};
    case DType::boolean:
      return {uint8_t(Code::Bool), 8, 1};
  }
  return {uint8_t(Code::Float), 32, 1};
}

// torch's Python objects this module uses, looked up once torch has been imported (never
// importing it: a numpy-only program does not pay for torch).
struct TorchHandles {
  PyObject* tensor_type = nullptr;  // torch.Tensor
  nb::object to_dlpack;             // torch.utils.dlpack.to_dlpack (C-implemented)
  nb::object from_numpy;            // torch.from_numpy
  nb::object bfloat16;              // torch.bfloat16
  nb::object get_num_threads;       // torch.get_num_threads
  // jagtile._torch_bridge's functions when it was built against this very torch, else null.
  const JtTorchBridgeApi* bridge = nullptr;
};

// The bridge module's functions, if it is installed, loads, and was built against the torch
// imported now (a torch upgraded since the build leaves the general path in use).
const JtTorchBridgeApi* load_torch_bridge(nb::handle torch) {
  try {
    nb::module_ bridge = nb::module_::import_("jagtile._torch_bridge");
    if (!nb::str(torch.attr("__version__")).equal(bridge.attr("torch_version"))) return nullptr;
    auto* api = static_cast<const JtTorchBridgeApi*>(
        PyCapsule_GetPointer(bridge.attr("api").ptr(), "jagtile.torch_bridge_api"));
    if (!api) PyErr_Clear();
    return api && api->version == JT_TORCH_BRIDGE_VERSION ? api : nullptr;
  } catch (const nb::python_error&) {
    return nullptr;  // not built (no torch at build time) or not loadable with this torch
  }
}

// Whether parallel regions go to torch's intra-op pool once the bridge is loaded
// (use_torch_pool; on by default), and after how long a wait past a region's work it counts as
// late (RegionExecutor::late_after_ns; 0: never dropped).
std::atomic<bool> g_torch_pool_wanted{true};
std::atomic<int64_t> g_torch_pool_late_after_ns{1000000};

int bridge_num_threads(void* state) {
  return static_cast<const JtTorchBridgeApi*>(state)->num_threads();
}

void bridge_run_on_threads(void* state, int threads, void (*body)(void*), void* context) {
  static_cast<const JtTorchBridgeApi*>(state)->run_on_threads(threads, body, context);
}

bool torch_pool_usable(const JtTorchBridgeApi* bridge) {
  return bridge && bridge->run_on_threads && g_torch_pool_wanted.load();
}

// Installs torch's pool as the region executor, or removes it.
void apply_torch_pool(const JtTorchBridgeApi* bridge) {
  RegionExecutor executor;
  if (torch_pool_usable(bridge)) {
    executor.state = const_cast<JtTorchBridgeApi*>(bridge);
    executor.num_threads = &bridge_num_threads;
    executor.run_on_threads = &bridge_run_on_threads;
    // OpenMP's spinning workers can keep a region waiting for a scheduler tick or two when other
    // processes load the cores (about 8 ms a region, measured); after three such regions in a
    // row jagtile's own threads take over (thread_pool.cpp).
    executor.late_after_ns = g_torch_pool_late_after_ns.load();
    // Tried again every 10 s: under a lasting load that costs three late regions (about 24 ms)
    // each time; once the load is gone the pool is back.
    executor.retry_after_ns = INT64_C(10000000000);
  }
  set_region_executor(executor);
}

TorchHandles* torch_handles() {
  static TorchHandles* handles = nullptr;  // never freed: outlives interpreter teardown
  if (handles) return handles;
  // Until torch is imported this runs on every argument of every call: one lookup in
  // sys.modules by an interned key (PyImport_GetModule with a new string costs about three
  // times as much, a sixth of a small call's overhead over its arguments).
  static PyObject* key = PyUnicode_InternFromString("torch");                // never freed
  PyObject* torch = PyDict_GetItemWithError(PyImport_GetModuleDict(), key);  // borrowed or null
  if (!torch) {
    PyErr_Clear();
    return nullptr;
  }
  nb::object mod = nb::borrow(torch);
  auto* h = new TorchHandles();
  nb::object tensor = mod.attr("Tensor");
  h->tensor_type = tensor.release().ptr();
  h->to_dlpack = nb::module_::import_("torch.utils.dlpack").attr("to_dlpack");
  h->from_numpy = mod.attr("from_numpy");
  h->bfloat16 = mod.attr("bfloat16");
  h->get_num_threads = mod.attr("get_num_threads");
  h->bridge = load_torch_bridge(mod);
  apply_torch_pool(h->bridge);
  handles = h;
  return handles;
}

}  // namespace

bool is_torch_tensor(nb::handle obj) {
  TorchHandles* t = torch_handles();
  return t && PyObject_TypeCheck(obj.ptr(), reinterpret_cast<PyTypeObject*>(t->tensor_type));
}

int torch_num_threads() {
  TorchHandles* t = torch_handles();
  if (!t) return 0;
  return t->bridge ? t->bridge->num_threads() : nb::cast<int>(t->get_num_threads());
}

bool torch_bridge_active() {
  TorchHandles* t = torch_handles();
  return t && t->bridge;
}

void use_torch_pool(bool enabled, int64_t late_after_ns) {
  g_torch_pool_wanted = enabled;
  g_torch_pool_late_after_ns = late_after_ns > 0 ? late_after_ns : 0;
  if (TorchHandles* t = torch_handles()) apply_torch_pool(t->bridge);
}

bool torch_pool_active() {
  TorchHandles* t = torch_handles();
  return t && torch_pool_usable(t->bridge) && !region_executor_dropped();
}

bool is_array_like(nb::handle obj) {
  // The cheap checks first: hasattr makes (and drops) a bound method object.
  return PyObject_CheckBuffer(obj.ptr()) || is_torch_tensor(obj) || nb::hasattr(obj, "__dlpack__");
}

namespace {

// The checks every import shares: row-major contiguity (ignoring the strides of size-1
// dimensions, which torch sets freely) and the device; `release` drops the producer's reference.
Tensor wrap_checked(void* data, const Shape& shape, const std::vector<int64_t>& strides,
                    DType dtype, Device device, const std::string& name,
                    std::function<void()> release) {
  int64_t expected = 1;
  bool empty = false;
  for (int64_t s : shape) empty = empty || s == 0;
  for (size_t d = shape.size(); d-- > 0;) {
    if (!empty && shape[d] != 1 && strides[d] != expected) {
      std::vector<int64_t> want(shape.size());
      int64_t w = 1;
      for (size_t k = shape.size(); k-- > 0;) {
        want[k] = w;
        w *= shape[k];
      }
      release();
      throw UserError("argument '" + name + "' is not contiguous: shape " + dims_text(shape) +
                          " has strides " + dims_text(strides) + " (in elements), row-major is " +
                          dims_text(want),
                      "jagtile reads tensors in place and never copies them; pass "
                      "x.contiguous() (torch) or numpy.ascontiguousarray(x) (numpy)");
    }
    expected *= shape[d];
  }
  try {
    // A copy, not a move: if wrapping fails, `release` must still be callable here.
    return Tensor::from_external(data, shape, dtype, device, release);
  } catch (...) {
    release();
    throw;
  }
}

// The buffer protocol's one-letter formats jagtile takes, by item size; nullopt for anything
// else (which then goes through DLPack, whose errors name the dtype).
std::optional<DType> dtype_from_format(const char* format, Py_ssize_t itemsize) {
  if (!format) return std::nullopt;
  if (*format == '@' || *format == '=' || *format == '<') ++format;
  if (format[0] == 0 || format[1] != 0) return std::nullopt;
  switch (format[0]) {
    case 'f':
      return itemsize == 4 ? std::optional(DType::f32) : std::nullopt;
    case 'e':
      return itemsize == 2 ? std::optional(DType::f16) : std::nullopt;
    case 'i':
    case 'l':
    case 'q':
      if (itemsize == 4) return DType::i32;
      if (itemsize == 8) return DType::i64;
      return std::nullopt;
    case '?':
      return itemsize == 1 ? std::optional(DType::boolean) : std::nullopt;
    default:
      return std::nullopt;
  }
}

static_assert(JT_BRIDGE_F32 == int(DType::f32) && JT_BRIDGE_F16 == int(DType::f16) &&
                  JT_BRIDGE_BF16 == int(DType::bf16) && JT_BRIDGE_I32 == int(DType::i32) &&
                  JT_BRIDGE_I64 == int(DType::i64) && JT_BRIDGE_BOOL == int(DType::boolean) &&
                  JT_BRIDGE_F64 == int(DType::f64),
              "torch_bridge_api.h's dtype codes must be jagtile::DType's values");

// A torch tensor read through jagtile._torch_bridge, holding a reference to the Python object
// (dropped with the GIL held); nullopt where the bridge is absent or leaves the tensor to DLPack.
std::optional<Tensor> tensor_from_torch_bridge(nb::handle obj, const std::string& name) {
  const JtTorchBridgeApi* bridge = torch_handles()->bridge;
  JtTorchView view;
  if (!bridge || bridge->read(obj.ptr(), &view) != 1) return std::nullopt;
  Shape shape(view.shape, view.shape + view.ndim);
  std::vector<int64_t> strides(view.strides, view.strides + view.ndim);
  const Device device = view.device_type == 1 ? Device::cuda(view.device_index) : Device::cpu();
  PyObject* keep = obj.ptr();
  Py_INCREF(keep);
  auto release = [keep]() {
    if (!Py_IsInitialized()) return;  // interpreter gone: leak rather than crash
    nb::gil_scoped_acquire gil;
    Py_DECREF(keep);
  };
  return wrap_checked(view.data, shape, strides, DType(view.dtype), device, name, release);
}

// numpy arrays (and other buffer exporters) through the buffer protocol: the same memory their
// DLPack export would give, without making a capsule (about a microsecond per argument).
std::optional<Tensor> tensor_from_buffer(nb::handle obj, const std::string& name) {
  if (!PyObject_CheckBuffer(obj.ptr())) return std::nullopt;
  auto* view = new Py_buffer();
  if (PyObject_GetBuffer(obj.ptr(), view, PyBUF_RECORDS_RO) != 0) {
    PyErr_Clear();
    delete view;
    return std::nullopt;
  }
  auto release = [view]() {
    if (!Py_IsInitialized()) return;  // interpreter gone: leak rather than crash
    nb::gil_scoped_acquire gil;
    PyBuffer_Release(view);
    delete view;
  };
  std::optional<DType> dtype = dtype_from_format(view->format, view->itemsize);
  bool strides_ok = true;
  for (int d = 0; d < view->ndim && view->strides; ++d)
    strides_ok = strides_ok && view->strides[d] % view->itemsize == 0;
  if (!dtype || !strides_ok) {
    release();
    return std::nullopt;
  }
  Shape shape(size_t(view->ndim));
  std::vector<int64_t> strides(size_t(view->ndim));
  for (int d = 0; d < view->ndim; ++d) {
    shape[size_t(d)] = view->shape[d];
    strides[size_t(d)] = view->strides ? view->strides[d] / view->itemsize : 0;
  }
  if (!view->strides) {  // C-contiguous by the protocol's contract
    int64_t w = 1;
    for (size_t d = shape.size(); d-- > 0;) {
      strides[d] = w;
      w *= shape[d];
    }
  }
  return wrap_checked(view->buf, shape, strides, *dtype, Device::cpu(), name, release);
}

}  // namespace

Tensor tensor_from_python(nb::handle obj, const std::string& name) {
  const bool torch_tensor = is_torch_tensor(obj);
  if (!torch_tensor) {
    if (std::optional<Tensor> t = tensor_from_buffer(obj, name)) return *std::move(t);
  } else if (std::optional<Tensor> t = tensor_from_torch_bridge(obj, name)) {
    return *std::move(t);
  }
  nb::ndarray<> array;
  // A torch tensor is exported with torch's C-implemented to_dlpack: its __dlpack__ method is
  // Python code costing several microseconds per argument. Both hand over the same capsule.
  // (It exports tensors that require grad as they are: a kernel reads values, never the graph.)
  nb::object source;
  if (torch_tensor) {
    try {
      source = torch_handles()->to_dlpack(obj);
    } catch (const nb::python_error& e) {
      // torch refuses to export some tensors (the meta device, sparse layouts): say which
      // argument and why, as for every other bad input.
      throw UserError("argument '" + name + "' cannot be read in place: torch says \"" +
                          std::string(e.what()) + "\"",
                      "pass a dense tensor on the CPU or a CUDA device");
    }
  } else {
    source = nb::borrow(obj);
  }
  // convert=false: an input that would need conversion is refused, never silently copied.
  if (!nb::try_cast<nb::ndarray<>>(source, array, /*convert=*/false)) {
    throw UserError("argument '" + name + "' (a Python " +
                        std::string(nb::type_name(obj.type()).c_str()) +
                        ") cannot be read as a tensor",
                    "pass a numpy array, a torch tensor or another DLPack producer");
  }
  DType dtype = dtype_from_dlpack(array.dtype(), name);
  Shape shape(array.ndim());
  std::vector<int64_t> strides(array.ndim());
  for (size_t d = 0; d < array.ndim(); ++d) {
    shape[d] = int64_t(array.shape(d));
    strides[d] = array.stride(d);
  }
  Device device;
  int dev_type = array.device_type();
  if (dev_type == nb::device::cpu::value) {
    device = Device::cpu();
  } else if (dev_type == nb::device::cuda::value) {
    device = Device::cuda(array.device_id());
  } else {
    throw UserError("argument '" + name +
                        "' is on a device jagtile does not run on (DLPack "
                        "device type " +
                        std::to_string(dev_type) + ")",
                    "move it to the CPU (x.cpu()) or a CUDA device");
  }
  // The tensor holds a copy of the ndarray handle (a reference on the producer's DLPack
  // capsule); it is dropped with the GIL held, on whichever thread frees the storage.
  auto* keep = new nb::ndarray<>(array);
  auto release = [keep]() {
    if (!Py_IsInitialized()) return;  // interpreter gone: leak rather than crash
    nb::gil_scoped_acquire gil;
    delete keep;
  };
  return wrap_checked(array.data(), shape, strides, dtype, device, name, release);
}

namespace {

// A release function for torch's deleter: drops the jagtile Tensor that owns a result's memory.
void release_tensor(void* ctx) {
  delete static_cast<Tensor*>(ctx);
}

NumpyType numpy_type_of(DType t) {
  switch (t) {
    case DType::f32:
      return NumpyType::float32;
    case DType::f64:
      return NumpyType::float64;
    case DType::f16:
      return NumpyType::float16;
    case DType::bf16:
      return NumpyType::uint16;  // numpy has no bfloat16: the bit pattern (torch views it back)
    case DType::i32:
      return NumpyType::int32;
    case DType::i64:
      return NumpyType::int64;
    case DType::boolean:
      return NumpyType::boolean;
  }
  return NumpyType::float32;
}

// An owner object holding a Tensor handle: the storage lives as long as the consumer's array.
nb::capsule storage_owner(const Tensor& t) {
  return nb::capsule(new Tensor(t), [](void* p) noexcept { delete static_cast<Tensor*>(p); });
}

// A numpy array over a CPU tensor's memory (bfloat16 as its uint16 bit pattern).
nb::object numpy_over(const Tensor& t) {
  nb::capsule owner = storage_owner(t);
  nb::object fast = numpy_array_over(t.raw_data(), t.shape(), numpy_type_of(t.dtype()), owner);
  if (fast.is_valid()) return fast;
  std::vector<size_t> shape(t.shape().begin(), t.shape().end());
  nb::dlpack::dtype carrier = t.dtype() == DType::bf16
                                  ? nb::dlpack::dtype{uint8_t(nb::dlpack::dtype_code::UInt), 16, 1}
                                  : dtype_to_dlpack(t.dtype());
  return nb::ndarray<nb::numpy>(t.raw_data(), shape.size(), shape.data(), owner, nullptr, carrier,
                                nb::device::cpu::value, 0)
      .cast();
}

}  // namespace

nb::object tensor_to_python(const Tensor& t, Framework framework) {
  if (framework == Framework::torch) {
    TorchHandles* torch = torch_handles();
    if (torch && torch->bridge && t.device().is_cpu()) {
      auto* owner = new Tensor(t);
      PyObject* wrapped =
          torch->bridge->wrap_cpu(t.raw_data(), int64_t(t.shape().size()), t.shape().data(),
                                  int32_t(t.dtype()), release_tensor, owner);
      if (!wrapped) {
        delete owner;
        throw nb::python_error();
      }
      return nb::steal(wrapped);
    }
    if (torch && t.device().is_cpu()) {
      // CPU results go to torch through a numpy array over the same memory (torch.from_numpy
      // shares it): a fraction of the cost of torch.utils.dlpack.from_dlpack, which is Python
      // code. bfloat16 travels as its uint16 bit pattern and is viewed back.
      nb::object tensor = torch->from_numpy(numpy_over(t));
      return t.dtype() == DType::bf16 ? tensor.attr("view")(torch->bfloat16) : tensor;
    }
    std::vector<size_t> shape(t.shape().begin(), t.shape().end());
    int dev_type = t.device().is_cpu() ? nb::device::cpu::value : nb::device::cuda::value;
    int dev_id = t.device().is_cpu() ? 0 : t.device().index;
    return nb::ndarray<nb::pytorch>(t.raw_data(), shape.size(), shape.data(), storage_owner(t),
                                    nullptr, dtype_to_dlpack(t.dtype()), dev_type, dev_id)
        .cast();
  }
  if (t.dtype() == DType::bf16)
    throw UserError(
        "a bfloat16 result cannot be returned as a numpy array (numpy has no "
        "bfloat16)",
        "call the kernel with torch tensors to get bfloat16 results");
  if (!t.device().is_cpu())
    throw UserError("a result on " + t.device().str() + " cannot be returned as a numpy array",
                    "call the kernel with torch tensors for results on a GPU");
  return numpy_over(t);
}

}  // namespace jagtile::python
