// numpy arrays over jagtile's memory, made through numpy's C API found at run time: the package
// builds without numpy's headers, and the API's table of functions has fixed slots (numpy keeps
// them stable across versions; 1.x and 2.x agree on the ones used here).
#pragma once

#include <nanobind/nanobind.h>

#include <cstdint>
#include <vector>

namespace jagtile::python {

// The numpy type numbers of the element types results have (numpy's stable ABI values).
enum class NumpyType : int {
  boolean = 0,
  uint16 = 4,
  int32 = 5,
  int64 = 7,
  float32 = 11,
  float64 = 12,
  float16 = 23
};

// A writable C-contiguous numpy array of `shape` over `data` whose base object is `owner` (which
// keeps the memory alive). Returns an invalid object when numpy's C API cannot be found or has
// an ABI this code does not know; the caller then takes nanobind's general path.
nanobind::object numpy_array_over(void* data, const std::vector<int64_t>& shape, NumpyType type,
                                  nanobind::object owner);

}  // namespace jagtile::python
