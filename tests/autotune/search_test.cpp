// The search: results stored and answered from the store, outputs checked before a candidate
// can win, the same seed trying the same candidates, a stop request keeping the best so far,
// and bad budgets reported. Tiny shapes and budgets: these tests check behaviour, not speed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "autotune_helpers.h"
#include "runtime/tune_measure.h"

namespace jagtile::autotune_test {
namespace {

using ::testing::HasSubstr;

// The interpreter runs every config without compiling, so a budget of a second still measures
// several candidates on this shared machine; the search itself does not depend on the backend.
class SearchTest : public ScratchCache {
 protected:
  void SetUp() override {
    ScratchCache::SetUp();
    interp_ = options_;
    interp_.backend = Backend::interp;
  }
  Options interp_;
};

// Small enough that the interpreter runs a call in well under a millisecond.
JaggedShape tiny_shape() {
  JaggedShape s;
  s.batch = 16, s.features = 16, s.max_len = 16;
  return s;
}

// The config part of a log line ("block_sizes=[...] (neighbour): ..." -> "block_sizes=[...]").
std::string config_label(const std::string& line) {
  return line.substr(0, line.find(" ("));
}

TEST_F(SearchTest, BestConfigIsStoredAndTheSecondSearchIsAnsweredFromTheStore) {
  Program p = example_program("jagged_softmax");
  ArgMap args = example_args("jagged_softmax", tiny_shape());
  TuneResult first = autotune(p, "jagged_softmax", args, interp_, small_search(2));
  EXPECT_FALSE(first.from_cache);
  EXPECT_GE(first.candidates, 1);
  EXPECT_GT(first.default_ms, 0);
  EXPECT_GT(first.best_ms, 0);
  EXPECT_EQ(first.store_path, (dir_ / "autotune.json").string());
  TuneResult second = autotune(p, "jagged_softmax", args, interp_, small_search());
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.config, first.config);
  EXPECT_EQ(second.key, first.key);
  std::vector<StoredTuning> all = stored_tunings(dir_.string());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].kernel, "jagged_softmax");
  EXPECT_EQ(all[0].effort, "quick");
}

TEST_F(SearchTest, FullSearchIsNotAnsweredByAQuickEntryAndStartsFromIt) {
  Program p = example_program("jagged_sum");
  ArgMap args = example_args("jagged_sum");
  autotune(p, "jagged_sum", args, options_, small_search(0.5));
  TuneOptions full = small_search(0.5);
  full.effort = TuneEffort::full;
  TuneResult r = autotune(p, "jagged_sum", args, options_, full);
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(stored_tunings(dir_.string())[0].effort, "full");
  EXPECT_TRUE(autotune(p, "jagged_sum", args, options_, small_search()).from_cache);
}

TEST_F(SearchTest, WinnerAlwaysPassedTheOutputCheck) {
  // A zero tolerance rejects every candidate whose outputs differ at all from the default's;
  // whatever wins must then give the default's outputs exactly.
  Program p = example_program("jagged_softmax");
  ArgMap args = example_args("jagged_softmax", tiny_shape());
  TuneOptions t = small_search();
  t.tolerance = [](DType) { return TuneTolerance{0, 0}; };
  TuneResult r = autotune(p, "jagged_softmax", args, interp_, t);
  Options best = interp_, defaults = interp_;
  best.config = r.config;
  defaults.use_tuned_config = false;
  Tensor a = p.call("jagged_softmax", args, best).outputs[0];
  Tensor b = p.call("jagged_softmax", args, defaults).outputs[0];
  EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), size_t(a.numel()) * sizeof(float)), 0);
}

TEST_F(SearchTest, SameSeedTriesTheSameFirstCandidates) {
  Program p = example_program("jagged_layer_norm");
  ArgMap args = example_args("jagged_layer_norm", tiny_shape());
  // Stopped after the second candidate by count, not by time: the test never depends on how
  // fast this machine is. The default, then the first neighbour in knob order, are independent
  // of any measurement.
  auto first_two = [&] {
    std::atomic<bool> stop{false};
    TuneOptions t;
    t.effort = TuneEffort::full;
    t.budget_s = 600;
    t.store = false;
    t.stop = &stop;
    t.progress = [&](const TuneProgress& pr) { stop = stop || pr.done >= 2; };
    return autotune(p, "jagged_layer_norm", args, interp_, t).log;
  };
  std::vector<std::string> a = first_two(), b = first_two();
  ASSERT_GE(a.size(), 2u);
  ASSERT_GE(b.size(), 2u);
  EXPECT_EQ(config_label(a[0]), config_label(b[0]));
  EXPECT_EQ(config_label(a[1]), config_label(b[1]));
  EXPECT_THAT(a[0], HasSubstr("default"));
  EXPECT_THAT(a[1], HasSubstr("block_sizes=["));
}

TEST_F(SearchTest, StopRequestEndsTheSearchAndKeepsTheBestSoFar) {
  Program p = example_program("jagged_softmax");
  ArgMap args = example_args("jagged_softmax", tiny_shape());
  std::atomic<bool> stop{true};
  TuneOptions t = small_search(5);
  t.stop = &stop;
  TuneResult r = autotune(p, "jagged_softmax", args, interp_, t);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.candidates, 1);  // only the default was measured
  std::vector<StoredTuning> all = stored_tunings(dir_.string());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].effort, "interrupted");
  // An interrupted entry is searched again, not returned.
  EXPECT_FALSE(autotune(p, "jagged_softmax", args, interp_, small_search(0.3)).from_cache);
}

TEST_F(SearchTest, ProgressIsReportedForEveryCandidate) {
  Program p = example_program("jagged_sum");
  ArgMap args = example_args("jagged_sum");
  std::vector<TuneProgress> seen;
  TuneOptions t = small_search(0.5);
  t.progress = [&](const TuneProgress& pr) { seen.push_back(pr); };
  TuneResult r = autotune(p, "jagged_sum", args, options_, t);
  ASSERT_EQ(int(seen.size()), r.candidates);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].done, int(i) + 1);
    EXPECT_GE(seen[i].total, seen[i].done);
    EXPECT_GT(seen[i].best_ms, 0);
  }
}

TEST_F(SearchTest, StoredResultAnswersTheSameRequestWithoutArguments) {
  Program p = example_program("jagged_sum");
  TuneOptions t = small_search(0.5);
  t.request = "generated batch=48";
  TuneResult r = autotune(p, "jagged_sum", example_args("jagged_sum"), options_, t);
  std::optional<TuneResult> again = stored_result(p, "jagged_sum", "generated batch=48", options_);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(again->config, r.config);
  EXPECT_EQ(again->key, r.key);
  EXPECT_FALSE(stored_result(p, "jagged_sum", "generated batch=49", options_));
  EXPECT_FALSE(stored_result(p, "jagged_sum", "", options_));
  EXPECT_FALSE(stored_result(p, "jagged_sum", "generated batch=48", options_, TuneEffort::full));
  Options unchecked = options_;
  unchecked.checked = false;
  EXPECT_FALSE(stored_result(p, "jagged_sum", "generated batch=48", unchecked));
}

TEST_F(SearchTest, NegativeBudgetIsAUserError) {
  Program p = example_program("jagged_sum");
  TuneOptions t;
  t.budget_s = -1;
  try {
    autotune(p, "jagged_sum", example_args("jagged_sum"), options_, t);
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("budget must be a positive number of seconds"));
    EXPECT_THAT(e.what(), HasSubstr("budget_s > 0"));
  }
}

TEST(CompareOutputs, BitwiseRejectsAnyDifferenceAndToleranceAcceptsSmallOnes) {
  Tensor a = Tensor::from_doubles({3}, {1.0, 2.0, 3.0}, DType::f32);
  Tensor b = Tensor::from_doubles({3}, {1.0, 2.0, 3.00001}, DType::f32);
  Tensor c = Tensor::from_doubles({3}, {1.0, 2.5, 3.0}, DType::f32);
  EXPECT_EQ(runtime::compare_outputs({a}, {a}, true, {}), "");
  EXPECT_THAT(runtime::compare_outputs({b}, {a}, true, {}), HasSubstr("differs in its bits"));
  EXPECT_EQ(runtime::compare_outputs({b}, {a}, false, {}), "");
  EXPECT_THAT(runtime::compare_outputs({c}, {a}, false, {}), HasSubstr("element 1"));
  Tensor other_shape = Tensor::from_doubles({1, 3}, {1.0, 2.0, 3.0}, DType::f32);
  EXPECT_THAT(runtime::compare_outputs({other_shape}, {a}, false, {}), HasSubstr("instead of"));
  Tensor nan = Tensor::from_doubles({1}, {std::nan("")}, DType::f32);
  EXPECT_EQ(runtime::compare_outputs({nan}, {nan}, false, {}), "");
}

}  // namespace
}  // namespace jagtile::autotune_test
