// Runs a program as a real child process and captures its output, for tests of the leeway binary.
#pragma once

#include <chrono>
#include <functional>
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

// A child process running in the background, its stdout and stderr appended to `log_path`.
// The destructor kills it (SIGKILL) if it still runs.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Sends a signal (SIGTERM, SIGKILL, SIGHUP...).
  void signal(int sig);
  // Waits for the exit and returns the exit code (128 + signal when killed).
  int wait();

 private:
  int pid_ = -1;
};

// The whole content of a file (a child's log), or "" when it cannot be read.
std::string read_file(const std::string& path);

// Polls `ready` every 100 ms until it is true (returns true) or `limit` has passed (false): for
// waiting on a child process's effects, such as results showing up in its API.
bool wait_until(const std::function<bool()>& ready,
                std::chrono::seconds limit = std::chrono::seconds(20));

}  // namespace leeway::testing
