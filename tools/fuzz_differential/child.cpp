// Forked execution of differential cases (see child.h).
#include "child.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace jagtile::fuzz {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

namespace {

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += size_t(n);
  }
}

// Details travel on one line: newlines and tabs become visible escapes.
std::string escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '\n')
      out += "\\n";
    else if (ch == '\t')
      out += "\\t";
    else
      out += ch;
  }
  return out;
}

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == 't')) {
      out += s[i + 1] == 'n' ? '\n' : '\t';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

ChildRun::ChildRun(const DiffCase& c, double timeout_s, const std::string& cache_dir)
    : timeout_s_(timeout_s) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(stdout);
  std::fflush(stderr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::close(fds[0]);
    int out = fds[1];
    if (!cache_dir.empty()) ::setenv("JAGTILE_CACHE_DIR", cache_dir.c_str(), 1);
    CaseReport r;
    try {
      r = run_case(c, [out](const std::string& line) { write_all(out, line + "\n"); });
    } catch (const std::exception& e) {
      r.failures.push_back({"exception", "driver", -1, e.what()});
    }
    for (const CaseFailure& f : r.failures) {
      write_all(out, "fail " + f.kind + "\t" + f.backend + "\t" + std::to_string(f.input) + "\t" +
                         escape(f.detail) + "\n");
    }
    for (const auto& [label, n] : r.by_label)
      write_all(out, "ran " + label + " " + std::to_string(n) + "\n");
    write_all(out, "runs " + std::to_string(r.runs) + "\n");
    ::close(out);
    // No exit handlers: the parent's state (buffers, atexit hooks) belongs to the parent.
    ::_exit(0);
  }
  ::close(fds[1]);
  fd_ = fds[0];
  deadline_ = now_seconds() + timeout_s;
}

ChildRun::~ChildRun() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (fd_ >= 0) ::close(fd_);
}

bool ChildRun::poll_once() {
  if (pid_ < 0) return true;
  char buf[4096];
  for (;;) {
    struct pollfd p = {fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, 0);
    if (ready <= 0) break;
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      finish(status, false);
      return true;
    }
    buffer_.append(buf, size_t(n));
    size_t nl;
    while ((nl = buffer_.find('\n')) != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (line.rfind("run ", 0) == 0) {
        last_run_ = line.substr(4);
      } else if (line.rfind("fail ", 0) == 0) {
        std::string rest = line.substr(5);
        CaseFailure f;
        size_t a = rest.find('\t'), b = rest.find('\t', a + 1), c = rest.find('\t', b + 1);
        f.kind = rest.substr(0, a);
        f.backend = rest.substr(a + 1, b - a - 1);
        f.input = std::atoi(rest.substr(b + 1, c - b - 1).c_str());
        f.detail = unescape(rest.substr(c + 1));
        report_.failures.push_back(f);
      } else if (line.rfind("ran ", 0) == 0) {
        size_t sp = line.rfind(' ');
        report_.by_label[line.substr(4, sp - 4)] += std::atoi(line.c_str() + sp + 1);
      } else if (line.rfind("runs ", 0) == 0) {
        report_.runs = std::atoi(line.c_str() + 5);
        saw_end_ = true;
      }
    }
  }
  if (now_seconds() > deadline_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    finish(status, true);
    return true;
  }
  return false;
}

void ChildRun::finish(int status, bool timed_out) {
  // The run in progress when the child stopped: "LABEL INPUT".
  std::string label = last_run_.substr(0, last_run_.find(' '));
  int input = last_run_.empty() ? -1 : std::atoi(last_run_.substr(last_run_.find(' ') + 1).c_str());
  if (label.empty()) label = "compile";
  if (timed_out) {
    report_.failures.push_back(
        {"hang", label, input, "no result after " + std::to_string(int(timeout_s_)) + " s"});
  } else if (WIFSIGNALED(status)) {
    report_.failures.push_back(
        {"crash", label, input, std::string("signal ") + strsignal(WTERMSIG(status))});
  } else if (!saw_end_ || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    report_.failures.push_back(
        {"crash", label, input, "child exited with status " + std::to_string(WEXITSTATUS(status))});
  }
}

CaseReport run_case_forked(const DiffCase& c, double timeout_s, const std::string& cache_dir) {
  ChildRun child(c, timeout_s, cache_dir);
  while (!child.poll_once()) {
    struct pollfd p = {child.fd(), POLLIN, 0};
    ::poll(&p, 1, 50);
  }
  return child.report();
}

}  // namespace jagtile::fuzz
