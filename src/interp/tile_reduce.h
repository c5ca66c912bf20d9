// The interpreter's reductions and scans of one tile value: sums, maxima, minima and means over
// some dims, and running sums along one dim, each over the positions a mask marks valid.
#pragma once

#include <cstdint>
#include <vector>

#include "interp/tile_value.h"

namespace jagtile::interp {

// `op` (sum|amax|amin|mean) of `a` over `dims` (ascending), combining the positions where `mask`
// is set; the result has a's extents without `dims`, rounded to `out_dtype`. A NaN sticks;
// integer inputs (`in_dtype`) start max / min at int64's limits.
TileValuePtr reduce_tile(ir::Op op, const TileValue& a, const std::vector<uint8_t>& mask,
                         const std::vector<int64_t>& dims, DType in_dtype, DType out_dtype);

// The running sum of `a` along `dim` in order, adding the positions where `mask` is set and
// rounding to `dtype` at each step (as generated code adds); a masked position holds the sum so
// far. The result has a's extents.
TileValuePtr scan_tile(const TileValue& a, const std::vector<uint8_t>& mask, int64_t dim,
                       DType dtype);

}  // namespace jagtile::interp
