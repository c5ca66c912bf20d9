// Tensors across the Python boundary: any DLPack producer (numpy, torch, ...) wrapped as a
// jagtile::Tensor without a copy, and a jagtile::Tensor handed to numpy or torch without a copy.
#pragma once

#include <nanobind/nanobind.h>

#include <string>

#include "jagtile/tensor.h"

namespace jagtile::python {

// Which array type results are handed out as.
enum class Framework { numpy, torch };

// Wraps `obj` (anything with __dlpack__ or the buffer protocol). The tensor keeps a reference to
// the producer's memory until it is dropped. A strided (non-contiguous) or unsupported-dtype
// input raises a UserError naming `name`; nothing is ever copied.
Tensor tensor_from_python(nanobind::handle obj, const std::string& name);

// Whether `obj` looks like an array this module takes (a DLPack producer or a buffer).
bool is_array_like(nanobind::handle obj);

// Whether `obj` is a torch.Tensor (false while torch has not been imported).
bool is_torch_tensor(nanobind::handle obj);

// Whether torch tensors go through jagtile._torch_bridge (torch imported, the bridge built
// against the same torch version); false means the DLPack / torch.from_numpy path.
bool torch_bridge_active();

// torch.get_num_threads(), or 0 while torch has not been imported.
int torch_num_threads();

// Whether kernels' parallel regions run on torch's intra-op pool (jagtile::RegionExecutor) once
// torch is imported and the bridge is active, rather than on jagtile's own threads. On by
// default; torch_pool_active() says whether it is in effect now: it goes off by itself after
// three regions in a row returned more than late_after_ns past their work (0: never), and each
// call here installs the pool afresh.
void use_torch_pool(bool enabled, int64_t late_after_ns);
bool torch_pool_active();

// The tensor as a numpy array or torch tensor over the same memory; the returned object owns a
// reference to the tensor's storage.
nanobind::object tensor_to_python(const Tensor& t, Framework framework);

}  // namespace jagtile::python
