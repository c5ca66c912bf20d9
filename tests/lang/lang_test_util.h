// Helpers shared by the front-end tests: parse-and-check in one call and error expectations
// that pin down the message, the line and the column.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "lang/check.h"
#include "lang/parser.h"

namespace jagtile::lang::testing {

inline ast::Module parse(const std::string& src) {
  return parse_module(src, "k.py");
}

inline ast::Module parse_and_check(const std::string& src) {
  ast::Module m = parse_module(src, "k.py");
  check_module(m);
  return m;
}

struct Failure {
  bool thrown = false;
  std::string message, hint, what;
  int line = 0, column = 0;
};

// Runs parse (and check when `check` is set) and captures the UserError it must raise.
inline Failure failure_of(const std::string& src, bool check = true) {
  Failure f;
  try {
    ast::Module m = parse_module(src, "k.py");
    if (check) check_module(m);
  } catch (const UserError& e) {
    f.thrown = true;
    f.message = e.message();
    f.hint = e.hint();
    f.what = e.what();
    f.line = e.loc().line;
    f.column = e.loc().column;
    EXPECT_EQ(e.loc().file, "k.py");
  }
  return f;
}

// Expects a UserError whose message contains `message_part`, located at line:column.
#define EXPECT_USER_ERROR(src, message_part, ln, col)                       \
  do {                                                                      \
    auto f_ = ::jagtile::lang::testing::failure_of(src);                    \
    ASSERT_TRUE(f_.thrown) << "no error for:\n" << (src);                   \
    EXPECT_THAT(f_.message, ::testing::HasSubstr(message_part)) << f_.what; \
    EXPECT_EQ(f_.line, ln) << f_.what;                                      \
    EXPECT_EQ(f_.column, col) << f_.what;                                   \
  } while (0)

inline std::string source_dir() {
#ifdef JAGTILE_SOURCE_DIR
  return JAGTILE_SOURCE_DIR;
#else
  const char* d = std::getenv("JAGTILE_SOURCE_DIR");
  return d ? d : ".";
#endif
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace jagtile::lang::testing
