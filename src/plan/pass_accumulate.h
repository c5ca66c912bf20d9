// Planning pass: a matmul whose product is only added to a variable (`acc = acc + a @ b`, after
// single-consumer fusion a matmul nest into its own array followed by a var_assign nest adding
// that array to acc element by element) accumulates in place: its matmul_block writes acc with
// acc as D (C = A @ B + D, each element's sum in k order, then D added: the same bits as acc +
// (A @ B), addition being commutative), and the product's array and the adding nest go. In a
// loop over k blocks that saves a pass over the accumulator per block. So does `acc = hl.dot(a,
// b, acc=acc)`: a value nest copying acc into D's array, the matmul nest, then a var_assign nest
// copying C back into acc; the block then writes acc with acc as D, and both copies go.
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void accumulate_matmuls_in_place(Plan& plan);

}  // namespace jagtile::plan
