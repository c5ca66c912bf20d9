// Linked into every test executable: the environment every test runs in, set before main (so
// before any thread reads it) unless the caller set the variable already. Setting it here rather
// than as a ctest ENVIRONMENT property makes it hold for a test binary run by hand too (and
// gtest_discover_tests splits a multi-variable ENVIRONMENT into separate properties).
//  * JAGTILE_AUTOTUNE=0: no test reads the developer's stored autotune configs (the autotuner's
//    own tests turn them on, over their own cache folders).
//  * JAGTILE_POISON_UNFILLED=1: outputs a backend leaves unfilled (host_exec.cpp) start as NaN,
//    so an element a backend fails to write fails the test instead of reading as zero.
#include <stdlib.h>

namespace {

const bool kTestEnvironment = [] {
  ::setenv("JAGTILE_AUTOTUNE", "0", /*overwrite=*/0);
  ::setenv("JAGTILE_POISON_UNFILLED", "1", /*overwrite=*/0);
  return true;
}();

}  // namespace
