// The bundled examples' references (see references.h). Deliberately naive: one loop nest per
// example over double values, so that a reader can check each against the kernel's meaning.
#include "testing/references.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "jagtile/error.h"
#include "jagtile/jagged.h"
#include "testing/compare.h"

namespace jagtile::reference {
namespace {

std::vector<int64_t> read_ints(const Tensor& t) {
  Tensor host = t.device().is_cpu() ? t : t.to(Device::cpu());
  Tensor w = host.dtype() == DType::i64 ? host : host.to_dtype(DType::i64);
  const int64_t* p = w.data<int64_t>();
  return std::vector<int64_t>(p, p + w.numel());
}

// Rounds once to float32 (what the kernels accumulate in), then to dtype (nearest even).
Tensor make_output(const Shape& shape, const std::vector<double>& values, DType dtype) {
  Tensor f = Tensor::empty(shape, DType::f32);
  float* p = f.data<float>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = float(values[i]);
  return dtype == DType::f32 ? f : f.to_dtype(dtype);
}

void require_rank(const Tensor& t, int64_t rank, const char* name, const char* layout,
                  const char* example) {
  if (!t.defined()) {
    throw UserError(std::string(example) + ": argument '" + name + "' is missing",
                    std::string("pass it as --arg ") + name + "=FILE.npy");
  }
  if (t.dim() != rank) {
    throw UserError(std::string(example) + ": '" + name + "' must be " + layout + ", got shape " +
                        t.shape_str(),
                    "check the argument's shape");
  }
}

// Checks the values/offsets pair every example takes and returns the item boundaries.
std::vector<int64_t> jagged_bounds(const Tensor& values, const Tensor& offsets,
                                   const char* example) {
  require_rank(values, 2, "x_values", "2-D [N, M]", example);
  require_rank(offsets, 1, "x_offsets", "1-D [B + 1]", example);
  validate_offsets(offsets, "x_offsets", values.size(0), "x_values");
  return read_ints(offsets);
}

// Per item and column, the reduction of the item's rows by `combine` from `init`.
template <typename Combine>
std::vector<double> reduce_rows(const std::vector<double>& x, const std::vector<int64_t>& off,
                                int64_t m, double init, Combine combine) {
  int64_t b_count = int64_t(off.size()) - 1;
  std::vector<double> acc(size_t(b_count * m), init);
  for (int64_t b = 0; b < b_count; ++b) {
    for (int64_t r = off[b]; r < off[b + 1]; ++r) {
      for (int64_t c = 0; c < m; ++c) acc[b * m + c] = combine(acc[b * m + c], x[r * m + c]);
    }
  }
  return acc;
}

}  // namespace

DType promote(DType a, DType b) {
  if (a == b) return a;
  bool fa = dtype_is_float(a), fb = dtype_is_float(b);
  if (fa && fb) return DType::f32;  // f32 with anything, or f16 with bf16
  if (fa) return a;
  if (fb) return b;
  if (a == DType::boolean) return b;
  if (b == DType::boolean) return a;
  return DType::i64;  // i32 with i64
}

std::vector<uint8_t> rows_in_items(const Tensor& offsets, int64_t num_rows) {
  std::vector<uint8_t> in_item(size_t(num_rows), 0);
  std::vector<int64_t> off = read_ints(offsets);
  for (size_t b = 0; b + 1 < off.size(); ++b) {
    for (int64_t r = off[b]; r < off[b + 1] && r < num_rows; ++r) in_item[size_t(r)] = 1;
  }
  return in_item;
}

Tensor jagged_sum(const Tensor& values, const Tensor& offsets) {
  auto off = jagged_bounds(values, offsets, "jagged_sum");
  int64_t m = values.size(1);
  auto acc =
      reduce_rows(host_doubles(values), off, m, 0.0, [](double a, double v) { return a + v; });
  return make_output({int64_t(off.size()) - 1, m}, acc, values.dtype());
}

std::vector<double> sum_rounding_allowance(const Tensor& values, const Tensor& offsets) {
  auto off = jagged_bounds(values, offsets, "jagged_sum");
  int64_t m = values.size(1);
  auto squares =
      reduce_rows(host_doubles(values), off, m, 0.0, [](double a, double v) { return a + v * v; });
  for (size_t b = 0; b + 1 < off.size(); ++b) {
    double scale = 16.0 * 0x1.0p-24 * std::sqrt(double(off[b + 1] - off[b]));
    for (int64_t c = 0; c < m; ++c) squares[b * m + c] = scale * std::sqrt(squares[b * m + c]);
  }
  return squares;
}

Tensor jagged_mean(const Tensor& values, const Tensor& offsets, const Tensor& counts) {
  auto off = jagged_bounds(values, offsets, "jagged_mean");
  int64_t m = values.size(1);
  int64_t b_count = int64_t(off.size()) - 1;
  require_rank(counts, 1, "x_feature_counts", "1-D [B]", "jagged_mean");
  validate_feature_counts(counts, "x_feature_counts", b_count, m);
  auto cols = read_ints(counts);
  auto acc =
      reduce_rows(host_doubles(values), off, m, 0.0, [](double a, double v) { return a + v; });
  for (int64_t b = 0; b < b_count; ++b) {
    int64_t nnz = off[b + 1] - off[b];
    for (int64_t c = 0; c < m; ++c) {
      double& o = acc[b * m + c];
      // The kernel divides the float32 sum by the float32 count.
      o = (c < cols[b] && nnz > 0) ? double(float(o) / float(nnz)) : 0.0;
    }
  }
  return make_output({b_count, m}, acc, values.dtype());
}

Tensor jagged_max(const Tensor& values, const Tensor& offsets) {
  auto off = jagged_bounds(values, offsets, "jagged_max");
  int64_t m = values.size(1);
  auto acc = reduce_rows(host_doubles(values), off, m, -std::numeric_limits<double>::infinity(),
                         [](double a, double v) { return v > a ? v : a; });
  return make_output({int64_t(off.size()) - 1, m}, acc, values.dtype());
}

Tensor jagged_softmax(const Tensor& values, const Tensor& offsets) {
  auto off = jagged_bounds(values, offsets, "jagged_softmax");
  int64_t m = values.size(1);
  auto x = host_doubles(values);
  std::vector<double> out(x.size(), 0.0);
  for (size_t b = 0; b + 1 < off.size(); ++b) {
    for (int64_t c = 0; c < m; ++c) {
      double best = -std::numeric_limits<double>::infinity();
      for (int64_t r = off[b]; r < off[b + 1]; ++r) best = std::max(best, x[r * m + c]);
      double total = 0;
      for (int64_t r = off[b]; r < off[b + 1]; ++r) total += std::exp(x[r * m + c] - best);
      for (int64_t r = off[b]; r < off[b + 1]; ++r) {
        out[r * m + c] = std::exp(x[r * m + c] - best) / total;
      }
    }
  }
  return make_output(values.shape(), out, values.dtype());
}

Tensor jagged_layer_norm(const Tensor& values, const Tensor& offsets, double eps) {
  auto off = jagged_bounds(values, offsets, "jagged_layer_norm");
  int64_t m = values.size(1);
  auto x = host_doubles(values);
  std::vector<double> out(x.size(), 0.0);
  for (size_t b = 0; b + 1 < off.size(); ++b) {
    int64_t begin = off[b] * m, end = off[b + 1] * m;
    if (begin == end) continue;
    double count = double(end - begin);
    double total = 0;
    for (int64_t i = begin; i < end; ++i) total += x[i];
    double mean = total / count;
    double squares = 0;
    for (int64_t i = begin; i < end; ++i) squares += (x[i] - mean) * (x[i] - mean);
    double rstd = 1.0 / std::sqrt(squares / count + eps);
    for (int64_t i = begin; i < end; ++i) out[i] = (x[i] - mean) * rstd;
  }
  return make_output(values.shape(), out, values.dtype());
}

Tensor jagged_dense_add(const Tensor& values, const Tensor& offsets, const Tensor& y) {
  auto off = jagged_bounds(values, offsets, "jagged_dense_add");
  int64_t m = values.size(1);
  int64_t b_count = int64_t(off.size()) - 1;
  require_rank(y, 3, "y", "3-D [B, L, M]", "jagged_dense_add");
  if (y.size(0) != b_count || y.size(2) != m) {
    throw UserError("jagged_dense_add: 'y' must be [B, L, M] = [" + std::to_string(b_count) +
                        ", L, " + std::to_string(m) + "], got " + y.shape_str(),
                    "B is x_offsets' length minus one and M is x_values' second dimension");
  }
  int64_t l = y.size(1);
  for (int64_t b = 0; b < b_count; ++b) {
    if (off[b + 1] - off[b] > l) {
      throw UserError("jagged_dense_add: item " + std::to_string(b) + " has " +
                          std::to_string(off[b + 1] - off[b]) +
                          " rows but 'y' holds only L=" + std::to_string(l) + " per item",
                      "make y's second dimension at least the longest item's length");
    }
  }
  auto x = host_doubles(values);
  auto out = host_doubles(y);
  for (int64_t b = 0; b < b_count; ++b) {
    for (int64_t k = 0; k < off[b + 1] - off[b]; ++k) {
      for (int64_t c = 0; c < m; ++c) out[(b * l + k) * m + c] += x[(off[b] + k) * m + c];
    }
  }
  return make_output(y.shape(), out, promote(values.dtype(), y.dtype()));
}

Tensor jagged_dense_bmm(const Tensor& values, const Tensor& offsets, const Tensor& weight,
                        const Tensor& bias) {
  auto off = jagged_bounds(values, offsets, "jagged_dense_bmm");
  int64_t d = values.size(1);
  int64_t b_count = int64_t(off.size()) - 1;
  require_rank(weight, 3, "weight", "3-D [B, D, K]", "jagged_dense_bmm");
  if (weight.size(0) != b_count || weight.size(1) != d) {
    throw UserError("jagged_dense_bmm: 'weight' must be [B, D, K] = [" + std::to_string(b_count) +
                        ", " + std::to_string(d) + ", K], got " + weight.shape_str(),
                    "B is x_offsets' length minus one and D is x_values' second dimension");
  }
  int64_t k = weight.size(2);
  std::vector<double> bias_values;
  if (bias.defined()) {
    require_rank(bias, 2, "bias", "2-D [B, K]", "jagged_dense_bmm");
    if (bias.size(0) != b_count || bias.size(1) != k) {
      throw UserError("jagged_dense_bmm: 'bias' must be [B, K] = [" + std::to_string(b_count) +
                          ", " + std::to_string(k) + "], got " + bias.shape_str(),
                      "pass --arg bias=none to run without a bias");
    }
    bias_values = host_doubles(bias);
  }
  auto x = host_doubles(values);
  auto w = host_doubles(weight);
  std::vector<double> out(size_t(values.size(0) * k), 0.0);
  for (int64_t b = 0; b < b_count; ++b) {
    for (int64_t r = off[b]; r < off[b + 1]; ++r) {
      for (int64_t n = 0; n < k; ++n) {
        double acc = bias_values.empty() ? 0.0 : bias_values[b * k + n];
        for (int64_t i = 0; i < d; ++i) acc += x[r * d + i] * w[(b * d + i) * k + n];
        out[r * k + n] = acc;
      }
    }
  }
  return make_output({values.size(0), k}, out, promote(values.dtype(), weight.dtype()));
}

Tensor jagged_hstu_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                             const Tensor& seq_offsets, int64_t max_seq_len, double alpha) {
  const char* example = "jagged_hstu_attention";
  require_rank(q, 3, "q", "3-D [L, H, D]", example);
  require_rank(k, 3, "k", "3-D [L, H, D]", example);
  require_rank(v, 3, "v", "3-D [L, H, D]", example);
  if (k.shape() != q.shape() || v.shape() != q.shape()) {
    throw UserError(std::string(example) + ": q, k and v must have one shape [L, H, D], got q " +
                        q.shape_str() + ", k " + k.shape_str() + ", v " + v.shape_str(),
                    "every row holds one position's heads; pass tensors of equal shape");
  }
  require_rank(seq_offsets, 1, "seq_offsets", "1-D [B + 1]", example);
  validate_offsets(seq_offsets, "seq_offsets", q.size(0), "q");
  if (max_seq_len < 1) {
    throw UserError(std::string(example) + ": max_seq_len must be at least 1, got " +
                        std::to_string(max_seq_len),
                    "pass the longest sequence's length (or more): --arg max_seq_len=N");
  }
  auto off = read_ints(seq_offsets);
  const int64_t heads = q.size(1), dim = q.size(2);
  auto qs = host_doubles(q), ks = host_doubles(k), vs = host_doubles(v);
  auto at = [&](int64_t row, int64_t h) { return size_t((row * heads + h) * dim); };
  std::vector<double> out(qs.size(), 0.0);
  for (size_t b = 0; b + 1 < off.size(); ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t i = off[b]; i < off[b + 1]; ++i) {
        for (int64_t j = off[b]; j <= i; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < dim; ++d) dot += qs[at(i, h) + d] * ks[at(j, h) + d];
          const double s = alpha * dot;
          const double p = s / (1.0 + std::exp(-s)) / double(max_seq_len);
          for (int64_t d = 0; d < dim; ++d) out[at(i, h) + d] += p * vs[at(j, h) + d];
        }
      }
    }
  }
  return make_output(q.shape(), out, v.dtype());
}

}  // namespace jagtile::reference
