// Pass: matmuls beside a causal index mask learn the mask's band, so that backends skip the
// products the mask throws away. In causal attention the key block on the diagonal holds half
// useful work: `where(q_idx >= k_idx, silu(q @ k.T), 0) @ v` computes the scores above the
// diagonal only to drop them, and multiplies the zeros that replaced them.
//
// The band of a matmul whose last two dims are the tiles of loops r (rows) and c (columns) is a
// mask of the form `r.index + a >= c.index + b` (or `>`, or written the other way round, and `&`
// with other conditions): position (i, x) is inside it when begin(c) + x <= begin(r) + i +
// offset, with offset = a - b (one less for `>`). The pass records it as
// matmul.ints = {mode, r, c, offset}:
//
//  * mode 1, zero_a: operand A is `where(mask, t, 0)` (casts included), [..., tile r, tile c], so A
//    is zero outside the band; every backend skips the products A[i][k] B[k][j] for k outside
//    it. That changes a result only where a skipped B element is NaN or infinite (0 * inf), and
//    every backend, the interpreter included, skips the same products, so they agree exactly;
//    as with skip_masked_blocks, whose skipped blocks are the bands' empty extreme.
//  * mode 2, unused_c: the product, [..., tile r, tile c], is used only through elementwise ops
//    that end as the kept value of `where(mask, ., y)`: its elements outside the band never reach
//    a result. A backend may skip them (the CPU microkernel writes 0 there instead).
//
// Batch dims in front of the two (Helion's kernel keeps its heads there, the mask broadcast over
// them as `mask[None, :, :]`) take the same band. Jagged loops and masks over anything but two
// tile loops' indices plus constants are left alone.
#pragma once

#include "ir/ir.h"

namespace jagtile::ir {

// matmul.ints[0] when the matmul has a band (ints = {mode, row block, column block, offset}).
enum class MatmulBand : int64_t { none = 0, zero_a = 1, unused_c = 2 };

Kernel band_matmuls(const Kernel& kernel);

}  // namespace jagtile::ir
