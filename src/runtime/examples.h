// Transitional: the bundled examples moved to the testing library (testing/examples.h). This
// header remains only until bench/bench_generic.cpp includes that one; include nothing here.
#pragma once

#include "testing/examples.h"
