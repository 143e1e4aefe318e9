// leeway's command line: one table of subcommands (name, one-line help, handler).
#pragma once

namespace leeway::cli {

// Exit codes follow the Nagios plugin convention, so `leeway check` can run as a plugin.
enum ExitCode : int {
  kExitUp = 0,
  kExitDegraded = 1,
  kExitDown = 2,
  kExitUnknown = 3,  // bad usage or input: nothing was probed
};

// Parses argv, runs the chosen subcommand and returns the process exit code.
int main(int argc, char** argv);

}  // namespace leeway::cli
