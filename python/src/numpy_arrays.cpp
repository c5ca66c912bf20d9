// See numpy_arrays.h. The slots and constants below are numpy's public C-API ABI
// (numpy/__multiarray_api.h and ndarraytypes.h): PyArray_GetNDArrayCVersion is slot 0,
// PyArray_Type slot 2, PyArray_DescrFromType slot 45, PyArray_NewFromDescr slot 94 and
// PyArray_SetBaseObject slot 282. Counted with callgrind, a result made this way costs about
// 400 instructions, where nanobind's general export (a buffer object handed to numpy.asarray)
// costs about 2,600: a tenth of the package's whole overhead on a small call.
#include "numpy_arrays.h"

namespace nb = nanobind;

namespace jagtile::python {
namespace {

using GetVersionFn = unsigned int (*)();
using DescrFromTypeFn = PyObject* (*)(int);
using NewFromDescrFn = PyObject* (*)(PyTypeObject*, PyObject*, int, const Py_ssize_t*,
                                     const Py_ssize_t*, void*, int, PyObject*);
using SetBaseObjectFn = int (*)(PyObject*, PyObject*);

struct NumpyApi {
  PyTypeObject* array_type = nullptr;
  DescrFromTypeFn descr_from_type = nullptr;
  NewFromDescrFn new_from_descr = nullptr;
  SetBaseObjectFn set_base_object = nullptr;
};

constexpr int kCContiguousAlignedWritable = 0x0001 | 0x0100 | 0x0400;  // NPY_ARRAY_CARRAY
constexpr int kNumpyLongLong = 9;                                      // NPY_LONGLONG

// numpy 1.x has C-API ABI version 0x01000009, numpy 2.x 0x02000000: both keep these slots.
bool known_abi(unsigned int version) {
  return version == 0x01000009u || (version >> 24) == 2u;
}

const NumpyApi* find_numpy_api() {
  for (const char* module : {"numpy._core._multiarray_umath", "numpy.core._multiarray_umath"}) {
    nb::object mod = nb::steal(PyImport_ImportModule(module));
    if (!mod.is_valid()) {
      PyErr_Clear();
      continue;
    }
    nb::object capsule = nb::steal(PyObject_GetAttrString(mod.ptr(), "_ARRAY_API"));
    void** table = nullptr;
    if (capsule.is_valid() && PyCapsule_CheckExact(capsule.ptr()))
      table = static_cast<void**>(PyCapsule_GetPointer(capsule.ptr(), nullptr));
    if (!table) {  // numpy's module keeps a found table alive for the whole process
      PyErr_Clear();
      continue;
    }
    if (!known_abi(reinterpret_cast<GetVersionFn>(table[0])())) return nullptr;
    auto* api = new NumpyApi();  // never freed: used until the interpreter exits
    api->array_type = static_cast<PyTypeObject*>(table[2]);
    api->descr_from_type = reinterpret_cast<DescrFromTypeFn>(table[45]);
    api->new_from_descr = reinterpret_cast<NewFromDescrFn>(table[94]);
    api->set_base_object = reinterpret_cast<SetBaseObjectFn>(table[282]);
    return api;
  }
  return nullptr;
}

}  // namespace

nb::object numpy_array_over(void* data, const std::vector<int64_t>& shape, NumpyType type,
                            nb::object owner) {
  static const NumpyApi* api = find_numpy_api();  // looked up once, under the GIL
  if (!api) return nb::object();
  static_assert(sizeof(Py_ssize_t) == sizeof(int64_t), "numpy's npy_intp is 64-bit here");
  int numpy_type = int(type);
  // numpy's int64 is C long where long has 64 bits (NPY_LONG), else long long.
  if (type == NumpyType::int64 && sizeof(long) != 8) numpy_type = kNumpyLongLong;
  PyObject* descr = api->descr_from_type(numpy_type);
  if (!descr) throw nb::python_error();
  // PyArray_NewFromDescr takes over `descr`; null strides mean C-contiguous.
  nb::object array = nb::steal(api->new_from_descr(
      api->array_type, descr, int(shape.size()), reinterpret_cast<const Py_ssize_t*>(shape.data()),
      nullptr, data, kCContiguousAlignedWritable, nullptr));
  if (!array.is_valid()) throw nb::python_error();
  // PyArray_SetBaseObject takes over the owner's reference, also when it fails.
  if (api->set_base_object(array.ptr(), owner.release().ptr()) != 0) throw nb::python_error();
  return array;
}

}  // namespace jagtile::python
