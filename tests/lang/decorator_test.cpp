// Decorator configuration (lang/decorator.h): Helion's config dicts, helion.Config, configs=[...],
// singular keys and kernel settings are read; block sizes are honoured; every accepted key is
// recorded with its effect; unknown keys warn (located); malformed values are located errors.
// Also dict displays: they parse everywhere and mean something only in decorators.
#include "lang/decorator.h"

#include "lang_test_util.h"

namespace jagtile::lang {
namespace {

using testing::failure_of;
using ::testing::HasSubstr;
using testing::parse;

KernelConfig config_of(const std::string& decorator) {
  ast::Module m = parse(decorator + "\ndef k(x):\n    return x\n");
  return decorator_config(m, *kernel_defs(m).at(0));
}

const DecoratorSetting* setting(const KernelConfig& c, const std::string& key) {
  for (const DecoratorSetting& s : c.settings)
    if (s.key == key) return &s;
  return nullptr;
}

TEST(DecoratorTest, ConfigDictSetsBlockSizes) {
  KernelConfig c = config_of("@helion.kernel(config={\"block_sizes\": [32, 1]})");
  EXPECT_EQ(c.block_sizes, (std::vector<int64_t>{32, 1}));
  const DecoratorSetting* s = setting(c, "config.block_sizes");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->value, "[32, 1]");
  EXPECT_THAT(s->effect, HasSubstr("honoured"));
  EXPECT_TRUE(c.warnings.empty());
}

TEST(DecoratorTest, HelionConfigCallSetsBlockSizesAndRecordsTheRest) {
  KernelConfig c = config_of(
      "@helion.kernel(config=helion.Config(block_sizes=[1, 1, 4], num_warps=4, num_stages=2, "
      "indexing=\"block_ptr\", pid_type=\"flat\", loop_orders=[[1, 0]]), static_shapes=True, "
      "autotune_effort=\"none\", ignore_warnings=[])");
  EXPECT_EQ(c.block_sizes, (std::vector<int64_t>{1, 1, 4}));
  for (const char* key :
       {"config.num_warps", "config.num_stages", "config.indexing", "config.pid_type",
        "config.loop_orders", "static_shapes", "autotune_effort", "ignore_warnings"}) {
    const DecoratorSetting* s = setting(c, key);
    ASSERT_NE(s, nullptr) << key;
    EXPECT_THAT(s->effect, HasSubstr("recorded")) << key;
    EXPECT_EQ(s->line, 1) << key;
  }
  EXPECT_EQ(setting(c, "config.num_warps")->value, "4");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
}

TEST(DecoratorTest, SingularBlockSizeIsAOneEntryList) {
  EXPECT_EQ(config_of("@helion.kernel(config={\"block_size\": 16})").block_sizes,
            (std::vector<int64_t>{16}));
  KernelConfig c = config_of("@helion.kernel(config={\"range_num_stage\": 2})");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_NE(setting(c, "config.range_num_stage"), nullptr);
}

TEST(DecoratorTest, ConfigsListUsesTheFirstConfigsBlockSizes) {
  KernelConfig c = config_of(
      "@helion.kernel(configs=[helion.Config(block_sizes=[8]), {\"block_sizes\": [64]}])");
  EXPECT_EQ(c.block_sizes, (std::vector<int64_t>{8}));
  const DecoratorSetting* second = setting(c, "configs[1].block_sizes");
  ASSERT_NE(second, nullptr);
  EXPECT_THAT(second->effect, HasSubstr("only the first"));
}

TEST(DecoratorTest, JagtileShortFormStillWorks) {
  EXPECT_EQ(config_of("@jagtile.kernel(block_sizes=(8,))").block_sizes, (std::vector<int64_t>{8}));
  EXPECT_TRUE(config_of("@helion.kernel()").block_sizes.empty());
  EXPECT_TRUE(config_of("@helion.kernel").settings.empty());
}

TEST(DecoratorTest, UnknownConfigKeyIsALocatedWarningWithASuggestion) {
  KernelConfig c = config_of("@helion.kernel(config={\"block_sizes\": [4], \"num_wraps\": 4})");
  EXPECT_EQ(c.block_sizes, (std::vector<int64_t>{4}));
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_THAT(c.warnings[0], HasSubstr("k.py:1:44: warning: unknown config key 'num_wraps'"));
  EXPECT_THAT(c.warnings[0], HasSubstr("did you mean 'num_warps'?"));
}

TEST(DecoratorTest, UnknownKernelSettingIsALocatedWarning) {
  KernelConfig c = config_of("@helion.kernel(autotune_efort=\"none\", colour=3)");
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_THAT(c.warnings[0], HasSubstr("k.py:1:16: warning: unknown kernel setting "
                                       "'autotune_efort'"));
  EXPECT_THAT(c.warnings[0], HasSubstr("did you mean 'autotune_effort'?"));
  EXPECT_THAT(c.warnings[1], HasSubstr("unknown kernel setting 'colour'"));
  EXPECT_THAT(c.warnings[1], HasSubstr("docs/language.md"));
}

struct DecoratorError {
  const char* name;
  const char* decorator;
  const char* message;
  int column;
};

class DecoratorErrorTest : public ::testing::TestWithParam<DecoratorError> {};

TEST_P(DecoratorErrorTest, ReportsMessageAndLocation) {
  const DecoratorError& c = GetParam();
  auto f = failure_of(std::string(c.decorator) + "\ndef k(x):\n    return x\n");
  ASSERT_TRUE(f.thrown) << c.decorator;
  EXPECT_THAT(f.message, HasSubstr(c.message)) << f.what;
  EXPECT_EQ(f.line, 1) << f.what;
  EXPECT_EQ(f.column, c.column) << f.what;
  EXPECT_FALSE(f.hint.empty()) << f.what;
}

INSTANTIATE_TEST_SUITE_P(
    Decorators, DecoratorErrorTest,
    ::testing::Values(
        DecoratorError{"BadBlockSizeInDict",
                       "@helion.kernel(config={\"block_sizes\": [32, \"x\"]})",
                       "block_sizes must be a list of positive integers", 44},
        DecoratorError{"BadSingularBlockSize", "@helion.kernel(config={\"block_size\": 0})",
                       "block_size must be a positive integer", 38},
        DecoratorError{"NonStringKey", "@helion.kernel(config={block_sizes: [4]})",
                       "config keys must be strings", 24},
        DecoratorError{"ConfigNotADictOrConfig", "@helion.kernel(config=my_config)",
                       "config must be written in the decorator as a dict or a helion.Config", 23},
        DecoratorError{"PositionalConfigArgument", "@helion.kernel(config=helion.Config([4]))",
                       "helion.Config takes keyword arguments only", 37},
        DecoratorError{"ConfigsNotAList", "@helion.kernel(configs=helion.Config())",
                       "configs must be a list of configs", 24},
        DecoratorError{"DictAsASettingValue", "@helion.kernel(static_shapes={\"a\": 1})",
                       "a dict display has no meaning as the value of 'static_shapes'", 30}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DecoratorTest, DictDisplayInsideAKernelIsALocatedError) {
  auto f = failure_of("def k(x):\n    d = {\"a\": 1}\n    return x\n");
  ASSERT_TRUE(f.thrown);
  EXPECT_THAT(f.message, HasSubstr("a dict display ('{...}') has no meaning inside a kernel"));
  EXPECT_EQ(f.line, 2);
  EXPECT_EQ(f.column, 9);
}

TEST(DecoratorTest, DictDisplaysParseAndPrint) {
  ast::Module m = parse(
      "@helion.kernel(config={\"a\": [1, 2], \"b\": {}, })\ndef k(x):\n"
      "    return x\n");
  const ast::Expr& d = *kernel_defs(m).at(0)->decorators.at(0)->keywords.at(0).value;
  ASSERT_EQ(d.kind, ast::ExprKind::dict);
  EXPECT_EQ(d.keys.size(), 2u);
  EXPECT_EQ(ast::dump(d), "{\"a\": [1, 2], \"b\": {}}");
}

// docs/language.md names every key jagtile accepts (families by their `prefix_*` wildcard).
TEST(DecoratorTest, LanguageDocListsEveryAcceptedKey) {
  const std::string doc = testing::read_file(testing::source_dir() + "/docs/language.md");
  auto listed = [&](const std::string& key) {
    if (doc.find("`" + key + "`") != std::string::npos) return true;
    for (const char* family : {"autotune_", "pallas_"})
      if (key.rfind(family, 0) == 0 &&
          doc.find("`" + std::string(family) + "*`") != std::string::npos)
        return true;
    return false;
  };
  for (const auto* table : {&known_config_keys(), &known_kernel_settings()})
    for (const KnownDecoratorKey& k : *table) EXPECT_TRUE(listed(k.name)) << k.name;
}

}  // namespace
}  // namespace jagtile::lang
