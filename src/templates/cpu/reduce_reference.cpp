// The plainly written reference for jagged_reduce: one loop per item, per column, over the rows in
// order, in fp32, with every element read through Tensor::item_as_double. Slow by design: its job
// is to be obviously right, so tests and benchmarks can trust it.
#include <algorithm>
#include <cmath>

#include "jagtile/error.h"
#include "jagtile/jagged.h"
#include "jagtile/reduce.h"

namespace jagtile {

namespace {
float combine(ReduceOp op, float acc, float x) {
  switch (op) {
    case ReduceOp::max:
      return (acc > x || std::isnan(acc)) ? acc : x;
    case ReduceOp::min:
      return (acc < x || std::isnan(acc)) ? acc : x;
    default:
      return acc + x;
  }
}
}  // namespace

Tensor jagged_reduce_reference(const Tensor& values, const Tensor& offsets,
                               const ReduceSpec& spec) {
  if (!values.device().is_cpu())
    throw UserError("jagged_reduce_reference runs on CPU tensors only");
  if (values.dim() != 1 && values.dim() != 2) {
    throw UserError("jagged_reduce_reference: 'values' must have rank 1 or 2, got " +
                    values.shape_str());
  }
  validate_offsets(offsets, "offsets", values.size(0), "values");
  const int64_t num_items = offsets.numel() - 1;
  const int64_t num_cols = values.dim() == 2 ? values.size(1) : 1;
  if (spec.feature_counts.defined()) {
    validate_feature_counts(spec.feature_counts, "feature_counts", num_items, num_cols);
  }
  Shape out_shape{num_items};
  if (values.dim() == 2) out_shape.push_back(num_cols);
  Tensor out = Tensor::empty(out_shape, spec.out_dtype.value_or(values.dtype()));

  const ReducePost post = spec.effective_post();
  for (int64_t b = 0; b < num_items; ++b) {
    const int64_t begin = int64_t(offsets.item_as_double(b));
    const int64_t end = int64_t(offsets.item_as_double(b + 1));
    const int64_t nnz = end - begin;
    const int64_t valid =
        spec.feature_counts.defined() ? int64_t(spec.feature_counts.item_as_double(b)) : num_cols;
    for (int64_t j = 0; j < num_cols; ++j) {
      float result = spec.masked_value;
      if (j < valid) {
        float acc = spec.effective_init();
        for (int64_t r = begin; r < end; ++r) {
          acc = combine(spec.op, acc, float(values.item_as_double(r * num_cols + j)));
        }
        if (post == ReducePost::identity) {
          result = acc;
        } else if (post == ReducePost::divide_by_count || nnz > 0) {
          result = acc / float(nnz);
        } else {
          result = spec.post_value;
        }
      }
      out.set_from_double(b * num_cols + j, double(result));
    }
  }
  return out;
}

}  // namespace jagtile
