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

TileValuePtr permuted(const TileValue& a, const std::vector<int64_t>& perm) {
  auto v = std::make_shared<TileValue>();
  const size_t r = perm.size();
  for (size_t d = 0; d < r; ++d) v->ext.push_back(a.ext[size_t(perm[d])]);
  v->data.resize(a.data.size());
  // Walk the result row-major; the source offset moves by the source stride of the dim each
  // result dim came from.
  std::vector<int64_t> src_stride(r, 1), pos(r, 0);
  for (size_t d = r; d-- > 1;) src_stride[d - 1] = src_stride[d] * a.ext[d];
  for (size_t out = 0; out < v->data.size(); ++out) {
    int64_t from = 0;
    for (size_t d = 0; d < r; ++d) from += pos[d] * src_stride[size_t(perm[d])];
    v->data[out] = a.data[size_t(from)];
    for (size_t d = r; d-- > 0;) {
      if (++pos[d] < v->ext[d]) break;
      pos[d] = 0;
    }
  }
  return v;
}

}  // namespace jagtile::interp
