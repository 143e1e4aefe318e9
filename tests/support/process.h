// Runs a program as a real child process and captures its output, for tests of the leeway binary.
#pragma once

#include <string>
#include <vector>

namespace leeway::testing {

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
};

// Runs argv[0] (a path) with the arguments and waits for it to exit.
ProcessResult run_process(const std::vector<std::string>& argv);

}  // namespace leeway::testing
