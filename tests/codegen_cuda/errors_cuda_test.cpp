// Errors of the cuda backend that need no GPU: asking for it with CPU tensors says why it cannot
// run and what to do; failures inside generated CUDA (bounds, asserts, from uniform code and from
// inside loops spread over a block's threads) reach the caller, through the emulation, as the
// same located UserError the interpreter and the CPU backend raise; the launch's failure record
// keeps the one the interpreter meets first, whatever order the threads report in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../codegen/codegen_helpers.h"
#include "codegen/cpu/abi.h"
#include "codegen/cpu/jit.h"
#include "codegen/cuda/emulation.h"
#include "codegen/cuda/print_cuda.h"
#include "cuda_test_util.h"
#include "jagtile/error.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;

const char* kKernels = R"PY(import torch
import helion.language as hl

def copy_n(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        out[t] = x[t] * 2.0
    return out

def store_past(x: torch.Tensor, shift: int) -> torch.Tensor:
    (n,) = x.size()
    out = torch.zeros([n], dtype=x.dtype, device=x.device)
    for t in hl.tile(n):
        out[t.index + shift] = x[t]
    return out

def gather_rows(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    (n,) = idx.size()
    m = x.size(1)
    out = torch.zeros([n, m], dtype=x.dtype, device=x.device)
    for tb, tm in hl.tile([n, m]):
        out[tb, tm] = x[idx[tb], tm]
    return out
)PY";

Tensor arange(int64_t n) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(double(i));
  return Tensor::from_doubles({n}, v, DType::f32);
}

Options interp_options() {
  Options o;
  o.backend = Backend::interp;
  return o;
}

TEST(CudaErrors, CpuTensorsWithoutTheEmulationSayWhereTheBackendRuns) {
  Program p = Program::from_source(kKernels, "errors.py");
  std::string msg = error_of(p, "copy_n", {{"x", arange(10)}, {"n", int64_t(10)}}, cuda_options());
  EXPECT_THAT(msg, HasSubstr("kernel 'copy_n' cannot run on backend 'cuda'"));
  EXPECT_THAT(msg, HasSubstr("its tensors are on cpu"));
  EXPECT_THAT(msg, HasSubstr("move the tensors, or use --backend auto"));
}

TEST(CudaErrors, AutoNeverPicksTheEmulationForCpuTensors) {
  EmulationOn emulation;
  Program p = Program::from_source(kKernels, "errors.py");
  Options o;
  o.cache_dir = shared_cache_dir();
  CallResult r = p.call("copy_n", {{"x", arange(10)}, {"n", int64_t(10)}}, o);
  EXPECT_EQ(r.backend_used, Backend::cpu);
}

TEST(CudaErrors, LoadPastTheEndReportsTheFirstBadIndexLikeTheInterpreter) {
  EmulationOn emulation;
  Program p = Program::from_source(kKernels, "errors.py");
  ArgMap args = {{"x", arange(10)}, {"n", int64_t(20)}};
  std::string msg = error_of(p, "copy_n", args, cuda_options());
  EXPECT_THAT(msg, HasSubstr("errors.py:7"));
  EXPECT_THAT(msg, HasSubstr("load of tensor 'x' at index 10 in dimension 0, which has size 10"));
  EXPECT_EQ(msg, error_of(p, "copy_n", args, interp_options()));
  // The block's threads all left together: the next call on the same module works.
  Tensor out = p.call("copy_n", {{"x", arange(10)}, {"n", int64_t(10)}}, cuda_options()).outputs[0];
  EXPECT_EQ(out.data<float>()[9], 18.0f);
}

TEST(CudaErrors, StorePastTheEndMatchesTheInterpreter) {
  EmulationOn emulation;
  Program p = Program::from_source(kKernels, "errors.py");
  ArgMap args = {{"x", arange(40)}, {"shift", int64_t(3)}};
  std::string msg = error_of(p, "store_past", args, cuda_options());
  EXPECT_THAT(msg, HasSubstr("store of tensor 'out' at index 40 in dimension 0"));
  EXPECT_EQ(msg, error_of(p, "store_past", args, interp_options()));
}

TEST(CudaErrors, GatherThroughABadIndexMatchesTheInterpreter) {
  EmulationOn emulation;
  Program p = Program::from_source(kKernels, "errors.py");
  std::vector<double> rows(12 * 5);
  Tensor x = Tensor::from_doubles({12, 5}, rows, DType::f32);
  Tensor idx = Tensor::from_doubles({9}, {0, 1, 2, 3, 11, 12, 4, 5, 6}, DType::i64);
  ArgMap args = {{"x", x}, {"idx", idx}};
  std::string msg = error_of(p, "gather_rows", args, cuda_options());
  EXPECT_THAT(msg, HasSubstr("load of tensor 'x' at index 12 in dimension 0, which has size 12"));
  EXPECT_EQ(msg, error_of(p, "gather_rows", args, interp_options()));
}

// The launch's failure record (jt_fail_ordered in the CUDA prelude), called directly through the
// emulation: whatever order the failures arrive in (a real GPU's blocks and threads race), it
// keeps the least by (program, site, position), which is where the interpreter stops.
const char* kRecorderHarness = R"CU(
extern "C" void jt_test_record(JtError* e, const int64_t* calls, int n) {
  for (int i = 0; i < n; ++i) {
    const int64_t* c = calls + 5 * i;  // program, position, site, index, extent
    jt_fail_ordered(e, c[0], c[1], JT_ERR_BOUNDS, (int32_t)c[2], c[3], c[4], 0);
  }
}
)CU";

TEST(CudaErrors, TheLaunchRecordKeepsTheLeastFailureByProgramSiteAndPosition) {
  use_shared_cache_dir();
  auto code = codegen::cpu::Jit::for_dir().load(
      codegen::cuda::emulation_source(codegen::cuda::prelude() + kRecorderHarness),
      "jt_test_record");
  using RecordFn = void (*)(JtError*, const int64_t*, int);
  auto record = reinterpret_cast<RecordFn>(code->symbol("jt_test_record"));
  const std::vector<int64_t> calls = {
      5, 0, 1, 50, 10,  // a later program, first to arrive
      2, 0, 3, 20, 10,  // the least program, a later site
      2, 7, 1, 30, 10,  // the least program and site, a later lane
      2, 3, 1, 40, 10,  // the least of all: the one kept
      9, 0, 0, 60, 10,  // a later program with an earlier site
      2, 3, 1, 70, 10,  // equal to the kept one: the first stays
  };
  JtError e{};
  record(&e, calls.data(), int(calls.size() / 5));
  EXPECT_EQ(e.code, JT_ERR_BOUNDS);
  EXPECT_EQ(e.program, 2);
  EXPECT_EQ(e.site, 1);
  EXPECT_EQ(e.position, 3);
  EXPECT_EQ(e.index, 40);
  EXPECT_EQ(e.lock, 0) << "the recorder released its lock";
  JtError none{};
  record(&none, calls.data(), 0);
  EXPECT_EQ(none.code, JT_OK);
}

}  // namespace
}  // namespace jagtile::testing
