// Planning pass: an elementwise loop that stores `where(mask, value, other)`, where the mask is a
// comparison of the loop index against values the loop does not change (a causal mask inside a
// block on the diagonal: `row >= tile_k.begin + j`), computes `value` only over the positions the
// mask keeps and stores `other` over the rest. In causal attention the silu of the scores above
// the diagonal was computed only to be replaced by 0: half of every diagonal block's silu pass.
//
// Each term of the mask's conjunction that is such a comparison keeps a prefix or a suffix of the
// loop's positions; together they keep a span [begin, end) (a causal mask a prefix, a window
// both ends; other terms, such as a loaded mask, stay in the mask). The loop becomes up to
// three: over the span, rounded outwards to whole 64-byte vectors (the rounded-in positions
// still select through the mask, so no element changes, and the vector loop runs no scalar
// remainder), and before and after it, storing `other` and computing nothing else. Every stored
// element is the one the single loop stored, bit for bit. Only simd loops without reductions
// whose body is lets and that one array store qualify, and only where `value` computes something
// (a load or an operation); a mask without such a term leaves its loop as it is.
// JAGTILE_MASKED_ELEMENTS=0 turns the pass off (to measure it, and for the tests' comparison).
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void skip_masked_elements(Plan& plan);

}  // namespace jagtile::plan
