// Shared by the autotuner tests: bundled examples at tiny shapes, and a scratch cache folder per
// test (the store and the JIT's cache live there) so that no test reads another's entries.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "jagtile/autotune.h"
#include "jagtile/compiler.h"
#include "jagtile/error.h"
#include "testing/examples.h"

namespace jagtile::autotune_test {

namespace fs = std::filesystem;

inline Program example_program(const std::string& kernel) {
  const ExampleInfo* ex = find_example(kernel);
  EXPECT_NE(ex, nullptr) << kernel;
  return Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + ex->file);
}

inline ArgMap example_args(const std::string& kernel, JaggedShape shape = {}) {
  return find_example(kernel)->make_inputs(shape, DType::f32, DType::i32);
}

// A fresh cache folder for one test, removed after it.
class ScratchCache : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("jagtile_autotune_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    options_.cache_dir = dir_.string();
    // The suite runs with stored configs off (CMake); these tests are about them.
    ::setenv("JAGTILE_AUTOTUNE", "1", 1);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A quick search with a small budget: these tests check behaviour, not speed.
  TuneOptions small_search(double budget_s = 1.0) const {
    TuneOptions t;
    t.budget_s = budget_s;
    return t;
  }

  fs::path dir_;
  Options options_;
};

}  // namespace jagtile::autotune_test
