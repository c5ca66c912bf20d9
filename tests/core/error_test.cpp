// Tests for the rendering of UserError / InternalError messages and JAGTILE_CHECK.
#include "jagtile/error.h"

#include "test_util.h"

namespace jagtile {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(UserErrorTest, MessageOnly) {
  UserError e("bad thing");
  EXPECT_STREQ(e.what(), "error: bad thing");
  EXPECT_EQ(e.message(), "bad thing");
  EXPECT_EQ(e.hint(), "");
}

TEST(UserErrorTest, FullLocationWithCaretAndHint) {
  UserError e("unknown name 'y'", "did you mean 'x'?", SourceLoc{"k.py", 3, 9}, "    z = y + 1");
  EXPECT_EQ(std::string(e.what()),
            "k.py:3:9: error: unknown name 'y'\n"
            "    z = y + 1\n"
            "        ^\n"
            "hint: did you mean 'x'?");
  EXPECT_EQ(e.loc().line, 3);
  EXPECT_EQ(e.hint(), "did you mean 'x'?");
}

TEST(UserErrorTest, CaretReproducesTabs) {
  UserError e("oops", "", SourceLoc{"k.py", 2, 4}, "\t\tab");
  // Columns count a tab as one character: column 4 is 'b', after two tabs and 'a'.
  EXPECT_EQ(std::string(e.what()), "k.py:2:4: error: oops\n\t\tab\n\t\t ^");
}

TEST(UserErrorTest, CaretAtColumnOneAndTrailingNewlineStripped) {
  UserError e("oops", "", SourceLoc{"k.py", 1, 1}, "def f():\n");
  EXPECT_EQ(std::string(e.what()), "k.py:1:1: error: oops\ndef f():\n^");
}

TEST(UserErrorTest, UnknownPartsAreOmitted) {
  EXPECT_EQ(std::string(UserError("m", "", SourceLoc{"f.py", 0, 0}).what()), "f.py: error: m");
  EXPECT_EQ(std::string(UserError("m", "", SourceLoc{"f.py", 7, 0}).what()), "f.py:7: error: m");
  EXPECT_EQ(std::string(UserError("m", "", SourceLoc{"", 7, 2}).what()), "7:2: error: m");
  EXPECT_EQ(std::string(UserError("m", "h").what()), "error: m\nhint: h");
}

TEST(UserErrorTest, SourceLineWithoutColumnHasNoCaret) {
  UserError e("m", "", SourceLoc{"f.py", 4, 0}, "x = 1");
  EXPECT_EQ(std::string(e.what()), "f.py:4: error: m\nx = 1");
}

TEST(UserErrorTest, IsAnError) {
  try {
    throw UserError("x");
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("error: x"));
  }
}

TEST(InternalErrorTest, Message) {
  InternalError e("broken");
  EXPECT_STREQ(e.what(), "internal error: broken (this is a bug in jagtile; please report it)");
}

TEST(InternalErrorTest, CheckMacroThrowsWithConditionAndLocation) {
  int value = 3;
  try {
    JAGTILE_CHECK(value == 4, << "value was " << value);
    FAIL() << "JAGTILE_CHECK did not throw";
  } catch (const InternalError& e) {
    EXPECT_THAT(e.what(), StartsWith("internal error: check failed: value == 4 at "));
    EXPECT_THAT(e.what(), HasSubstr("error_test.cpp:"));
    EXPECT_THAT(e.what(), HasSubstr(": value was 3 (this is a bug in jagtile"));
  }
}

TEST(InternalErrorTest, CheckMacroPassesAndWorksWithoutMessage) {
  EXPECT_NO_THROW(JAGTILE_CHECK(1 + 1 == 2));
  try {
    JAGTILE_CHECK(false);
    FAIL();
  } catch (const InternalError& e) {
    EXPECT_THAT(e.what(), HasSubstr("check failed: false at "));
    EXPECT_THAT(e.what(), Not(HasSubstr(": :")));
  }
}

}  // namespace
}  // namespace jagtile
