// Automatic reduction of a failing generated kernel: delta reduction over statements and
// expressions, and shrinking of the failing input, keeping only changes after which the case
// still fails with the same signature (CaseFailure::signature).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "testing/differential.h"

namespace jagtile::fuzz {

struct Reduced {
  GenKernel kernel;  // reduced statements and block sizes; inputs = {the reduced input}
  DiffCase diff;     // the reduced case, run on interp and the failing backend
  int tries = 0;     // candidates run
  int accepted = 0;  // candidates kept
};

using Settings = std::vector<std::pair<std::string, std::string>>;

// settings: the failing case's (DiffCase::settings), kept by every candidate. cache_dir: as
// ChildRun's (empty: the environment's JIT cache).
Reduced minimize(const GenKernel& kernel, const Settings& settings, const CaseFailure& target,
                 double run_timeout_s, double budget_s, const std::string& cache_dir,
                 const std::function<void(const std::string&)>& log);

}  // namespace jagtile::fuzz
