// Entry point of the CUDA jagged_reduce template, called by jagtile::jagged_reduce when the
// values live on a CUDA device (inputs already validated on the CPU side).
#pragma once

#include "jagtile/reduce.h"
#include "jagtile/tensor.h"

namespace jagtile {

// Reduces on the values' device into `out` (same device, shape [B] or [B, M], dtype
// spec.out_dtype or the input's). Queues the work on the device's legacy default stream and
// returns without waiting (a later copy to the host, or cuda_synchronize(), waits).
// UserError when the tensors are not all on the same CUDA device.
void jagged_reduce_cuda(const Tensor& values, const Tensor& offsets, const ReduceSpec& spec,
                        Tensor& out);

}  // namespace jagtile
