// Offsets validation for every kernel (issue 11): bad offsets of a generic kernel (jagged_softmax,
// a hand-written hl.tile(begin, end) kernel) and of a template kernel (jagged_sum) are rejected
// before any nest runs, on the interpreter, the generated CPU code and the template, with the
// template path's messages (tensor name, index, values); valid offsets of every shape still run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "codegen_helpers.h"
#include "jagtile/error.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;

const char* kTileBetween = R"PY(import torch
import helion.language as hl

def seg_sum(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    B = offsets.size(0) - 1
    out = torch.zeros([B], dtype=torch.float32, device=x.device)
    for i in hl.grid(B):
        start = offsets[i]
        end = offsets[i + 1]
        acc = hl.zeros([], dtype=torch.float32)
        for tile_k in hl.tile(start, end):
            acc = acc + x[tile_k].sum()
        out[i] = acc
    return out
)PY";

struct Case {
  std::string name;
  std::string file;    // an example's path, or empty for kTileBetween
  std::string kernel;  // the kernel to call
  std::string values, offsets;
  int values_rank = 2;
  std::vector<Backend> backends;
};

std::vector<Case> cases() {
  const std::vector<Backend> generic{Backend::interp, Backend::cpu};
  const std::vector<Backend> all{Backend::interp, Backend::cpu, Backend::template_lib};
  return {
      {"softmax", "examples/jagged_softmax.py", "jagged_softmax", "x_values", "x_offsets", 2,
       generic},
      {"tile_between", "", "seg_sum", "x", "offsets", 1, generic},
      {"sum", "examples/jagged_sum.py", "jagged_sum", "x_values", "x_offsets", 2, all},
  };
}

Program program_of(const Case& c) {
  return c.file.empty() ? Program::from_source(kTileBetween, "seg_sum.py")
                        : Program::from_source(read_source_file(c.file), c.file);
}

// Values [rows, 3] (or [rows]) with distinct entries, offsets as given (i64).
ArgMap args_for(const Case& c, int64_t rows, const std::vector<double>& offsets) {
  std::vector<double> v;
  const int64_t m = c.values_rank == 2 ? 3 : 1;
  for (int64_t i = 0; i < rows * m; ++i) v.push_back(double(i % 7) * 0.5 - 1.0);
  Shape shape = c.values_rank == 2 ? Shape{rows, 3} : Shape{rows};
  ArgMap a;
  a[c.values] = Tensor::from_doubles(shape, v, DType::f32);
  a[c.offsets] = Tensor::from_doubles({int64_t(offsets.size())}, offsets, DType::i64);
  return a;
}

Options on(Backend b) {
  use_shared_cache_dir();
  Options o;
  o.backend = b;
  return o;
}

// The message of the UserError the call raises (and that it returned nothing), or "".
std::string error_of(const Case& c, Backend b, int64_t rows, const std::vector<double>& offsets) {
  Program p = program_of(c);
  try {
    CallResult r = p.call(c.kernel, args_for(c, rows, offsets), on(b));
    ADD_FAILURE() << c.name << " on " << backend_name(b) << " returned " << r.outputs.size()
                  << " output(s) on bad offsets";
  } catch (const UserError& e) {
    return e.message();
  }
  return "";
}

// One bad input per fault; every backend gives the same message, naming the tensors and values.
void expect_rejected(int64_t rows, const std::vector<double>& offsets,
                     const std::function<std::string(const Case&)>& want) {
  for (const Case& c : cases()) {
    for (Backend b : c.backends) {
      SCOPED_TRACE(c.name + " on " + std::string(backend_name(b)));
      std::string got = error_of(c, b, rows, offsets);
      EXPECT_THAT(got, HasSubstr(want(c)));
      // The process goes on: the next call with valid offsets works.
      Program p = program_of(c);
      EXPECT_NO_THROW(p.call(c.kernel, args_for(c, 5, {0, 2, 5}), on(b)));
    }
  }
}

TEST(OffsetsGuardsBackends, DecreasingOffsetsNameTensorIndexAndValues) {
  expect_rejected(5, {0, 3, 2, 5}, [](const Case& c) {
    return "offsets '" + c.offsets + "' must be non-decreasing, but " + c.offsets + "[1] = 3 > " +
           c.offsets + "[2] = 2";
  });
}

TEST(OffsetsGuardsBackends, OffsetPastTheValuesRowsNamesBothTensors) {
  expect_rejected(5, {0, 2, 9}, [](const Case& c) {
    return "offsets '" + c.offsets + "' end past the data: " + c.offsets + "[2] = 9 but '" +
           c.values + "' has 5 rows";
  });
}

TEST(OffsetsGuardsBackends, NegativeFirstOffsetIsRejected) {
  expect_rejected(5, {-1, 2, 5}, [](const Case& c) {
    return "offsets '" + c.offsets + "' must start at 0 or more, but " + c.offsets + "[0] = -1";
  });
}

TEST(OffsetsGuardsBackends, SameMessageOnEveryBackend) {
  for (const Case& c : cases()) {
    std::string first = error_of(c, c.backends.front(), 4, {0, 1, 0});
    EXPECT_FALSE(first.empty());
    for (Backend b : c.backends) EXPECT_EQ(error_of(c, b, 4, {0, 1, 0}), first) << c.name;
  }
}

// Empty items, all-empty batches, no items, offsets not starting at 0 or ending before the last
// row: every backend runs and agrees with the interpreter.
TEST(OffsetsGuardsBackends, ValidOffsetsOfEveryShapeStillRun) {
  const std::vector<std::pair<int64_t, std::vector<double>>> shapes{
      {5, {0, 0, 2, 2, 5}}, {0, {0, 0, 0}}, {3, {0, 0, 0}},      {0, {0}},
      {6, {1, 3, 4}},       {7, {0, 7}},    {4, {0, 1, 2, 3, 4}}};
  for (const Case& c : cases()) {
    for (const auto& [rows, offsets] : shapes) {
      Program p = program_of(c);
      std::vector<Tensor> want;
      ASSERT_NO_THROW(want =
                          p.call(c.kernel, args_for(c, rows, offsets), on(Backend::interp)).outputs)
          << c.name << " rows " << rows;
      for (Backend b : c.backends) {
        SCOPED_TRACE(c.name + " on " + std::string(backend_name(b)) + ", rows " +
                     std::to_string(rows));
        std::vector<Tensor> got;
        ASSERT_NO_THROW(got = p.call(c.kernel, args_for(c, rows, offsets), on(b)).outputs);
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(got[i].shape(), want[i].shape());
          // softmax leaves rows outside every item uninitialised: compare item rows only.
          const int64_t first = int64_t(offsets.front()), last = int64_t(offsets.back());
          const bool jagged_out = c.kernel == "jagged_softmax";
          const int64_t per_row = got[i].dim() == 2 ? got[i].size(1) : 1;
          for (int64_t e = 0; e < got[i].numel(); ++e) {
            const int64_t row = e / per_row;
            if (jagged_out && (row < first || row >= last)) continue;
            EXPECT_NEAR(got[i].item_as_double(e), want[i].item_as_double(e), 1e-5) << e;
          }
        }
      }
    }
  }
}

TEST(OffsetsGuardsBackends, SeparateSumsOfTileBetweenOffsetsAreRight) {
  const Case c = cases()[1];
  for (Backend b : c.backends) {
    Program p = program_of(c);
    ArgMap a;
    a["x"] = Tensor::from_doubles({5}, {1, 2, 3, 4, 5}, DType::f32);
    a["offsets"] = Tensor::from_doubles({4}, {0, 2, 2, 5}, DType::i64);
    Tensor out = p.call("seg_sum", a, on(b)).outputs.at(0);
    EXPECT_EQ(out.item_as_double(0), 3);
    EXPECT_EQ(out.item_as_double(1), 0);
    EXPECT_EQ(out.item_as_double(2), 12);
  }
}

// The offsets bound rows of x, read by the first loop unchecked (analysis::rows_within_guards),
// and rows of y, made only after that loop: the guard checks x's rows before the first loop and
// y's when y exists, so neither loop can run past its tensor.
const char* kTwoLoops = R"PY(import torch
import helion.language as hl

def two_loops(x: torch.Tensor, offsets: torch.Tensor, n: int) -> torch.Tensor:
    B = offsets.size(0) - 1
    sums = torch.zeros([B], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        acc = hl.zeros([tile_b], dtype=torch.float32)
        for tile_k in hl.jagged_tile(nnz):
            acc = acc + x[starts[:, None] + tile_k.index[None, :]].sum(dim=1)
        sums[tile_b] = acc
    y = torch.zeros([n], dtype=torch.float32, device=x.device)
    for tile_b in hl.tile(B):
        starts = offsets[tile_b]
        nnz = offsets[tile_b.index + 1] - starts
        for tile_k in hl.jagged_tile(nnz):
            rows = starts[:, None] + tile_k.index[None, :]
            y[rows] = x[rows] * 2.0
    return y, sums
)PY";

std::string two_loops_error(Backend b, int64_t x_rows, const std::vector<double>& offsets,
                            int64_t n) {
  Program p = Program::from_source(kTwoLoops, "two_loops.py");
  ArgMap a;
  a["x"] = Tensor::zeros({x_rows}, DType::f32);
  a["offsets"] = Tensor::from_doubles({int64_t(offsets.size())}, offsets, DType::i64);
  a["n"] = n;
  try {
    p.call("two_loops", a, on(b));
  } catch (const UserError& e) {
    return e.message();
  }
  return "";
}

TEST(OffsetsGuardsBackends, RowsOfTheFirstLoopsTensorAreCheckedBeforeALaterTensorExists) {
  for (Backend b : {Backend::interp, Backend::cpu}) {
    SCOPED_TRACE(backend_name(b));
    EXPECT_THAT(
        two_loops_error(b, 6, {0, 3, 9}, 10),
        HasSubstr("offsets 'offsets' end past the data: offsets[2] = 9 but 'x' has 6 rows"));
  }
}

TEST(OffsetsGuardsBackends, ATensorMadeLaterWithFewerRowsIsCheckedWhenItExists) {
  for (Backend b : {Backend::interp, Backend::cpu}) {
    SCOPED_TRACE(backend_name(b));
    EXPECT_THAT(
        two_loops_error(b, 6, {0, 3, 6}, 4),
        HasSubstr("offsets 'offsets' end past the data: offsets[2] = 6 but 'y' has 4 rows"));
    EXPECT_EQ(two_loops_error(b, 6, {0, 3, 6}, 6), "");
  }
}

}  // namespace
}  // namespace jagtile::testing
