// The random kernel generator: reproducible from its seed, valid by construction (every kernel
// of a seed range parses, checks and specialises on its own inputs, and a sample runs on the
// interpreter without a user error), and covering the language features it claims.
#include <gtest/gtest.h>

#include <set>

#include "jagtile/cuda.h"
#include "jagtile/error.h"
#include "testing/differential.h"
#include "testing/kernel_gen.h"

namespace jagtile::fuzz {
namespace {

TEST(KernelGenerator, SameSeedGivesTheSameKernelAndInputs) {
  for (uint64_t seed : {1ull, 77ull, 123456789ull}) {
    GenKernel a = generate_kernel(seed), b = generate_kernel(seed);
    EXPECT_EQ(a.source(), b.source()) << seed;
    ASSERT_EQ(a.inputs.size(), b.inputs.size());
    for (size_t i = 0; i < a.inputs.size(); ++i) EXPECT_EQ(a.inputs[i].str(), b.inputs[i].str());
  }
  std::set<std::string> distinct;
  for (uint64_t seed = 1; seed <= 50; ++seed) distinct.insert(generate_kernel(seed).source());
  EXPECT_GE(distinct.size(), 45u) << "seeds should give different kernels";
}

TEST(KernelGenerator, RecipeLineRoundTrips) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    for (const InputRecipe& r : generate_kernel(seed).inputs)
      EXPECT_EQ(InputRecipe::parse(r.str()).str(), r.str());
  }
  EXPECT_THROW(InputRecipe::parse("batch=x"), UserError);
  EXPECT_THROW(InputRecipe::parse("colour=3"), UserError);
}

TEST(KernelGenerator, EveryKernelOfASeedRangeSpecialisesOnItsInputs) {
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    GenKernel k = generate_kernel(seed);
    try {
      Program p = Program::from_source(k.source(), "gen.py");
      for (const InputRecipe& r : k.inputs) (void)p.specialise(kKernelName, make_args(r));
    } catch (const Error& e) {
      ADD_FAILURE() << "seed " << seed << ": " << e.what() << "\n" << k.source();
    }
  }
}

TEST(KernelGenerator, SampledKernelsRunOnTheInterpreter) {
  for (uint64_t seed = 1000; seed < 1030; ++seed) {
    GenKernel k = generate_kernel(seed);
    CaseReport r = run_case(DiffCase{k.source(), k.inputs, k.outputs, {"interp"}, {}});
    EXPECT_TRUE(r.failures.empty())
        << "seed " << seed << ": " << r.failures[0].kind << " " << r.failures[0].detail << "\n"
        << k.source();
    EXPECT_EQ(r.runs, int(k.inputs.size()));
  }
}

// The `cuda` label runs the generated CUDA on cuda:0: where there is none, the case stops at
// once with why, instead of failing every run; where there is one, seeds agree with the
// interpreter on the device.
TEST(DifferentialCudaLabel, NeedsADeviceOrAgreesWithTheInterpreterOnIt) {
  GenKernel k = generate_kernel(1001);
  DiffCase c{k.source(), k.inputs, k.outputs, {"interp", "cuda"}, {}};
  if (!cuda_available()) {
    try {
      run_case(c);
      ADD_FAILURE() << "no error without a CUDA device";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("backend 'cuda' needs a CUDA device"), std::string::npos)
          << e.what();
    }
    return;
  }
  for (uint64_t seed = 1000; seed < 1010; ++seed) {
    GenKernel g = generate_kernel(seed);
    CaseReport r = run_case(DiffCase{g.source(), g.inputs, g.outputs, {"interp", "cuda"}, {}});
    EXPECT_TRUE(r.failures.empty())
        << "seed " << seed << ": " << r.failures[0].kind << " " << r.failures[0].detail;
  }
}

TEST(KernelGenerator, CoversTheLanguageAndInputFeatures) {
  std::set<std::string> shapes;
  std::string all;
  std::set<std::string> inputs;
  for (uint64_t seed = 1; seed <= 800; ++seed) {
    GenKernel k = generate_kernel(seed);
    shapes.insert(k.shape);
    all += k.source();
    for (const InputRecipe& r : k.inputs) {
      inputs.insert("dist=" + std::string(length_dist_name(r.dist)));
      inputs.insert("values=" + std::string(dtype_short_name(r.values)));
      inputs.insert("offsets=" + std::string(dtype_short_name(r.offsets)));
      if (r.batch == 0) inputs.insert("B=0");
      if (r.features == 0) inputs.insert("M=0");
      if (r.lead > 0) inputs.insert("lead");
    }
  }
  EXPECT_EQ(shapes.size(), 6u);
  for (const char* feature : {"hl.jagged_tile(nnz)",
                              "hl.jagged_tile(cols)",
                              "hl.tile([B, M])",
                              "hl.grid(B)",
                              "for c in hl.grid(M):",
                              "out_s[b] = out_s[b] + acc",
                              "hl.tile(start, end)",
                              "hl.tile(start, tile_q.end)",
                              "hl.tile(0, longest)",
                              "torch.matmul(",
                              "hl.dot(",
                              "torch.where(",
                              ".to(torch.bfloat16)",
                              ".to(torch.float16)",
                              "hl.load(x_flat",
                              "hl.store(out_j_flat",
                              "extra_mask=ok",
                              "assert ",
                              ".item()",
                              ".amax(dim=1)",
                              ".amin(dim=1)",
                              ".sum(dim=1)",
                              "block_sizes",
                              "torch.exp(",
                              "alpha",
                              "out_j[rows, tile_m] =",
                              "acc = torch.where(nnz[:, None] > 0"}) {
    EXPECT_NE(all.find(feature), std::string::npos) << "no kernel uses " << feature;
  }
  for (const char* feature :
       {"dist=uniform", "dist=zipf", "dist=empty", "dist=one-huge", "dist=tiny", "values=f32",
        "values=bf16", "values=f16", "offsets=i32", "offsets=i64", "B=0", "M=0", "lead"}) {
    EXPECT_TRUE(inputs.count(feature)) << "no input has " << feature;
  }
}

TEST(FuzzTolerance, ExactOutputsAndIntegersCompareBitwise) {
  ElementTolerance t = tolerance_for({true, 5, 1}, DType::f32, 100);
  EXPECT_EQ(t.atol, 0);
  EXPECT_EQ(t.rtol, 0);
  t = tolerance_for({false, 5, 1}, DType::i64, 100);
  EXPECT_EQ(t.atol, 0);
  // Inexact: proportional to the magnitude bound (5 * 100^1) and growing with L.
  ElementTolerance a = tolerance_for({false, 5, 1}, DType::f32, 100);
  ElementTolerance b = tolerance_for({false, 5, 1}, DType::f32, 1000);
  EXPECT_GT(a.atol, 0);
  EXPECT_LT(a.atol, 5 * 100 * 1e-3);
  EXPECT_GT(b.atol, a.atol * 10);
  EXPECT_GT(tolerance_for({false, 1, 0}, DType::bf16, 1).rtol,
            tolerance_for({false, 1, 0}, DType::f16, 1).rtol);
}

}  // namespace
}  // namespace jagtile::fuzz
