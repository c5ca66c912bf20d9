// Reductions and scans of the interpreter's tile values (see tile_reduce.h). Both walk every
// position in row-major order with the flat index of its position among the dims that remain.
#include "interp/tile_reduce.h"

#include <cmath>
#include <limits>

#include "jagtile/error.h"

namespace jagtile::interp {
namespace {

// Calls visit(p, k) for each flat position p of extents `ext`, row-major, with k the flat
// position among the dims not `dropped` (row-major too). Returns how many such positions exist.
template <typename Visit>
int64_t for_each_position(const std::vector<int64_t>& ext, const std::vector<bool>& dropped,
                          Visit visit) {
  const size_t R = ext.size();
  std::vector<int64_t> kept_stride(R, 0);
  int64_t kept = 1;
  for (size_t d = R; d-- > 0;)
    if (!dropped[d]) {
      kept_stride[d] = kept;
      kept *= ext[d];
    }
  const int64_t total = numel_of(ext);
  std::vector<int64_t> idx(R, 0);
  int64_t k = 0;
  for (int64_t p = 0; p < total; ++p) {
    visit(size_t(p), size_t(k));
    for (size_t d = R; d-- > 0;) {
      ++idx[d];
      k += kept_stride[d];
      if (idx[d] < ext[d]) break;
      k -= kept_stride[d] * idx[d];
      idx[d] = 0;
    }
  }
  return kept;
}

}  // namespace

TileValuePtr reduce_tile(ir::Op op, const TileValue& a, const std::vector<uint8_t>& mask,
                         const std::vector<int64_t>& dims, DType in_dtype, DType out_dtype) {
  const size_t R = a.ext.size();
  std::vector<bool> reduced(R, false);
  for (int64_t d : dims) reduced[size_t(d)] = true;
  auto out = std::make_shared<TileValue>();
  for (size_t d = 0; d < R; ++d)
    if (!reduced[d]) out->ext.push_back(a.ext[d]);
  const bool int_like = !dtype_is_float(in_dtype);
  double init = 0;
  if (op == ir::Op::amax)
    init = int_like ? double(std::numeric_limits<int64_t>::min())
                    : -std::numeric_limits<double>::infinity();
  if (op == ir::Op::amin)
    init = int_like ? double(std::numeric_limits<int64_t>::max())
                    : std::numeric_limits<double>::infinity();
  out->data.assign(size_t(numel_of(out->ext)), init);
  std::vector<int64_t> count(out->data.size(), 0);
  for_each_position(a.ext, reduced, [&](size_t p, size_t o) {
    if (!mask[p]) return;
    const double x = a.data[p];
    double& acc = out->data[o];
    switch (op) {
      case ir::Op::sum:
      case ir::Op::mean:
        acc += x;
        break;
      case ir::Op::amax:
        if (std::isnan(x) || x > acc) acc = std::isnan(acc) ? acc : x;
        break;
      case ir::Op::amin:
        if (std::isnan(x) || x < acc) acc = std::isnan(acc) ? acc : x;
        break;
      default:
        JAGTILE_CHECK(false, << "bad reduction");
    }
    ++count[o];
  });
  for (size_t o = 0; o < out->data.size(); ++o) {
    double& v = out->data[o];
    if (op == ir::Op::mean) v = v / double(count[o]);
    v = round_compute(out_dtype, v);
  }
  return out;
}

TileValuePtr scan_tile(const TileValue& a, const std::vector<uint8_t>& mask, int64_t dim,
                       DType dtype) {
  std::vector<bool> scanned(a.ext.size(), false);
  scanned[size_t(dim)] = true;
  // One carry per position of the other dims; row-major order visits `dim` in order for each.
  std::vector<double> carry;
  auto out = std::make_shared<TileValue>();
  out->ext = a.ext;
  out->data.resize(a.data.size());
  std::vector<int64_t> carries_ext;
  for (size_t d = 0; d < a.ext.size(); ++d)
    if (!scanned[d]) carries_ext.push_back(a.ext[d]);
  carry.assign(size_t(numel_of(carries_ext)), 0.0);
  for_each_position(a.ext, scanned, [&](size_t p, size_t c) {
    if (mask[p]) carry[c] = round_compute(dtype, carry[c] + a.data[p]);
    out->data[p] = carry[c];
  });
  return out;
}

}  // namespace jagtile::interp
