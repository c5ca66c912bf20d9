// Hand-written references for the bundled examples: plain loops over the jagged layout,
// double accumulation, results rounded once to the output dtype (16-bit: nearest even). They
// define what each example must compute, empty items and masked columns included, and are what
// `jagtile run --check` and the tests compare against. Inputs are validated first (UserError).
#pragma once

#include <cstdint>
#include <vector>

#include "jagtile/tensor.h"

namespace jagtile::reference {

// The dtype torch.promote_types gives for two element types.
DType promote(DType a, DType b);

// [B, M]: out[b, m] = sum of values[r, m] over the rows r of item b (0 when empty).
Tensor jagged_sum(const Tensor& values, const Tensor& offsets);
// [B, M]: mean over the rows of item b for m < counts[b] and a non-empty item; 0 elsewhere.
Tensor jagged_mean(const Tensor& values, const Tensor& offsets, const Tensor& counts);
// [B, M]: maximum over the rows of item b; -inf when empty.
Tensor jagged_max(const Tensor& values, const Tensor& offsets);
// [N, M]: softmax over each item's rows, per column.
Tensor jagged_softmax(const Tensor& values, const Tensor& offsets);
// [N, M]: each item normalised over all its values: (x - mean) / sqrt(var + eps), biased var.
Tensor jagged_layer_norm(const Tensor& values, const Tensor& offsets, double eps);
// [B, L, M]: y plus the jagged values zero-padded to L rows per item.
Tensor jagged_dense_add(const Tensor& values, const Tensor& offsets, const Tensor& y);
// [N, K]: the rows of item b times weight[b] ([D, K]), plus bias[b] when bias is defined.
Tensor jagged_dense_bmm(const Tensor& values, const Tensor& offsets, const Tensor& weight,
                        const Tensor& bias);
// [L, H, D]: causal SiLU attention of each sequence with itself, per head (HSTU): for the rows
// i of sequence b (seq_offsets[b] <= i < seq_offsets[b+1]) and head h,
//   out[i, h, :] = sum over j in [seq_offsets[b], i] of
//                  silu(alpha * q[i, h, :] . k[j, h, :]) / max_seq_len * v[j, h, :]
// with v's dtype. max_seq_len must be >= 1 (HSTU passes the longest sequence, or more).
Tensor jagged_hstu_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                             const Tensor& seq_offsets, int64_t max_seq_len, double alpha);

// [B * M]: how far a float32 sum of item b's column m may drift from the exact sum, whatever
// the summation order: 16 * 2^-24 * sqrt(nnz_b) * sqrt(sum of x^2) (a few times the typical
// rounding error of n additions; a lost or doubled row still exceeds it).
std::vector<double> sum_rounding_allowance(const Tensor& values, const Tensor& offsets);

// For the outputs in the jagged layout ([N, ...]): which rows belong to an item (1) and which
// the kernels leave unwritten (0), so comparisons skip the latter.
std::vector<uint8_t> rows_in_items(const Tensor& offsets, int64_t num_rows);

}  // namespace jagtile::reference
