// Runs a differential case in a forked child process, so that a crash or a hang in a backend
// is observed (and attributed to the run that was in progress) instead of ending the fuzzer.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "testing/differential.h"

namespace jagtile::fuzz {

// One child running one case. The child reports over a pipe, one line per event:
// "run LABEL INPUT" before each backend run, "fail KIND\tBACKEND\tINPUT\tDETAIL" per failure,
// "runs N" at the end.
class ChildRun {
 public:
  // With cache_dir non-empty, the child compiles into that folder (JAGTILE_CACHE_DIR), which
  // the caller removes afterwards: a long run would otherwise leave two shared objects per
  // kernel on disk. The case's settings are set in the child (run_case).
  ChildRun(const DiffCase& c, double timeout_s, const std::string& cache_dir = {});
  ~ChildRun();
  ChildRun(const ChildRun&) = delete;
  ChildRun& operator=(const ChildRun&) = delete;

  int fd() const { return fd_; }
  // Reads what is available; returns true once the child has finished (or was killed for
  // running past its timeout) and the report is complete.
  bool poll_once();
  const CaseReport& report() const { return report_; }

 private:
  void finish(int status, bool timed_out);
  pid_t pid_ = -1;
  int fd_ = -1;
  double deadline_ = 0;
  double timeout_s_ = 0;
  std::string buffer_;
  std::string last_run_;  // the "run ..." line last heard
  bool saw_end_ = false;
  CaseReport report_;
};

// Runs a case in a child and waits for it.
CaseReport run_case_forked(const DiffCase& c, double timeout_s, const std::string& cache_dir = {});

double now_seconds();

}  // namespace jagtile::fuzz
