// Shapes of planned loops that the C++ printer (print_cpp.cpp) prints its own way: a simd loop
// that ends in one tensor store of consecutive elements (a row it may stream or pack), and a
// serial loop that is an integer running sum (an OpenMP scan). Pure questions about the
// loop-nest form, answered through the loop body's lets.
#pragma once

#include <map>
#include <string>

#include "plan/nest_ir.h"

namespace jagtile::codegen::cpu {

// The tensor store that ends a simd loop whose body before it is only lets (and comments), or
// null: the loops the printer may print another way (streamed rows, packed compaction).
const plan::Stmt* final_store(const plan::Stmt& loop);
// A loop body's lets by name.
std::map<std::string, plan::ExprPtr> lets_of(const plan::Stmt& loop);
// Whether a tensor store in `loop`'s body writes consecutive elements along the loop: its last
// index is the loop index plus values the loop does not change (through the body's lets), and
// the loop does not change its other indices.
bool consecutive_along(const plan::Stmt& loop, const plan::Stmt& store);
// Whether `e` (through the loop body's lets) reads the loop index.
bool varies(const plan::ExprPtr& e, const std::string& index,
            const std::map<std::string, plan::ExprPtr>& lets);
// Whether `e` is the loop index plus values the loop does not change.
bool unit_step(const plan::ExprPtr& e, const std::string& index,
               const std::map<std::string, plan::ExprPtr>& lets);
// Whether `e` (through the loop body's lets) reads `array` at the loop index `index` in its last
// dim, with other indices the loop does not change (a compacting store's cumsum read).
bool reads_along(const plan::ExprPtr& e, const std::string& array, const std::string& index,
                 const std::map<std::string, plan::ExprPtr>& lets);
// `e` with the loop body's lets replaced by their values and conversions to its own type
// dropped; null where it names a variable that is not one of the lets.
const plan::Expr* through_lets_and_casts(const plan::Expr* e,
                                         const std::map<std::string, plan::ExprPtr>& lets);
// A conversion (or the tile IR's cast) between bools and integers: 0 / 1 stays 0 / 1.
bool zero_one_cast(const plan::Expr& e);
// The carry update of a serial loop that is an integer running sum along itself, or null: its
// body is lets, then `carry += x` (a local, or a tile array element the loop does not move
// along), then `sums[...] = carry` at indices that read no let of the body (they are printed
// after the scan directive, in the scan's second phase).
const plan::Stmt* running_sum(const plan::Stmt& loop);

}  // namespace jagtile::codegen::cpu
