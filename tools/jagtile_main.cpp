// Entry point of the `jagtile` command-line tool: picks the command, and turns every exception
// into a message and an exit status (1 user error, 2 usage error, 3 internal error) so that no
// input can crash it.
#include <exception>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.h"
#include "jagtile/error.h"

namespace {

int dispatch(int argc, char** argv) {
  using namespace jagtile::cli;
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) throw UsageError("", "missing command");
  const std::string command = words[0];
  if (command == "--help" || command == "-h" || command == "help") {
    std::string topic = words.size() > 1 ? words[1] : "";
    if (!topic.empty() && topic != "run" && topic != "explain" && topic != "bench" &&
        topic != "autotune") {
      throw UsageError("", "unknown command '" + topic + "'");
    }
    std::cout << help_text(topic);
    return 0;
  }
  if (command != "run" && command != "explain" && command != "bench" && command != "autotune") {
    std::string hint;
    if (command.size() > 3 && command.compare(command.size() - 3, 3, ".py") == 0) {
      hint = " (did you mean 'jagtile run " + command + "'?)";
    } else if (std::string guess = closest(command, {"run", "explain", "bench", "autotune"});
               !guess.empty()) {
      hint = " (did you mean '" + guess + "'?)";
    }
    throw UsageError("", "unknown command '" + command + "'" + hint);
  }
  CommandLine cl = parse_command_line(command, {words.begin() + 1, words.end()});
  if (cl.help) {
    std::cout << help_text(command);
    return 0;
  }
  if (command == "run") return run_command(cl);
  if (command == "explain") return explain_command(cl);
  if (command == "bench") return bench_command(cl);
  return autotune_command(cl);
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(true);
  int status = 3;
  try {
    status = dispatch(argc, argv);
  } catch (const jagtile::cli::UsageError& e) {
    std::cerr << "jagtile" << (e.command().empty() ? "" : " " + e.command())
              << ": error: " << e.what() << "\n"
              << jagtile::cli::usage_line(e.command()) << "\n";
    status = 2;
  } catch (const jagtile::UserError& e) {
    std::cerr << e.what() << "\n";
    status = 1;
  } catch (const jagtile::InternalError& e) {
    std::cerr << "jagtile: internal error: " << e.what()
              << "\nThis is a bug in jagtile, not in your kernel; please report it.\n";
    status = 3;
  } catch (const std::length_error&) {
    // A container asked for more elements than it can hold: a size from the command line
    // (--batch 9223372036854775807) is far too large, not a bug.
    std::cerr << "jagtile: error: the requested sizes are too large to allocate\n"
                 "hint: use smaller shape options or inputs\n";
    status = 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "jagtile: error: out of memory (the inputs or outputs are too large for this "
                 "machine)\nhint: use smaller shape options or inputs\n";
    status = 1;
  } catch (const std::exception& e) {
    std::cerr << "jagtile: internal error: " << e.what()
              << "\nThis is a bug in jagtile; please report it.\n";
    status = 3;
  } catch (...) {
    std::cerr << "jagtile: internal error: unknown exception\n";
    status = 3;
  }
  std::cout.flush();
  return status;
}
