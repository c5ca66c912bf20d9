// Errors. Two channels, never mixed:
//  * UserError: the user's kernel or input is wrong. The message says what is wrong, where
//    (file:line:col, tensor name, position, values) and how to fix it. Never a crash.
//  * InternalError: jagtile itself is wrong (a broken invariant). Raised by JAGTILE_CHECK.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace jagtile {

// A position in a kernel source file. line and column are 1-based; 0 means unknown.
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;
};

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class UserError : public Error {
 public:
  // A located error: what() renders as "FILE:LINE:COL: error: MESSAGE", then the source line
  // with a caret under the column (when source_line is given), then "hint: HINT".
  UserError(std::string message, std::string hint = {}, SourceLoc loc = {},
            std::string source_line = {});

  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  const SourceLoc& loc() const { return loc_; }

 private:
  std::string message_;
  std::string hint_;
  SourceLoc loc_;
};

// A located warning, rendered as a UserError is but with "warning:" for "error:". Warnings are
// collected (e.g. KernelInfo::warnings), never thrown.
std::string render_warning(const std::string& message, const std::string& hint = {},
                           const SourceLoc& loc = {}, const std::string& source_line = {});

class InternalError : public Error {
 public:
  explicit InternalError(const std::string& message);
};

namespace detail {
[[noreturn]] void internal_check_failed(const char* cond, const char* file, int line,
                                        const std::string& message);
}

}  // namespace jagtile

// Internal invariant check. Active in every build type; raises InternalError.
#define JAGTILE_CHECK(cond, ...)                                          \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::ostringstream jagtile_check_os_;                               \
      jagtile_check_os_ << "" __VA_ARGS__;                                \
      ::jagtile::detail::internal_check_failed(#cond, __FILE__, __LINE__, \
                                               jagtile_check_os_.str());  \
    }                                                                     \
  } while (0)
