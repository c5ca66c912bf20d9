// An environment variable set (or, with a null value, unset) for one scope and restored after.
// Tests in one binary run one at a time, and a differential case runs in its own forked child
// (or a test), so changing the process's environment is safe there: nothing else reads it.
#pragma once

#include <stdlib.h>

#include <optional>
#include <string>

namespace jagtile::testing {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace jagtile::testing
