// The `jagtile` tool run as a subprocess: exit statuses (0 ok, 1 user error or failed check,
// 2 usage error) and the messages a user sees, for every bundled example and every kind of
// bad command line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_test_util.h"
#include "jagtile/tensor.h"
#include "testing/examples.h"

namespace jagtile {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using namespace cli_test;

Outcome jagtile(const std::vector<std::string>& args) {
  return run_jagtile(args);
}

std::string write_file(const std::string& name, const std::string& text) {
  fs::path p = scratch_dir() / name;
  std::ofstream(p) << text;
  return p.string();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tool_is_built()); }
};

// A kernel that is not a bundled example: copies a vector.
const char* kCopyKernel =
    "import helion\n"
    "import helion.language as hl\n"
    "import torch\n"
    "\n"
    "@helion.kernel()\n"
    "def copy_vec(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:\n"
    "    out = torch.empty_like(x)\n"
    "    for tile in hl.tile(x.size(0)):\n"
    "        out[tile] = x[tile] * scale\n"
    "    return out\n";

TEST_F(CliTest, HelpForTheToolAndEachCommand) {
  Outcome o = jagtile({"--help"});
  EXPECT_EQ(o.status, 0);
  EXPECT_THAT(o.out, HasSubstr("run"));
  EXPECT_THAT(o.out, HasSubstr("explain"));
  EXPECT_THAT(o.out, HasSubstr("jagged_sum"));
  for (std::string cmd : {"run", "explain"}) {
    Outcome c = jagtile({cmd, "--help"});
    EXPECT_EQ(c.status, 0) << cmd;
    EXPECT_THAT(c.out, HasSubstr("usage: jagtile " + cmd)) << cmd;
  }
  EXPECT_THAT(jagtile({"run", "--help"}).out, HasSubstr("--check"));
  EXPECT_THAT(jagtile({"explain", "--help"}).out, HasSubstr("--json"));
}

TEST_F(CliTest, UsageErrorsExitTwoWithAUsageLine) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{}, "missing command"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"run"}, "missing KERNEL_FILE"},
      {{"run", "examples/jagged_sum.py", "--bogus"}, "unknown option '--bogus'"},
      {{"run", "examples/jagged_sum.py", "-x"}, "unknown option '-x'"},
      {{"run", "examples/jagged_sum.py", "--max_len", "3"},
       "unknown option '--max_len' (did you mean --max-len?)"},
      {{"explain", "examples/jagged_sum.py", "--jsn"}, "(did you mean --json?)"},
      {{"examples/jagged_sum.py"},
       "unknown command 'examples/jagged_sum.py' (did you mean 'jagtile run "
       "examples/jagged_sum.py'?)"},
      {{"explian", "x.py"}, "unknown command 'explian' (did you mean 'explain'?)"},
      {{"run", "examples/jagged_sum.py", "--batch"}, "option --batch needs a value"},
      {{"run", "examples/jagged_sum.py", "--batch", "many"},
       "--batch expects an integer >= 0, got 'many'"},
      {{"run", "examples/jagged_sum.py", "--batch", "-4"}, "--batch expects an integer >= 0"},
      {{"run", "examples/jagged_sum.py", "--sparsity", "1.5"},
       "--sparsity expects a number in [0, 1]"},
      {{"run", "examples/jagged_sum.py", "--dist", "gauss"}, "--dist expects uniform|zipf|empty"},
      {{"run", "examples/jagged_sum.py", "--dtype", "i32"}, "--dtype expects f32|f64|bf16|f16"},
      {{"run", "examples/jagged_sum.py", "--offsets", "i16"}, "--offsets expects i32|i64"},
      {{"run", "examples/jagged_sum.py", "--backend", "tpu"}, "--backend expects auto|template"},
      {{"run", "examples/jagged_sum.py", "--device", "gpu"},
       "--device expects cpu, cuda or cuda:N"},
      {{"bench", "examples/jagged_sum.py", "--device", "cuda:x"},
       "--device expects cpu, cuda or cuda:N"},
      {{"run", "examples/jagged_sum.py", "--check=yes"}, "option --check takes no value"},
      {{"run", "examples/jagged_sum.py", "--ir"}, "option --ir does not apply to 'jagtile run'"},
      {{"run", "a.py", "b.py"}, "unexpected argument 'b.py'"},
      {{"run", "examples/jagged_sum.py", "--arg", "x_values"}, "--arg expects NAME=VALUE"},
      {{"run", "examples/jagged_sum.py", "--arg", "=3"}, "--arg expects NAME=VALUE"},
      {{"run", "examples/jagged_sum.py", "--arg", "x_values="}, "--arg expects NAME=VALUE"},
      {{"run", "examples/jagged_sum.py", "--arg", "2x=3"}, "'2x' is not a parameter name"},
      {{"run", "examples/jagged_sum.py", "--arg", "x_values=data.bin"},
       "'data.bin' is not a .npy file, a number, true/false or none"},
      {{"run", "examples/jagged_sum.py", "--arg", "a=1", "--arg", "a=2"}, "--arg a is given twice"},
      {{"explain", "examples/jagged_sum.py", "--ir"}, "--ir and --code need argument types"},
  };
  for (const Case& c : cases) {
    Outcome o = jagtile(c.args);
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    EXPECT_EQ(o.status, 2) << line << "\n" << o.err;
    EXPECT_THAT(o.err, HasSubstr(c.message)) << line;
    EXPECT_THAT(o.err, HasSubstr("usage: jagtile")) << line;
  }
}

TEST_F(CliTest, AbsurdSizesAreUserErrorsNotCrashes) {
  for (std::vector<std::string> sizes :
       {std::vector<std::string>{"--batch", "9223372036854775807"},
        std::vector<std::string>{"--batch", "10", "--features", "9223372036854775807"}}) {
    std::vector<std::string> args = {"run", "examples/jagged_sum.py", "--backend", "interp"};
    args.insert(args.end(), sizes.begin(), sizes.end());
    Outcome o = jagtile(args);
    EXPECT_EQ(o.status, 1) << sizes[1] << "\n" << o.err;
    EXPECT_THAT(o.err, HasSubstr("too large")) << sizes[1];
    EXPECT_THAT(o.err, Not(HasSubstr("internal error"))) << sizes[1];
  }
}

TEST_F(CliTest, MissingKernelFileIsAUserError) {
  Outcome o = jagtile({"run", "examples/no_such_kernel.py"});
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("cannot open kernel file 'examples/no_such_kernel.py'"));
  EXPECT_THAT(o.err, HasSubstr("hint:"));
}

TEST_F(CliTest, DirectoryOrEmptyFileIsAUserError) {
  Outcome dir = jagtile({"run", "examples"});
  EXPECT_EQ(dir.status, 1);
  EXPECT_THAT(dir.err, HasSubstr("'examples' is a directory, not a kernel file"));
  std::string empty = write_file("empty.py", "");
  Outcome none = jagtile({"explain", empty});
  EXPECT_EQ(none.status, 1);
  EXPECT_THAT(none.err, HasSubstr("defines no kernel"));
}

TEST_F(CliTest, MissingNpyFileNamesTheFile) {
  Outcome o = jagtile({"run", "examples/jagged_sum.py", "--arg", "x_values=/nonexistent/v.npy",
                       "--arg", "x_offsets=/nonexistent/o.npy"});
  EXPECT_EQ(o.status, 1) << o.err;
  EXPECT_THAT(o.err, HasSubstr("/nonexistent/v.npy"));
}

TEST_F(CliTest, UnknownKernelListsTheFilesKernels) {
  Outcome o = jagtile({"run", "examples/jagged_sum.py", "--kernel", "jagged_summ"});
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("no kernel named 'jagged_summ' in examples/jagged_sum.py"));
  EXPECT_THAT(o.err, HasSubstr("did you mean 'jagged_sum'?"));
}

TEST_F(CliTest, UnknownArgumentNameListsTheParameters) {
  Outcome o = jagtile({"run", "examples/jagged_sum.py", "--arg", "values=3"});
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("kernel 'jagged_sum' has no parameter 'values'"));
  EXPECT_THAT(o.err, HasSubstr("x_values, x_offsets"));
  Outcome typo = jagtile({"run", "examples/jagged_sum.py", "--arg", "x_ofsets=3"});
  EXPECT_EQ(typo.status, 1);
  EXPECT_THAT(typo.err, HasSubstr("did you mean 'x_offsets'?"));
}

TEST_F(CliTest, ShapeOptionsOnAKernelThatIsNotAnExample) {
  std::string file = write_file("copy_vec.py", kCopyKernel);
  Outcome o = jagtile({"run", file, "--batch", "4", "--features", "3"});
  EXPECT_EQ(o.status, 1) << o.err;
  EXPECT_THAT(o.err, HasSubstr("shape options (--batch, --features) cannot generate the inputs "
                               "of kernel 'copy_vec'"));
  EXPECT_THAT(o.err, HasSubstr("--arg NAME=FILE.npy"));
  EXPECT_THAT(o.err, HasSubstr("x, scale"));
}

TEST_F(CliTest, MissingArgumentOfAKernelThatIsNotAnExample) {
  std::string file = write_file("copy_vec2.py", kCopyKernel);
  Outcome o = jagtile({"run", file});
  EXPECT_EQ(o.status, 1) << o.err;
  EXPECT_THAT(o.err, HasSubstr("kernel 'copy_vec' needs argument 'x' (a tensor)"));
  EXPECT_THAT(o.err, HasSubstr("--arg x=FILE.npy"));
}

TEST_F(CliTest, ExplainWithoutArgumentsListsKernelsAndParameters) {
  Outcome o = jagtile({"explain", "examples/jagged_layer_norm.py"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("kernel jagged_layer_norm"));
  EXPECT_THAT(o.out, HasSubstr("x_values: tensor"));
  EXPECT_THAT(o.out, HasSubstr("eps: float = 1e-06"));
  Outcome j = jagtile({"explain", "examples/jagged_dense_bmm.py", "--json"});
  EXPECT_EQ(j.status, 0) << j.err;
  EXPECT_THAT(j.out, HasSubstr("{\"kernel\": \"jagged_dense_bmm\""));
  EXPECT_THAT(j.out, HasSubstr("{\"name\": \"bias\", \"kind\": \"tensor | None\"}"));
}

TEST_F(CliTest, ExplainWithShapeOptionsPrintsTheDispatch) {
  Outcome o = jagtile({"explain", "examples/jagged_softmax.py", "--batch", "8"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("dispatch: "));
  Outcome j = jagtile({"explain", "examples/jagged_sum.py", "--batch", "8", "--json"});
  EXPECT_EQ(j.status, 0) << j.err;
  EXPECT_THAT(j.out, HasSubstr("{\"kernel\": \"jagged_sum\", \"dispatch\": \""));
  EXPECT_THAT(j.out, HasSubstr("\"reason\": "));
  EXPECT_THAT(j.out, HasSubstr("\"plan\": "));
}

// jagged_sum's zeros output is stored whole after its jagged loop: on the generated code's
// backend it is allocated without a fill, and explain says so; the interpreter fills it.
TEST_F(CliTest, ExplainNamesOutputsAllocatedWithoutAFill) {
  Outcome o = jagtile({"explain", "examples/jagged_sum.py", "--batch", "8", "--backend", "cpu"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("written in full, so allocated without a fill: out\n"));
  Outcome j =
      jagtile({"explain", "examples/jagged_sum.py", "--batch", "8", "--backend", "cpu", "--json"});
  EXPECT_THAT(j.out, HasSubstr("\"unfilled_outputs\": [\"out\"]"));
  Outcome i = jagtile(
      {"explain", "examples/jagged_sum.py", "--batch", "8", "--backend", "interp", "--json"});
  EXPECT_THAT(i.out, HasSubstr("\"unfilled_outputs\": []"));
}

// A jagged output that one flat store covers whenever the offsets run from 0 to its last row
// (Helion's jagged_softmax writes its output so): explain names it with that per-call condition.
TEST_F(CliTest, ExplainNamesAJaggedOutputLeftUnfilledOnCallsWhoseOffsetsCoverIt) {
  std::string file =
      write_file("flat_copy.py",
                 "import helion\n"
                 "import helion.language as hl\n"
                 "import torch\n\n"
                 "@helion.kernel()\n"
                 "def flat_copy(x: torch.Tensor, x_offsets: torch.Tensor) -> "
                 "torch.Tensor:\n"
                 "    N = int(x_offsets[-1].item())\n"
                 "    B = x_offsets.size(0) - 1\n"
                 "    M = x.size(1)\n"
                 "    out = torch.zeros(N * M, dtype=x.dtype)\n"
                 "    x_flat = x.view(-1)\n"
                 "    for tile_b in hl.tile(B):\n"
                 "        starts = x_offsets[tile_b]\n"
                 "        nnz = x_offsets[tile_b.index + 1] - starts\n"
                 "        for tile_m in hl.tile(M):\n"
                 "            for tile_k in hl.jagged_tile(nnz):\n"
                 "                rows = starts[:, None] + tile_k.index[None, :]\n"
                 "                at = rows[:, :, None] * M + tile_m.index[None, None, :]\n"
                 "                hl.store(out, [at], hl.load(x_flat, [at]))\n"
                 "    return out.reshape(N, M)\n");
  std::string x = (scratch_dir() / "flat_copy_x.npy").string();
  std::string offsets = (scratch_dir() / "flat_copy_offsets.npy").string();
  write_npy(x, Tensor::from_doubles({3, 2}, {1, 2, 3, 4, 5, 6}, DType::f32));
  write_npy(offsets, Tensor::from_doubles({3}, {0, 1, 3}, DType::i64));
  const std::vector<std::string> args = {
      "explain", file, "--arg", "x=" + x, "--arg", "x_offsets=" + offsets, "--backend", "cpu"};
  Outcome o = jagtile(args);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("written in full, so allocated without a fill: out (on calls where "
                               "x_offsets starts at 0 and its items end at the last row)\n"));
  std::vector<std::string> json = args;
  json.push_back("--json");
  Outcome j = jagtile(json);
  EXPECT_THAT(j.out, HasSubstr("\"unfilled_outputs\": [\"out (on calls where x_offsets starts at "
                               "0 and its items end at the last row)\"]"));
}

// Each device loop says what its programs are: HSTU's (seq, head) pairs where that balances the
// threads (codegen/cpu/backend.h, split_inner_programs), longest items first; nothing on the
// interpreter, which runs no programs.
TEST_F(CliTest, ExplainSaysWhatEachLoopRunsInParallel) {
  const std::vector<std::string> shape = {"--batch", "4", "--max-len",  "64",
                                          "--heads", "2", "--head-dim", "16"};
  auto explain = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"explain", "examples/jagged_hstu_attention.py"};
    a.insert(a.end(), shape.begin(), shape.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return jagtile(a);
  };
  Outcome o = explain({"--backend", "cpu"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("  parallel: loop over seq (line 33): a program per (seq, head) "
                               "pair where that balances the threads, else per seq; longest "
                               "items first\n"));
  Outcome j = explain({"--backend", "cpu", "--json"});
  EXPECT_THAT(j.out, HasSubstr("\"parallel_loops\": [\"loop over seq (line 33): a program per"));
  Outcome i = explain({"--backend", "interp", "--json"});
  EXPECT_THAT(i.out, HasSubstr("\"parallel_loops\": []"));
}

TEST_F(CliTest, ExplainShowsIrAndCodeForEveryExample) {
  for (const ExampleInfo* e : all_examples()) {
    Outcome o = jagtile({"explain", e->file, "--batch", "8", "--ir", "--code"});
    EXPECT_EQ(o.status, 0) << e->kernel << "\n" << o.err;
    EXPECT_THAT(o.out, HasSubstr("dispatch: ")) << e->kernel;
    EXPECT_THAT(o.out, HasSubstr("--- IR ---\n")) << e->kernel;
    EXPECT_THAT(o.out, HasSubstr("--- generated code ---\n")) << e->kernel;
  }
}

// The acceptance line, for every bundled example.
TEST_F(CliTest, EveryExampleRunsCheckedOnTheInterpreter) {
  for (const ExampleInfo* e : all_examples()) {
    Outcome o = jagtile({"run", e->file, "--batch", "48", "--features", "24", "--max-len", "40",
                         "--check", "--backend", "interp"});
    EXPECT_EQ(o.status, 0) << e->kernel << "\n" << o.out << o.err;
    EXPECT_THAT(o.out, HasSubstr("check against reference: output 0 ok")) << e->kernel;
  }
}

TEST_F(CliTest, OutWritesTheResultAsNpy) {
  std::string out = (scratch_dir() / "sum.npy").string();
  Outcome o = jagtile({"run", "examples/jagged_sum.py", "--batch", "5", "--features", "3", "--seed",
                       "7", "--backend", "interp", "--out", out});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("wrote " + out));
  Tensor got = read_npy(out);
  JaggedShape shape;
  shape.batch = 5;
  shape.features = 3;
  shape.seed = 7;
  const ExampleInfo* sum = find_example("jagged_sum");
  auto expected = sum->reference(sum->make_inputs(shape, DType::f32, DType::i32));
  Comparison c = compare_tensors(got, expected[0].value, sum->tolerance(DType::f32));
  EXPECT_TRUE(c.ok) << c.mismatch;
}

TEST_F(CliTest, SeveralOutputsGoToNumberedFiles) {
  std::string file = write_file("split.py",
                                "import helion\n"
                                "import helion.language as hl\n"
                                "import torch\n\n"
                                "@helion.kernel()\n"
                                "def split(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:\n"
                                "    a = torch.empty_like(x)\n"
                                "    b = torch.empty_like(x)\n"
                                "    for tile in hl.tile(x.size(0)):\n"
                                "        a[tile] = x[tile] + 1.0\n"
                                "        b[tile] = x[tile] * 3.0\n"
                                "    return a, b\n");
  std::string x = (scratch_dir() / "split_x.npy").string();
  write_npy(x, Tensor::from_doubles({2}, {1, 2}, DType::f32));
  std::string out = (scratch_dir() / "split_out.npy").string();
  Outcome o = jagtile({"run", file, "--arg", "x=" + x, "--out", out});
  ASSERT_EQ(o.status, 0) << o.err;
  std::string stem = (scratch_dir() / "split_out").string();
  Tensor a = read_npy(stem + "_0.npy"), b = read_npy(stem + "_1.npy");
  EXPECT_EQ(a.item_as_double(1), 3);
  EXPECT_EQ(b.item_as_double(1), 6);
  EXPECT_FALSE(fs::exists(out)) << "several outputs must not also write " << out;
}

TEST_F(CliTest, InputsFromNpyFilesAndScalars) {
  JaggedShape shape;
  shape.batch = 6;
  shape.features = 4;
  const ExampleInfo* norm = find_example("jagged_layer_norm");
  ArgMap args = norm->make_inputs(shape, DType::f32, DType::i64);
  std::string values = (scratch_dir() / "ln_values.npy").string();
  std::string offsets = (scratch_dir() / "ln_offsets.npy").string();
  write_npy(values, std::get<Tensor>(args["x_values"]));
  write_npy(offsets, std::get<Tensor>(args["x_offsets"]));
  Outcome o =
      jagtile({"run", "examples/jagged_layer_norm.py", "--arg", "x_values=" + values, "--arg",
               "x_offsets=" + offsets, "--arg", "eps=1", "--backend", "interp", "--check"});
  EXPECT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("check against reference: output 0 ok"));
}

TEST_F(CliTest, BmmRunsWithoutItsOptionalBias) {
  Outcome o = jagtile({"run", "examples/jagged_dense_bmm.py", "--batch", "6", "--features", "5",
                       "--arg", "bias=none", "--backend", "interp", "--check"});
  EXPECT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("check against reference: output 0 ok"));
}

TEST_F(CliTest, CheckFailsWhenTheKernelDisagreesWithTheReference) {
  // Same name and parameters as the bundled jagged_sum, but it doubles the sum.
  std::string wrong = slurp(fs::path(JAGTILE_SOURCE_DIR) / "examples/jagged_sum.py");
  size_t at = wrong.find("out[tile_b, tile_m] = acc");
  ASSERT_NE(at, std::string::npos);
  wrong.replace(at, std::string("out[tile_b, tile_m] = acc").size(),
                "out[tile_b, tile_m] = acc * 2.0");
  std::string file = write_file("jagged_sum.py", wrong);
  Outcome o = jagtile({"run", file, "--batch", "6", "--backend", "interp", "--check"});
  EXPECT_EQ(o.status, 1) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("MISMATCH"));
  EXPECT_THAT(o.err, HasSubstr("check against reference failed: output 0 at ["));
}

// Two kernels in one file: run needs --kernel; explain covers both (a JSON list).
const char* kTwoKernels =
    "import helion\n"
    "import helion.language as hl\n"
    "import torch\n"
    "\n"
    "@helion.kernel()\n"
    "def scale_vec(x: torch.Tensor, factor: float = 2.0) -> torch.Tensor:\n"
    "    out = torch.empty_like(x)\n"
    "    for tile in hl.tile(x.size(0)):\n"
    "        out[tile] = x[tile] * factor\n"
    "    return out\n"
    "\n"
    "@helion.kernel()\n"
    "def negate_vec(x: torch.Tensor) -> torch.Tensor:\n"
    "    out = torch.empty_like(x)\n"
    "    for tile in hl.tile(x.size(0)):\n"
    "        out[tile] = -x[tile]\n"
    "    return out\n";

TEST_F(CliTest, SeveralKernelsInOneFile) {
  std::string file = write_file("two.py", kTwoKernels);
  std::string x = (scratch_dir() / "x.npy").string();
  write_npy(x, Tensor::from_doubles({3}, {1, -2, 4}, DType::f32));

  Outcome ambiguous = jagtile({"run", file, "--arg", "x=" + x});
  EXPECT_EQ(ambiguous.status, 1);
  EXPECT_THAT(ambiguous.err, HasSubstr("defines several kernels (scale_vec, negate_vec)"));
  EXPECT_THAT(ambiguous.err, HasSubstr("--kernel NAME"));

  std::string out = (scratch_dir() / "scaled.npy").string();
  Outcome run = jagtile({"run", file, "--kernel", "scale_vec", "--arg", "x=" + x, "--arg",
                         "factor=3", "--out", out, "--check", "--threads", "1"});
  ASSERT_EQ(run.status, 0) << run.err;
  Tensor got = read_npy(out);
  ASSERT_EQ(got.shape(), (Shape{3}));
  EXPECT_EQ(got.item_as_double(0), 3);
  EXPECT_EQ(got.item_as_double(1), -6);
  EXPECT_EQ(got.item_as_double(2), 12);

  Outcome list = jagtile({"explain", file});
  EXPECT_EQ(list.status, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("kernel scale_vec"));
  EXPECT_THAT(list.out, HasSubstr("factor: float = 2"));
  EXPECT_THAT(list.out, HasSubstr("kernel negate_vec"));

  Outcome json = jagtile({"explain", file, "--arg", "x=" + x, "--json"});
  EXPECT_EQ(json.status, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("[{\"kernel\": \"scale_vec\""));
  EXPECT_THAT(json.out, HasSubstr("}, {\"kernel\": \"negate_vec\""));

  Outcome one = jagtile({"explain", file, "--kernel", "negate_vec", "--arg", "x=" + x, "--json"});
  EXPECT_EQ(one.status, 0) << one.err;
  // One object, not a list of one.
  EXPECT_THAT(one.out, ::testing::StartsWith("{\"kernel\": \"negate_vec\""));

  Outcome stray = jagtile({"explain", file, "--arg", "y=" + x});
  EXPECT_EQ(stray.status, 1);
  EXPECT_THAT(stray.err, HasSubstr("no kernel in " + file + " has a parameter 'y'"));
}

TEST_F(CliTest, ASyntaxErrorIsLocated) {
  std::string file =
      write_file("broken.py", "import helion\n\n@helion.kernel()\ndef k(x):\n    y = (x +\n");
  Outcome o = jagtile({"explain", file});
  EXPECT_EQ(o.status, 1) << o.err;
  EXPECT_THAT(o.err, HasSubstr("broken.py:"));
  EXPECT_THAT(o.err, HasSubstr("error:"));
  EXPECT_THAT(o.err, Not(HasSubstr("internal error")));
}

// A bad JAGTILE_HOST_CACHE_MB is reported once and the default is used; the run still works.
TEST_F(CliTest, BadHostCacheSizeIsAWarning) {
  Outcome o = run_jagtile({"run", "examples/jagged_sum.py", "--check", "--batch", "4"},
                          {{"JAGTILE_HOST_CACHE_MB", "lots"}});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.err, HasSubstr("JAGTILE_HOST_CACHE_MB='lots' is not a size in MiB; using 1024"));
}

}  // namespace
}  // namespace jagtile
