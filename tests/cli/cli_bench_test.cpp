// `jagtile bench` run as a subprocess on tiny shapes: the JSON object of DESIGN section 5 with
// the expected rows per example (template and library only where the kernel matches the
// template), the human table, and its usage and user errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_test_util.h"
#include "jagtile/reduce.h"
#include "jagtile/tensor.h"
#include "testing/datagen.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using namespace jagtile::cli_test;

fs::path scratch() {
  return scratch_dir();
}

// Runs `jagtile bench ARGS...` with a private compile cache shared by these tests, so a kernel
// compiles once.
Outcome bench(const std::vector<std::string>& args) {
  std::vector<std::string> all{"bench"};
  all.insert(all.end(), args.begin(), args.end());
  return run_jagtile(all, {{"JAGTILE_CACHE_DIR", (scratch_dir() / "cache").string()}});
}

const std::vector<std::string> kTiny = {"--batch",   "6", "--features", "8",
                                        "--max-len", "6", "--repeat",   "1"};

std::vector<std::string> with_tiny(std::vector<std::string> args) {
  args.insert(args.end(), kTiny.begin(), kTiny.end());
  return args;
}

// The "impl" values of the results array, in order (a scan: the JSON is ours and flat there).
std::vector<std::string> impls(const std::string& json) {
  std::vector<std::string> out;
  const std::string key = "\"impl\": \"";
  for (size_t at = json.find(key); at != std::string::npos; at = json.find(key, at + 1)) {
    size_t begin = at + key.size();
    out.push_back(json.substr(begin, json.find('"', begin) - begin));
  }
  return out;
}

// Balanced braces and brackets outside strings, one top-level object, nothing after it.
bool looks_like_one_object(const std::string& json) {
  int depth = 0;
  bool in_string = false, closed = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (closed && !std::isspace(static_cast<unsigned char>(c))) return false;
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (--depth < 0) return false;
      if (depth == 0) closed = true;
    }
  }
  return closed && depth == 0 && !json.empty() && json[json.find_first_not_of(" \n")] == '{';
}

TEST(CliBench, JsonHasTheDesignKeysAndOneRowPerImplementation) {
  struct Case {
    std::string file;
    std::vector<std::string> rows;
  };
  const std::vector<Case> cases = {
      {"examples/jagged_sum.py", {"template", "library", "generic-cpu", "interp", "reference"}},
      {"examples/jagged_mean.py", {"template", "library", "generic-cpu", "interp", "reference"}},
      {"examples/jagged_softmax.py", {"generic-cpu", "interp", "reference"}},
  };
  for (const Case& c : cases) {
    Outcome o = bench(with_tiny({c.file, "--json"}));
    ASSERT_EQ(o.status, 0) << c.file << "\n" << o.err;
    EXPECT_TRUE(looks_like_one_object(o.out)) << o.out;
    for (const char* key : {"\"kernel\": ", "\"shape\": ", "\"bytes\": ", "\"peak_read_gbps\": ",
                            "\"results\": [", "\"median_ms\": ", "\"min_ms\": ", "\"gbps\": ",
                            "\"pct_of_peak\": ", "\"speedup_vs_reference\": ", "\"compile\": {",
                            "\"cold_ms\": ", "\"warm_load_ms\": ", "\"tiny_call_us\": {"}) {
      EXPECT_THAT(o.out, HasSubstr(key)) << c.file;
    }
    EXPECT_EQ(impls(o.out), c.rows) << c.file << "\n" << o.out;
    EXPECT_THAT(o.out, HasSubstr("\"generic-cpu\": ")) << "tiny call of the generic path";
    EXPECT_THAT(o.err, HasSubstr("checked against the reference")) << c.file;
    // Only the mean example has per-item feature counts, so only it reads fewer bytes.
    if (c.file == "examples/jagged_mean.py") {
      EXPECT_THAT(o.out, HasSubstr("\"valid_bytes\": "));
    } else {
      EXPECT_THAT(o.out, Not(HasSubstr("valid_bytes")));
    }
  }
}

TEST(CliBench, TableShowsTheRowsPeakAndFixedCosts) {
  Outcome o = bench(with_tiny({"examples/jagged_sum.py", "--threads", "1"}));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("Implementation"));
  EXPECT_THAT(o.out, HasSubstr("% of peak"));
  EXPECT_THAT(o.out, HasSubstr("1.0x (ref)"));
  EXPECT_THAT(o.out, HasSubstr("same-run streaming read, 1 threads"));
  EXPECT_THAT(o.out, HasSubstr("generic-cpu compile: cold"));
  EXPECT_THAT(o.out, HasSubstr("per call on a tiny input (B=4"));
  EXPECT_THAT(o.out, HasSubstr("template"));
}

// A matmul-class kernel on bf16 inputs is also measured against the bf16 probe (AMX tiles or
// AVX512-BF16 pairs), where the CPU has a bf16 unit; on f32 inputs, and without one, it is not.
TEST(CliBench, Bf16MatmulInputsAreMeasuredAgainstTheBf16ProbeWhereTheCpuHasOne) {
  const std::string unit(jagtile::bf16_probe_unit());
  for (const std::string dtype : {"bf16", "f32"}) {
    SCOPED_TRACE(dtype);
    Outcome json = bench(with_tiny(
        {"examples/jagged_dense_bmm.py", "--backend", "cpu", "--dtype", dtype, "--json"}));
    ASSERT_EQ(json.status, 0) << json.err;
    EXPECT_THAT(json.out, HasSubstr("\"peak_f32_gflops\": "));
    const bool expected = dtype == "bf16" && unit != "none";
    for (const std::string key : {"\"peak_bf16_gflops\": ", "\"pct_of_bf16_peak\": "})
      EXPECT_EQ(json.out.find(key) != std::string::npos, expected) << key << json.out;
    if (expected) EXPECT_THAT(json.out, HasSubstr("\"bf16_probe_unit\": \"" + unit + "\""));
  }
  Outcome table = bench(with_tiny(
      {"examples/jagged_dense_bmm.py", "--backend", "cpu", "--dtype", "bf16", "--threads", "1"}));
  ASSERT_EQ(table.status, 0) << table.err;
  if (unit != "none") {
    EXPECT_THAT(table.out, HasSubstr("bf16 peak: "));
    EXPECT_THAT(table.out, HasSubstr("% bf16 peak"));
  } else {
    EXPECT_THAT(table.out, Not(HasSubstr("bf16 peak")));
  }
}

TEST(CliBench, BackendSelectsOneRowBesideTheReference) {
  Outcome o = bench(with_tiny({"examples/jagged_max.py", "--json", "--backend", "template"}));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(impls(o.out), (std::vector<std::string>{"template", "library", "reference"}));
}

TEST(CliBench, InterpreterIsSkippedOnLargeInputsWithANote) {
  // 3 items of up to 40000 rows x 32 columns: more than 2M input elements.
  Outcome o = bench({"examples/jagged_sum.py", "--batch", "3", "--features", "32", "--max-len",
                     "40000", "--sparsity", "0", "--repeat", "1", "--json", "--backend", "auto"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(impls(o.out), Not(::testing::Contains("interp")));
  EXPECT_THAT(o.out, HasSubstr("interp: skipped"));
}

TEST(CliBench, UnknownOptionIsAUsageError) {
  Outcome o = bench({"examples/jagged_sum.py", "--repeats", "3"});
  EXPECT_EQ(o.status, 2);
  EXPECT_THAT(o.err, HasSubstr("unknown option '--repeats' (did you mean --repeat?)"));
  EXPECT_THAT(o.err, HasSubstr("usage: jagtile bench"));
}

TEST(CliBench, ZeroRepeatIsAUsageError) {
  Outcome o = bench({"examples/jagged_sum.py", "--repeat", "0"});
  EXPECT_EQ(o.status, 2);
  EXPECT_THAT(o.err, HasSubstr("--repeat expects an integer >= 1"));
}

TEST(CliBench, TemplateBackendOnAGenericKernelIsAUserError) {
  Outcome o = bench(with_tiny({"examples/jagged_softmax.py", "--backend", "template"}));
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("cannot be benched on the template backend"));
  EXPECT_THAT(o.err, HasSubstr("--backend auto or cpu"));
}

// The generated-CUDA backend is not in this build yet: bench names the backends it has.
// The generated inputs live on the CPU, where the cuda backend does not run.
TEST(CliBench, BackendThatDoesNotRunOnTheInputsDeviceIsAUserError) {
  Outcome o = bench(with_tiny({"examples/jagged_sum.py", "--backend", "cuda"}));
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("cannot be benched on the cuda backend: it does not run on cpu"));
  EXPECT_THAT(o.err, HasSubstr("bench it with --backend auto or cpu"));
}

// A kernel that is not a bundled example, in a scratch file.
fs::path write_scale_kernel() {
  fs::path file = scratch() / "scale.py";
  std::ofstream(file) << "import helion\nimport helion.language as hl\nimport torch\n\n"
                         "@helion.kernel()\ndef scale(x: torch.Tensor) -> torch.Tensor:\n"
                         "    out = torch.empty_like(x)\n"
                         "    for tile in hl.tile(x.size(0)):\n"
                         "        out[tile] = x[tile] * 2\n"
                         "    return out\n";
  return file;
}

TEST(CliBench, NonExampleKernelWithArgIsCheckedAgainstTheInterpreter) {
  fs::path file = write_scale_kernel();
  fs::path npy = file.string() + ".x.npy";
  jagtile::write_npy(npy.string(), jagtile::random_values({1000}, jagtile::DType::f32, 3));
  Outcome o = bench({file.string(), "--arg", "x=" + npy.string(), "--repeat", "1", "--json"});
  fs::remove(file);
  fs::remove(npy);
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(impls(o.out), (std::vector<std::string>{"generic-cpu", "interp"}));
  EXPECT_THAT(o.out, HasSubstr("\"shape\": \"x=float32[1000]\""));
  EXPECT_THAT(o.out, HasSubstr("\"speedup_vs_reference\": null"));
  EXPECT_THAT(o.err, HasSubstr("checked against the interp"));
}

TEST(CliBench, ShapeOptionsOnANonExampleKernelSayToUseArg) {
  fs::path file = write_scale_kernel();
  Outcome o = bench({file.string(), "--batch", "4"});
  fs::remove(file);
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("cannot generate the inputs of kernel 'scale'")) << o.err;
}

}  // namespace
