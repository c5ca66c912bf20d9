// Broadcasting for the interpreter's tile values (see tile_value.h).
#include "interp/tile_value.h"

namespace jagtile::interp {

int64_t numel_of(const std::vector<int64_t>& ext) {
  int64_t n = 1;
  for (int64_t e : ext) n *= e;
  return n;
}

std::vector<int64_t> broadcast_map(const std::vector<int64_t>& result_ext,
                                   const std::vector<int64_t>& ext) {
  size_t R = result_ext.size();
  JAGTILE_CHECK(ext.size() <= R, << "broadcast of rank " << ext.size() << " into rank " << R);
  std::vector<int64_t> stride(R, 0);
  int64_t s = 1;
  for (size_t j = ext.size(); j-- > 0;) {
    size_t i = j + (R - ext.size());
    JAGTILE_CHECK(ext[j] == result_ext[i] || ext[j] == 1,
                  << "extent " << ext[j] << " does not broadcast to " << result_ext[i]);
    stride[i] = ext[j] == 1 ? 0 : s;
    s *= ext[j];
  }
  int64_t n = numel_of(result_ext);
  std::vector<int64_t> out(size_t(n > 0 ? n : 0));
  std::vector<int64_t> idx(R, 0);
  int64_t off = 0;
  for (int64_t p = 0; p < n; ++p) {
    out[size_t(p)] = off;
    for (size_t d = R; d-- > 0;) {
      ++idx[d];
      off += stride[d];
      if (idx[d] < result_ext[d]) break;
      off -= stride[d] * idx[d];
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace jagtile::interp
