// The store: keys and shape buckets, entries used by later calls (and explained), ignored with
// JAGTILE_AUTOTUNE=0, a corrupt file warned about and rewritten, concurrent writers merged.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "autotune_helpers.h"
#include "runtime/json_value.h"
#include "runtime/program_state.h"
#include "runtime/tune_store.h"

namespace jagtile::autotune_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string key_of(const Program& p, const std::string& kernel, const ArgMap& args,
                   const Options& o) {
  const runtime::ProgramState& ps = p.state();
  size_t ki = ps.kernel_index(kernel);
  return runtime::tune_key(ps, ki, ps.bind(ki, args), o).hash();
}

std::string bucket_of(const std::string& kernel, JaggedShape shape) {
  Program p = example_program(kernel);
  const runtime::ProgramState& ps = p.state();
  runtime::BoundArgs b = ps.bind(0, example_args(kernel, shape));
  return runtime::shape_bucket(b.specs, b.values);
}

// Stores `config` as the entry for this call, as a search would.
void store_entry(const Program& p, const std::string& kernel, const ArgMap& args, const Options& o,
                 const Config& config) {
  const runtime::ProgramState& ps = p.state();
  size_t ki = ps.kernel_index(kernel);
  runtime::TuneKey k = runtime::tune_key(ps, ki, ps.bind(ki, args), o);
  StoredTuning t;
  t.key = k.hash();
  t.kernel = k.kernel;
  t.source_hash = k.source_hash;
  t.specialisation = k.specialisation;
  t.shape_bucket = k.shape_bucket;
  t.machine = k.machine;
  t.compiler = k.compiler;
  t.version = k.version;
  t.config = config;
  t.effort = "quick";
  runtime::TuneStore::for_dir(o.cache_dir).save(t);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ShapeBucket, SizesRoundUpToPowersOfTwoAndLengthsAreSummarised) {
  JaggedShape a, b, c;
  a.batch = 40, b.batch = 60, c.batch = 100;
  EXPECT_EQ(bucket_of("jagged_sum", a).find("x_offsets=[2^6]") != std::string::npos, true);
  EXPECT_THAT(bucket_of("jagged_sum", c), HasSubstr("x_offsets=[2^7]"));
  EXPECT_THAT(bucket_of("jagged_sum", a), HasSubstr("lengths(x_offsets: max<=2^"));
  EXPECT_THAT(bucket_of("jagged_sum", a), HasSubstr("mean/max~"));
  EXPECT_NE(bucket_of("jagged_sum", a), bucket_of("jagged_sum", c));
  JaggedShape zipf = a;
  zipf.dist = LengthDist::tiny;
  zipf.max_len = 400;
  EXPECT_NE(bucket_of("jagged_sum", a), bucket_of("jagged_sum", zipf));
}

TEST(CallKeyHash, EqualsTheFullKeysHashWhetherMemoisedOrNot) {
  Program p = example_program("jagged_sum");
  const runtime::ProgramState& ps = p.state();
  JaggedShape small, larger, longer;
  larger.batch = 300;
  longer.max_len = 400;
  for (const JaggedShape& shape : {small, larger, longer, small}) {
    runtime::BoundArgs b = ps.bind(0, example_args("jagged_sum", shape));
    const std::string full = runtime::tune_key(ps, 0, b, Options{}).hash();
    EXPECT_EQ(runtime::call_key_hash(ps, 0, b, Options{}), full);
    EXPECT_EQ(runtime::call_key_hash(ps, 0, b, Options{}), full);  // from the memo
    Options unchecked;
    unchecked.checked = false;
    EXPECT_NE(runtime::call_key_hash(ps, 0, b, unchecked), full);
  }
}

class TuneStoreTest : public ScratchCache {};

TEST_F(TuneStoreTest, CallsUseAStoredConfigAndExplainNamesTheEntry) {
  Program p = example_program("jagged_softmax");
  ArgMap args = example_args("jagged_softmax");
  Config tuned;
  tuned.block_sizes = {8, 16, 8, 8};
  store_entry(p, "jagged_softmax", args, options_, tuned);
  DispatchDecision d = p.explain("jagged_softmax", args, options_);
  EXPECT_THAT(d.config, HasSubstr("block_sizes=[8, 16, 8, 8]"));
  EXPECT_THAT(d.config,
              HasSubstr("stored autotune entry " + key_of(p, "jagged_softmax", args, options_)));
  EXPECT_THAT(d.config, HasSubstr("JAGTILE_AUTOTUNE=0"));
  EXPECT_EQ(p.specialise("jagged_softmax", args, options_).state().spec->config, tuned);
  // The call runs the stored config and gives the default config's results (on the
  // interpreter: no compile, and it honours block sizes like the generic path).
  Options interp = options_;
  interp.backend = Backend::interp;
  store_entry(p, "jagged_softmax", args, interp, tuned);
  Options defaults = interp;
  defaults.use_tuned_config = false;
  Tensor got = p.call("jagged_softmax", args, interp).outputs[0];
  Tensor want = p.call("jagged_softmax", args, defaults).outputs[0];
  for (int64_t i = 0; i < got.numel(); i += 97)
    EXPECT_NEAR(got.item_as_double(i), want.item_as_double(i), 1e-5);
}

TEST_F(TuneStoreTest, OptionsConfigAndJagtileAutotuneZeroOverrideTheStore) {
  Program p = example_program("jagged_softmax");
  ArgMap args = example_args("jagged_softmax");
  Config tuned;
  tuned.block_sizes = {8, 16, 8, 8};
  store_entry(p, "jagged_softmax", args, options_, tuned);
  Options given = options_;
  given.config.block_sizes = {4, 32, 4, 4};
  EXPECT_THAT(p.explain("jagged_softmax", args, given).config, HasSubstr("(from options)"));
  ::setenv("JAGTILE_AUTOTUNE", "0", 1);
  std::string off = p.explain("jagged_softmax", args, options_).config;
  ::setenv("JAGTILE_AUTOTUNE", "1", 1);
  EXPECT_THAT(off, HasSubstr("(from defaults)"));
  Options ignore = options_;
  ignore.use_tuned_config = false;
  EXPECT_THAT(p.explain("jagged_softmax", args, ignore).config, HasSubstr("(from defaults)"));
}

TEST_F(TuneStoreTest, AnotherShapeBucketDoesNotUseTheEntry) {
  Program p = example_program("jagged_softmax");
  Config tuned;
  tuned.block_sizes = {8, 16, 8, 8};
  store_entry(p, "jagged_softmax", example_args("jagged_softmax"), options_, tuned);
  JaggedShape bigger;
  bigger.batch = 300;
  EXPECT_THAT(p.explain("jagged_softmax", example_args("jagged_softmax", bigger), options_).config,
              HasSubstr("(from defaults)"));
}

TEST_F(TuneStoreTest, CorruptFileIsIgnoredWithAWarningAndRewrittenByTheNextSave) {
  Program p = example_program("jagged_sum");
  ArgMap args = example_args("jagged_sum");
  const fs::path file = dir_ / "autotune.json";
  std::ofstream(file) << "{\"entries\": [ {\"key\": truncated";
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(stored_tunings(dir_.string()).empty());
  EXPECT_THAT(p.explain("jagged_sum", args, options_).config, HasSubstr("(from defaults)"));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("warning: ignoring the autotune store"));
  EXPECT_THAT(err, HasSubstr("corrupt"));
  Config tuned;
  tuned.reduce_chunk_rows = 128;
  store_entry(p, "jagged_sum", args, options_, tuned);
  runtime::JsonValue doc;
  std::string error;
  ASSERT_TRUE(runtime::parse_json(read_text(file), &doc, &error)) << error;
  std::vector<StoredTuning> all = stored_tunings(dir_.string());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].config.reduce_chunk_rows, 128);
}

TEST_F(TuneStoreTest, ConcurrentWritingProcessesKeepEveryEntryAndAValidFile) {
  constexpr int kWriters = 4, kEntriesEach = 15;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Its own store object (a fresh process), racing the others on one file.
      for (int i = 0; i < kEntriesEach; ++i) {
        StoredTuning t;
        t.key = "writer" + std::to_string(w) + "_" + std::to_string(i);
        t.kernel = "k";
        t.config.reduce_chunk_rows = 16 * (i + 1);
        t.effort = "quick";
        runtime::TuneStore(dir_.string()).save(t);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(stored_tunings(dir_.string()).size(), size_t(kWriters * kEntriesEach));
  runtime::JsonValue doc;
  std::string error;
  EXPECT_TRUE(runtime::parse_json(read_text(dir_ / "autotune.json"), &doc, &error)) << error;
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr(".tmp."))) << "a temporary file left";
}

TEST_F(TuneStoreTest, EntriesRoundTripThroughJson) {
  StoredTuning t;
  t.key = "0123456789abcdef";
  t.kernel = "jagged_sum";
  t.file = "examples/\"quoted\".py";
  t.shape_bucket = "x=[2^4]";
  t.config.block_sizes = {16, 256, 32};
  t.config.reduce_chunk_rows = 128;
  t.config.reduce_workers = 2;
  t.effort = "full";
  t.default_ms = 1.5;
  t.best_ms = 1.25;
  t.candidates = 7;
  runtime::JsonValue v;
  std::string error;
  ASSERT_TRUE(runtime::parse_json(runtime::tuning_to_json(t), &v, &error)) << error;
  std::optional<StoredTuning> back = runtime::tuning_from_json(v);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->file, t.file);
  EXPECT_EQ(back->config, t.config);
  EXPECT_EQ(back->effort, "full");
  EXPECT_DOUBLE_EQ(back->best_ms, 1.25);
  EXPECT_EQ(back->candidates, 7);
}

TEST(JsonReader, MalformedInputsAreRejectedWithAnOffset) {
  for (const char* bad :
       {"", "{", "[1,", "{\"a\" 1}", "\"unterminated", "tru", "[1] x",
        "{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]"}) {
    runtime::JsonValue v;
    std::string error;
    EXPECT_FALSE(runtime::parse_json(bad, &v, &error)) << bad;
    EXPECT_THAT(error, HasSubstr("at byte")) << bad;
  }
}

}  // namespace
}  // namespace jagtile::autotune_test
